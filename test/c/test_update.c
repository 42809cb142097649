/*
 * test_update.c: cmocka tests of hl_update.c: update_counter's arithmetic
 * on integers of every size (overflow into bignums and back, as ETS), its
 * thresholds and op lists, and update_element, with ETS's badarg cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_term.h"
#include "hl_update.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BUFS 64

static hl_buf bufs[MAX_BUFS];
static size_t nbufs;

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nbufs; i++)
        hl_buf_free(&bufs[i]);
    nbufs = 0;
    return 0;
}

static hl_buf *nb(void)
{
    assert_true(nbufs < MAX_BUFS);
    return &bufs[nbufs++];
}

static hl_bytes i64(int64_t v)
{
    hl_buf *b = nb();
    assert_int_equal(hl_term_put_int(b, v), HL_OK);
    return hl_buf_view(b);
}

/* A bignum: sign and little-endian magnitude bytes (SMALL_BIG_EXT). */
static hl_bytes big(int neg, size_t n, const unsigned char *mag)
{
    hl_buf *b = nb();
    assert_int_equal(hl_buf_append_byte(b, 110), HL_OK);
    assert_int_equal(hl_buf_append_byte(b, (unsigned char)n), HL_OK);
    assert_int_equal(hl_buf_append_byte(b, (unsigned char)neg), HL_OK);
    assert_int_equal(hl_buf_append(b, mag, n), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes atom(const char *s)
{
    hl_buf *b = nb();
    assert_int_equal(hl_term_put_atom(b, s, strlen(s)), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes tup(size_t n, ...)
{
    hl_buf *b = nb();
    va_list ap;
    assert_int_equal(hl_term_put_tuple_header(b, n), HL_OK);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hl_bytes e = va_arg(ap, hl_bytes);
        assert_int_equal(hl_buf_append(b, e.data, e.len), HL_OK);
    }
    va_end(ap);
    return hl_buf_view(b);
}

static hl_bytes list(size_t n, ...)
{
    hl_buf *b = nb();
    va_list ap;
    if (n)
        assert_int_equal(hl_term_put_list_header(b, n), HL_OK);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hl_bytes e = va_arg(ap, hl_bytes);
        assert_int_equal(hl_buf_append(b, e.data, e.len), HL_OK);
    }
    va_end(ap);
    assert_int_equal(hl_term_put_nil(b), HL_OK);
    return hl_buf_view(b);
}

static void same(hl_bytes got, hl_bytes want)
{
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
}

/* Run update_counter on {k, v} and check the new value and the reply. */
static void counter(hl_bytes v, hl_bytes ops, hl_bytes want_reply, hl_bytes want_v)
{
    hl_buf obj = {0}, res = {0};
    hl_bytes k = atom("k");
    assert_int_equal(hl_update_counter(tup(2, k, v), 1, ops, &obj, &res), HL_OK);
    same(hl_buf_view(&res), want_reply);
    same(hl_buf_view(&obj), tup(2, k, want_v));
    hl_buf_free(&obj);
    hl_buf_free(&res);
}

static void test_small_and_overflow(void **state)
{
    (void)state;
    counter(i64(1), i64(1), i64(2), i64(2));
    counter(i64(255), i64(1), i64(256), i64(256)); /* SMALL_INTEGER -> INTEGER */
    counter(i64(0), i64(-1), i64(-1), i64(-1));
    counter(i64(2147483647), i64(1), i64(2147483648LL), i64(2147483648LL)); /* -> big */
    counter(i64(-2147483648LL), i64(-1), i64(-2147483649LL), i64(-2147483649LL));
    counter(i64(2147483648LL), i64(-1), i64(2147483647), i64(2147483647)); /* back */
    counter(i64(5), i64(-5), i64(0), i64(0));
}

static void test_bignums(void **state)
{
    (void)state;
    /* 2^64 - 1 + 1 = 2^64: a carry into a new byte. */
    const unsigned char ff[8] = {255, 255, 255, 255, 255, 255, 255, 255};
    const unsigned char two64[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    counter(big(0, 8, ff), i64(1), big(0, 9, two64), big(0, 9, two64));
    /* 2^64 - 2^64 = 0, a small integer again. */
    counter(big(0, 9, two64), big(1, 9, two64), i64(0), i64(0));
    /* -(2^64) + (2^64 - 1) = -1. */
    counter(big(1, 9, two64), big(0, 8, ff), i64(-1), i64(-1));
    /* 1 - 2^64 = -(2^64 - 1): a borrow through every byte. */
    counter(i64(1), big(1, 9, two64), big(1, 8, ff), big(1, 8, ff));
}

static void test_thresholds_and_lists(void **state)
{
    (void)state;
    hl_bytes two = i64(2), one = i64(1);
    /* Incr >= 0: over the threshold gives SetValue; at it, not. */
    counter(i64(2), tup(4, two, one, i64(3), i64(0)), i64(3), i64(3));
    counter(i64(3), tup(4, two, one, i64(3), i64(0)), i64(0), i64(0));
    /* Incr < 0: under the threshold gives SetValue. */
    counter(i64(0), tup(4, two, i64(-1), i64(0), i64(10)), i64(10), i64(10));
    /* A list applies in order and answers a list; [] answers []. */
    counter(i64(0), list(2, tup(2, two, one), tup(2, two, one)), list(2, i64(1), i64(2)), i64(2));
    counter(i64(7), list(0), list(0), i64(7));
}

static void test_counter_badarg(void **state)
{
    (void)state;
    hl_buf obj = {0}, res = {0};
    hl_bytes o = tup(3, atom("k"), i64(1), atom("a")), two = i64(2), one = i64(1);
    hl_bytes bad[] = {
        tup(2, i64(1), one),    /* the key */
        tup(2, i64(0), one),    /* under 1 */
        tup(2, i64(4), one),    /* past the tuple */
        tup(2, i64(3), one),    /* not an integer there */
        tup(2, two, atom("x")), /* incr not an integer */
        tup(3, two, one, one),  /* arity 3 */
        tup(4, two, one, atom("t"), one),
        list(1, one), /* a bare incr in a list */
        list(2, tup(2, two, one), tup(2, i64(3), one)),
        atom("x"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hl_update_counter(o, 1, bad[i], &obj, &res), HL_EBADARG);
        obj.len = res.len = 0;
    }
    hl_buf_free(&obj);
    hl_buf_free(&res);
}

static void test_update_element(void **state)
{
    (void)state;
    hl_buf out = {0};
    hl_bytes k = atom("k"), o = tup(3, k, i64(1), i64(2));
    assert_int_equal(hl_update_element(o, 1, tup(2, i64(2), atom("x")), &out), HL_OK);
    same(hl_buf_view(&out), tup(3, k, atom("x"), i64(2)));
    out.len = 0;
    assert_int_equal(hl_update_element(
                         o, 1, list(2, tup(2, i64(3), atom("y")), tup(2, i64(3), atom("z"))), &out),
                     HL_OK);
    same(hl_buf_view(&out), tup(3, k, i64(1), atom("z")));
    out.len = 0;
    assert_int_equal(hl_update_element(o, 1, list(0), &out), HL_OK);
    same(hl_buf_view(&out), o);
    hl_bytes bad[] = {tup(2, i64(1), k),
                      tup(2, i64(4), k),
                      tup(2, i64(0), k),
                      atom("x"),
                      list(2, tup(2, i64(2), k), tup(2, i64(1), k)),
                      tup(3, i64(2), k, k)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out.len = 0;
        assert_int_equal(hl_update_element(o, 1, bad[i], &out), HL_EBADARG);
    }
    hl_buf_free(&out);
}

#define T(name) cmocka_unit_test_teardown(name, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_small_and_overflow), T(test_bignums),        T(test_thresholds_and_lists),
        T(test_counter_badarg),     T(test_update_element),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
