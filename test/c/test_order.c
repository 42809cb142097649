/*
 * test_order.c: cmocka tests of Erlang term order (hl_order.h).
 *
 * Expected signs come from test/vectors/order.txt, made by erts itself
 * (< and == for HL_CMP_EQ, map key order for HL_CMP_EXACT). Each pair is
 * also checked backwards (antisymmetry) and after canonicalisation, so the
 * order does not depend on which of the several encodings a term came in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_order.h"
#include "hl_term.h"
#include "hl_test_vectors.h"

#define DEEP 100000

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void check_pair(const hl_vec *v, hl_bytes a, hl_bytes b, int eq, int exact)
{
    int r1 = sign(hl_order_compare(a.data, a.len, b.data, b.len, HL_CMP_EQ));
    int r2 = sign(hl_order_compare(a.data, a.len, b.data, b.len, HL_CMP_EXACT));
    int s1 = sign(hl_order_compare(b.data, b.len, a.data, a.len, HL_CMP_EQ));
    int s2 = sign(hl_order_compare(b.data, b.len, a.data, a.len, HL_CMP_EXACT));
    if (r1 != eq || r2 != exact || s1 != -eq || s2 != -exact)
        fail_msg("order.txt line %zu (%s): eq %d/%d exact %d/%d reversed %d %d", v->lineno,
                 v->field[0], r1, eq, r2, exact, s1, s2);
}

static void test_order_vectors(void **state)
{
    (void)state;
    hl_vec v;
    size_t n = 0;
    assert_true(hl_vec_open(&v, "order.txt"));
    while (hl_vec_next(&v)) {
        size_t al, bl;
        assert_int_equal(v.nf, 5);
        unsigned char *a = hl_vec_hex(v.field[1], &al), *b = hl_vec_hex(v.field[2], &bl);
        assert_non_null(a);
        assert_non_null(b);
        int eq = atoi(v.field[3]), exact = atoi(v.field[4]);
        /* the raw encodings, without the version byte */
        check_pair(&v, (hl_bytes){a + 1, al - 1}, (hl_bytes){b + 1, bl - 1}, eq, exact);
        /* and their canonical forms */
        hl_buf ca = {0}, cb = {0};
        assert_int_equal(hl_term_canon_binary(a, al, &ca), HL_OK);
        assert_int_equal(hl_term_canon_binary(b, bl, &cb), HL_OK);
        check_pair(&v, (hl_bytes){ca.data + 1, ca.len - 1}, (hl_bytes){cb.data + 1, cb.len - 1}, eq,
                   exact);
        /* exact order is =:=, which is byte equality of canonical forms */
        assert_int_equal(exact == 0, hl_bytes_eq(hl_buf_view(&ca), hl_buf_view(&cb)));
        hl_buf_free(&ca);
        hl_buf_free(&cb);
        free(a);
        free(b);
        n++;
    }
    hl_vec_close(&v);
    assert_true(n > 5000);
}

/* Every input encoding is =:= its canonical form. */
static void test_order_canon_is_exact_equal(void **state)
{
    (void)state;
    hl_vec v;
    assert_true(hl_vec_open(&v, "canon.txt"));
    while (hl_vec_next(&v)) {
        size_t il, cl;
        unsigned char *in = hl_vec_hex(v.field[1], &il), *c = hl_vec_hex(v.field[2], &cl);
        assert_non_null(in);
        assert_non_null(c);
        if (hl_order_compare(in + 1, il - 1, c + 1, cl - 1, HL_CMP_EXACT) != 0 ||
            hl_order_compare(c + 1, cl - 1, in + 1, il - 1, HL_CMP_EQ) != 0)
            fail_msg("canon.txt line %zu (%s) differs from its canonical form", v.lineno,
                     v.field[0]);
        free(in);
        free(c);
    }
    hl_vec_close(&v);
}

static void test_order_int_float_exact(void **state)
{
    (void)state;
    /* 2^53 + 1 against the float 2^53: a double cannot hold the integer */
    const unsigned char big[] = {110, 7, 0, 1, 0, 0, 0, 0, 0, 0x20};
    const unsigned char flt[] = {70, 0x43, 0x40, 0, 0, 0, 0, 0, 0};
    assert_true(hl_order_compare(big, sizeof big, flt, sizeof flt, HL_CMP_EQ) > 0);
    assert_true(hl_order_compare(flt, sizeof flt, big, sizeof big, HL_CMP_EQ) < 0);
    /* exact: any integer before any float */
    assert_true(hl_order_compare(big, sizeof big, flt, sizeof flt, HL_CMP_EXACT) < 0);
    /* 1 == 1.0, but 1 < 1.0 exactly */
    const unsigned char one[] = {97, 1}, onef[] = {70, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(hl_order_compare(one, 2, onef, sizeof onef, HL_CMP_EQ), 0);
    assert_true(hl_order_compare(one, 2, onef, sizeof onef, HL_CMP_EXACT) < 0);
}

/* [[[...[X]...]]] DEEP levels, X given. */
static unsigned char *deep(unsigned char x, size_t *len)
{
    unsigned char *b = malloc(5 * DEEP + 2 + DEEP);
    size_t p = 0;
    for (int i = 0; i < DEEP; i++) {
        memcpy(b + p, "\x6c\0\0\0\x01", 5);
        p += 5;
    }
    b[p++] = HL_TAG_SMALL_INTEGER;
    b[p++] = x;
    memset(b + p, HL_TAG_NIL, DEEP);
    *len = p + DEEP;
    return b;
}

static void test_order_deep_nesting_iterates(void **state)
{
    (void)state;
    size_t la, lb;
    unsigned char *a = deep(1, &la), *b = deep(2, &lb);
    assert_int_equal(hl_order_compare(a, la, a, la, HL_CMP_EQ), 0);
    assert_true(hl_order_compare(a, la, b, lb, HL_CMP_EQ) < 0);
    assert_true(hl_order_compare(b, lb, a, la, HL_CMP_EXACT) > 0);
    free(a);
    free(b);
}

/* STRING_EXT, LIST_EXT and chained LIST_EXT segments are one list. */
static void test_order_list_encodings(void **state)
{
    (void)state;
    const unsigned char s[] = {107, 0, 3, 'a', 'b', 'c'};
    const unsigned char l[] = {108, 0, 0, 0, 3, 97, 'a', 97, 'b', 97, 'c', 106};
    const unsigned char chain[] = {108, 0, 0, 0, 1, 97, 'a', 108, 0, 0, 0, 0, 107, 0, 2, 'b', 'c'};
    const unsigned char shorter[] = {107, 0, 2, 'a', 'b'};
    const unsigned char improper[] = {108, 0, 0, 0, 2, 97, 'a', 97, 'b', 97, 'c'}; /* "ab"|99 */
    assert_int_equal(hl_order_compare(s, sizeof s, l, sizeof l, HL_CMP_EXACT), 0);
    assert_int_equal(hl_order_compare(chain, sizeof chain, s, sizeof s, HL_CMP_EXACT), 0);
    assert_true(hl_order_compare(shorter, sizeof shorter, s, sizeof s, HL_CMP_EQ) < 0);
    /* [a, b | 99] against [a, b, c]: 99 (a number) < [c] (a list) */
    assert_true(hl_order_compare(improper, sizeof improper, s, sizeof s, HL_CMP_EQ) < 0);
    assert_true(hl_order_compare(s, sizeof s, improper, sizeof improper, HL_CMP_EQ) > 0);
}

/* A provider that says every map's pairs are already in key order (for the
 * two 15-byte maps of test_order_known_maps). */
static int claims_in_order(void *ctx, const unsigned char *m, size_t n, size_t *key_at,
                           size_t *order)
{
    int *calls = ctx;
    size_t p = 5;
    ++*calls;
    for (size_t i = 0; i < 2 * n; i++) {
        key_at[i] = p;
        assert_int_equal(hl_term_skip(m, 15, &p), HL_OK);
    }
    key_at[2 * n] = p;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    return 1;
}

static int knows_nothing(void *ctx, const unsigned char *m, size_t n, size_t *key_at, size_t *order)
{
    (void)m, (void)n, (void)key_at, (void)order;
    ++*(int *)ctx;
    return 0;
}

/* Known map orders are used as given, unknown maps are sorted as usual. */
static void test_order_known_maps(void **state)
{
    (void)state;
    /* #{b => 1, a => 2} as written, and its canonical #{a => 2, b => 1} */
    const unsigned char raw[] = {116, 0, 0, 0, 2, 119, 1, 'b', 97, 1, 119, 1, 'a', 97, 2};
    const unsigned char sorted[] = {116, 0, 0, 0, 2, 119, 1, 'a', 97, 2, 119, 1, 'b', 97, 1};
    int calls = 0;
    hl_order_maps lie = {claims_in_order, &calls}, none = {knows_nothing, &calls};
    assert_int_equal(hl_order_compare(raw, sizeof raw, sorted, sizeof sorted, HL_CMP_EXACT), 0);
    assert_int_equal(
        hl_order_compare_known(raw, sizeof raw, sorted, sizeof sorted, HL_CMP_EXACT, &none), 0);
    assert_int_equal(calls, 2);
    /* told the raw pairs are in order, b is its first key: after a */
    assert_true(hl_order_compare_known(raw, sizeof raw, sorted, sizeof sorted, HL_CMP_EXACT, &lie) >
                0);
    assert_int_equal(calls, 4);
    assert_int_equal(
        hl_order_compare_known(raw, sizeof raw, sorted, sizeof sorted, HL_CMP_EXACT, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_vectors),
        cmocka_unit_test(test_order_canon_is_exact_equal),
        cmocka_unit_test(test_order_int_float_exact),
        cmocka_unit_test(test_order_deep_nesting_iterates),
        cmocka_unit_test(test_order_list_encodings),
        cmocka_unit_test(test_order_known_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
