/*
 * test_store.c: cmocka tests of the LMDB table store (hl_store.h): tables,
 * rows, access rules, walks and statistics in one process.
 *
 * Every test gets a fresh store in its own mkdtemp directory under /tmp,
 * removed in teardown (the fixture is test/c/store_fixture.h). Several
 * processes and threads: test_store_procs.c and test_store_race.c; a full
 * filesystem: test_store_full.c.
 */
#include "store_fixture.h"

static void test_store_create_get_meta_drop(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), owner = pid(f, 1), heir = pid(f, 2), data = atom(f, "gift");
    hl_meta m = meta_of(HL_PRIVATE, 2, owner), got;
    m.own.heir_kind = HL_HEIR_PID;
    m.own.heir = heir;
    m.own.heir_data = data;
    assert_int_equal(hl_store_create(f->s, tab, &m), HL_OK);
    assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_OK);
    assert_int_equal(got.type, HL_SET);
    assert_int_equal(got.keypos, 2);
    assert_int_equal(got.access, HL_PRIVATE);
    assert_int_equal(got.named, 1);
    assert_int_equal(got.dbid, m.dbid);
    assert_true(hl_bytes_eq(got.own.owner, owner));
    assert_int_equal(got.own.heir_kind, HL_HEIR_PID);
    assert_true(hl_bytes_eq(got.own.heir, heir));
    assert_true(hl_bytes_eq(got.own.heir_data, data));
    hl_meta_free(&got);
    hl_meta_free(&got); /* idempotent */
    assert_int_equal(hl_store_drop(f->s, tab, owner), HL_OK);
    assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_ENOTABLE);
    hl_meta_free(&got);
}

static void test_store_create_exists_and_unsupported(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    create(f, tab, HL_PUBLIC, 1, cnode);
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_create(f->s, tab, &m), HL_EEXISTS);
    m.type = (hl_table_type)4; /* every ETS type is made: test_store_types.c */
    assert_int_equal(hl_store_create(f->s, atom(f, "u"), &m), HL_EBADARG);
    m.type = HL_SET;
    m.keypos = 0;
    assert_int_equal(hl_store_create(f->s, atom(f, "u"), &m), HL_EBADARG);
}

static void test_store_notable_everywhere(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "nope"), key = integer(f, 1), obj = tuple(f, 1, key);
    hl_meta m;
    hl_own own = {0};
    hl_table_stats st;
    rows r = {0};
    int found, ins;
    assert_int_equal(hl_store_get_meta(f->s, tab, &m), HL_ENOTABLE);
    assert_int_equal(hl_store_drop(f->s, tab, cnode), HL_ENOTABLE);
    assert_int_equal(hl_store_set_own(f->s, tab, &own), HL_ENOTABLE);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &obj, 1, 1, &ins), HL_ENOTABLE);
    assert_int_equal(hl_store_lookup(f->s, tab, cnode, key, on_row, &r), HL_ENOTABLE);
    assert_int_equal(hl_store_member(f->s, tab, cnode, key, &found), HL_ENOTABLE);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, key), HL_ENOTABLE);
    assert_int_equal(hl_store_delete_all(f->s, tab, cnode), HL_ENOTABLE);
    assert_int_equal(hl_store_each_object(f->s, tab, cnode, on_row, &r), HL_ENOTABLE);
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_ENOTABLE);
    assert_int_equal(r.n, 0);
}

static void test_store_insert_lookup_member_delete(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k1 = integer(f, 1), k2 = integer(f, 2);
    hl_bytes o1 = tuple(f, 2, k1, binary(f, 3, 'a')), o2 = tuple(f, 2, k2, atom(f, "two"));
    int found = -1;
    create(f, tab, HL_PROTECTED, 1, cnode);
    hl_bytes objs[] = {o1, o2};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 2, 0, NULL), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 1);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 1);
    assert_int_equal(lookup(f, tab, cnode, integer(f, 3), o1), 0);
    assert_int_equal(hl_store_member(f->s, tab, cnode, k1, &found), HL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(hl_store_member(f->s, tab, cnode, integer(f, 3), &found), HL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k1), HL_OK);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k1), HL_OK); /* absent is fine */
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 0);
    assert_int_equal(size_of(f, tab), 1);
    assert_int_equal(hl_store_delete_all(f->s, tab, cnode), HL_OK);
    assert_int_equal(size_of(f, tab), 0);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 0);
    assert_int_equal(insert1(f, tab, cnode, o2), HL_OK); /* usable after delete_all */
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 1);
}

static void test_store_overwrite_same_key(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = atom(f, "k");
    hl_bytes a = tuple(f, 2, k, integer(f, 1)), b = tuple(f, 3, k, integer(f, 2), integer(f, 3));
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, a), HL_OK);
    assert_int_equal(insert1(f, tab, cnode, b), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, b), 1);
    assert_int_equal(size_of(f, tab), 1);
    /* Within one call the last object with a key wins, as in ETS. */
    hl_bytes objs[] = {b, a};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 2, 0, NULL), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, a), 1);
}

static void test_store_keypos_2(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = atom(f, "key");
    hl_bytes obj = tuple(f, 3, atom(f, "rec"), k, integer(f, 7));
    create(f, tab, HL_PUBLIC, 2, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
    assert_int_equal(lookup(f, tab, cnode, atom(f, "rec"), obj), 0);
    /* A 1-tuple is too short for keypos 2. */
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, k)), HL_EBADARG);
}

static void test_store_bad_objects_write_nothing(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    hl_bytes good1 = tuple(f, 2, integer(f, 1), integer(f, 1));
    hl_bytes good2 = tuple(f, 2, integer(f, 2), integer(f, 2));
    hl_bytes empty = {NULL, 0};
    int ins = -1;
    create(f, tab, HL_PUBLIC, 2, cnode);
    assert_int_equal(insert1(f, tab, cnode, atom(f, "x")), HL_EBADARG);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 0)), HL_EBADARG);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, integer(f, 9))), HL_EBADARG);
    assert_int_equal(insert1(f, tab, cnode, empty), HL_EBADARG);
    hl_bytes objs[] = {good1, good2, integer(f, 3), good1};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 4, 0, NULL), HL_EBADARG);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 4, 1, &ins), HL_EBADARG);
    assert_int_equal(ins, 0);
    assert_int_equal(size_of(f, tab), 0);
}

static void test_store_insert_new(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k1 = integer(f, 1), k2 = integer(f, 2), k3 = integer(f, 3);
    hl_bytes o1 = tuple(f, 2, k1, atom(f, "a")), o1b = tuple(f, 2, k1, atom(f, "b"));
    hl_bytes o2 = tuple(f, 2, k2, atom(f, "a")), o3 = tuple(f, 2, k3, atom(f, "a"));
    hl_bytes o3b = tuple(f, 2, k3, atom(f, "b"));
    int ins = -1;
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &o1, 1, 1, &ins), HL_OK);
    assert_int_equal(ins, 1);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &o1b, 1, 1, &ins), HL_OK);
    assert_int_equal(ins, 0);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 1);
    /* One existing key in a list: nothing of the list is written. */
    hl_bytes list[] = {o2, o1b};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, list, 2, 1, &ins), HL_OK);
    assert_int_equal(ins, 0);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 0);
    /* Repeats within the call do not count as existing; the last wins. */
    hl_bytes rep[] = {o3, o3b};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, rep, 2, 1, &ins), HL_OK);
    assert_int_equal(ins, 1);
    assert_int_equal(lookup(f, tab, cnode, k3, o3b), 1);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, NULL, 0, 1, &ins), HL_OK);
    assert_int_equal(ins, 1);
}

/* A real 128-bit collision cannot be found, so forge one: after closing the
 * store, write k2's object under k1's hashed LMDB key with LMDB directly. */

static void test_store_access_protected(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), owner = pid(f, 1), other = pid(f, 2), k = integer(f, 1);
    hl_bytes obj = tuple(f, 1, k);
    int found;
    create(f, tab, HL_PROTECTED, 1, owner);
    assert_int_equal(insert1(f, tab, owner, obj), HL_OK);
    assert_int_equal(insert1(f, tab, other, obj), HL_EACCESS);
    assert_int_equal(hl_store_delete_key(f->s, tab, other, k), HL_EACCESS);
    assert_int_equal(hl_store_delete_all(f->s, tab, other), HL_EACCESS);
    assert_int_equal(lookup(f, tab, other, k, obj), 1);
    assert_int_equal(hl_store_member(f->s, tab, other, k, &found), HL_OK);
    assert_int_equal(size_of(f, tab), 1);
}

static void test_store_access_private(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), owner = pid(f, 1), other = pid(f, 2), k = integer(f, 1);
    hl_bytes obj = tuple(f, 1, k);
    rows r = {0};
    int found;
    create(f, tab, HL_PRIVATE, 1, owner);
    assert_int_equal(insert1(f, tab, owner, obj), HL_OK);
    assert_int_equal(insert1(f, tab, other, obj), HL_EACCESS);
    assert_int_equal(hl_store_lookup(f->s, tab, other, k, on_row, &r), HL_EACCESS);
    assert_int_equal(hl_store_member(f->s, tab, other, k, &found), HL_EACCESS);
    assert_int_equal(hl_store_each_object(f->s, tab, other, on_row, &r), HL_EACCESS);
    assert_int_equal(r.n, 0);
    assert_int_equal(lookup(f, tab, owner, k, obj), 1);
}

static void test_store_access_public_and_cnode(void **state)
{
    fixture *f = *state;
    hl_bytes pub = atom(f, "pub"), priv = atom(f, "priv"), owner = pid(f, 1), other = pid(f, 2);
    hl_bytes k = integer(f, 1), obj = tuple(f, 1, k);
    create(f, pub, HL_PUBLIC, 1, owner);
    create(f, priv, HL_PRIVATE, 1, owner);
    assert_int_equal(insert1(f, pub, other, obj), HL_OK);
    assert_int_equal(hl_store_delete_key(f->s, pub, other, k), HL_OK);
    /* The C node may do anything, even on a private table it does not own. */
    assert_int_equal(insert1(f, priv, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, priv, cnode, k, obj), 1);
    assert_int_equal(hl_store_delete_all(f->s, priv, cnode), HL_OK);
}

static void test_store_drop_rules(void **state)
{
    fixture *f = *state;
    hl_bytes prot = atom(f, "prot"), pub = atom(f, "pub"), owner = pid(f, 1), other = pid(f, 2);
    create(f, prot, HL_PROTECTED, 1, owner);
    create(f, pub, HL_PUBLIC, 1, owner);
    assert_int_equal(hl_store_drop(f->s, prot, other), HL_ENOTOWNER);
    assert_int_equal(hl_store_drop(f->s, pub, other), HL_OK);
    assert_int_equal(hl_store_drop(f->s, prot, cnode), HL_OK);
}

static void test_store_recreated_name_has_no_rows(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), obj = tuple(f, 1, k);
    hl_meta m1 = meta_of(HL_PUBLIC, 1, cnode), m2 = meta_of(HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_create(f->s, tab, &m1), HL_OK);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    assert_int_equal(hl_store_drop(f->s, tab, cnode), HL_OK);
    assert_int_equal(hl_store_create(f->s, tab, &m2), HL_OK);
    assert_true(m2.dbid > m1.dbid);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 0);
    reopen(f); /* the dbid counter survives a restart too */
    hl_meta m3 = meta_of(HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_create(f->s, atom(f, "u"), &m3), HL_OK);
    assert_true(m3.dbid > m2.dbid);
}

static void test_store_set_own_persists(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), owner = pid(f, 1), heir = pid(f, 2), data = integer(f, 99);
    hl_meta got;
    create(f, tab, HL_PROTECTED, 1, owner);
    hl_own own = {heir, HL_HEIR_PID, owner, data, 1};
    assert_int_equal(hl_store_set_own(f->s, tab, &own), HL_OK);
    reopen(f);
    assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_OK);
    assert_true(hl_bytes_eq(got.own.owner, heir));
    assert_int_equal(got.own.heir_kind, HL_HEIR_PID);
    assert_true(hl_bytes_eq(got.own.heir, owner));
    assert_true(hl_bytes_eq(got.own.heir_data, data));
    assert_int_equal(got.own.adopted, 1);
    assert_int_equal(got.access, HL_PROTECTED);
    hl_meta_free(&got);
    /* The new owner writes; the old one no longer may. */
    assert_int_equal(insert1(f, tab, heir, tuple(f, 1, data)), HL_OK);
    assert_int_equal(insert1(f, tab, owner, tuple(f, 1, data)), HL_EACCESS);
    /* Held by the C node, no heir. */
    hl_own held = {{NULL, 0}, HL_HEIR_NONE, {NULL, 0}, {NULL, 0}, 0};
    assert_int_equal(hl_store_set_own(f->s, tab, &held), HL_OK);
    assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_OK);
    assert_int_equal(got.own.owner.len, 0);
    assert_int_equal(got.own.heir_kind, HL_HEIR_NONE);
    assert_int_equal(got.own.adopted, 0);
    hl_meta_free(&got);
    /* new/2 taking a held table over sets its protection; ownership stays. */
    hl_bytes by_cnode = {NULL, 0};
    assert_int_equal(hl_store_set_access(f->s, tab, by_cnode, HL_PUBLIC), HL_OK);
    assert_int_equal(hl_store_get_meta(f->s, tab, &got), HL_OK);
    assert_int_equal(got.access, HL_PUBLIC);
    assert_int_equal(got.own.heir_kind, HL_HEIR_NONE);
    hl_meta_free(&got);
    assert_int_equal(hl_store_set_access(f->s, tab, by_cnode, (hl_access)7), HL_EBADARG);
    assert_int_equal(hl_store_set_access(f->s, atom(f, "nope"), by_cnode, HL_PUBLIC), HL_ENOTABLE);
    /* setopts {protection, P}: only the owner (the C node holds it now). */
    assert_int_equal(hl_store_set_access(f->s, tab, owner, HL_PRIVATE), HL_ENOTOWNER);
}

static void test_store_reopen_keeps_everything(void **state)
{
    fixture *f = *state;
    hl_bytes a = atom(f, "a"), b = atom(f, "b"), owner = pid(f, 7), k = binary(f, 900, 'k');
    hl_bytes oa = tuple(f, 2, integer(f, 1), integer(f, 2)), ob = tuple(f, 2, k, owner);
    hl_meta got;
    create(f, a, HL_PUBLIC, 1, cnode);
    create(f, b, HL_PRIVATE, 1, owner);
    assert_int_equal(insert1(f, a, cnode, oa), HL_OK);
    assert_int_equal(insert1(f, b, owner, ob), HL_OK);
    reopen(f);
    assert_int_equal(lookup(f, a, cnode, integer(f, 1), oa), 1);
    assert_int_equal(lookup(f, b, owner, k, ob), 1);
    assert_int_equal(hl_store_get_meta(f->s, b, &got), HL_OK);
    assert_int_equal(got.access, HL_PRIVATE);
    assert_true(hl_bytes_eq(got.own.owner, owner));
    hl_meta_free(&got);
    assert_int_equal(insert1(f, a, pid(f, 8), oa), HL_OK);
}

static void test_store_each_table(void **state)
{
    fixture *f = *state;
    tables t = {0};
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), HL_OK);
    assert_int_equal(t.n, 0);
    create(f, atom(f, "c"), HL_PUBLIC, 1, cnode);
    create(f, atom(f, "a"), HL_PUBLIC, 1, cnode);
    create(f, atom(f, "b"), HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), HL_OK);
    assert_int_equal(t.n, 3);
    hl_buf_free(&t.first);
    t = (tables){0};
    t.stop_after = 2;
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), 7);
    assert_int_equal(t.n, 2);
    hl_buf_free(&t.first);
}

static void test_store_each_table_order(void **state)
{
    fixture *f = *state;
    tables t = {0};
    hl_bytes a = atom(f, "a"), b = atom(f, "b");
    create(f, b, HL_PUBLIC, 1, cnode);
    create(f, a, HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), HL_OK);
    assert_int_equal(t.n, 2);
    /* Name byte order, not creation order. */
    assert_true(hl_bytes_eq(hl_buf_view(&t.first), a));
    hl_buf_free(&t.first);
}

static void test_store_each_object(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    rows r = {0};
    create(f, tab, HL_PROTECTED, 1, cnode);
    assert_int_equal(hl_store_each_object(f->s, tab, pid(f, 3), on_row, &r), HL_OK);
    assert_int_equal(r.n, 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(insert1(f, tab, cnode, tuple(f, 2, integer(f, i), integer(f, i))), HL_OK);
    assert_int_equal(hl_store_each_object(f->s, tab, pid(f, 3), on_row, &r), HL_OK);
    assert_int_equal(r.n, 50);
    assert_int_equal(r.last.data[0], 131);
    r.n = 0;
    r.stop_after = 10;
    assert_int_equal(hl_store_each_object(f->s, tab, cnode, on_row, &r), 42);
    assert_int_equal(r.n, 10);
    hl_buf_free(&r.last);
}

static void test_store_stats(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    hl_table_stats st;
    create(f, tab, HL_PRIVATE, 1, pid(f, 1));
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_OK);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.memory_bytes, 0);
    hl_bytes pad = binary(f, 100, 'p');
    hl_bytes objs[100];
    for (int i = 0; i < 100; i++)
        objs[i] = tuple(f, 2, integer(f, 1000 + i), pad);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 100, 0, NULL), HL_OK);
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_OK);
    assert_int_equal(st.size, 100);
    assert_true(st.memory_bytes >= 100 * 110);
    assert_true(st.memory_bytes % 4096 == 0);
}

static void test_store_big_object(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = atom(f, "big");
    hl_bytes obj = tuple(f, 2, k, binary(f, 10 << 20, 0xAB));
    hl_table_stats st;
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_OK);
    assert_true(st.memory_bytes >= 10 << 20);
    reopen(f);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
}

/* sync = 1 (disk durability, no WRITEMAP) keeps the same behaviour. */
static void test_store_sync_mode(void **state)
{
    fixture *f = *state;
    char err[256];
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), obj = tuple(f, 1, k);
    hl_store_opts o = {f->dir, TEST_MAP, 1, 0, NULL, NULL};
    hl_store_close(f->s);
    assert_int_equal(hl_store_open(&o, &f->s, err, sizeof err), HL_OK);
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    hl_store_close(f->s);
    assert_int_equal(hl_store_open(&o, &f->s, err, sizeof err), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
}

/* With hl_store_no_wait (the NIF on a normal scheduler), a write whose work
 * is not bounded refuses with HL_EWOULDBLOCK and writes nothing: reading a
 * row over HL_STORE_NO_WAIT_BYTES (take, delete_object, insert_new's check)
 * or over HL_STORE_NO_WAIT_ROWS rows of a bag key (delete, insert into a
 * bag). Small writes go through; the same writes allowed to wait do too. */
static void test_store_no_wait_write_bounds(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), bag = atom(f, "b"), k = integer(f, 1), k2 = integer(f, 2);
    hl_bytes big = tuple(f, 2, k, binary(f, HL_STORE_NO_WAIT_BYTES + 1, 7));
    hl_bytes small = tuple(f, 2, k2, atom(f, "s"));
    hl_bytes objs[HL_STORE_NO_WAIT_ROWS + 1];
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    int inserted = -1;
    rows r = {0};
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, big), HL_OK);
    m.type = HL_BAG;
    assert_int_equal(hl_store_create(f->s, bag, &m), HL_OK);
    hl_buf *all = new_buf(f); /* the bag's objects, {1, I}, one after another */
    size_t at[HL_STORE_NO_WAIT_ROWS + 2];
    for (size_t i = 0; i <= HL_STORE_NO_WAIT_ROWS; i++) {
        at[i] = all->len;
        assert_int_equal(hl_term_put_tuple_header(all, 2), HL_OK);
        assert_int_equal(hl_buf_append(all, k.data, k.len), HL_OK);
        assert_int_equal(hl_term_put_int(all, (int64_t)i), HL_OK);
    }
    at[HL_STORE_NO_WAIT_ROWS + 1] = all->len;
    for (size_t i = 0; i <= HL_STORE_NO_WAIT_ROWS; i++)
        objs[i] = (hl_bytes){all->data + at[i], at[i + 1] - at[i]};
    assert_int_equal(hl_store_insert(f->s, bag, cnode, objs, HL_STORE_NO_WAIT_ROWS + 1, 0, NULL),
                     HL_OK);

    hl_store_no_wait(1);
    assert_int_equal(hl_store_take(f->s, tab, cnode, k, on_row, &r), HL_EWOULDBLOCK);
    assert_int_equal(r.n, 0);
    assert_int_equal(hl_store_delete_object(f->s, tab, cnode, big), HL_EWOULDBLOCK);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &big, 1, 1, &inserted), HL_EWOULDBLOCK);
    assert_int_equal(hl_store_delete_key(f->s, bag, cnode, k), HL_EWOULDBLOCK);
    assert_int_equal(insert1(f, bag, cnode, tuple(f, 2, k, atom(f, "new"))), HL_EWOULDBLOCK);
    assert_int_equal(insert1(f, tab, cnode, small), HL_OK); /* small: done at once */
    assert_int_equal(lookup(f, tab, cnode, k, big), 1);     /* reads are not bounded here */
    hl_store_no_wait(0);

    assert_int_equal(lookup(f, tab, cnode, k, big), 1);
    assert_int_equal(lookup(f, tab, cnode, k2, small), 1);
    assert_int_equal(size_of(f, bag), HL_STORE_NO_WAIT_ROWS + 1);
    assert_int_equal(hl_store_take(f->s, tab, cnode, k, on_row, &r), HL_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(hl_store_delete_key(f->s, bag, cnode, k), HL_OK);
    assert_int_equal(size_of(f, bag), 0);
    assert_int_equal(lookup(f, tab, cnode, k, big), 0);
    hl_buf_free(&r.last);
}

/* A store that fsyncs its commits never writes without waiting: the commit
 * could take as long as the disk likes. */
static void test_store_no_wait_sync_store(void **state)
{
    fixture *f = *state;
    char err[256];
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), obj = tuple(f, 1, k);
    hl_store_opts o = {f->dir, TEST_MAP, 1, 1, NULL, NULL};
    hl_store_close(f->s);
    assert_int_equal(hl_store_open(&o, &f->s, err, sizeof err), HL_OK);
    create(f, tab, HL_PUBLIC, 1, cnode);
    hl_store_no_wait(1);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_EWOULDBLOCK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 0);
    hl_store_no_wait(0);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
}

static void test_store_callback_error_and_bad_args(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), empty = {NULL, 0};
    rows r = {0};
    int found;
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, k)), HL_OK);
    r.stop_after = 1;
    assert_int_equal(hl_store_lookup(f->s, tab, cnode, k, on_row, &r), 42);
    hl_buf_free(&r.last);
    assert_int_equal(hl_store_member(f->s, tab, cnode, empty, &found), HL_EBADARG);
    assert_int_equal(hl_store_member(f->s, empty, cnode, k, &found), HL_EBADARG);
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_create(f->s, empty, &m), HL_EBADARG);
    assert_string_equal(hl_store_dir(f->s), f->dir);
}

static void test_store_open_failure_reports(void **state)
{
    (void)state;
    char err[256] = "";
    hl_store *s = (hl_store *)1;
    hl_store_opts o = {"/proc/hl_no_such/dir", 0, 0, 0, NULL, NULL};
    assert_int_not_equal(hl_store_open(&o, &s, err, sizeof err), HL_OK);
    assert_null(s);
    assert_non_null(strstr(err, "/proc/hl_no_such/dir"));
    hl_store_close(NULL);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_store_create_get_meta_drop),
        T(test_store_create_exists_and_unsupported),
        T(test_store_notable_everywhere),
        T(test_store_insert_lookup_member_delete),
        T(test_store_overwrite_same_key),
        T(test_store_keypos_2),
        T(test_store_bad_objects_write_nothing),
        T(test_store_insert_new),
        T(test_store_access_protected),
        T(test_store_access_private),
        T(test_store_access_public_and_cnode),
        T(test_store_drop_rules),
        T(test_store_recreated_name_has_no_rows),
        T(test_store_set_own_persists),
        T(test_store_reopen_keeps_everything),
        T(test_store_each_table),
        T(test_store_each_table_order),
        T(test_store_each_object),
        T(test_store_stats),
        T(test_store_big_object),
        T(test_store_sync_mode),
        T(test_store_no_wait_write_bounds),
        T(test_store_no_wait_sync_store),
        T(test_store_callback_error_and_bad_args),
        cmocka_unit_test(test_store_open_failure_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
