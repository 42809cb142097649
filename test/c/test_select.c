/*
 * test_select.c: cmocka tests of select chunks over the store (hl_select.h,
 * hl_store_scan.h): resuming after a position, budgets and limits, reverse
 * walks, select_delete and select_replace in one transaction (a refused
 * replacement writes nothing), keyed lookups, and the access rules.
 *
 * Each test gets a fresh store (store_fixture.h) with a table of rows.
 */
#include "store_fixture.h"
#undef T /* the fixture's test-list shorthand; here T() parses a term (hl_test_terms.h) */

#include "hl_select.h"
#include "hl_table.h"
#include "hl_test_terms.h"

#define ROWS 10

/* The table a test selects from and its owner: views of buffers the
 * fixture owns, set by setup_select for each test. */
static hl_bytes sel_tab, sel_owner;

/* A T() buffer handed to the fixture, which frees it in teardown. */
static hl_bytes kept(fixture *f, hl_buf b)
{
    hl_buf *k = new_buf(f);
    *k = b;
    return hl_buf_view(k);
}

/* Insert the object written as text into tab, as the owner. */
static void put(fixture *f, hl_bytes tab, const char *text)
{
    hl_buf o1 = T(text);
    hl_bytes v = hl_buf_view(&o1);
    assert_int_equal(hl_store_insert(f->s, tab, sel_owner, &v, 1, 0, NULL), HL_OK);
    hl_buf_free(&o1);
}

/* The store fixture, and a protected named set `sel` owned by a pid with
 * rows {I, odd | even, I * 10} for I in 1..ROWS. */
static int setup_select(void **state)
{
    if (setup(state))
        return -1;
    fixture *f = *state;
    sel_owner = pid(f, 1);
    sel_tab = kept(f, T("sel"));
    hl_meta m;
    hl_table_meta_default(&m, sel_owner);
    m.access = HL_PROTECTED;
    m.named = 1;
    assert_int_equal(hl_store_create(f->s, sel_tab, &m), HL_OK);
    for (int i = 1; i <= ROWS; i++) {
        char text[64];
        snprintf(text, sizeof text, "{%d, %s, %d}", i, i % 2 ? "odd" : "even", i * 10);
        put(f, sel_tab, text);
    }
    return 0;
}

/* One chunk as the owner: rc, the reply's Acc and Next (views of out). */
static int chunk(fixture *f, const char *spec, hl_select_opts *o, hl_buf *out, hl_bytes *acc,
                 hl_bytes *next)
{
    hl_buf s = T(spec);
    out->len = 0;
    int rc = hl_select_chunk(f->s, sel_tab, sel_owner, hl_buf_view(&s), o, out);
    hl_buf_free(&s);
    if (!rc) {
        assert_int_equal(hl_term_tuple_element(out->data, out->len, 1, acc), HL_OK);
        assert_int_equal(hl_term_tuple_element(out->data, out->len, 2, next), HL_OK);
    }
    return rc;
}

static int64_t count_of(hl_bytes acc)
{
    int64_t n;
    assert_int_equal(hl_term_get_int(acc.data, acc.len, &n), HL_OK);
    return n;
}

static size_t length_of(hl_bytes l)
{
    size_t n = 0;
    if (l.data[0] == HL_TAG_LIST)
        n = hl_get_u32(l.data + 1);
    else if (l.data[0] == HL_TAG_STRING)
        n = hl_get_u16(l.data + 1);
    return n;
}

static int is_end(hl_bytes next)
{
    char name[32];
    return !hl_term_get_atom(next.data, next.len, name, sizeof name) &&
           !strcmp(name, "$end_of_table");
}

static void test_select_resumes_in_chunks(void **state)
{
    fixture *f = *state;
    hl_buf out = {0}, pos = {0};
    hl_bytes acc, next;
    size_t total = 0, chunks = 0;
    hl_select_opts o = {HL_SELECT_LIST, 0, 0, 3, {NULL, 0}};
    do {
        assert_int_equal(chunk(f, "[{{'$1', odd, '_'}, [], ['$1']}]", &o, &out, &acc, &next),
                         HL_OK);
        total += length_of(acc);
        chunks++;
        if (!is_end(next)) { /* a binary: the position to resume after */
            assert_int_equal(next.data[0], HL_TAG_BINARY);
            pos.len = 0;
            hl_buf_append(&pos, next.data + 5, next.len - 5);
            o.after = hl_buf_view(&pos);
        }
    } while (!is_end(next));
    assert_int_equal(total, ROWS / 2);
    assert_int_equal(chunks, 4); /* 3 + 3 + 3 + 1 rows */
    /* with a limit: stops after 2 results */
    hl_select_opts l = {HL_SELECT_LIST, 1, 2, 0, {NULL, 0}};
    assert_int_equal(chunk(f, "[{'_', [], ['$_']}]", &l, &out, &acc, &next), HL_OK);
    assert_int_equal(length_of(acc), 2);
    assert_false(is_end(next));
    hl_buf_free(&out);
    hl_buf_free(&pos);
}

static void test_select_count_delete_replace(void **state)
{
    fixture *f = *state;
    hl_buf out = {0};
    hl_bytes acc, next;
    hl_select_opts o = {HL_SELECT_COUNT, 0, 0, 0, {NULL, 0}};
    assert_int_equal(
        chunk(f, "[{{'_', '_', '$1'}, [{'>', '$1', 50}], [true]}]", &o, &out, &acc, &next), HL_OK);
    assert_int_equal(count_of(acc), 5);
    assert_true(is_end(next));
    /* a key change is refused before anything is written */
    o.op = HL_SELECT_REPLACE;
    assert_int_equal(chunk(f, "[{{'$1', '$2', '$3'}, [], [{{{'+', '$1', 100}, '$2', '$3'}}]}]", &o,
                           &out, &acc, &next),
                     HL_EBADARG);
    o.op = HL_SELECT_REPLACE;
    assert_int_equal(
        chunk(f, "[{{'$1', odd, '$3'}, [], [{{'$1', changed}}]}]", &o, &out, &acc, &next), HL_OK);
    assert_int_equal(count_of(acc), 5);
    o.op = HL_SELECT_DELETE;
    assert_int_equal(chunk(f, "[{{'_', changed}, [], [true]}]", &o, &out, &acc, &next), HL_OK);
    assert_int_equal(count_of(acc), 5);
    o.op = HL_SELECT_COUNT;
    assert_int_equal(chunk(f, "[{'_', [], [true]}]", &o, &out, &acc, &next), HL_OK);
    assert_int_equal(count_of(acc), ROWS - 5);
    hl_buf_free(&out);
}

static void test_select_keyed_and_access(void **state)
{
    fixture *f = *state;
    hl_buf out = {0}, s = T("[{{3, '_', '_'}, [], [a]}, {{3, '_', '_'}, [], [b]}, {{4, '_', "
                            "'_'}, [], ['$_']}]");
    hl_bytes acc, next;
    hl_select_opts o = {HL_SELECT_LIST, 0, 0, 0, {NULL, 0}};
    assert_int_equal(
        chunk(f, "[{{3, '_', '_'}, [], [a]}, {{3, '_', '_'}, [], [b]}]", &o, &out, &acc, &next),
        HL_OK);
    assert_int_equal(length_of(acc), 1); /* key 3 looked up once */
    /* protected: others read, only the owner writes */
    hl_bytes other = pid(f, 2);
    out.len = 0;
    assert_int_equal(hl_select_chunk(f->s, sel_tab, other, hl_buf_view(&s), &o, &out), HL_OK);
    o.op = HL_SELECT_DELETE;
    assert_int_equal(hl_select_chunk(f->s, sel_tab, other, hl_buf_view(&s), &o, &out), HL_EACCESS);
    hl_buf_free(&s);
    hl_buf_free(&out);
}

/* A second table, an ordered_set of {{I div 10, I}, I} for I in 0..99. */
static int setup_ordered(void **state)
{
    if (setup_select(state))
        return -1;
    fixture *f = *state;
    hl_bytes name = kept(f, T("osel"));
    hl_meta m;
    hl_table_meta_default(&m, sel_owner);
    m.type = HL_ORDERED_SET;
    m.named = 1;
    assert_int_equal(hl_store_create(f->s, name, &m), HL_OK);
    for (int i = 0; i < 100; i++) {
        char text[64];
        snprintf(text, sizeof text, "{{%d, %d}, %d}", i / 10, i, i);
        put(f, name, text);
    }
    sel_tab = name;
    return 0;
}

/* Run spec in chunks of one row each (budget 1): how many chunks it took
 * (the rows the walk visited; at least one) and the total. */
static size_t one_row_chunks(fixture *f, const char *spec, hl_select_op op, int reverse,
                             int64_t *total)
{
    hl_buf out = {0}, pos = {0};
    hl_bytes acc, next;
    size_t chunks = 0;
    hl_select_opts o = {op, reverse, 0, 1, {NULL, 0}};
    *total = 0;
    do {
        assert_int_equal(chunk(f, spec, &o, &out, &acc, &next), HL_OK);
        *total += op == HL_SELECT_LIST ? (int64_t)length_of(acc) : count_of(acc);
        chunks++;
        if (!is_end(next)) {
            pos.len = 0;
            hl_buf_append(&pos, next.data + 5, next.len - 5);
            o.after = hl_buf_view(&pos);
        }
    } while (!is_end(next) && chunks < 1000);
    hl_buf_free(&out);
    hl_buf_free(&pos);
    return chunks;
}

static void test_select_ordered_key_ranges(void **state)
{
    fixture *f = *state;
    int64_t n;
    /* a partly bound key: only {3, _}'s ten rows are visited, both ways,
     * resuming inside the range chunk after chunk */
    assert_int_equal(one_row_chunks(f, "[{{{3, '_'}, '_'}, [], [true]}]", HL_SELECT_COUNT, 0, &n),
                     10);
    assert_int_equal(n, 10);
    assert_int_equal(one_row_chunks(f, "[{{{3, '$1'}, '_'}, [], ['$1']}]", HL_SELECT_LIST, 1, &n),
                     10);
    assert_int_equal(n, 10);
    /* two clauses: from the least to the most pattern, {3, _} in between */
    assert_int_equal(
        one_row_chunks(f, "[{{{2, '_'}, '_'}, [], [true]}, {{{4, '_'}, '_'}, [], [true]}]",
                       HL_SELECT_COUNT, 0, &n),
        30);
    assert_int_equal(n, 20);
    /* a bound key: the one row == to it (1.0 reaches 1) */
    assert_int_equal(
        one_row_chunks(f, "[{{{4.0, 42.0}, '_'}, [], [true]}]", HL_SELECT_COUNT, 0, &n), 1);
    assert_int_equal(n, 0); /* matching is =:=: 4.0 is not 4 */
    assert_int_equal(one_row_chunks(f, "[{{{4, '_'}, '$1'}, [{'>', '$1', 45}], [true]}]",
                                    HL_SELECT_DELETE, 0, &n),
                     10);
    assert_int_equal(n, 4);
    /* an unbound key scans all (96 rows left); a head that can match nothing
     * is left out, and when no head can, nothing is visited */
    assert_int_equal(one_row_chunks(f, "[{{'_', '_'}, [], [true]}]", HL_SELECT_COUNT, 0, &n), 96);
    assert_int_equal(one_row_chunks(f, "[{{{9, '_'}, '_'}, [], [true]}, {x, [], [true]}]",
                                    HL_SELECT_COUNT, 0, &n),
                     10);
    assert_int_equal(
        one_row_chunks(f, "[{x, [], [true]}, {{}, [], [true]}]", HL_SELECT_COUNT, 0, &n), 1);
    /* a pattern longer than an LMDB key: still found (or stepped to) */
    char big[1400], bin[1201];
    memset(bin, 'x', 1200);
    bin[1200] = 0;
    snprintf(big, sizeof big, "[{{{5, \"%s\", '_'}, '_'}, [], [true]}]", bin);
    (void)one_row_chunks(f, big, HL_SELECT_COUNT, 0, &n);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select_resumes_in_chunks, setup_select, teardown),
        cmocka_unit_test_setup_teardown(test_select_count_delete_replace, setup_select, teardown),
        cmocka_unit_test_setup_teardown(test_select_keyed_and_access, setup_select, teardown),
        cmocka_unit_test_setup_teardown(test_select_ordered_key_ranges, setup_ordered, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
