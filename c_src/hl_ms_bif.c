/*
 * hl_ms_bif.c: the guard functions of match specifications (the E_CALL
 * ids), on values that are views of ETF bytes.
 *
 * Erlang's rules: a function applied to the wrong types raises
 * (HL_MS_RAISE: the guard fails, the body gives 'EXIT'); float results
 * that are not finite raise (badarith). Integer arithmetic is done in int64
 * with overflow checks; an operand or result that needs a bignum answers
 * HL_EUNSUPPORTED (hl_ms.h), never a wrong value.
 */
#include "hl_ms_int.h"
#include "hl_order.h"
#include "hl_term.h"
#include "hl_term_int.h"

#include <math.h>
#include <stdint.h>

enum {
    F_ANDALSO,
    F_ORELSE,
    F_SELF,
    F_IS_ATOM,
    F_IS_FLOAT,
    F_IS_INTEGER,
    F_IS_LIST,
    F_IS_NUMBER,
    F_IS_PID,
    F_IS_PORT,
    F_IS_REFERENCE,
    F_IS_TUPLE,
    F_IS_MAP,
    F_IS_BINARY,
    F_IS_FUNCTION,
    F_IS_RECORD,
    F_IS_MAP_KEY,
    F_MAP_GET,
    F_MAP_SIZE,
    F_ABS,
    F_ELEMENT,
    F_HD,
    F_TL,
    F_LENGTH,
    F_NODE,
    F_ROUND,
    F_TRUNC,
    F_FLOAT,
    F_SIZE,
    F_BIT_SIZE,
    F_BYTE_SIZE,
    F_BINARY_PART,
    F_PLUS,
    F_MINUS,
    F_TIMES,
    F_DIVIDE,
    F_DIV,
    F_REM,
    F_BAND,
    F_BOR,
    F_BXOR,
    F_BNOT,
    F_BSL,
    F_BSR,
    F_GT,
    F_GE,
    F_LT,
    F_LE,
    F_EXACT_EQ,
    F_EQ,
    F_EXACT_NE,
    F_NE,
    F_NOT,
    F_AND,
    F_OR,
    F_XOR
};

#define MANY UINT32_MAX
const hl_ms_fn hl_ms_fns[] = {
    {"andalso", 1, MANY},
    {"orelse", 1, MANY},
    {"self", 0, 0},
    {"is_atom", 1, 1},
    {"is_float", 1, 1},
    {"is_integer", 1, 1},
    {"is_list", 1, 1},
    {"is_number", 1, 1},
    {"is_pid", 1, 1},
    {"is_port", 1, 1},
    {"is_reference", 1, 1},
    {"is_tuple", 1, 1},
    {"is_map", 1, 1},
    {"is_binary", 1, 1},

    {"is_function", 1, 1},
    {"is_record", 3, 3},
    {"is_map_key", 2, 2},
    {"map_get", 2, 2},
    {"map_size", 1, 1},
    {"abs", 1, 1},
    {"element", 2, 2},
    {"hd", 1, 1},
    {"tl", 1, 1},
    {"length", 1, 1},
    {"node", 0, 1},
    {"round", 1, 1},
    {"trunc", 1, 1},
    {"float", 1, 1},
    {"size", 1, 1},
    {"bit_size", 1, 1},
    {"byte_size", 1, 1},

    {"binary_part", 2, 3},
    {"+", 1, 2},
    {"-", 1, 2},
    {"*", 2, 2},
    {"/", 2, 2},
    {"div", 2, 2},
    {"rem", 2, 2},
    {"band", 2, 2},
    {"bor", 2, 2},
    {"bxor", 2, 2},
    {"bnot", 1, 1},
    {"bsl", 2, 2},
    {"bsr", 2, 2},
    {">", 2, 2},
    {">=", 2, 2},
    {"<", 2, 2},
    {"=<", 2, 2},
    {"=:=", 2, 2},
    {"==", 2, 2},
    {"=/=", 2, 2},
    {"/=", 2, 2},
    {"not", 1, 1},
    {"and", 1, MANY},
    {"or", 1, MANY},
    {"xor", 2, 2},
};
const size_t hl_ms_nfns = sizeof hl_ms_fns / sizeof hl_ms_fns[0];

typedef enum { N_NONE, N_INT, N_FLOAT, N_BIG } num_kind;
typedef struct {
    num_kind k;
    int64_t i;
    double d;
} num;

static num num_of(hl_bytes v)
{
    num n = {N_NONE, 0, 0};
    size_t pos = 0;
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    if (k == HL_KIND_INT)
        n.k = hl_term_get_int(v.data, v.len, &n.i) ? N_BIG : N_INT;
    else if (k == HL_KIND_FLOAT && !hl_term_read_float(v.data, v.len, &pos, &n.d))
        n.k = N_FLOAT;
    return n;
}

static int put_int(hl_ms *ms, int64_t i, hl_bytes *out)
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

static int put_bool(int v, hl_bytes *out)
{
    *out = v ? hl_ms_true : hl_ms_false;
    return HL_OK;
}

static int bool_of(hl_bytes v)
{
    return hl_ms_is_atom(v, "true") ? 1 : hl_ms_is_atom(v, "false") ? 0 : -1;
}

/* + - * on two numbers. */
static int arith(hl_ms *ms, uint32_t f, num a, num b, hl_bytes *out)
{
    if (a.k == N_NONE || b.k == N_NONE)
        return HL_MS_RAISE;
    if (a.k == N_FLOAT || b.k == N_FLOAT) {
        if (a.k == N_BIG || b.k == N_BIG)
            return HL_EUNSUPPORTED;
        double x = a.k == N_FLOAT ? a.d : (double)a.i, y = b.k == N_FLOAT ? b.d : (double)b.i;
        return put_float(ms, f == F_PLUS ? x + y : f == F_MINUS ? x - y : x * y, out);
    }
    if (a.k == N_BIG || b.k == N_BIG)
        return HL_EUNSUPPORTED;
    int64_t r;
    int over = f == F_PLUS    ? __builtin_add_overflow(a.i, b.i, &r)
               : f == F_MINUS ? __builtin_sub_overflow(a.i, b.i, &r)
                              : __builtin_mul_overflow(a.i, b.i, &r);
    return over ? HL_EUNSUPPORTED : put_int(ms, r, out);
}

/* x bsl s (s may be negative: a right shift). */
static int shift(hl_ms *ms, int64_t x, int64_t s, hl_bytes *out)
{
    int64_t r;
    if (s <= 0)
        return put_int(ms, s < -63 ? (x < 0 ? -1 : 0) : x >> -s, out);
    if (x == 0)
        return put_int(ms, 0, out);
    if (s >= 63 || __builtin_mul_overflow(x, (int64_t)1 << s, &r))
        return HL_EUNSUPPORTED;
    return put_int(ms, r, out);
}

/* The integer-only operators: div rem band bor bxor bsl bsr. */
static int int_op(hl_ms *ms, uint32_t f, num a, num b, hl_bytes *out)
{
    if ((a.k != N_INT && a.k != N_BIG) || (b.k != N_INT && b.k != N_BIG))
        return HL_MS_RAISE;
    if (a.k == N_BIG || b.k == N_BIG)
        return HL_EUNSUPPORTED;
    switch (f) {
    case F_DIV:
    case F_REM:
        if (b.i == 0)
            return HL_MS_RAISE;
        if (b.i == -1)
            return f == F_REM         ? put_int(ms, 0, out)
                   : a.i == INT64_MIN ? HL_EUNSUPPORTED
                                      : put_int(ms, -a.i, out);
        return put_int(ms, f == F_DIV ? a.i / b.i : a.i % b.i, out);
    case F_BAND:
        return put_int(ms, a.i & b.i, out);
    case F_BOR:
        return put_int(ms, a.i | b.i, out);
    case F_BXOR:
        return put_int(ms, a.i ^ b.i, out);
    case F_BSL:
        return shift(ms, a.i, b.i, out);
    default: /* F_BSR */
        return shift(ms, a.i, b.i == INT64_MIN ? INT64_MAX : -b.i, out);
    }
}

/* The number of elements of a proper list, or -1. */
static int64_t list_length(hl_bytes l)
{
    int64_t n = 0;
    size_t pos = 0;
    for (;;) {
        unsigned char tag = l.data[pos];
        if (tag == HL_TAG_NIL)
            return n;
        if (tag == HL_TAG_STRING)
            return n + hl_get_u16(l.data + pos + 1);
        if (tag != HL_TAG_LIST)
            return -1;
        uint32_t m = hl_get_u32(l.data + pos + 1);
        pos += 5;
        for (uint32_t i = 0; i < m; i++)
            if (hl_term_skip(l.data, l.len, &pos))
                return -1;
        n += m;
    }
}

static int binary_part(hl_ms *ms, hl_bytes b, num s, num l, hl_bytes *out)
{
    if (b.data[0] != HL_TAG_BINARY || s.k != N_INT || l.k != N_INT)
        return HL_MS_RAISE;
    int64_t size = hl_get_u32(b.data + 1), start = s.i, len = l.i;
    if (len < 0) {
        start += len;
        len = -len;
    }
    if (start < 0 || start > size || len > size - start)
        return HL_MS_RAISE;
    ms->tmp.len = 0;
    if (hl_term_put_binary(&ms->tmp, b.data + 5 + start, (size_t)len))
        return HL_ENOMEM;
    return hl_ms_keep_tmp(ms, out);
}

static int sizes(hl_ms *ms, uint32_t f, hl_bytes v, hl_bytes *out)
{
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    size_t arity;
    if (k == HL_KIND_TUPLE && f == F_SIZE && !hl_term_tuple_arity(v.data, v.len, &arity))
        return put_int(ms, (int64_t)arity, out);
    if (k != HL_KIND_BINARY && k != HL_KIND_BITS)
        return HL_MS_RAISE;
    int64_t bytes = hl_get_u32(v.data + 1);
    int bits = k == HL_KIND_BITS ? v.data[5] : 8; /* bits used in the last byte */
    if (f == F_BIT_SIZE)
        return put_int(ms, bytes ? (bytes - 1) * 8 + bits : 0, out);
    return put_int(ms, f == F_SIZE && bits < 8 ? bytes - 1 : bytes, out);
}

static int type_test(uint32_t f, hl_bytes v, hl_bytes *out)
{
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    int r;
    switch (f) {
    case F_IS_ATOM:
        r = k == HL_KIND_ATOM;
        break;
    case F_IS_FLOAT:
        r = k == HL_KIND_FLOAT;
        break;
    case F_IS_INTEGER:
        r = k == HL_KIND_INT;
        break;
    case F_IS_LIST:
        r = k == HL_KIND_NIL || k == HL_KIND_STRING || k == HL_KIND_LIST;
        break;
    case F_IS_NUMBER:
        r = k == HL_KIND_INT || k == HL_KIND_FLOAT;
        break;
    case F_IS_PID:
        r = k == HL_KIND_PID;
        break;
    case F_IS_PORT:
        r = k == HL_KIND_PORT;
        break;
    case F_IS_REFERENCE:
        r = k == HL_KIND_REF;
        break;
    case F_IS_TUPLE:
        r = k == HL_KIND_TUPLE;
        break;
    case F_IS_MAP:
        r = k == HL_KIND_MAP;
        break;
    case F_IS_BINARY:
        r = k == HL_KIND_BINARY;
        break;
    default:
        r = k == HL_KIND_FUN || k == HL_KIND_EXPORT;
        break;
    }
    return put_bool(r, out);
}

static int compare(uint32_t f, hl_bytes a, hl_bytes b, hl_bytes *out)
{
    int exact = f == F_EXACT_EQ || f == F_EXACT_NE;
    int c = hl_order_compare(a.data, a.len, b.data, b.len, exact ? HL_CMP_EXACT : HL_CMP_EQ);
    switch (f) {
    case F_GT:
        return put_bool(c > 0, out);
    case F_GE:
        return put_bool(c >= 0, out);
    case F_LT:
        return put_bool(c < 0, out);
    case F_LE:
        return put_bool(c <= 0, out);
    case F_EXACT_EQ:
    case F_EQ:
        return put_bool(c == 0, out);
    default:
        return put_bool(c != 0, out);
    }
}

static int logic(uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out)
{
    int acc = f == F_AND;
    for (uint32_t i = 0; i < n; i++) {
        int b = bool_of(a[i]);
        if (b < 0)
            return HL_MS_RAISE;
        acc = f == F_AND ? acc && b : f == F_OR ? acc || b : f == F_XOR ? (i ? acc != b : b) : !b;
    }
    return put_bool(acc, out);
}

/* Functions of one number: abs, float, round, trunc, unary + and -, bnot. */
static int unary(hl_ms *ms, uint32_t f, hl_bytes v, hl_bytes *out)
{
    num a = num_of(v);
    if (a.k == N_NONE || (f == F_BNOT && a.k == N_FLOAT))
        return HL_MS_RAISE;
    if (a.k == N_BIG) { /* rounding a bignum, or +, changes nothing */
        if (f == F_ROUND || f == F_TRUNC || f == F_PLUS) {
            *out = v;
            return HL_OK;
        }
        return HL_EUNSUPPORTED;
    }
    if (a.k == N_INT) {
        switch (f) {
        case F_ABS:
        case F_MINUS:
            if (a.i == INT64_MIN)
                return HL_EUNSUPPORTED;
            return put_int(ms, f == F_MINUS || a.i < 0 ? -a.i : a.i, out);
        case F_FLOAT:
            return put_float(ms, (double)a.i, out);
        case F_BNOT:
            return put_int(ms, ~a.i, out);
        default:
            *out = v;
            return HL_OK;
        }
    }
    switch (f) {
    case F_ABS:
        return put_float(ms, a.d < 0 ? -a.d : a.d, out);
    case F_MINUS:
        return put_float(ms, -a.d, out);
    case F_ROUND:
    case F_TRUNC: {
        /* no libm: the range is checked before the truncating cast */
        if (a.d >= 9223372036854775808.0 || a.d <= -9223372036854775809.0)
            return HL_EUNSUPPORTED;
        int64_t r = (int64_t)a.d;
        double frac = a.d - (double)r; /* exact */
        if (f == F_ROUND && (frac >= 0.5 || frac <= -0.5)) {
            if (r == (frac > 0 ? INT64_MAX : INT64_MIN))
                return HL_EUNSUPPORTED;
            r += frac > 0 ? 1 : -1;
        }
        return put_int(ms, r, out);
    }
    default:
        *out = v;
        return HL_OK;
    }
}

int hl_ms_bif(hl_ms *ms, uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out)
{
    num x, y;
    hl_bytes h, t;
    size_t arity;
    int rc;
    if (f >= F_IS_ATOM && f <= F_IS_FUNCTION)
        return type_test(f, a[0], out);
    if (f >= F_GT && f <= F_NE)
        return compare(f, a[0], a[1], out);
    if (f >= F_NOT)
        return logic(f, a, n, out);
    switch (f) {
    case F_IS_RECORD:
        x = num_of(a[2]);
        if (hl_term_kind_of(a[1].data[0]) != HL_KIND_ATOM || x.k != N_INT)
            return HL_MS_RAISE;
        if (hl_term_tuple_arity(a[0].data, a[0].len, &arity) || (int64_t)arity != x.i || !arity ||
            hl_term_tuple_element(a[0].data, a[0].len, 1, &h))
            return put_bool(0, out);
        return put_bool(hl_ms_exact_eq(h, a[1]), out);
    case F_IS_MAP_KEY:
    case F_MAP_GET:
        if (a[1].data[0] != HL_TAG_MAP)
            return HL_MS_RAISE;
        rc = hl_ms_map_get(a[1], a[0], &h);
        if (f == F_IS_MAP_KEY)
            return put_bool(rc, out);
        *out = h;
        return rc ? HL_OK : HL_MS_RAISE;
    case F_MAP_SIZE:
        return a[0].data[0] == HL_TAG_MAP ? put_int(ms, hl_get_u32(a[0].data + 1), out)
                                          : HL_MS_RAISE;
    case F_ELEMENT:
        x = num_of(a[0]);
        if (x.k != N_INT || x.i < 1 || hl_term_tuple_arity(a[1].data, a[1].len, &arity) ||
            (uint64_t)x.i > arity || hl_term_tuple_element(a[1].data, a[1].len, (size_t)x.i, out))
            return HL_MS_RAISE;
        return HL_OK;
    case F_HD:
    case F_TL:
        rc = hl_ms_list_split(ms, a[0], &h, &t);
        *out = f == F_HD ? h : t;
        return rc;
    case F_LENGTH:
        x.i = list_length(a[0]);
        return x.i < 0 ? HL_MS_RAISE : put_int(ms, x.i, out);
    case F_NODE:
        if (hl_term_node_of(n ? a[0].data : ms->self.data, n ? a[0].len : ms->self.len, out))
            return HL_MS_RAISE;
        return HL_OK;
    case F_SIZE:
    case F_BIT_SIZE:
    case F_BYTE_SIZE:
        return sizes(ms, f, a[0], out);
    case F_BINARY_PART:
        if (n == 3)
            return binary_part(ms, a[0], num_of(a[1]), num_of(a[2]), out);
        if (hl_term_tuple_arity(a[1].data, a[1].len, &arity) || arity != 2 ||
            hl_term_tuple_element(a[1].data, a[1].len, 1, &h) ||
            hl_term_tuple_element(a[1].data, a[1].len, 2, &t))
            return HL_MS_RAISE;
        return binary_part(ms, a[0], num_of(h), num_of(t), out);
    case F_PLUS:
    case F_MINUS:
    case F_TIMES:
        if (n == 1)
            return unary(ms, f, a[0], out);
        return arith(ms, f, num_of(a[0]), num_of(a[1]), out);
    case F_DIVIDE:
        x = num_of(a[0]);
        y = num_of(a[1]);
        if (x.k == N_NONE || y.k == N_NONE)
            return HL_MS_RAISE;
        if (x.k == N_BIG || y.k == N_BIG)
            return HL_EUNSUPPORTED;
        if ((y.k == N_INT ? (double)y.i : y.d) == 0.0)
            return HL_MS_RAISE;
        return put_float(
            ms, (x.k == N_INT ? (double)x.i : x.d) / (y.k == N_INT ? (double)y.i : y.d), out);
    case F_ABS:
    case F_FLOAT:
    case F_ROUND:
    case F_TRUNC:
    case F_BNOT:
        return unary(ms, f, a[0], out);
    default:
        return int_op(ms, f, num_of(a[0]), num_of(a[1]), out);
    }
}
