/*
 * hl_bigint.c: exact integer arithmetic beyond int64 (hl_bigint.h).
 *
 * Schoolbook algorithms: operands are at most HL_BIG_MAX_LIMBS limbs, where
 * Karatsuba would not pay. Division is Knuth's algorithm D on 64-bit limbs
 * with 128-bit intermediates. Bit operations work on two's complement
 * copies one limb wider than the wider operand, which is exactly what
 * Erlang's unbounded-width band/bor/bxor mean.
 */
#include "hl_bigint.h"
#include "hl_term_int.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

void hl_big_init(hl_big *b)
{
    memset(b, 0, sizeof *b);
}

void hl_big_free(hl_big *b)
{
    free(b->d);
    hl_big_init(b);
}

/* Room for n limbs (contents kept). */
static int reserve(hl_big *b, size_t n)
{
    if (n > SIZE_MAX / sizeof *b->d)
        return HL_ENOMEM;
    if (n <= b->cap)
        return HL_OK;
    uint64_t *d = realloc(b->d, n * sizeof *d);
    if (!d)
        return HL_ENOMEM;
    b->d = d;
    b->cap = n;
    return HL_OK;
}

/* Drops high zero limbs; a zero is never negative. */
static int norm(hl_big *b)
{
    while (b->n && !b->d[b->n - 1])
        b->n--;
    if (!b->n)
        b->neg = 0;
    return HL_OK;
}

static int copy(hl_big *r, const hl_big *a)
{
    int rc = reserve(r, a->n);
    if (rc)
        return rc;
    if (a->n)
        memcpy(r->d, a->d, a->n * sizeof *r->d);
    r->n = a->n;
    r->neg = a->neg;
    return HL_OK;
}

int hl_big_from_i64(hl_big *b, int64_t v)
{
    int rc = reserve(b, 1);
    if (rc)
        return rc;
    b->neg = v < 0;
    b->d[0] = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    b->n = 1;
    return norm(b);
}

int hl_big_from_term(hl_big *b, hl_bytes t)
{
    hl_int v;
    size_t pos = 0;
    if (hl_term_read_int(t.data, t.len, &pos, &v) || pos != t.len)
        return HL_EBADARG;
    size_t limbs = (v.n + 7) / 8;
    int rc = reserve(b, limbs);
    if (rc)
        return rc;
    if (limbs)
        memset(b->d, 0, limbs * sizeof *b->d);
    for (size_t i = 0; i < v.n; i++)
        b->d[i / 8] |= (uint64_t)hl_int_byte(&v, i) << (8 * (i % 8));
    b->n = limbs;
    b->neg = v.neg;
    return norm(b);
}

int hl_big_from_double(hl_big *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int exp = (int)((bits >> 52) & 0x7ff);
    if (exp == 0x7ff)
        return HL_EBADARG;
    b->n = 0;
    b->neg = 0;
    if (exp < 1023) /* |d| < 1 (zeros and subnormals too) */
        return HL_OK;
    hl_big m;
    hl_big_init(&m);
    /* d = mant * 2^(exp - 1075) with the hidden bit; 2^1024 needs 17 limbs */
    int rc = hl_big_from_i64(&m, (int64_t)((bits & ((1ull << 52) - 1)) | (1ull << 52)));
    if (!rc)
        rc = hl_big_shift(b, &m, (int64_t)exp - 1075);
    hl_big_free(&m);
    if (!rc && b->n)
        b->neg = (int)(bits >> 63);
    return rc;
}

int hl_big_get_i64(const hl_big *b, int64_t *v)
{
    if (b->n == 0) {
        *v = 0;
        return 1;
    }
    if (b->n > 1 || b->d[0] > (b->neg ? (uint64_t)1 << 63 : (uint64_t)INT64_MAX))
        return 0;
    *v = b->neg ? (int64_t)(0 - b->d[0]) : (int64_t)b->d[0];
    return 1;
}

int hl_big_to_term(const hl_big *b, hl_buf *out)
{
    unsigned char stack[64], *mag = stack;
    size_t nb = b->n * 8;
    if (nb > sizeof stack && !(mag = malloc(nb)))
        return HL_ENOMEM;
    for (size_t i = 0; i < nb; i++)
        mag[i] = (unsigned char)(b->d[i / 8] >> (8 * (i % 8)));
    while (nb && !mag[nb - 1])
        nb--;
    hl_int v = {b->neg && nb, nb, NULL, 0};
    if (nb <= 4) {
        for (size_t i = nb; i-- > 0;)
            v.small = (v.small << 8) | mag[i];
    } else {
        v.big = mag;
    }
    int rc = hl_term_put_canon_int(out, &v);
    if (mag != stack)
        free(mag);
    return rc;
}

int hl_big_to_double(const hl_big *b, double *d)
{
    /* erts: d = d * 2^64 + digit from the top, failing once not finite */
    double x = 0.0;
    for (size_t i = b->n; i-- > 0;) {
        x = x * 18446744073709551616.0 + (double)b->d[i];
        if (x - x != 0.0) /* inf or nan, without libm */
            return HL_EBADARG;
    }
    *d = b->neg ? -x : x;
    return HL_OK;
}

/* Magnitude comparison. */
static int cmp_mag(const hl_big *a, const hl_big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

/* r = |a| + |b| with sign neg. */
static int add_mag(hl_big *r, const hl_big *a, const hl_big *b, int neg)
{
    size_t n = a->n > b->n ? a->n : b->n;
    int rc = reserve(r, n + 1);
    if (rc)
        return rc;
    uint64_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        u128 s = (u128)(i < a->n ? a->d[i] : 0) + (i < b->n ? b->d[i] : 0) + carry;
        r->d[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    r->d[n] = carry;
    r->n = n + 1;
    r->neg = neg;
    return norm(r);
}

/* r = |a| - |b| with sign neg, for |a| >= |b|. */
static int sub_mag(hl_big *r, const hl_big *a, const hl_big *b, int neg)
{
    int rc = reserve(r, a->n);
    if (rc)
        return rc;
    uint64_t borrow = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint64_t x = a->d[i], y = i < b->n ? b->d[i] : 0, d = x - y;
        r->d[i] = d - borrow;
        borrow = (x < y) | (d < borrow);
    }
    r->n = a->n;
    r->neg = neg;
    return norm(r);
}

/* r = a + (negate_b ? -b : b). */
static int add_signed(hl_big *r, const hl_big *a, const hl_big *b, int negate_b)
{
    int bneg = b->n && (b->neg ^ negate_b);
    if (a->neg == bneg)
        return add_mag(r, a, b, a->neg);
    if (cmp_mag(a, b) >= 0)
        return sub_mag(r, a, b, a->neg);
    return sub_mag(r, b, a, bneg);
}

int hl_big_cmp(const hl_big *a, const hl_big *b)
{
    if (a->neg != b->neg)
        return a->neg ? -1 : 1;
    int c = cmp_mag(a, b);
    return a->neg ? -c : c;
}

int hl_big_add(hl_big *r, const hl_big *a, const hl_big *b)
{
    return add_signed(r, a, b, 0);
}

int hl_big_sub(hl_big *r, const hl_big *a, const hl_big *b)
{
    return add_signed(r, a, b, 1);
}

int hl_big_mul(hl_big *r, const hl_big *a, const hl_big *b)
{
    if (!a->n || !b->n) {
        r->n = 0;
        r->neg = 0;
        return HL_OK;
    }
    if (a->n + b->n > HL_BIG_MAX_LIMBS + 1) /* quadratic: bounded */
        return HL_EUNSUPPORTED;
    int rc = reserve(r, a->n + b->n);
    if (rc)
        return rc;
    memset(r->d, 0, (a->n + b->n) * sizeof *r->d);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < b->n; j++) {
            u128 t = (u128)a->d[i] * b->d[j] + r->d[i + j] + carry;
            r->d[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        r->d[i + b->n] = carry;
    }
    r->n = a->n + b->n;
    r->neg = a->neg ^ b->neg;
    norm(r);
    return r->n > HL_BIG_MAX_LIMBS ? HL_EUNSUPPORTED : HL_OK;
}

/* Knuth D on magnitudes: q = u / v, rm = u % v, for v->n >= 1, u >= v. The
 * divisor is shifted so its top bit is set, which keeps each quotient
 * digit estimate at most two too large. */
static int divrem_mag(hl_big *q, hl_big *rm, const hl_big *u, const hl_big *v)
{
    size_t n = v->n, m = u->n - v->n;
    int s = __builtin_clzll(v->d[n - 1]);
    uint64_t *vn = malloc(n * sizeof *vn), *un = malloc((u->n + 1) * sizeof *un);
    int rc = vn && un ? reserve(q, m + 1) : HL_ENOMEM;
    if (rc)
        goto out;
    for (size_t i = n; i-- > 0;)
        vn[i] = (v->d[i] << s) | (s && i ? v->d[i - 1] >> (64 - s) : 0);
    un[u->n] = s ? u->d[u->n - 1] >> (64 - s) : 0;
    for (size_t i = u->n; i-- > 0;)
        un[i] = (u->d[i] << s) | (s && i ? u->d[i - 1] >> (64 - s) : 0);
    for (size_t j = m + 1; j-- > 0;) {
        u128 num = ((u128)un[j + n] << 64) | un[j + n - 1];
        u128 qhat = num / vn[n - 1], rhat = num % vn[n - 1];
        while (qhat >> 64 || (n > 1 && qhat * vn[n - 2] > ((rhat << 64) | un[j + n - 2]))) {
            qhat--;
            rhat += vn[n - 1];
            if (rhat >> 64)
                break;
        }
        /* un[j..j+n] -= qhat * vn */
        uint64_t mulc = 0, borrow = 0;
        for (size_t i = 0; i <= n; i++) {
            u128 p = i < n ? (u128)(uint64_t)qhat * vn[i] + mulc : mulc;
            mulc = (uint64_t)(p >> 64);
            uint64_t sub = (uint64_t)p, x = un[i + j];
            un[i + j] = x - sub - borrow;
            borrow = (x < sub) || (x - sub < borrow);
        }
        if (borrow) { /* qhat was one too large: add vn back */
            qhat--;
            uint64_t carry = 0;
            for (size_t i = 0; i <= n; i++) {
                u128 t = (u128)un[i + j] + (i < n ? vn[i] : 0) + carry;
                un[i + j] = (uint64_t)t;
                carry = (uint64_t)(t >> 64);
            }
        }
        q->d[j] = (uint64_t)qhat;
    }
    q->n = m + 1;
    if (rm && !(rc = reserve(rm, n))) {
        for (size_t i = 0; i < n; i++)
            rm->d[i] = (un[i] >> s) | (s ? un[i + 1] << (64 - s) : 0);
        rm->n = n;
    }
out:
    free(vn);
    free(un);
    return rc;
}

int hl_big_divrem(hl_big *q, hl_big *rm, const hl_big *a, const hl_big *b)
{
    hl_big tq, tr;
    if (!b->n)
        return HL_EBADARG;
    if (a->n > HL_BIG_MAX_LIMBS) /* quadratic in the dividend: bounded */
        return HL_EUNSUPPORTED;
    hl_big_init(&tq);
    hl_big_init(&tr);
    int rc;
    if (cmp_mag(a, b) < 0) { /* quotient 0, remainder a */
        rc = copy(&tr, a);
    } else {
        rc = divrem_mag(&tq, &tr, a, b);
        tq.neg = a->neg ^ b->neg;
        tr.neg = a->neg;
    }
    if (!rc) { /* both are at most |a|: within the bound */
        (void)norm(&tq);
        (void)norm(&tr);
    }
    if (!rc && q)
        rc = copy(q, &tq);
    if (!rc && rm)
        rc = copy(rm, &tr);
    hl_big_free(&tq);
    hl_big_free(&tr);
    return rc;
}

/* Limb i of a's two's complement, extended to any width. */
static uint64_t tc_limb(const hl_big *a, size_t i, int *borrow)
{
    uint64_t x = i < a->n ? a->d[i] : 0;
    if (!a->neg)
        return x;
    /* -m = ~(m - 1): subtract 1 with borrow across limbs, then invert */
    uint64_t y = x - (uint64_t)*borrow;
    *borrow = *borrow && x == 0;
    return ~y;
}

int hl_big_bitop(hl_big *r, int op, const hl_big *a, const hl_big *b)
{
    size_t n = (a->n > b->n ? a->n : b->n) + 1;
    int rc = reserve(r, n);
    if (rc)
        return rc;
    int ba = 1, bb = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = tc_limb(a, i, &ba), y = tc_limb(b, i, &bb);
        r->d[i] = op == HL_BIG_BAND ? x & y : op == HL_BIG_BOR ? x | y : x ^ y;
    }
    r->n = n;
    r->neg = (int)(r->d[n - 1] >> 63);
    if (r->neg) { /* magnitude = ~r + 1 */
        uint64_t carry = 1;
        for (size_t i = 0; i < n; i++) {
            r->d[i] = ~r->d[i] + carry;
            carry = carry && r->d[i] == 0;
        }
    }
    return norm(r);
}

int hl_big_bnot(hl_big *r, const hl_big *a)
{
    hl_big one = {0, 1, 1, &(uint64_t){1}};
    /* bnot a = -a - 1 = -(a + 1) */
    int rc = add_signed(r, a, &one, 0);
    if (!rc && r->n)
        r->neg = !r->neg;
    return rc ? rc : norm(r);
}

int hl_big_shift(hl_big *r, const hl_big *a, int64_t s)
{
    if (!a->n) {
        r->n = 0;
        r->neg = 0;
        return HL_OK;
    }
    if (s > 0) {
        if ((uint64_t)s > (uint64_t)HL_BIG_MAX_LIMBS * 64)
            return HL_EUNSUPPORTED;
        size_t w = (size_t)s / 64, bits = (size_t)s % 64, n = a->n + w + 1;
        int rc = reserve(r, n);
        if (rc)
            return rc;
        memset(r->d, 0, n * sizeof *r->d);
        for (size_t i = 0; i < a->n; i++) {
            r->d[i + w] |= a->d[i] << bits;
            if (bits)
                r->d[i + w + 1] |= a->d[i] >> (64 - bits);
        }
        r->n = n;
        r->neg = a->neg;
        norm(r);
        return r->n > HL_BIG_MAX_LIMBS ? HL_EUNSUPPORTED : HL_OK;
    }
    /* right shift by t: floor(a / 2^t); a negative a whose dropped bits
     * are not all zero rounds one further down */
    uint64_t t = s == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-s;
    size_t w = t / 64 < a->n ? (size_t)(t / 64) : a->n, bits = (size_t)(t % 64);
    int dropped = 0;
    for (size_t i = 0; i < w; i++)
        dropped |= a->d[i] != 0;
    if (t / 64 >= a->n) {
        dropped = 1;
        bits = 0;
    } else if (bits) {
        dropped |= (a->d[w] & ((1ull << bits) - 1)) != 0;
    }
    size_t n = a->n - w;
    int rc = reserve(r, n ? n : 1);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        r->d[i] =
            (a->d[i + w] >> bits) | (bits && i + w + 1 < a->n ? a->d[i + w + 1] << (64 - bits) : 0);
    r->n = n;
    r->neg = a->neg;
    if ((rc = norm(r)) || !a->neg || !dropped)
        return rc;
    /* -(m >> t) - 1 when bits were lost: one more in magnitude */
    hl_big one = {0, 1, 1, &(uint64_t){1}};
    hl_big tmp;
    hl_big_init(&tmp);
    rc = copy(&tmp, r);
    if (!rc) {
        tmp.neg = 0;
        rc = add_mag(r, &tmp, &one, 1);
    }
    hl_big_free(&tmp);
    return rc;
}
