/*
 * hl_ms_arith.c: the arithmetic guard functions of match specifications,
 * on values that are views of ETF bytes.
 *
 * Erlang's rules: wrong types raise (HL_MS_RAISE: badarith/badarg, so the
 * guard fails or the body gives 'EXIT'); a float result that is not
 * finite raises. Integers are exact at any size: int64 with overflow checks
 * first (the common case, no allocation), and on overflow or a bignum
 * operand the same operation in hl_bigint.c. A bignum turns into a float
 * as erts's big_to_double does (raising when not finite). Only a product,
 * left shift or dividend past HL_BIG_MAX_LIMBS answers HL_EUNSUPPORTED,
 * never a wrong value.
 */
#include "hl_bigint.h"
#include "hl_ms_int.h"
#include "hl_term.h"
#include "hl_term_enc.h"
#include "hl_term_int.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef hl_ms_num num;

num hl_ms_num_of(hl_bytes v)
{
    num n = {N_NONE, 0, 0, v};
    size_t pos = 0;
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    if (k == HL_KIND_INT)
        n.k = hl_term_get_int(v.data, v.len, &n.i) ? N_BIG : N_INT;
    else if (k == HL_KIND_FLOAT && !hl_term_read_float(v.data, v.len, &pos, &n.d))
        n.k = N_FLOAT;
    return n;
}

int hl_ms_put_int(hl_ms *ms, int64_t i, hl_bytes *out)
{
    ms->tmp.len = 0;
    return hl_term_put_int(&ms->tmp, i) ? HL_ENOMEM : hl_ms_keep_tmp(ms, out);
}

static int put_float(hl_ms *ms, double d, hl_bytes *out)
{
    unsigned char b[9] = {HL_TAG_NEW_FLOAT};
    uint64_t u;
    if (!isfinite(d))
        return HL_MS_RAISE; /* badarith */
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    return hl_ms_keep(ms, b, 9, out);
}

static int load(hl_big *b, num n)
{
    return n.k == N_INT ? hl_big_from_i64(b, n.i) : hl_big_from_term(b, n.v);
}

/* A number as a float; a bignum too large for one raises (badarith). */
static int to_double(num n, double *d)
{
    if (n.k == N_FLOAT) {
        *d = n.d;
        return HL_OK;
    }
    if (n.k == N_INT) {
        *d = (double)n.i;
        return HL_OK;
    }
    hl_big b;
    hl_big_init(&b);
    int rc = load(&b, n);
    if (!rc)
        rc = hl_big_to_double(&b, d) ? HL_MS_RAISE : HL_OK;
    hl_big_free(&b);
    return rc;
}

/* r's canonical term into the arena when rc is HL_OK; frees r. */
static int big_done(hl_ms *ms, hl_big *r, int rc, hl_bytes *out)
{
    if (rc == HL_EBADARG) /* division by zero, a float that is not finite */
        rc = HL_MS_RAISE;
    if (!rc) {
        ms->tmp.len = 0;
        rc = hl_big_to_term(r, &ms->tmp) ? HL_ENOMEM : hl_ms_keep_tmp(ms, out);
    }
    hl_big_free(r);
    return rc;
}

/* The exact path of a two-integer function; shift counts fit an int64. */
static int big_binary(hl_ms *ms, uint32_t f, num a, num b, hl_bytes *out)
{
    hl_big x, y, r;
    hl_big_init(&x);
    hl_big_init(&y);
    hl_big_init(&r);
    int rc = load(&x, a);
    if (!rc && f != F_BSL && f != F_BSR)
        rc = load(&y, b);
    if (!rc) {
        switch (f) {
        case F_PLUS:
            rc = hl_big_add(&r, &x, &y);
            break;
        case F_MINUS:
            rc = hl_big_sub(&r, &x, &y);
            break;
        case F_TIMES:
            rc = hl_big_mul(&r, &x, &y);
            break;
        case F_DIV:
            rc = hl_big_divrem(&r, NULL, &x, &y);
            break;
        case F_REM:
            rc = hl_big_divrem(NULL, &r, &x, &y);
            break;
        case F_BAND:
            rc = hl_big_bitop(&r, HL_BIG_BAND, &x, &y);
            break;
        case F_BOR:
            rc = hl_big_bitop(&r, HL_BIG_BOR, &x, &y);
            break;
        case F_BXOR:
            rc = hl_big_bitop(&r, HL_BIG_BXOR, &x, &y);
            break;
        case F_BSL:
            rc = hl_big_shift(&r, &x, b.i);
            break;
        default: /* F_BSR */
            rc = hl_big_shift(&r, &x, b.i == INT64_MIN ? INT64_MAX : -b.i);
            break;
        }
    }
    hl_big_free(&x);
    hl_big_free(&y);
    return big_done(ms, &r, rc, out);
}

/* + - * on two numbers. */
static int arith(hl_ms *ms, uint32_t f, num a, num b, hl_bytes *out)
{
    if (a.k == N_NONE || b.k == N_NONE)
        return HL_MS_RAISE;
    if (a.k == N_FLOAT || b.k == N_FLOAT) {
        double x, y;
        int rc = to_double(a, &x);
        if (rc || (rc = to_double(b, &y)))
            return rc;
        return put_float(ms, f == F_PLUS ? x + y : f == F_MINUS ? x - y : x * y, out);
    }
    int64_t r;
    if (a.k == N_INT && b.k == N_INT &&
        !(f == F_PLUS    ? __builtin_add_overflow(a.i, b.i, &r)
          : f == F_MINUS ? __builtin_sub_overflow(a.i, b.i, &r)
                         : __builtin_mul_overflow(a.i, b.i, &r)))
        return hl_ms_put_int(ms, r, out);
    return big_binary(ms, f, a, b, out);
}

static int is_neg(num n)
{
    hl_int v;
    size_t pos = 0;
    return n.k == N_INT ? n.i < 0 : !hl_term_read_int(n.v.data, n.v.len, &pos, &v) && v.neg;
}

/* x bsl s, or x bsr s when right; s of any size. */
static int shift(hl_ms *ms, uint32_t f, num x, num s, hl_bytes *out)
{
    int right = (f == F_BSR) != is_neg(s);
    if (s.k == N_BIG) { /* |s| >= 2^63: all bits gone, or far past the bound */
        if (right)
            return hl_ms_put_int(ms, is_neg(x) ? -1 : 0, out);
        return x.k == N_INT && x.i == 0 ? hl_ms_put_int(ms, 0, out) : HL_EUNSUPPORTED;
    }
    if (x.k == N_INT) {
        int64_t n = f == F_BSR ? (s.i == INT64_MIN ? INT64_MAX : -s.i) : s.i, r;
        if (n <= 0)
            return hl_ms_put_int(ms, n < -63 ? (x.i < 0 ? -1 : 0) : x.i >> -n, out);
        if (x.i == 0)
            return hl_ms_put_int(ms, 0, out);
        if (n < 63 && !__builtin_mul_overflow(x.i, (int64_t)1 << n, &r))
            return hl_ms_put_int(ms, r, out);
    }
    return big_binary(ms, f, x, s, out);
}

/* The integer-only functions: div rem band bor bxor bsl bsr. */
static int int_op(hl_ms *ms, uint32_t f, num a, num b, hl_bytes *out)
{
    if ((a.k != N_INT && a.k != N_BIG) || (b.k != N_INT && b.k != N_BIG))
        return HL_MS_RAISE;
    if (f == F_BSL || f == F_BSR)
        return shift(ms, f, a, b, out);
    if (a.k == N_BIG || b.k == N_BIG)
        return big_binary(ms, f, a, b, out);
    switch (f) {
    case F_DIV:
    case F_REM:
        if (b.i == 0)
            return HL_MS_RAISE;
        if (b.i == -1) /* INT64_MIN div -1 overflows: the exact path */
            return f == F_REM         ? hl_ms_put_int(ms, 0, out)
                   : a.i == INT64_MIN ? big_binary(ms, f, a, b, out)
                                      : hl_ms_put_int(ms, -a.i, out);
        return hl_ms_put_int(ms, f == F_DIV ? a.i / b.i : a.i % b.i, out);
    case F_BAND:
        return hl_ms_put_int(ms, a.i & b.i, out);
    case F_BOR:
        return hl_ms_put_int(ms, a.i | b.i, out);
    default: /* F_BXOR */
        return hl_ms_put_int(ms, a.i ^ b.i, out);
    }
}

/* abs, unary -, bnot of an integer on the exact path. */
static int big_unary(hl_ms *ms, uint32_t f, num a, hl_bytes *out)
{
    hl_big x, zero, r;
    hl_big_init(&x);
    hl_big_init(&zero);
    hl_big_init(&r);
    int rc = load(&x, a);
    if (!rc)
        rc = f == F_BNOT                    ? hl_big_bnot(&r, &x)
             : f == F_MINUS || (x.neg != 0) ? hl_big_sub(&r, &zero, &x)
                                            : hl_big_add(&r, &zero, &x);
    hl_big_free(&x);
    return big_done(ms, &r, rc, out);
}

/* round/trunc of a float: int64 when it fits, else exact (such a float is
 * already an integer, |d| >= 2^63 > 2^53). */
static int round_float(hl_ms *ms, uint32_t f, double d, hl_bytes *out)
{
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        hl_big r;
        hl_big_init(&r);
        return big_done(ms, &r, hl_big_from_double(&r, d), out);
    }
    /* no libm: the range is checked before the truncating cast */
    int64_t r = (int64_t)d;
    double frac = d - (double)r; /* exact */
    if (f == F_ROUND && (frac >= 0.5 || frac <= -0.5))
        r += frac > 0 ? 1 : -1; /* a fraction means |d| < 2^52: no overflow */
    return hl_ms_put_int(ms, r, out);
}

/* Functions of one number: abs, float, round, trunc, unary + and -, bnot. */
static int unary(hl_ms *ms, uint32_t f, hl_bytes v, hl_bytes *out)
{
    num a = hl_ms_num_of(v);
    double d;
    int rc;
    if (a.k == N_NONE || (f == F_BNOT && a.k == N_FLOAT))
        return HL_MS_RAISE;
    if (a.k == N_FLOAT) {
        switch (f) {
        case F_ABS:
            return put_float(ms, a.d < 0 ? -a.d : a.d, out);
        case F_MINUS:
            return put_float(ms, -a.d, out);
        case F_ROUND:
        case F_TRUNC:
            return round_float(ms, f, a.d, out);
        default: /* float, unary + */
            *out = v;
            return HL_OK;
        }
    }
    switch (f) {
    case F_FLOAT:
        return (rc = to_double(a, &d)) ? rc : put_float(ms, d, out);
    case F_ABS:
    case F_MINUS:
        if (a.k == N_INT && a.i != INT64_MIN)
            return hl_ms_put_int(ms, f == F_MINUS || a.i < 0 ? -a.i : a.i, out);
        return big_unary(ms, f, a, out);
    case F_BNOT:
        return a.k == N_INT ? hl_ms_put_int(ms, ~a.i, out) : big_unary(ms, f, a, out);
    default: /* round, trunc, unary + of an integer: itself */
        *out = v;
        return HL_OK;
    }
}

int hl_ms_arith(hl_ms *ms, uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out)
{
    double x, y;
    num p, q;
    int rc;
    switch (f) {
    case F_PLUS:
    case F_MINUS:
    case F_TIMES:
        if (n == 1)
            return unary(ms, f, a[0], out);
        return arith(ms, f, hl_ms_num_of(a[0]), hl_ms_num_of(a[1]), out);
    case F_DIVIDE:
        p = hl_ms_num_of(a[0]);
        q = hl_ms_num_of(a[1]);
        if (p.k == N_NONE || q.k == N_NONE)
            return HL_MS_RAISE;
        if ((rc = to_double(p, &x)) || (rc = to_double(q, &y)))
            return rc;
        return y == 0.0 ? HL_MS_RAISE : put_float(ms, x / y, out);
    case F_ABS:
    case F_FLOAT:
    case F_ROUND:
    case F_TRUNC:
    case F_BNOT:
        return unary(ms, f, a[0], out);
    default:
        return int_op(ms, f, hl_ms_num_of(a[0]), hl_ms_num_of(a[1]), out);
    }
}
