/*
 * test_term.c: cmocka tests of the canonical term codec (hl_term.h).
 *
 * The bulk of the checking is data: test/vectors/canon.txt and bad.txt,
 * whose expected bytes come from erts and an Erlang reference encoder, not
 * from this C code. The hand-written tests cover the accessors, the reply
 * encoders and inputs too big for the vector files (deep nesting).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_term.h"
#include "hl_test_vectors.h"

#define DEEP 100000

static void check_canon_line(const hl_vec *v)
{
    size_t inlen, exlen;
    unsigned char *in = hl_vec_hex(v->field[1], &inlen);
    unsigned char *ex = hl_vec_hex(v->field[2], &exlen);
    hl_buf out = {0}, again = {0};
    assert_non_null(in);
    assert_non_null(ex);
    int rc = hl_term_canon_binary(in, inlen, &out);
    if (rc != HL_OK || !hl_bytes_eq(hl_buf_view(&out), (hl_bytes){ex, exlen}))
        fail_msg("canon.txt line %zu (%s): rc %d", v->lineno, v->field[0], rc);
    /* idempotent */
    assert_int_equal(hl_term_canon_binary(out.data, out.len, &again), HL_OK);
    assert_true(hl_bytes_eq(hl_buf_view(&out), hl_buf_view(&again)));
    /* skip agrees on where the term ends */
    size_t pos = 1;
    assert_int_equal(hl_term_skip(in, inlen, &pos), HL_OK);
    assert_int_equal(pos, inlen);
    free(in);
    free(ex);
    hl_buf_free(&out);
    hl_buf_free(&again);
}

static void test_term_canon_vectors(void **state)
{
    (void)state;
    hl_vec v;
    size_t n = 0;
    assert_true(hl_vec_open(&v, "canon.txt"));
    while (hl_vec_next(&v)) {
        assert_int_equal(v.nf, 3);
        check_canon_line(&v);
        n++;
    }
    hl_vec_close(&v);
    assert_true(n > 1000);
}

static void test_term_bad_vectors(void **state)
{
    (void)state;
    hl_vec v;
    size_t n = 0;
    assert_true(hl_vec_open(&v, "bad.txt"));
    while (hl_vec_next(&v)) {
        size_t len;
        unsigned char *in = hl_vec_hex(v.nf > 1 ? v.field[1] : "", &len);
        assert_non_null(in);
        hl_buf out = {0};
        assert_int_equal(hl_buf_append(&out, "xyz", 3), HL_OK);
        int rc = hl_term_canon_binary(in, len, &out);
        if (rc != HL_EBADARG)
            fail_msg("bad.txt line %zu (%s): rc %d", v.lineno, v.field[0], rc);
        assert_int_equal(out.len, 3); /* restored on error */
        free(in);
        hl_buf_free(&out);
        n++;
    }
    hl_vec_close(&v);
    assert_true(n > 100);
}

/* [[[...[]...]]] DEEP levels: each level is LIST_EXT 1, the inner list,
 * then the NIL tail. */
static unsigned char *deep_list(size_t *len)
{
    unsigned char *b = malloc(1 + 5 * DEEP + 1 + DEEP);
    size_t p = 0;
    b[p++] = HL_TAG_VERSION;
    for (int i = 0; i < DEEP; i++) {
        memcpy(b + p, "\x6c\0\0\0\x01", 5);
        p += 5;
    }
    b[p++] = HL_TAG_NIL;
    memset(b + p, HL_TAG_NIL, DEEP);
    *len = p + DEEP;
    return b;
}

static void test_term_deep_nesting_iterates(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = deep_list(&len);
    hl_buf out = {0};
    assert_int_equal(hl_term_canon_binary(b, len, &out), HL_OK);
    assert_true(hl_bytes_eq(hl_buf_view(&out), (hl_bytes){b, len}));
    /* the same, truncated anywhere near the bottom, is refused */
    assert_int_equal(hl_term_canon_binary(b, len - 1, &out), HL_EBADARG);
    assert_int_equal(hl_term_canon_binary(b, 1 + 5 * DEEP, &out), HL_EBADARG);
    free(b);
    /* deep tuples {{{...}}} and maps #{k => #{k => ...}} */
    b = malloc(1 + 7 * DEEP + 1);
    b[0] = HL_TAG_VERSION;
    for (int i = 0; i < DEEP; i++)
        memcpy(b + 1 + 2 * i, "\x68\x01", 2);
    b[1 + 2 * DEEP] = HL_TAG_NIL;
    hl_buf_free(&out);
    assert_int_equal(hl_term_canon_binary(b, 2 + 2 * DEEP, &out), HL_OK);
    for (int i = 0; i < DEEP; i++)
        memcpy(b + 1 + 7 * i, "\x74\0\0\0\x01\x61\x01", 7);
    b[1 + 7 * DEEP] = HL_TAG_NIL;
    hl_buf_free(&out);
    assert_int_equal(hl_term_canon_binary(b, 2 + 7 * DEEP, &out), HL_OK);
    free(b);
    hl_buf_free(&out);
}

/* 65535 small integers make a STRING_EXT, one more a LIST_EXT. */
static void test_term_string_limit(void **state)
{
    (void)state;
    for (size_t n = 65535; n <= 65536; n++) {
        size_t len = 1 + 5 + 2 * n + 1;
        unsigned char *b = malloc(len);
        b[0] = HL_TAG_VERSION;
        b[1] = HL_TAG_LIST;
        hl_put_u32(b + 2, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            b[6 + 2 * i] = HL_TAG_SMALL_INTEGER;
            b[7 + 2 * i] = 'a';
        }
        b[len - 1] = HL_TAG_NIL;
        hl_buf out = {0};
        assert_int_equal(hl_term_canon_binary(b, len, &out), HL_OK);
        if (n == 65535) {
            assert_int_equal(out.len, 1 + 3 + n);
            assert_int_equal(out.data[1], HL_TAG_STRING);
        } else {
            assert_true(hl_bytes_eq(hl_buf_view(&out), (hl_bytes){b, len}));
        }
        free(b);
        hl_buf_free(&out);
    }
}

/* A list with no elements is its tail; found by the request fuzzer, which
 * canonicalised one into a buffer that had no memory yet (UBSan: an offset
 * applied to NULL). erts decodes both inputs as below. */
static void test_term_empty_list_ext_into_empty_buffer(void **state)
{
    (void)state;
    static const unsigned char nil_tail[] = {108, 0, 0, 0, 0, 107, 0, 0}; /* [] | "" */
    static const unsigned char int_tail[] = {108, 0, 0, 0, 0, 97, 5};     /* [] | 5 */
    hl_buf out = {0};
    size_t pos = 0;
    assert_int_equal(hl_term_canon(nil_tail, sizeof nil_tail, &pos, &out), HL_OK);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.data[0], HL_TAG_NIL);
    hl_buf_free(&out);
    pos = 0;
    assert_int_equal(hl_term_canon(int_tail, sizeof int_tail, &pos, &out), HL_OK);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.data[0], HL_TAG_SMALL_INTEGER);
    assert_int_equal(out.data[1], 5);
    hl_buf_free(&out);
}

static void test_term_canon_advances_pos(void **state)
{
    (void)state;
    /* two terms back to back: 1 then the atom a (ATOM_EXT) */
    const unsigned char in[] = {98, 0, 0, 0, 1, 100, 0, 1, 'a'};
    hl_buf out = {0};
    size_t pos = 0;
    assert_int_equal(hl_term_canon(in, sizeof in, &pos, &out), HL_OK);
    assert_int_equal(pos, 5);
    assert_int_equal(hl_term_canon(in, sizeof in, &pos, &out), HL_OK);
    assert_int_equal(pos, sizeof in);
    const unsigned char ex[] = {97, 1, 119, 1, 'a'};
    assert_true(hl_bytes_eq(hl_buf_view(&out), (hl_bytes){ex, sizeof ex}));
    hl_buf_free(&out);
}

/* {'$gen_call', {Pid, Ref}, [1, 2]} with an old PID_EXT inside */
static const unsigned char call[] = {
    104, 3,   100, 0,   9,   '$', 'g', 'e', 'n', '_', 'c', 'a', 'l', 'l', 104, 2, 103, 100,
    0,   3,   'a', '@', 'b', 0,   0,   0,   7,   0,   0,   0,   0,   1,   90,  0, 1,   119,
    3,   'a', '@', 'b', 0,   0,   0,   1,   0,   0,   0,   5,   107, 0,   2,   1, 2};

static void test_term_tuple_access(void **state)
{
    (void)state;
    size_t arity;
    hl_bytes e, from, node;
    char name[32];
    assert_int_equal(hl_term_tuple_arity(call, sizeof call, &arity), HL_OK);
    assert_int_equal(arity, 3);
    assert_int_equal(hl_term_tuple_element(call, sizeof call, 1, &e), HL_OK);
    assert_int_equal(hl_term_get_atom(e.data, e.len, name, sizeof name), HL_OK);
    assert_string_equal(name, "$gen_call");
    assert_int_equal(hl_term_get_atom(e.data, e.len, name, 9), HL_EBADARG); /* no room */
    assert_int_equal(hl_term_tuple_element(call, sizeof call, 2, &e), HL_OK);
    assert_int_equal(hl_term_tuple_element(e.data, e.len, 1, &from), HL_OK);
    assert_int_equal(from.len, 16);
    assert_true(hl_term_is_pid(from.data, from.len));
    assert_int_equal(hl_term_node_of(from.data, from.len, &node), HL_OK);
    assert_int_equal(node.len, 6);
    assert_memory_equal(node.data,
                        "\x64\0\x03"
                        "a@b",
                        6);
    assert_int_equal(hl_term_tuple_element(e.data, e.len, 2, &e), HL_OK);
    assert_false(hl_term_is_pid(e.data, e.len));
    assert_int_equal(hl_term_node_of(e.data, e.len, &node), HL_OK); /* a ref */
    assert_int_equal(hl_term_tuple_element(call, sizeof call, 0, &e), HL_EBADARG);
    assert_int_equal(hl_term_tuple_element(call, sizeof call, 4, &e), HL_EBADARG);
    assert_int_equal(hl_term_tuple_element(call, 20, 3, &e), HL_EBADARG); /* truncated */
    assert_int_equal(hl_term_tuple_arity(call + 2, 10, &arity), HL_EBADARG);
    /* all elements in one pass: the same views as one at a time */
    hl_bytes all[3], one;
    for (size_t cap = 0; cap <= 3; cap++) {
        arity = 0;
        assert_int_equal(hl_term_tuple_elements(call, sizeof call, all, cap, &arity), HL_OK);
        assert_int_equal(arity, 3);
        for (size_t i = 0; i < cap; i++) {
            assert_int_equal(hl_term_tuple_element(call, sizeof call, i + 1, &one), HL_OK);
            assert_ptr_equal(all[i].data, one.data);
            assert_int_equal(all[i].len, one.len);
        }
    }
    assert_int_equal(hl_term_tuple_elements(call, 20, all, 3, &arity), HL_EBADARG); /* truncated */
    assert_int_equal(hl_term_tuple_elements(call, 20, all, 1, &arity), HL_OK); /* not looked at */
    assert_int_equal(hl_term_tuple_elements(call + 2, 10, all, 3, &arity), HL_EBADARG);
    assert_int_equal(hl_term_node_of(call, sizeof call, &node), HL_EBADARG);
    assert_false(hl_term_is_pid(call, sizeof call));
    /* a latin-1 atom comes back as UTF-8 */
    const unsigned char lat[] = {115, 2, 0xe9, 'x'};
    assert_int_equal(hl_term_get_atom(lat, sizeof lat, name, sizeof name), HL_OK);
    assert_string_equal(name, "\xc3\xa9x");
    assert_int_equal(hl_term_get_atom(call + 17, 4, name, sizeof name), HL_EBADARG);
}

static void test_term_get_int(void **state)
{
    (void)state;
    int64_t v;
    const unsigned char small[] = {97, 200}, neg[] = {98, 0xff, 0xff, 0xff, 0xfe};
    const unsigned char max[] = {110, 8, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    const unsigned char min[] = {110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80};
    const unsigned char over[] = {110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    const unsigned char padded[] = {111, 0, 0, 0, 10, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const unsigned char flt[] = {70, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(hl_term_get_int(small, 2, &v), HL_OK);
    assert_int_equal(v, 200);
    assert_int_equal(hl_term_get_int(neg, 5, &v), HL_OK);
    assert_int_equal(v, -2);
    assert_int_equal(hl_term_get_int(max, sizeof max, &v), HL_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(hl_term_get_int(min, sizeof min, &v), HL_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(hl_term_get_int(over, sizeof over, &v), HL_EBADARG);
    assert_int_equal(hl_term_get_int(padded, sizeof padded, &v), HL_OK);
    assert_int_equal(v, -5);
    assert_int_equal(hl_term_get_int(flt, sizeof flt, &v), HL_EBADARG);
    assert_int_equal(hl_term_get_int(small, 1, &v), HL_EBADARG);
}

typedef struct {
    int n;
    int64_t sum;
    int stop_at;
} walk;

static int add_elem(void *ctx, hl_bytes e)
{
    walk *w = ctx;
    int64_t v;
    if (w->n == w->stop_at)
        return 42;
    w->n++;
    if (hl_term_get_int(e.data, e.len, &v) == HL_OK)
        w->sum += v;
    return 0;
}

static void test_term_list_each(void **state)
{
    (void)state;
    walk w = {0, 0, -1};
    /* [1, 300 | "ab"]: a LIST_EXT whose tail is a STRING_EXT */
    const unsigned char l[] = {108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 44, 107, 0, 2, 'a', 'b'};
    assert_int_equal(hl_term_list_each(l, sizeof l, add_elem, &w), HL_OK);
    assert_int_equal(w.n, 4);
    assert_int_equal(w.sum, 1 + 300 + 'a' + 'b');
    const unsigned char nil[] = {106};
    w = (walk){0, 0, -1};
    assert_int_equal(hl_term_list_each(nil, 1, add_elem, &w), HL_OK);
    assert_int_equal(w.n, 0);
    /* improper: refused before any call */
    const unsigned char imp[] = {108, 0, 0, 0, 1, 97, 1, 97, 2};
    assert_int_equal(hl_term_list_each(imp, sizeof imp, add_elem, &w), HL_EBADARG);
    assert_int_equal(w.n, 0);
    assert_int_equal(hl_term_list_each(l, sizeof l - 1, add_elem, &w), HL_EBADARG);
    assert_int_equal(hl_term_list_each(call, sizeof call, add_elem, &w), HL_EBADARG);
    w = (walk){0, 0, 1};
    assert_int_equal(hl_term_list_each(l, sizeof l, add_elem, &w), 42);
}

static void test_term_put_encoders(void **state)
{
    (void)state;
    hl_buf b = {0};
    assert_int_equal(hl_term_put_tuple_header(&b, 2), HL_OK);
    assert_int_equal(hl_term_put_atom(&b, "ok", 2), HL_OK);
    assert_int_equal(hl_term_put_list_header(&b, 2), HL_OK);
    assert_int_equal(hl_term_put_int(&b, -1), HL_OK);
    assert_int_equal(hl_term_put_binary(&b, "hi", 2), HL_OK);
    assert_int_equal(hl_term_put_nil(&b), HL_OK);
    const unsigned char ex[] = {104,  2,    119,  2,    'o', 'k', 108, 0, 0, 0,   2,   98,
                                0xff, 0xff, 0xff, 0xff, 109, 0,   0,   0, 2, 'h', 'i', 106};
    assert_true(hl_bytes_eq(hl_buf_view(&b), (hl_bytes){ex, sizeof ex}));
    hl_buf_free(&b);
    /* integers in their minimal forms */
    const int64_t ints[] = {
        0, 255, 256, -1, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN};
    const unsigned char tags[] = {97, 97, 98, 98, 98, 98, 110, 110, 110};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v;
        hl_buf c = {0};
        assert_int_equal(hl_term_put_int(&b, ints[i]), HL_OK);
        assert_int_equal(b.data[0], tags[i]);
        assert_int_equal(hl_term_get_int(b.data, b.len, &v), HL_OK);
        assert_true(v == ints[i]);
        size_t pos = 0;
        assert_int_equal(hl_term_canon(b.data, b.len, &pos, &c), HL_OK);
        assert_true(hl_bytes_eq(hl_buf_view(&b), hl_buf_view(&c)));
        hl_buf_free(&b);
        hl_buf_free(&c);
    }
    /* [] stays canonical: an empty list header writes nothing */
    assert_int_equal(hl_term_put_list_header(&b, 0), HL_OK);
    assert_int_equal(hl_term_put_nil(&b), HL_OK);
    assert_int_equal(b.len, 1);
    hl_buf_free(&b);
    /* atoms: long ones, bad UTF-8 */
    char name[300];
    memset(name, 'x', sizeof name);
    assert_int_equal(hl_term_put_atom(&b, name, 255), HL_OK);
    assert_int_equal(b.data[0], HL_TAG_SMALL_ATOM_UTF8);
    assert_int_equal(hl_term_put_atom(&b, name, 256), HL_EBADARG);
    assert_int_equal(hl_term_put_atom(&b, "\xc3\x28", 2), HL_EBADARG);
    hl_buf_free(&b);
    assert_int_equal(hl_term_put_atom(&b, "", 0), HL_OK);
    assert_int_equal(b.len, 2);
    hl_buf_free(&b);
    /* strings: bytes, empty, code points above 255 */
    assert_int_equal(hl_term_put_string(&b, "/dev/shm"), HL_OK);
    assert_int_equal(b.data[0], HL_TAG_STRING);
    assert_int_equal(b.len, 3 + 8);
    hl_buf_free(&b);
    assert_int_equal(hl_term_put_string(&b, ""), HL_OK);
    assert_int_equal(b.data[0], HL_TAG_NIL);
    hl_buf_free(&b);
    assert_int_equal(hl_term_put_string(&b, "a\xe6\x97\xa5"), HL_OK); /* "a日" */
    const unsigned char ex2[] = {108, 0, 0, 0, 2, 97, 'a', 98, 0, 0, 0x65, 0xe5, 106};
    assert_true(hl_bytes_eq(hl_buf_view(&b), (hl_bytes){ex2, sizeof ex2}));
    hl_buf_free(&b);
}

/* Bounds: every prefix of a valid term is refused and nothing reads past
 * the end (valgrind and ASan see to the second part). */
/* hl_buf_on: appends fill the caller's storage, a larger need moves the
 * bytes to the heap, and hl_buf_free never frees the storage (ASan and
 * valgrind would see a free of stack memory). */
static void test_buf_on_storage(void **state)
{
    (void)state;
    unsigned char mem[8];
    hl_buf b;
    hl_buf_on(&b, mem, sizeof mem);
    assert_int_equal(hl_buf_append(&b, "abcdef", 6), HL_OK);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(hl_buf_append(&b, "gh", 2), HL_OK);
    assert_ptr_equal(b.data, mem); /* exactly full */
    assert_int_equal(hl_buf_append_byte(&b, 'i'), HL_OK);
    assert_ptr_not_equal(b.data, mem);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "abcdefghi", 9);
    assert_int_equal(hl_buf_append(&b, "jklmnopqrstuvwxyz", 17), HL_OK); /* heap realloc */
    assert_memory_equal(b.data, "abcdefghijklmnopqrstuvwxyz", 26);
    hl_buf_free(&b);
    assert_null(b.data);
    hl_buf_on(&b, mem, sizeof mem);
    assert_int_equal(hl_term_put_int(&b, 7), HL_OK);
    hl_buf_free(&b); /* still on the storage: nothing to free */
    assert_int_equal(b.len, 0);
    assert_int_equal(hl_buf_append(&b, "x", 1), HL_OK); /* zeroed: the heap from here */
    assert_ptr_not_equal(b.data, mem);
    hl_buf_free(&b);
}

static void test_term_prefixes_refused(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof call; n++) {
        unsigned char *b = malloc(n ? n : 1);
        memcpy(b, call, n);
        hl_buf out = {0};
        size_t pos = 0;
        assert_int_equal(hl_term_canon(b, n, &pos, &out), HL_EBADARG);
        pos = 0;
        assert_int_equal(hl_term_skip(b, n, &pos), HL_EBADARG);
        free(b);
        hl_buf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_canon_vectors),
        cmocka_unit_test(test_term_bad_vectors),
        cmocka_unit_test(test_term_deep_nesting_iterates),
        cmocka_unit_test(test_term_string_limit),
        cmocka_unit_test(test_term_empty_list_ext_into_empty_buffer),
        cmocka_unit_test(test_term_canon_advances_pos),
        cmocka_unit_test(test_term_tuple_access),
        cmocka_unit_test(test_term_get_int),
        cmocka_unit_test(test_term_list_each),
        cmocka_unit_test(test_term_put_encoders),
        cmocka_unit_test(test_term_prefixes_refused),
        cmocka_unit_test(test_buf_on_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
