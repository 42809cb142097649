/*
 * test_term_canon.c: cmocka tests of the canonicaliser's two forms (key and
 * object, hl_term.h) and of its cost on shapes that used to be quadratic.
 *
 * The cost tests have no timing assertion: a map nested 1,000,000 deep that
 * needs its pairs reordered at every level, 100,000 keys in reverse order,
 * chains of maps inside map keys, finish in about a second when
 * canonicalisation is linear, and would not finish within any test run if it
 * were quadratic (1,000,000 levels of 13 bytes: about 6e12 bytes moved).
 * Every result is checked byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hl_order.h"
#include "hl_term.h"

static const unsigned char neg_zero[9] = {HL_TAG_NEW_FLOAT, 0x80, 0, 0, 0, 0, 0, 0, 0};
static const unsigned char pos_zero[9] = {HL_TAG_NEW_FLOAT, 0, 0, 0, 0, 0, 0, 0, 0};

static void put(hl_buf *b, const void *p, size_t n)
{
    assert_int_equal(hl_buf_append(b, p, n), HL_OK);
}

/* Canonicalise the whole of in, in form; assert it is accepted. */
static void canon_ok(hl_bytes in, hl_term_form form, hl_buf *out)
{
    size_t pos = 0;
    out->len = 0;
    assert_int_equal(hl_term_canon_form(in.data, in.len, &pos, out, form), HL_OK);
    assert_int_equal(pos, in.len);
}

/* {a, [-0.0], #{-0.0 => -0.0}, -0.0} with floats `z`; FLOAT_EXT for the last
 * one when old_float. */
static void sample(hl_buf *b, const unsigned char *z, int old_float)
{
    put(b,
        "\x68\x04\x77\x01"
        "a",
        5);
    put(b, "\x6c\0\0\0\x01", 5);
    put(b, z, 9);
    put(b, "\x6a", 1);
    put(b, "\x74\0\0\0\x01", 5);
    put(b, z, 9);
    put(b, z, 9);
    if (!old_float) {
        put(b, z, 9);
        return;
    }
    char s[32] = {0};
    strcpy(s, z[1] ? "-0.00000000000000000000e+00" : "0.00000000000000000000e+00");
    put(b, "\x63", 1);
    put(b, s, 31);
}

static void test_term_canon_object_keeps_neg_zero(void **state)
{
    (void)state;
    hl_buf in = {0}, neg = {0}, pos = {0}, out = {0};
    sample(&neg, neg_zero, 0);
    sample(&pos, pos_zero, 0);
    for (int old = 0; old <= 1; old++) {
        in.len = 0;
        sample(&in, neg_zero, old);
        /* object form: exactly as given (FLOAT_EXT becomes NEW_FLOAT_EXT) */
        canon_ok(hl_buf_view(&in), HL_FORM_OBJECT, &out);
        assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&neg)));
        /* key form: every -0.0, nested or not, is 0.0 */
        canon_ok(hl_buf_view(&in), HL_FORM_KEY, &out);
        assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&pos)));
    }
    /* the two forms are still =:= in term order */
    assert_int_equal(hl_order_compare(neg.data, neg.len, pos.data, pos.len, HL_CMP_EXACT), 0);
    hl_buf_free(&in);
    hl_buf_free(&neg);
    hl_buf_free(&pos);
    hl_buf_free(&out);
}

static void test_term_key_form_of_objects(void **state)
{
    (void)state;
    hl_buf obj = {0}, key = {0}, scratch = {0};
    hl_bytes k;
    sample(&obj, neg_zero, 0);
    sample(&key, pos_zero, 0);
    /* a -0.0 anywhere: the key form is written into scratch */
    assert_int_equal(hl_term_key_form(hl_buf_view(&obj), &scratch, &k), HL_OK);
    assert_ptr_equal(k.data, scratch.data);
    assert_true(hl_bytes_eq(k, hl_buf_view(&key)));
    /* scratch is overwritten, not appended to */
    assert_int_equal(hl_term_key_form(hl_buf_view(&obj), &scratch, &k), HL_OK);
    assert_true(hl_bytes_eq(k, hl_buf_view(&key)));
    /* no -0.0: the term itself, no copy */
    assert_int_equal(hl_term_key_form(hl_buf_view(&key), &scratch, &k), HL_OK);
    assert_ptr_equal(k.data, key.data);
    assert_int_equal(k.len, key.len);
    /* one whole term only */
    assert_int_equal(hl_term_key_form((hl_bytes){key.data, key.len - 1}, &scratch, &k), HL_EBADARG);
    int nz = 7;
    size_t pos = 0;
    assert_int_equal(hl_term_skip_scan(obj.data, obj.len, &pos, &nz), HL_OK);
    assert_int_equal(nz, 1);
    pos = 0;
    assert_int_equal(hl_term_skip_scan(key.data, key.len, &pos, &nz), HL_OK);
    assert_int_equal(nz, 0);
    hl_buf_free(&obj);
    hl_buf_free(&key);
    hl_buf_free(&scratch);
}

/* #{0.0 => a, -0.0 => b} is refused in both forms, as binary_to_term does:
 * the keys are =:=. */
static void test_term_canon_zero_keys_collide(void **state)
{
    (void)state;
    hl_buf in = {0}, out = {0};
    put(&in, "\x74\0\0\0\x02", 5);
    put(&in, pos_zero, 9);
    put(&in,
        "\x77\x01"
        "a",
        3);
    put(&in, neg_zero, 9);
    put(&in,
        "\x77\x01"
        "b",
        3);
    for (int form = HL_FORM_KEY; form <= HL_FORM_OBJECT; form++) {
        size_t pos = 0;
        assert_int_equal(hl_term_canon_form(in.data, in.len, &pos, &out, form), HL_EBADARG);
        assert_int_equal(out.len, 0);
    }
    hl_buf_free(&in);
    hl_buf_free(&out);
}

/* A map inside a map key is put in order at once, the map around it later:
 * #{#{b => 0, a => 0} => 1, x => 2} is #{x => 2, #{a => 0, b => 0} => 1}. */
static void test_term_canon_map_in_key(void **state)
{
    (void)state;
    hl_buf in = {0}, ex = {0}, out = {0};
    put(&in, "\x74\0\0\0\x02", 5);
    put(&in,
        "\x74\0\0\0\x02\x77\x01"
        "b\x61\x00\x77\x01"
        "a\x61\x00",
        15);
    put(&in,
        "\x61\x01\x77\x01"
        "x\x61\x02",
        7);
    put(&ex,
        "\x74\0\0\0\x02\x77\x01"
        "x\x61\x02",
        10);
    put(&ex,
        "\x74\0\0\0\x02\x77\x01"
        "a\x61\x00\x77\x01"
        "b\x61\x00",
        15);
    put(&ex, "\x61\x01", 2);
    canon_ok(hl_buf_view(&in), HL_FORM_KEY, &out);
    assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&ex)));
    hl_buf_free(&in);
    hl_buf_free(&ex);
    hl_buf_free(&out);
}

/*
 * levels maps, each #{b => 0, a => Inner} (Inner the next level, or [Inner]
 * when in_list; #{} at the bottom). The canonical form puts a before b at
 * every level, so each level's pairs must move.
 */
static void deep_map(size_t levels, int in_list, hl_buf *in, hl_buf *ex)
{
    for (size_t i = 0; i < levels; i++) {
        put(in,
            "\x74\0\0\0\x02\x77\x01"
            "b\x61\x00\x77\x01"
            "a",
            13);
        put(ex,
            "\x74\0\0\0\x02\x77\x01"
            "a",
            8);
        if (in_list) {
            put(in, "\x6c\0\0\0\x01", 5);
            put(ex, "\x6c\0\0\0\x01", 5);
        }
    }
    put(in, "\x74\0\0\0\0", 5);
    put(ex, "\x74\0\0\0\0", 5);
    for (size_t i = 0; i < levels; i++) {
        if (in_list) {
            put(in, "\x6a", 1);
            put(ex, "\x6a", 1);
        }
        put(ex,
            "\x77\x01"
            "b\x61\x00",
            5);
    }
}

static void test_term_canon_deep_maps_linear(void **state)
{
    (void)state;
    static const struct {
        size_t levels;
        int in_list;
    } shapes[] = {{1000000, 0}, {300000, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        hl_buf in = {0}, ex = {0}, out = {0};
        deep_map(shapes[s].levels, shapes[s].in_list, &in, &ex);
        canon_ok(hl_buf_view(&in), HL_FORM_OBJECT, &out);
        assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&ex)));
        /* canonical input: nothing moves, same bytes */
        hl_buf again = {0};
        canon_ok(hl_buf_view(&out), HL_FORM_KEY, &again);
        assert_true(hl_bytes_eq(hl_buf_view(&again), hl_buf_view(&ex)));
        hl_buf_free(&in);
        hl_buf_free(&ex);
        hl_buf_free(&out);
        hl_buf_free(&again);
    }
}

/* A chain of maps as keys, each out of order: K = #{K' => 1, a => 1}, whose
 * canonical form is #{a => 1, K' => 1} at every level. */
static void test_term_canon_key_chain_linear(void **state)
{
    (void)state;
    enum { LEVELS = 300000 };
    hl_buf in = {0}, ex = {0}, out = {0};
    for (int i = 0; i < LEVELS; i++) {
        put(&in, "\x74\0\0\0\x02", 5);
        put(&ex,
            "\x74\0\0\0\x02\x77\x01"
            "a\x61\x01",
            10);
    }
    put(&in, "\x74\0\0\0\0", 5);
    put(&ex, "\x74\0\0\0\0", 5);
    for (int i = 0; i < LEVELS; i++) {
        put(&in,
            "\x61\x01\x77\x01"
            "a\x61\x01",
            7);
        put(&ex, "\x61\x01", 2);
    }
    canon_ok(hl_buf_view(&in), HL_FORM_KEY, &out);
    assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&ex)));
    hl_buf_free(&in);
    hl_buf_free(&ex);
    hl_buf_free(&out);
}

/* levels single-pair maps #{#{...#{v => 0}...} => 0}: its bytes. */
static void key_tower(hl_buf *b, size_t levels, unsigned char v)
{
    for (size_t i = 0; i < levels; i++)
        put(b, "\x74\0\0\0\x01", 5);
    unsigned char bottom[2] = {HL_TAG_SMALL_INTEGER, v};
    put(b, bottom, 2);
    for (size_t i = 0; i < levels; i++)
        put(b, "\x61\x00", 2);
}

/* #{A => 1, B => 2} with A and B towers of maps in keys that differ only at
 * the bottom: comparing them must not walk the rest of a tower at each
 * level. */
static void test_term_canon_compare_deep_keys_linear(void **state)
{
    (void)state;
    enum { LEVELS = 200000 };
    hl_buf in = {0}, ex = {0}, out = {0};
    put(&in, "\x74\0\0\0\x02", 5);
    key_tower(&in, LEVELS, 2);
    put(&in, "\x61\x01", 2);
    key_tower(&in, LEVELS, 1);
    put(&in, "\x61\x02", 2);
    put(&ex, "\x74\0\0\0\x02", 5);
    key_tower(&ex, LEVELS, 1);
    put(&ex, "\x61\x02", 2);
    key_tower(&ex, LEVELS, 2);
    put(&ex, "\x61\x01", 2);
    canon_ok(hl_buf_view(&in), HL_FORM_KEY, &out);
    assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&ex)));
    hl_buf_free(&in);
    hl_buf_free(&ex);
    hl_buf_free(&out);
}

/* 100,000 integer keys from the largest down, each value a small map in
 * reverse order too: one big sort, and 100,000 small maps reordered. */
static void test_term_canon_wide_map_linear(void **state)
{
    (void)state;
    enum { N = 100000 };
    hl_buf in = {0}, ex = {0}, out = {0};
    put(&in, "\x74\0\0\0\0", 5);
    hl_put_u32(in.data + 1, N);
    put(&ex, in.data, 5);
    for (int64_t k = N - 1; k >= 0; k--) {
        unsigned char i32[5] = {HL_TAG_INTEGER};
        hl_put_u32(i32 + 1, (uint32_t)k);
        put(&in, i32, 5); /* not canonical for k < 256 */
        put(&in, "\x74\0\0\0\x02\x61\x02\x6a\x61\x01\x6a", 11);
    }
    for (int64_t k = 0; k < N; k++) {
        assert_int_equal(hl_term_put_int(&ex, k), HL_OK);
        put(&ex, "\x74\0\0\0\x02\x61\x01\x6a\x61\x02\x6a", 11);
    }
    canon_ok(hl_buf_view(&in), HL_FORM_KEY, &out);
    assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&ex)));
    /* a repeated key anywhere is refused */
    hl_put_u32(in.data + 5 + 16 * (N / 2) + 1, N - 1);
    size_t pos = 0;
    assert_int_equal(hl_term_canon(in.data, in.len, &pos, &out), HL_EBADARG);
    hl_buf_free(&in);
    hl_buf_free(&ex);
    hl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_canon_object_keeps_neg_zero),
        cmocka_unit_test(test_term_key_form_of_objects),
        cmocka_unit_test(test_term_canon_zero_keys_collide),
        cmocka_unit_test(test_term_canon_map_in_key),
        cmocka_unit_test(test_term_canon_deep_maps_linear),
        cmocka_unit_test(test_term_canon_wide_map_linear),
        cmocka_unit_test(test_term_canon_key_chain_linear),
        cmocka_unit_test(test_term_canon_compare_deep_keys_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
