/*
 * test_ms.c: cmocka tests of the match specification engine (hl_ms.h).
 *
 * Terms are written in a small Erlang-like notation (hl_test_terms.h), so
 * each case reads like the ets:select/2 call it mirrors. Expected values were taken from ets itself
 * (OTP 25); the ExUnit differential suite (test/heirloom_select_test.exs) checks many more against
 * the real thing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_keyrange.h"
#include "hl_ms.h"
#include "hl_order.h"
#include "hl_term.h"
#include "hl_test_terms.h"

#include <stdlib.h>
#include <string.h>

/* Run spec on obj as self <0.1.0>-less caller; *got: 0 no match, 1 match. */
static int run(const char *spec, const char *obj, hl_buf *res, int *got)
{
    hl_buf s = T(spec), o = T(obj);
    hl_ms *ms = NULL;
    int rc = hl_ms_compile(s.data, s.len, &ms);
    if (!rc) {
        hl_ms_set_keypos(ms, 1);
        rc = hl_ms_run(ms, hl_buf_view(&o), (hl_bytes){NULL, 0}, res, got);
    }
    hl_ms_free(ms);
    hl_buf_free(&s);
    hl_buf_free(&o);
    return rc;
}

static void expect(const char *spec, const char *obj, const char *want)
{
    hl_buf res = {0};
    int got = 0;
    int rc = run(spec, obj, &res, &got);
    if (rc)
        fail_msg("%s on %s: error %d", spec, obj, rc);
    if (!want) {
        if (got)
            fail_msg("%s on %s: matched, expected no match", spec, obj);
    } else {
        hl_buf w = T(want);
        if (!got || hl_order_compare(res.data, res.len, w.data, w.len, HL_CMP_EXACT))
            fail_msg("%s on %s: got %d, not %s", spec, obj, got, want);
        hl_buf_free(&w);
    }
    hl_buf_free(&res);
}

static void refused(const char *spec)
{
    hl_buf s = T(spec);
    hl_ms *ms = (hl_ms *)1;
    if (hl_ms_compile(s.data, s.len, &ms) != HL_EBADARG)
        fail_msg("%s: accepted", spec);
    assert_null(ms);
    hl_buf_free(&s);
}

static void test_ms_heads(void **state)
{
    (void)state;
    const char *o = "{1, a, [1, 2, 3], #{x => 1, y => 2}}";
    expect("[{'_', [], ['$_']}]", o, o);
    expect("[{{'$1', '_', '_', '_'}, [], ['$1']}]", o, "1");
    expect("[{{'$1', '$1', '_', '_'}, [], ['$1']}]", o, NULL);
    expect("[{{'_', '$2', ['$3' | '$4'], '_'}, [], ['$$']}]", o, "[a, 1, [2, 3]]");
    expect("[{{'_', '_', [1, '$1', 3], '_'}, [], ['$1']}]", o, "2");
    expect("[{{'_', '_', '_', #{x => '$1'}}, [], ['$1']}]", o, "1");
    expect("[{{'_', '_', '_', #{z => '$1'}}, [], ['$1']}]", o, NULL);
    expect("[{{'_', '_', '_', #{x => 1}}, [], [ok]}]", o, "ok"); /* a sub-map */
    expect("[{{'_', b, '_', '_'}, [], [x]}, {{'_', a, '_', '_'}, [], [y]}]", o, "y");
    expect("[{{'_', '_'}, [], [x]}]", o, NULL);
    expect("[{{'$01', '_', '_', '_'}, [], [x]}]", o, NULL); /* '$01' is an atom */
    /* every head names a key: ETS looks it up, so a map key must be equal */
    expect("[{{#{a => 1}, '_'}, [], [x]}]", "{#{a => 1, b => 2}, 3}", NULL);
    expect("[{{#{a => 1}, '_'}, [], [x]}, {'_', [], [y]}]", "{#{a => 1, b => 2}, 3}", "x");
}

static void test_ms_guards_and_bodies(void **state)
{
    (void)state;
    const char *o = "{1, 2.5, \"abc\", [1, 2]}";
    expect("[{{'$1', '$2', '_', '_'}, [{'>', '$2', '$1'}], [{'+', '$1', '$2'}]}]", o, "3.5");
    expect("[{{'$1', '_', '_', '_'}, [{'==', '$1', 1.0}], [{'=:=', '$1', 1.0}]}]", o, "false");
    expect("[{{'$1', '_', '_', '_'}, [{hd, '$1'}], [x]}]", o, NULL); /* raises: no match */
    expect("[{{'$1', '_', '_', '_'}, [], [{hd, '$1'}]}]", o, "'EXIT'");
    expect("[{{'$1', '_', '_', '_'}, [], [[{hd, '$1'}, 5]]}]", o, "['EXIT', 5]");
    expect("[{{'_', '_', '$3', '_'}, [], [{binary_part, '$3', 1, 2}]}]", o, "\"bc\"");
    expect("[{{'_', '_', '_', '$4'}, [], [{length, '$4'}, {tl, '$4'}]}]", o, "[2]");
    expect("[{{'$1', '_', '_', '_'}, [], [{{'$1', {const, {a, '$1'}}}}]}]", o, "{1, {a, '$1'}}");
    expect("[{{'$1', '_', '_', '_'}, [], [#{k => '$1'}]}]", o, "#{k => 1}");
    expect("[{{'$1', '_', '_', '_'}, [{'andalso', true, {is_integer, '$1'}}], [{'orelse', "
           "false, 7}]}]",
           o, "7");
    expect("[{{'$1', '_', '_', '_'}, [], [{'div', 7, -2}, {'rem', -7, 2}]}]", o, "-1");
    expect("[{{'$1', '_', '_', '_'}, [], [{round, -2.5}]}]", o, "-3");
    expect("[{{'$1', '_', '_', '_'}, [], [{'bsr', -5, 1}]}]", o, "-3");
    expect("[{{'$1', '_', '_', '_'}, [], [{'/', 1, 0}]}]", o, "'EXIT'");
    expect("[{{'$1', '_', '_', '_'}, [], [{element, 2, '$_'}]}]", o, "2.5");
    expect("[{{'$1', '_', '_', '_'}, [], [{abs, -0.0}]}]", o, "-0.0");
}

/* Which heads constrain the key, and how (hl_ms_head_key), and the hash
 * tables' lookup rule (hl_ms_set_keypos): heads that cannot match an
 * object do not stop it, an unbound one does (ETS on OTP 25). */
static void test_ms_head_keys(void **state)
{
    (void)state;
    hl_buf s = T("[{{a, '_'}, [], [1]}, {{{b, '$1'}, x}, [], [2]}, {'_', [], [3]}, {x, [], [4]}, "
                 "{{}, [], [5]}, {{#{k => '$2'}, y}, [], [6]}, {'$1', [], [7]}]");
    hl_ms *ms = NULL;
    hl_bytes key;
    assert_int_equal(hl_ms_compile(s.data, s.len, &ms), HL_OK);
    assert_int_equal(hl_ms_nclauses(ms), 7);
    assert_int_equal(hl_ms_head_key(ms, 0, 1, &key), HL_KEY_BOUND);
    assert_int_equal(key.data[0], HL_TAG_SMALL_ATOM_UTF8);
    assert_int_equal(hl_ms_head_key(ms, 1, 1, &key), HL_KEY_PARTIAL);
    assert_int_equal(hl_ms_head_key(ms, 1, 3, &key), HL_MS_KEY_NONE); /* arity 2 < 3 */
    assert_int_equal(hl_ms_head_key(ms, 2, 1, &key), HL_KEY_UNBOUND);
    assert_int_equal(hl_ms_head_key(ms, 3, 1, &key), HL_MS_KEY_NONE);
    assert_int_equal(hl_ms_head_key(ms, 4, 1, &key), HL_MS_KEY_NONE);
    assert_int_equal(hl_ms_head_key(ms, 5, 1, &key), HL_KEY_UNBOUND); /* a map with a variable */
    assert_int_equal(hl_ms_head_key(ms, 6, 1, &key), HL_KEY_UNBOUND);
    hl_ms_free(ms);
    hl_buf_free(&s);
    /* bound or nothing: looked up, and a map key equals rather than matches */
    expect("[{{#{a => 1}, '_'}, [], ['$_']}, {x, [], [1]}]", "{#{a => 1, b => 2}, 2}", NULL);
    expect("[{{#{a => 1}, '_'}, [], ['$_']}, {x, [], [1]}]", "{#{a => 1}, 2}", "{#{a => 1}, 2}");
    /* one unbound head: a scan, where the map pattern matches larger maps */
    expect("[{{#{a => 1}, '_'}, [], [m]}, {{'_', z}, [], [1]}]", "{#{a => 1, b => 2}, 2}", "m");
}

static void test_ms_refused(void **state)
{
    (void)state;
    refused("foo");
    refused("{}");
    refused("[{'_', [], []}]");
    refused("[{'_', [], x}]");
    refused("[{'_', x, [1]}]");
    refused("[{'_', []}]");
    refused("[{{'$1'}, [], ['$2']}]");
    refused("[{'_', [], [{foo, 1}]}]");
    refused("[{'_', [], [{hd, 1, 2}]}]");
    refused("[{'_', [], [{is_boolean, 1}]}]");
    refused("[{'_', [], [{a, b}]}]");
    refused("[{'_', [], [{const}]}]");
    refused("[{'_', [], [{self, 1}]}]");
    refused("[{{#{'$1' => 1}}, [], [1]}]");
    refused("[{'_', [], [1]} | t]");
}

/* Integer arithmetic is exact past int64 (hl_bigint.c); only a result past
 * HL_BIG_MAX_LIMBS is refused. Values worked out by hand and checked on
 * OTP 25's ets:select/2. */
static void test_ms_bignum_arithmetic(void **state)
{
    (void)state;
    hl_buf res = {0};
    int got;
    /* 16000000000000000000 and 2^63: SMALL_BIG_EXT, 8 bytes, little-endian */
    const unsigned char prod[] = {110, 8, 0, 0x00, 0x00, 0x40, 0x76, 0x3A, 0x6B, 0x0B, 0xDE};
    const unsigned char p63[] = {110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    assert_int_equal(run("[{'_', [], [{'*', 4000000000, 4000000000}]}]", "{1}", &res, &got), HL_OK);
    assert_true(got && res.len == sizeof prod && !memcmp(res.data, prod, sizeof prod));
    res.len = 0;
    assert_int_equal(run("[{'_', [], [{'bsl', 1, 63}]}]", "{1}", &res, &got), HL_OK);
    assert_true(got && res.len == sizeof p63 && !memcmp(res.data, p63, sizeof p63));
    expect("[{'_', [], [{'-', {'bsl', 1, 63}}]}]", "{1}", "-9223372036854775808");
    expect("[{'_', [], [{'div', {'bsl', 1, 100}, {'bsl', 1, 98}}]}]", "{1}", "4");
    expect("[{'_', [], [{'rem', {'-', {'bsl', 1, 100}}, 7}]}]", "{1}", "-2");
    expect("[{'_', [], [{'band', {'-', {'bsl', 1, 70}}, 255}]}]", "{1}", "0");
    expect("[{'_', [], [{'+', {'bor', {'-', {'bsl', 1, 70}}, 1}, {'bsl', 1, 70}}]}]", "{1}", "1");
    expect("[{'_', [], [{'bsr', {'-', {'bsl', 1, 70}}, 200}]}]", "{1}", "-1");
    expect("[{'_', [], [{'-', {'trunc', 1.0e20}, {'*', 10000000000, 10000000000}}]}]", "{1}", "0");
    expect("[{'_', [], [{'float', {'bsl', 1, 1024}}]}]", "{1}", "'EXIT'");
    expect("[{'_', [{'>', {'*', 4000000000, 4000000000}, 9223372036854775807}], [true]}]", "{1}",
           "true");
    /* past the bound: refused, never a wrong value */
    res.len = 0;
    assert_int_equal(run("[{'_', [], [{'bsl', 1, 20000}]}]", "{1}", &res, &got), HL_EUNSUPPORTED);
    assert_int_equal(res.len, 0);
    hl_buf_free(&res);
    expect("[{'_', [], [{'bsl', 1, 62}]}]", "{1}", "4611686018427387904");
}

/* Deep constants need no recursion; deep variables are refused, not a crash. */
static void test_ms_depth(void **state)
{
    (void)state;
    size_t deep = 100000;
    hl_buf t = {0};
    hl_term_put_list_header(&t, 1);
    hl_term_put_tuple_header(&t, 3);
    for (size_t i = 0; i < deep; i++)
        hl_term_put_list_header(&t, 1), hl_term_put_int(&t, 1);
    hl_term_put_nil(&t);
    hl_term_put_nil(&t); /* guards */
    hl_term_put_list_header(&t, 1);
    hl_term_put_atom(&t, "$_", 2);
    hl_term_put_nil(&t);
    hl_term_put_nil(&t);
    hl_ms *ms = NULL;
    /* [{[1, [1, [...]]], [], ['$_']}] written as nested improper lists */
    assert_int_equal(hl_ms_compile(t.data, t.len, &ms), HL_OK);
    hl_ms_free(ms);
    hl_buf_free(&t);
    for (int with_var = 0; with_var < 2; with_var++) {
        hl_buf v = {0};
        size_t n = with_var ? HL_MS_MAX_DEPTH + 5 : 10;
        hl_term_put_list_header(&v, 1);
        hl_term_put_tuple_header(&v, 3);
        for (size_t i = 0; i < n; i++)
            hl_term_put_tuple_header(&v, 1);
        hl_term_put_atom(&v, "$1", 2);
        hl_term_put_nil(&v);
        hl_term_put_list_header(&v, 1);
        hl_term_put_atom(&v, "$1", 2);
        hl_term_put_nil(&v);
        hl_term_put_nil(&v);
        ms = NULL;
        assert_int_equal(hl_ms_compile(v.data, v.len, &ms), with_var ? HL_EBADARG : HL_OK);
        hl_ms_free(ms);
        hl_buf_free(&v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ms_heads),
        cmocka_unit_test(test_ms_guards_and_bodies),
        cmocka_unit_test(test_ms_head_keys),
        cmocka_unit_test(test_ms_refused),
        cmocka_unit_test(test_ms_bignum_arithmetic),
        cmocka_unit_test(test_ms_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
