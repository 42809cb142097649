/*
 * test_bigint.c: cmocka tests of the exact integers (hl_bigint.h).
 *
 * Two oracles: for operands that fit 62 bits, C's own __int128 arithmetic
 * (every operation, every sign); for operands of up to 100 limbs, the
 * identities that tie the operations together (a == q*b + r, shifting
 * back, De Morgan, bnot twice). The term and float conversions are checked
 * against encodings and values written out by hand from the ETF spec.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hl_bigint.h"

typedef __int128 i128;

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Builds b from limbs directly (the struct is the contract), so the
 * oracle does not lean on the operations under test. */
static void set_limbs(hl_big *b, int neg, const uint64_t *d, size_t n)
{
    hl_big_free(b);
    b->d = malloc((n ? n : 1) * sizeof *b->d);
    assert_non_null(b->d);
    b->cap = n ? n : 1;
    memcpy(b->d, d, n * sizeof *d);
    while (n && !d[n - 1])
        n--;
    b->n = n;
    b->neg = n ? neg : 0;
}

static void set128(hl_big *b, i128 v)
{
    unsigned __int128 m = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    uint64_t d[2] = {(uint64_t)m, (uint64_t)(m >> 64)};
    set_limbs(b, v < 0, d, 2);
}

static i128 get128(const hl_big *b)
{
    assert_true(b->n <= 2);
    unsigned __int128 m = 0;
    for (size_t i = b->n; i-- > 0;)
        m = (m << 64) | b->d[i];
    assert_true(m >> 127 == 0 || (b->neg && m == (unsigned __int128)1 << 127));
    return b->neg ? -(i128)m : (i128)m;
}

static i128 rand62(void)
{
    int64_t v = (int64_t)(next() >> (2 + next() % 60));
    return next() & 1 ? -(i128)v : (i128)v;
}

static i128 floor_shift(i128 a, int s)
{
    return s >= 0 ? a * ((i128)1 << s) : (a >= 0 ? a >> -s : -((-a - 1) >> -s) - 1);
}

static void against_int128(void **state)
{
    (void)state;
    hl_big a, b, r, q;
    hl_big_init(&a);
    hl_big_init(&b);
    hl_big_init(&r);
    hl_big_init(&q);
    for (int i = 0; i < 20000; i++) {
        i128 x = rand62(), y = rand62();
        set128(&a, x);
        set128(&b, y);
        assert_true(get128(&a) == x);
        assert_int_equal(hl_big_add(&r, &a, &b), HL_OK);
        assert_true(get128(&r) == x + y);
        assert_int_equal(hl_big_sub(&r, &a, &b), HL_OK);
        assert_true(get128(&r) == x - y);
        assert_int_equal(hl_big_mul(&r, &a, &b), HL_OK);
        assert_true(get128(&r) == x * y);
        if (y) {
            assert_int_equal(hl_big_divrem(&q, &r, &a, &b), HL_OK);
            assert_true(get128(&q) == x / y);
            assert_true(get128(&r) == x % y);
        } else {
            assert_int_equal(hl_big_divrem(&q, &r, &a, &b), HL_EBADARG);
        }
        assert_int_equal(hl_big_bitop(&r, HL_BIG_BAND, &a, &b), HL_OK);
        assert_true(get128(&r) == (x & y));
        assert_int_equal(hl_big_bitop(&r, HL_BIG_BOR, &a, &b), HL_OK);
        assert_true(get128(&r) == (x | y));
        assert_int_equal(hl_big_bitop(&r, HL_BIG_BXOR, &a, &b), HL_OK);
        assert_true(get128(&r) == (x ^ y));
        assert_int_equal(hl_big_bnot(&r, &a), HL_OK);
        assert_true(get128(&r) == ~x);
        int s = (int)(next() % 130) - 65;
        assert_int_equal(hl_big_shift(&r, &a, s), HL_OK);
        assert_true(get128(&r) == floor_shift(x, s));
        int64_t v;
        assert_int_equal(hl_big_get_i64(&a, &v), 1);
        assert_true((i128)v == x);
    }
    hl_big_free(&a);
    hl_big_free(&b);
    hl_big_free(&r);
    hl_big_free(&q);
}

/* A random number of up to `limbs` limbs, often with runs of 0 or ~0. */
static void rand_big(hl_big *b, size_t limbs)
{
    uint64_t d[100];
    size_t n = 1 + next() % limbs;
    for (size_t i = 0; i < n; i++)
        d[i] = next() % 4 == 0 ? 0 : next() % 4 == 0 ? ~0ULL : next();
    set_limbs(b, (int)(next() & 1), d, n);
}

static int same(const hl_big *a, const hl_big *b)
{
    return a->neg == b->neg && a->n == b->n && !memcmp(a->d, b->d, a->n * 8);
}

static void identities(void **state)
{
    (void)state;
    hl_big a, b, q, r, t, u;
    hl_big *all[] = {&a, &b, &q, &r, &t, &u};
    for (size_t i = 0; i < 6; i++)
        hl_big_init(all[i]);
    for (int i = 0; i < 3000; i++) {
        rand_big(&a, 100);
        rand_big(&b, 1 + next() % 100);
        if (!b.n)
            continue;
        /* a == q*b + r, |r| < |b|, r has a's sign */
        assert_int_equal(hl_big_divrem(&q, &r, &a, &b), HL_OK);
        assert_int_equal(hl_big_mul(&t, &q, &b), HL_OK);
        assert_int_equal(hl_big_add(&u, &t, &r), HL_OK);
        assert_true(same(&u, &a));
        assert_true(r.n <= b.n);
        assert_true(!r.n || r.neg == a.neg);
        /* (a + b) - b == a */
        assert_int_equal(hl_big_add(&t, &a, &b), HL_OK);
        assert_int_equal(hl_big_sub(&u, &t, &b), HL_OK);
        assert_true(same(&u, &a));
        /* a bxor b == (a bor b) - (a band b) */
        assert_int_equal(hl_big_bitop(&t, HL_BIG_BOR, &a, &b), HL_OK);
        assert_int_equal(hl_big_bitop(&u, HL_BIG_BAND, &a, &b), HL_OK);
        assert_int_equal(hl_big_sub(&q, &t, &u), HL_OK);
        assert_int_equal(hl_big_bitop(&r, HL_BIG_BXOR, &a, &b), HL_OK);
        assert_true(same(&q, &r));
        /* bnot (a band b) == bnot a bor bnot b */
        assert_int_equal(hl_big_bnot(&t, &u), HL_OK);
        assert_int_equal(hl_big_bnot(&q, &a), HL_OK);
        assert_int_equal(hl_big_bnot(&r, &b), HL_OK);
        assert_int_equal(hl_big_bitop(&u, HL_BIG_BOR, &q, &r), HL_OK);
        assert_true(same(&t, &u));
        /* (a bsl s) bsr s == a, and a bsr s == a div 2^s rounded down */
        int64_t s = (int64_t)(next() % 3000);
        assert_int_equal(hl_big_shift(&t, &a, s), HL_OK);
        assert_int_equal(hl_big_shift(&u, &t, -s), HL_OK);
        assert_true(same(&u, &a));
        assert_int_equal(hl_big_shift(&t, &a, -s), HL_OK);
        assert_int_equal(hl_big_from_i64(&u, 1), HL_OK);
        assert_int_equal(hl_big_shift(&r, &u, s), HL_OK);
        assert_int_equal(hl_big_divrem(&q, &u, &a, &r), HL_OK);
        if (u.n && a.neg) { /* truncated toward zero: floor is one less */
            assert_int_equal(hl_big_from_i64(&r, 1), HL_OK);
            assert_int_equal(hl_big_sub(&u, &q, &r), HL_OK);
            assert_true(same(&t, &u));
        } else {
            assert_true(same(&t, &q));
        }
    }
    for (size_t i = 0; i < 6; i++)
        hl_big_free(all[i]);
}

static void bounds(void **state)
{
    (void)state;
    hl_big a, r;
    hl_big_init(&a);
    hl_big_init(&r);
    assert_int_equal(hl_big_from_i64(&a, 1), HL_OK);
    assert_int_equal(hl_big_shift(&r, &a, HL_BIG_MAX_LIMBS * 64 - 1), HL_OK);
    assert_int_equal(r.n, HL_BIG_MAX_LIMBS);
    assert_int_equal(hl_big_shift(&r, &a, HL_BIG_MAX_LIMBS * 64), HL_EUNSUPPORTED);
    assert_int_equal(hl_big_shift(&r, &a, INT64_MAX), HL_EUNSUPPORTED);
    hl_big one;
    hl_big_init(&one);
    assert_int_equal(hl_big_from_i64(&one, 1), HL_OK);
    assert_int_equal(hl_big_shift(&a, &one, HL_BIG_MAX_LIMBS * 64 - 1), HL_OK);
    hl_big_free(&one);
    assert_int_equal(hl_big_mul(&r, &a, &a), HL_EUNSUPPORTED);
    /* linear operations are not bounded: a sum may pass it, its division
     * (quadratic in the dividend) may not */
    assert_int_equal(hl_big_add(&r, &a, &a), HL_OK);
    assert_int_equal(r.n, HL_BIG_MAX_LIMBS + 1);
    assert_int_equal(hl_big_divrem(&a, NULL, &r, &r), HL_EUNSUPPORTED);
    assert_int_equal(hl_big_shift(&a, &r, -1), HL_OK);
    assert_int_equal(a.n, HL_BIG_MAX_LIMBS);
    /* shifting a huge way right leaves 0 or -1 */
    assert_int_equal(hl_big_shift(&r, &a, INT64_MIN), HL_OK);
    assert_int_equal(r.n, 0);
    a.neg = 1;
    assert_int_equal(hl_big_shift(&r, &a, INT64_MIN), HL_OK);
    assert_true(r.n == 1 && r.neg && r.d[0] == 1);
    hl_big_free(&a);
    hl_big_free(&r);
}

static void terms_and_floats(void **state)
{
    (void)state;
    hl_big a;
    hl_buf out = {0};
    hl_big_init(&a);
    /* -2^64 as SMALL_BIG_EXT: 9 bytes, negative, magnitude 0..0 1 */
    const unsigned char big[] = {110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(hl_big_from_term(&a, (hl_bytes){big, sizeof big}), HL_OK);
    assert_true(a.neg && a.n == 2 && a.d[0] == 0 && a.d[1] == 1);
    assert_int_equal(hl_big_to_term(&a, &out), HL_OK);
    assert_int_equal(out.len, sizeof big);
    assert_memory_equal(out.data, big, sizeof big);
    double d;
    assert_int_equal(hl_big_to_double(&a, &d), HL_OK);
    assert_true(d == -18446744073709551616.0);
    /* small results come back in the small forms */
    const unsigned char i255[] = {97, 255}, im1[] = {98, 255, 255, 255, 255};
    out.len = 0;
    assert_int_equal(hl_big_from_i64(&a, 255), HL_OK);
    assert_int_equal(hl_big_to_term(&a, &out), HL_OK);
    assert_memory_equal(out.data, i255, 2);
    out.len = 0;
    assert_int_equal(hl_big_from_i64(&a, -1), HL_OK);
    assert_int_equal(hl_big_to_term(&a, &out), HL_OK);
    assert_memory_equal(out.data, im1, 5);
    const unsigned char atom[] = {119, 1, 'a'};
    assert_int_equal(hl_big_from_term(&a, (hl_bytes){atom, 3}), HL_EBADARG);
    /* floats: 2^70 + 2^18 exactly, its truncation, and the largest double */
    assert_int_equal(hl_big_from_double(&a, 1180591620717411565568.0), HL_OK);
    assert_true(a.n == 2 && a.d[1] == 64 && a.d[0] == 262144 && !a.neg);
    assert_int_equal(hl_big_from_double(&a, -2.75), HL_OK);
    assert_true(a.n == 1 && a.neg && a.d[0] == 2);
    assert_int_equal(hl_big_from_double(&a, 0.5), HL_OK);
    assert_int_equal(a.n, 0);
    assert_int_equal(hl_big_from_double(&a, 1.7976931348623157e308), HL_OK);
    assert_int_equal(hl_big_to_double(&a, &d), HL_OK);
    assert_true(d == 1.7976931348623157e308);
    assert_int_equal(hl_big_from_double(&a, 1.0 / 0.0), HL_EBADARG);
    /* 2^1024 is not a finite double: badarith in erts */
    assert_int_equal(hl_big_from_i64(&a, 1), HL_OK);
    hl_big r;
    hl_big_init(&r);
    assert_int_equal(hl_big_shift(&r, &a, 1024), HL_OK);
    assert_int_equal(hl_big_to_double(&r, &d), HL_EBADARG);
    hl_big_free(&r);
    hl_big_free(&a);
    hl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_int128),
        cmocka_unit_test(identities),
        cmocka_unit_test(bounds),
        cmocka_unit_test(terms_and_floats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
