/*
 * test_bmap.c: cmocka tests of the byte-string hash map (hl_bmap.h).
 *
 * A seeded random mix of puts, gets and deletes is checked against a plain
 * array that is searched linearly, so deletion's backward shifts are
 * exercised across wrap-around and resizes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hl_bmap.h"

#define KEYS 2000
#define OPS 200000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Key i: bytes of varying length whose tail is i, as pids differ. */
static hl_bytes key_of(size_t i, unsigned char *buf)
{
    size_t len = 4 + i % 37;
    memset(buf, 0xA5, len);
    buf[len - 4] = (unsigned char)(i >> 24);
    buf[len - 3] = (unsigned char)(i >> 16);
    buf[len - 2] = (unsigned char)(i >> 8);
    buf[len - 1] = (unsigned char)i;
    return (hl_bytes){buf, len};
}

static void test_bmap_empty(void **state)
{
    (void)state;
    hl_bmap m = {0};
    uint64_t v = 7;
    assert_int_equal(hl_bmap_get(&m, (hl_bytes){(const unsigned char *)"x", 1}, &v), 0);
    assert_int_equal(hl_bmap_del(&m, (hl_bytes){(const unsigned char *)"x", 1}, NULL), 0);
    assert_int_equal(v, 7);
    /* The empty key is a key like any other. */
    assert_int_equal(hl_bmap_put(&m, (hl_bytes){NULL, 0}, 3), HL_OK);
    assert_int_equal(hl_bmap_get(&m, (hl_bytes){NULL, 0}, &v), 1);
    assert_int_equal(v, 3);
    hl_bmap_free(&m);
    assert_int_equal(m.n, 0);
}

static void test_bmap_random_against_model(void **state)
{
    (void)state;
    hl_bmap m = {0};
    static int present[KEYS];
    static uint64_t model[KEYS];
    unsigned char buf[64];
    size_t count = 0;
    memset(present, 0, sizeof present);
    for (size_t op = 0; op < OPS; op++) {
        size_t i = next() % KEYS;
        hl_bytes k = key_of(i, buf);
        uint64_t v = 0;
        switch (next() % 3) {
        case 0:
            assert_int_equal(hl_bmap_put(&m, k, op), HL_OK);
            count += !present[i];
            present[i] = 1;
            model[i] = op;
            break;
        case 1:
            assert_int_equal(hl_bmap_del(&m, k, &v), present[i]);
            if (present[i])
                assert_int_equal(v, model[i]);
            count -= present[i];
            present[i] = 0;
            break;
        default:
            assert_int_equal(hl_bmap_get(&m, k, &v), present[i]);
            if (present[i])
                assert_int_equal(v, model[i]);
        }
        assert_int_equal(m.n, count);
    }
    for (size_t i = 0; i < KEYS; i++) {
        uint64_t v;
        assert_int_equal(hl_bmap_get(&m, key_of(i, buf), &v), present[i]);
    }
    hl_bmap_free(&m);
}

static void test_bmap_many_deletes_stay_reachable(void **state)
{
    (void)state;
    hl_bmap m = {0};
    unsigned char buf[64];
    uint64_t v;
    for (size_t i = 0; i < KEYS; i++)
        assert_int_equal(hl_bmap_put(&m, key_of(i, buf), i), HL_OK);
    for (size_t i = 0; i < KEYS; i += 2)
        assert_int_equal(hl_bmap_del(&m, key_of(i, buf), NULL), 1);
    for (size_t i = 0; i < KEYS; i++) {
        assert_int_equal(hl_bmap_get(&m, key_of(i, buf), &v), (int)(i % 2));
        if (i % 2)
            assert_int_equal(v, i);
    }
    hl_bmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmap_empty),
        cmocka_unit_test(test_bmap_random_against_model),
        cmocka_unit_test(test_bmap_many_deletes_stay_reachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
