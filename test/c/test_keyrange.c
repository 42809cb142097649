/*
 * test_keyrange.c: cmocka tests of the key range computation
 * (hl_keyrange.h): key pattern kinds, the partly bound comparison that
 * decides which ordered_set keys a pattern reaches, the least/most choice
 * between clauses with erts's quirks (checked against ets on OTP 25), and
 * the probes the LMDB comparator places around an interval.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_keyrange.h"
#include "hl_test_terms.h"

static int cmp(const char *p, const char *k)
{
    hl_buf a = T(p), b = T(k);
    int c = hl_keyrange_cmp(hl_buf_view(&a), hl_buf_view(&b));
    hl_buf_free(&a);
    hl_buf_free(&b);
    return (c > 0) - (c < 0);
}

static int lesser(const char *x, const char *y)
{
    hl_buf a = T(x), b = T(y);
    int r = hl_keyrange_lesser(hl_buf_view(&a), hl_buf_view(&b));
    hl_buf_free(&a);
    hl_buf_free(&b);
    return r;
}

static int greater(const char *x, const char *y)
{
    hl_buf a = T(x), b = T(y);
    int r = hl_keyrange_greater(hl_buf_view(&a), hl_buf_view(&b));
    hl_buf_free(&a);
    hl_buf_free(&b);
    return r;
}

static hl_key_kind kind(const char *p)
{
    hl_buf a = T(p);
    hl_key_kind k = hl_keyrange_kind(hl_buf_view(&a));
    hl_buf_free(&a);
    return k;
}

static void test_keyrange_kinds(void **state)
{
    (void)state;
    assert_int_equal(kind("{a, 1}"), HL_KEY_BOUND);
    assert_int_equal(kind("#{a => 1}"), HL_KEY_BOUND); /* a constant map: bound */
    assert_int_equal(kind("{a, #{x => [1, 2]}}"), HL_KEY_BOUND);
    assert_int_equal(kind("'$01'"), HL_KEY_BOUND); /* not a variable in OTP 25 */
    assert_int_equal(kind("{a, '$1'}"), HL_KEY_PARTIAL);
    assert_int_equal(kind("[a | '_']"), HL_KEY_PARTIAL);
    assert_int_equal(kind("{{a, '_'}, b}"), HL_KEY_PARTIAL);
    assert_int_equal(kind("'_'"), HL_KEY_UNBOUND);
    assert_int_equal(kind("'$3'"), HL_KEY_UNBOUND);
    /* a wildcard and a map anywhere: unbound (a map pattern matches larger maps) */
    assert_int_equal(kind("{#{a => 1}, '$1'}"), HL_KEY_UNBOUND);
    assert_int_equal(kind("{x, #{a => '$1'}}"), HL_KEY_UNBOUND);
}

static void test_keyrange_cmp_partly_bound(void **state)
{
    (void)state;
    /* {a, '$1'} reaches every pair whose first element == a */
    assert_int_equal(cmp("{a, '$1'}", "{a, 1}"), 0);
    assert_int_equal(cmp("{a, '$1'}", "{a, {deep, [x]}}"), 0);
    assert_int_equal(cmp("{a, '$1'}", "{b, 1}"), -1); /* the key sorts after */
    assert_int_equal(cmp("{a, '$1'}", "{1, z}"), 1);
    assert_int_equal(cmp("{a, '$1'}", "{a}"), 1); /* arity first */
    assert_int_equal(cmp("{a, '$1'}", "{a, 1, 2}"), -1);
    assert_int_equal(cmp("{a, '$1'}", "[a]"), -1); /* a list after a tuple */
    assert_int_equal(cmp("{a, '$1'}", "7"), 1);
    /* == inside: 1 and 1.0 agree; later elements after a wildcard do not count */
    assert_int_equal(cmp("{1, '_', z}", "{1.0, q, a}"), 0);
    assert_int_equal(cmp("{2, '_'}", "{1.5, q}"), 1);
    /* lists: LIST_EXT patterns against STRING_EXT keys, tails, improper lists */
    assert_int_equal(cmp("[97 | '$1']", "[97, 98]"), 0);
    assert_int_equal(cmp("[97 | '$1']", "[98]"), -1);
    assert_int_equal(cmp("[97 | '$1']", "[]"), 1);
    assert_int_equal(cmp("[a | '_']", "[a | b]"), 0);
    assert_int_equal(cmp("[a, '_']", "[a]"), 1);     /* [a] < [a, X] */
    assert_int_equal(cmp("[a, '_']", "[a | b]"), 1); /* [a | b] < [a, X] */
    assert_int_equal(cmp("[a, '_']", "[a, 1, 2]"), 0);
    assert_int_equal(cmp("[97, '_']", "[97, 98, 99]"), 0);
    assert_int_equal(cmp("[97, 98 | x]", "[97, 98, 99]"), -1); /* x < [99] */
    /* bound patterns compare as the term order with == */
    assert_int_equal(cmp("{a, 1}", "{a, 1.0}"), 0);
    assert_int_equal(cmp("#{a => 1}", "#{a => 1, b => 2}"), -1);
}

static void test_keyrange_least_most(void **state)
{
    (void)state;
    assert_int_equal(lesser("{a, '_'}", "{b, 1}"), 1);
    assert_int_equal(lesser("{b, '_'}", "{a, 1}"), 0);
    assert_int_equal(greater("{b, '_'}", "{a, 1}"), 1);
    /* a wildcard against a bound element: it can reach lower and higher */
    assert_int_equal(lesser("{a, '_'}", "{a, 1}"), 1);
    assert_int_equal(greater("{a, '_'}", "{a, 1}"), 1);
    assert_int_equal(lesser("{a, 1}", "{a, '_'}"), 0);
    assert_int_equal(lesser("{a, '_'}", "{a, '$1'}"), 0);
    /* erts: equal numbers of another representation end the comparison */
    assert_int_equal(lesser("{1.0, '$1'}", "{1, b}"), 0);
    assert_int_equal(greater("{1.0, '$1'}", "{1, b}"), 0);
    assert_int_equal(lesser("{1, a}", "{1, '$1'}"), 0); /* same tag: on to the wildcard */
    /* erts: a greater arity returns 0 without ending the outer walk */
    assert_int_equal(lesser("{{1, 2, 3}, 5}", "{{1, 2}, 9}"), 1);
    assert_int_equal(greater("{{1}, 9}", "{{1, 2}, 5}"), 1);
    /* lists and different classes */
    assert_int_equal(lesser("[a | '_']", "{z}"), 0);
    assert_int_equal(lesser("{z}", "[a | '_']"), 1);
    assert_int_equal(greater("[a, b | '_']", "[a]"), 1);
    assert_int_equal(lesser("[a]", "[a, b | '_']"), 1);
}

/* A probe sits just before (low) or after (high) the keys its pattern reaches. */
static int probe(const char *p, int high, const char *k)
{
    hl_buf a = T(p), pr = {0}, b = T(k);
    assert_int_equal(hl_keyrange_probe(hl_buf_view(&a), high, &pr), HL_OK);
    assert_true(hl_keyrange_is_probe(pr.data, pr.len));
    assert_false(hl_keyrange_is_probe(b.data, b.len));
    int c = hl_keyrange_probe_cmp(pr.data, pr.len, b.data, b.len);
    hl_buf_free(&a);
    hl_buf_free(&b);
    hl_buf_free(&pr);
    return (c > 0) - (c < 0);
}

static void test_keyrange_probes(void **state)
{
    (void)state;
    assert_int_equal(probe("{a, '_'}", 0, "{a, 1}"), -1); /* low probe < keys in range */
    assert_int_equal(probe("{a, '_'}", 1, "{a, 1}"), 1);  /* high probe > keys in range */
    assert_int_equal(probe("{a, '_'}", 0, "{1, a}"), 1);
    assert_int_equal(probe("{a, '_'}", 1, "{1, a}"), 1);
    assert_int_equal(probe("{a, '_'}", 0, "{b, 1}"), -1);
    assert_int_equal(probe("{a, '_'}", 1, "{b, 1}"), -1);
    /* a bound pattern: the probes enclose the one key == to it */
    assert_int_equal(probe("{a, 1.0}", 0, "{a, 1}"), -1);
    assert_int_equal(probe("{a, 1.0}", 1, "{a, 1}"), 1);
    assert_int_equal(probe("{a, 1.0}", 1, "{a, 2}"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyrange_kinds),
        cmocka_unit_test(test_keyrange_cmp_partly_bound),
        cmocka_unit_test(test_keyrange_least_most),
        cmocka_unit_test(test_keyrange_probes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
