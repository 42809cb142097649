/*
 * test_store_types.c: cmocka tests of the table types other than set
 * (ordered_set, bag, duplicate_bag) and of the key-based operations and
 * walks of every type (hl_store.h: delete_object, take, step, chunk).
 *
 * The fixture (a fresh store per test, term buffers it owns) is
 * store_fixture.h's, shared with the other test_store*.c.
 */
/* test_bags and test_chunks build thousands of terms */
#define MAX_BUFS 4096
#include "store_fixture.h"

/* A canonical float (NEW_FLOAT_EXT). */
static hl_bytes flt(fixture *f, double d)
{
    hl_buf *b = new_buf(f);
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    assert_int_equal(hl_buf_append_byte(b, 70), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, (uint32_t)(u >> 32)), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, (uint32_t)u), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes pair(fixture *f, hl_bytes a, hl_bytes b)
{
    hl_buf *o = new_buf(f);
    assert_int_equal(hl_term_put_tuple_header(o, 2), HL_OK);
    assert_int_equal(hl_buf_append(o, a.data, a.len), HL_OK);
    assert_int_equal(hl_buf_append(o, b.data, b.len), HL_OK);
    return hl_buf_view(o);
}

static hl_bytes table(fixture *f, const char *name, hl_table_type type)
{
    hl_bytes tab = atom(f, name);
    hl_meta m = {0};
    m.type = type;
    m.keypos = 1;
    m.access = HL_PUBLIC;
    m.named = 1;
    m.own.heir_kind = HL_HEIR_CNODE;
    assert_int_equal(hl_store_create(f->s, tab, &m), HL_OK);
    return tab;
}

static void put(fixture *f, hl_bytes tab, hl_bytes obj)
{
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &obj, 1, 0, NULL), HL_OK);
}

/* Rows (or keys) seen by a callback, copied, without a version byte. */
typedef struct {
    hl_buf all;
    size_t at[512];
    size_t n;
} seen;

static int see(void *ctx, hl_bytes t)
{
    seen *s = ctx;
    if (t.len && t.data[0] == 131) {
        t.data++;
        t.len--;
    }
    assert_true(s->n < 512);
    s->at[s->n++] = s->all.len;
    return hl_buf_append(&s->all, t.data, t.len);
}

static hl_bytes nth(const seen *s, size_t i)
{
    size_t end = i + 1 < s->n ? s->at[i + 1] : s->all.len;
    return (hl_bytes){s->all.data + s->at[i], end - s->at[i]};
}

static void expect(seen *s, size_t n, ...)
{
    va_list ap;
    assert_int_equal(s->n, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hl_bytes want = va_arg(ap, hl_bytes), got = nth(s, i);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
    }
    va_end(ap);
    hl_buf_free(&s->all);
    memset(s, 0, sizeof *s);
}

static void all_rows(fixture *f, hl_bytes tab, seen *s)
{
    assert_int_equal(hl_store_each_object(f->s, tab, cnode, see, s), HL_OK);
}

static void lookup_rows(fixture *f, hl_bytes tab, hl_bytes key, seen *s)
{
    assert_int_equal(hl_store_lookup(f->s, tab, cnode, key, see, s), HL_OK);
}

static int step(fixture *f, hl_bytes tab, hl_step how, hl_bytes key, seen *s)
{
    return hl_store_step(f->s, tab, cnode, how, key, see, s);
}

static const hl_bytes none = {NULL, 0};

/* --- tests ---------------------------------------------------------------- */

static void test_types_create(void **state)
{
    fixture *f = *state;
    const char *names[] = {"s", "o", "b", "d"};
    for (int t = HL_SET; t <= HL_DUPLICATE_BAG; t++) {
        hl_meta got;
        hl_bytes tab = table(f, names[t], (hl_table_type)t);
        assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_OK);
        assert_int_equal(got.type, t);
        hl_meta_free(&got);
    }
    hl_meta m = {0};
    m.type = (hl_table_type)4;
    m.keypos = 1;
    assert_int_equal(hl_store_create(f->s, atom(f, "x"), &m), HL_EBADARG);
}

/* Term order with ==: 1 and 1.0 are one key, the newer object wins. */
static void test_ordered_set_order_and_equality(void **state)
{
    fixture *f = *state;
    hl_bytes tab = table(f, "o", HL_ORDERED_SET);
    hl_bytes x = atom(f, "x"), o3 = pair(f, integer(f, 3), x), oa = pair(f, atom(f, "a"), x),
             o25 = pair(f, flt(f, 2.5), x), o1 = pair(f, integer(f, 1), x),
             o1f = pair(f, flt(f, 1.0), atom(f, "y")),
             big = pair(f, integer(f, (int64_t)1 << 40), x);
    seen s = {0};
    put(f, tab, o3);
    put(f, tab, oa);
    put(f, tab, big);
    put(f, tab, o25);
    put(f, tab, o1);
    put(f, tab, o1f);
    all_rows(f, tab, &s);
    expect(&s, 5, o1f, o25, o3, big, oa);
    assert_int_equal(size_of(f, tab), 5);
    lookup_rows(f, tab, integer(f, 1), &s);
    expect(&s, 1, o1f);
    /* The comparator is installed again by a fresh open. */
    reopen(f);
    lookup_rows(f, tab, flt(f, 3.0), &s);
    expect(&s, 1, o3);
    put(f, tab, pair(f, integer(f, 2), x));
    assert_int_equal(step(f, tab, HL_STEP_FIRST, none, &s), HL_OK);
    expect(&s, 1, flt(f, 1.0));
    assert_int_equal(step(f, tab, HL_STEP_LAST, none, &s), HL_OK);
    expect(&s, 1, atom(f, "a"));
    /* next/prev of keys that are not in the table, as ETS. */
    assert_int_equal(step(f, tab, HL_STEP_NEXT, flt(f, 2.2), &s), HL_OK);
    expect(&s, 1, flt(f, 2.5));
    assert_int_equal(step(f, tab, HL_STEP_NEXT, integer(f, 1), &s), HL_OK);
    expect(&s, 1, integer(f, 2));
    assert_int_equal(step(f, tab, HL_STEP_PREV, flt(f, 2.5), &s), HL_OK);
    expect(&s, 1, integer(f, 2));
    assert_int_equal(step(f, tab, HL_STEP_PREV, integer(f, 0), &s), HL_OK);
    expect(&s, 0);
    assert_int_equal(step(f, tab, HL_STEP_NEXT, atom(f, "a"), &s), HL_OK);
    expect(&s, 0);
    assert_int_equal(step(f, tab, HL_STEP_PREV, atom(f, "zzz"), &s), HL_OK);
    expect(&s, 1, atom(f, "a"));
    /* delete_object needs =:=: {1, y} is not {1.0, y}. */
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, pair(f, integer(f, 1), atom(f, "y"))),
                     HL_OK);
    assert_int_equal(size_of(f, tab), 6);
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, o1f), HL_OK);
    assert_int_equal(size_of(f, tab), 5);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, flt(f, 3.0)), HL_OK);
    assert_int_equal(size_of(f, tab), 4);
}

static void test_ordered_set_long_keys_refused(void **state)
{
    fixture *f = *state;
    hl_bytes tab = table(f, "o", HL_ORDERED_SET);
    hl_bytes k = binary(f, 600, 7), obj = pair(f, k, atom(f, "v"));
    seen s = {0};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &obj, 1, 0, NULL), HL_EUNSUPPORTED);
    lookup_rows(f, tab, k, &s);
    expect(&s, 0);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k), HL_OK);
    assert_int_equal(step(f, tab, HL_STEP_NEXT, k, &s), HL_EUNSUPPORTED);
    assert_int_equal(size_of(f, tab), 0);
}

/* A bag keeps distinct objects in insertion order; a duplicate_bag all. */
static void test_bags(void **state)
{
    fixture *f = *state;
    hl_bytes b = table(f, "b", HL_BAG), d = table(f, "d", HL_DUPLICATE_BAG);
    hl_bytes a = atom(f, "a"), a1 = pair(f, a, integer(f, 1)), a2 = pair(f, a, integer(f, 2)),
             a0 = pair(f, a, flt(f, 0.0)), an0 = pair(f, a, flt(f, -0.0)),
             b1 = pair(f, atom(f, "b"), integer(f, 1));
    hl_bytes list[] = {a1, a2, a1, b1, a0, an0};
    seen s = {0};
    assert_int_equal(hl_store_insert(f->s, b, cnode, list, 6, 0, NULL), HL_OK);
    assert_int_equal(hl_store_insert(f->s, d, cnode, list, 6, 0, NULL), HL_OK);
    /* ETS fills a bag from a list's end; -0.0 =:= 0.0 in OTP 25, so the
     * first written stays: [{a,-0.0},{a,1},{a,2}], as ets:lookup gives. */
    lookup_rows(f, b, a, &s);
    expect(&s, 3, an0, a1, a2);
    lookup_rows(f, d, a, &s);
    expect(&s, 5, a1, a2, a1, a0, an0);
    assert_int_equal(size_of(f, b), 4);
    assert_int_equal(size_of(f, d), 6);
    int found = 0;
    assert_int_equal(hl_store_member(f->s, d, cnode, atom(f, "b"), &found), HL_OK);
    assert_true(found);
    /* delete_object removes every equal object, and only those. */
    assert_int_equal(hl_store_delete_object(f->s, d, cnode, a1), HL_OK);
    lookup_rows(f, d, a, &s);
    expect(&s, 3, a2, a0, an0);
    /* A new object goes after the others, even after deletions. */
    put(f, d, a1);
    lookup_rows(f, d, a, &s);
    expect(&s, 4, a2, a0, an0, a1);
    /* insert_new: any existing key writes nothing. */
    hl_bytes both[] = {pair(f, atom(f, "c"), a), b1};
    int ins = 1;
    assert_int_equal(hl_store_insert(f->s, b, cnode, both, 2, 1, &ins), HL_OK);
    assert_false(ins);
    assert_int_equal(size_of(f, b), 4);
    /* take gives the key's objects in order and deletes them. */
    assert_int_equal(hl_store_take(f->s, b, cnode, a, see, &s), HL_OK);
    expect(&s, 3, an0, a1, a2);
    lookup_rows(f, b, a, &s);
    expect(&s, 0);
    assert_int_equal(hl_store_delete_key(f->s, d, cnode, a), HL_OK);
    assert_int_equal(size_of(f, d), 1);
    /* A bad object anywhere in a list writes nothing. */
    hl_bytes bad[] = {a1, atom(f, "notatuple")};
    assert_int_equal(hl_store_insert(f->s, d, cnode, bad, 2, 0, NULL), HL_EBADARG);
    assert_int_equal(size_of(f, d), 1);
}

static void test_bag_long_keys(void **state)
{
    fixture *f = *state;
    hl_bytes d = table(f, "d", HL_DUPLICATE_BAG);
    hl_bytes k = binary(f, 700, 3), k2 = binary(f, 700, 4), o1 = pair(f, k, integer(f, 1)),
             o2 = pair(f, k, integer(f, 2)), o3 = pair(f, k2, integer(f, 3));
    seen s = {0};
    put(f, d, o1);
    put(f, d, o3);
    put(f, d, o2);
    lookup_rows(f, d, k, &s);
    expect(&s, 2, o1, o2);
    assert_int_equal(step(f, d, HL_STEP_FIRST, none, &s), HL_OK);
    assert_int_equal(s.n, 1);
    hl_buf_free(&s.all);
    memset(&s, 0, sizeof s);
    assert_int_equal(hl_store_take(f->s, d, cnode, k2, see, &s), HL_OK);
    expect(&s, 1, o3);
    assert_int_equal(size_of(f, d), 2);
}

/* set and the bags: next of a missing key is badarg; last/prev are
 * first/next; a walk by steps meets every key once. */
static void test_unordered_steps(void **state)
{
    fixture *f = *state;
    hl_bytes tabs[] = {table(f, "s", HL_SET), table(f, "b", HL_BAG),
                       table(f, "d", HL_DUPLICATE_BAG)};
    for (int t = 0; t < 3; t++) {
        seen s = {0};
        for (int i = 0; i < 20; i++) {
            put(f, tabs[t], pair(f, integer(f, i), integer(f, 0)));
            put(f, tabs[t], pair(f, integer(f, i), integer(f, 1)));
        }
        put(f, tabs[t], pair(f, binary(f, 500, 1), integer(f, 0)));
        assert_int_equal(step(f, tabs[t], HL_STEP_NEXT, integer(f, 99), &s), HL_EBADARG);
        int keys = 0;
        assert_int_equal(step(f, tabs[t], HL_STEP_LAST, none, &s), HL_OK);
        while (s.n == 1) {
            keys++;
            hl_buf k = {0};
            assert_int_equal(hl_buf_append(&k, s.all.data, s.all.len), HL_OK);
            expect(&s, 1, hl_buf_view(&k));
            assert_int_equal(step(f, tabs[t], HL_STEP_PREV, hl_buf_view(&k), &s), HL_OK);
            hl_buf_free(&k);
        }
        expect(&s, 0);
        assert_int_equal(keys, 21);
    }
}

/* Chunks end on a key's last object and resume after that key. */
static void test_chunks(void **state)
{
    fixture *f = *state;
    hl_bytes tabs[] = {table(f, "s", HL_SET), table(f, "o", HL_ORDERED_SET), table(f, "b", HL_BAG),
                       table(f, "d", HL_DUPLICATE_BAG)};
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 50; i++)
            for (int j = 0; j < (t >= 2 ? 3 : 1); j++)
                put(f, tabs[t], pair(f, integer(f, i * 7 % 50), integer(f, j)));
        for (int back = 0; back < 2; back++) {
            seen s = {0};
            hl_buf after = {0};
            int more = 1, chunks = 0;
            while (more) {
                size_t before = s.n;
                assert_int_equal(hl_store_chunk(f->s, tabs[t], cnode, back, hl_buf_view(&after), 4,
                                                see, &s, &more),
                                 HL_OK);
                chunks++;
                assert_true(s.n - before >= (more ? 4u : 0u));
                hl_bytes last = nth(&s, s.n - 1), key;
                assert_int_equal(hl_term_tuple_element(last.data, last.len, 1, &key), HL_OK);
                after.len = 0;
                assert_int_equal(hl_buf_append(&after, key.data, key.len), HL_OK);
            }
            assert_int_equal(s.n, t >= 2 ? 150 : 50);
            assert_true(chunks > 10);
            if (t == 1) /* ordered_set: term order either way */
                for (size_t i = 0; i < s.n; i++) {
                    hl_bytes k;
                    int64_t v;
                    hl_bytes o = nth(&s, i);
                    assert_int_equal(hl_term_tuple_element(o.data, o.len, 1, &k), HL_OK);
                    assert_int_equal(hl_term_get_int(k.data, k.len, &v), HL_OK);
                    assert_int_equal(v, back ? 49 - (int64_t)i : (int64_t)i);
                }
            hl_buf_free(&after);
            hl_buf_free(&s.all);
        }
    }
}

static void test_set_take_and_delete_object(void **state)
{
    fixture *f = *state;
    hl_bytes tab = table(f, "s", HL_SET);
    hl_bytes o = pair(f, atom(f, "k"), integer(f, 1));
    seen s = {0};
    put(f, tab, o);
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, pair(f, atom(f, "k"), integer(f, 2))),
                     HL_OK);
    assert_int_equal(size_of(f, tab), 1);
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, atom(f, "k")), HL_EBADARG);
    assert_int_equal(hl_store_take(f->s, tab, cnode, atom(f, "k"), see, &s), HL_OK);
    expect(&s, 1, o);
    assert_int_equal(hl_store_take(f->s, tab, cnode, atom(f, "k"), see, &s), HL_OK);
    expect(&s, 0);
    put(f, tab, o);
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, o), HL_OK);
    assert_int_equal(size_of(f, tab), 0);
}

/* Counters and elements through the store: the default object takes the
 * key asked for; a bag refuses; a bad op writes nothing. */
static void test_store_update_ops(void **state)
{
    fixture *f = *state;
    hl_bytes o = table(f, "o", HL_ORDERED_SET), b = table(f, "b", HL_BAG);
    hl_bytes one = integer(f, 1), two = integer(f, 2);
    hl_buf res = {0};
    seen s = {0};
    put(f, o, pair(f, one, integer(f, 0)));
    assert_int_equal(hl_store_update_counter(f->s, o, cnode, flt(f, 1.0), one, none, &res), HL_OK);
    assert_int_equal(res.len, one.len);
    assert_memory_equal(res.data, one.data, one.len);
    res.len = 0;
    /* No object, no default: badarg, nothing written. */
    assert_int_equal(hl_store_update_counter(f->s, o, cnode, two, one, none, &res), HL_EBADARG);
    assert_int_equal(res.len, 0);
    assert_int_equal(size_of(f, o), 1);
    /* The default's key is replaced by the key asked for. */
    assert_int_equal(hl_store_update_counter(f->s, o, cnode, flt(f, 2.0), one,
                                             pair(f, atom(f, "other"), integer(f, 5)), &res),
                     HL_OK);
    lookup_rows(f, o, two, &s);
    expect(&s, 1, pair(f, flt(f, 2.0), integer(f, 6)));
    /* A bad op (the key's position) writes nothing. */
    res.len = 0;
    assert_int_equal(hl_store_update_counter(f->s, o, cnode, two, pair(f, one, one), none, &res),
                     HL_EBADARG);
    lookup_rows(f, o, two, &s);
    expect(&s, 1, pair(f, flt(f, 2.0), integer(f, 6)));
    int updated = 1, many = 0;
    assert_int_equal(
        hl_store_update_element(f->s, o, cnode, integer(f, 9), pair(f, two, one), &updated), HL_OK);
    assert_false(updated);
    assert_int_equal(
        hl_store_update_element(f->s, o, cnode, two, pair(f, two, atom(f, "x")), &updated), HL_OK);
    assert_true(updated);
    assert_int_equal(hl_store_lookup_element(f->s, o, cnode, two, 2, see, &s, &many), HL_OK);
    expect(&s, 1, atom(f, "x"));
    assert_false(many);
    assert_int_equal(hl_store_lookup_element(f->s, o, cnode, two, 3, see, &s, &many), HL_EBADARG);
    hl_buf_free(&s.all);
    memset(&s, 0, sizeof s);
    assert_int_equal(hl_store_lookup_element(f->s, o, cnode, integer(f, 9), 1, see, &s, &many),
                     HL_EBADARG);
    /* Bags: no counters, no update_element; lookup_element of every object. */
    put(f, b, pair(f, one, one));
    put(f, b, pair(f, one, two));
    assert_int_equal(hl_store_update_counter(f->s, b, cnode, one, one, none, &res), HL_EBADARG);
    assert_int_equal(hl_store_update_element(f->s, b, cnode, one, pair(f, two, one), &updated),
                     HL_EBADARG);
    assert_int_equal(hl_store_lookup_element(f->s, b, cnode, one, 2, see, &s, &many), HL_OK);
    expect(&s, 2, one, two);
    assert_true(many);
    hl_buf_free(&res);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_types_create),
        T(test_ordered_set_order_and_equality),
        T(test_ordered_set_long_keys_refused),
        T(test_bags),
        T(test_bag_long_keys),
        T(test_unordered_steps),
        T(test_chunks),
        T(test_set_take_and_delete_object),
        T(test_store_update_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
