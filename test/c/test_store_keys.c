/*
 * test_store_keys.c: long keys and long table names in the store
 * (hl_store.h): over HL_STORE_MAX_INLINE_KEY bytes they are stored under a
 * 128-bit hash, and the full key is compared on every access, so a forged
 * collision is HL_ECOLLISION, never another key's row.
 */
#include "store_fixture.h"

static void test_store_long_keys_round_trip(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    hl_bytes k1 = binary(f, 600, 'x'), k2 = binary(f, 600, 'y'), k3 = binary(f, 4000, 'x');
    hl_bytes edge = binary(f, HL_STORE_MAX_INLINE_KEY - 5, 'e'); /* exactly 480 bytes */
    hl_bytes o1 = tuple(f, 2, k1, integer(f, 1)), o2 = tuple(f, 2, k2, integer(f, 2));
    hl_bytes o3 = tuple(f, 2, k3, integer(f, 3)), oe = tuple(f, 2, edge, integer(f, 4));
    int found;
    assert_int_equal(edge.len, HL_STORE_MAX_INLINE_KEY);
    create(f, tab, HL_PUBLIC, 1, cnode);
    hl_bytes objs[] = {o1, o2, o3, oe};
    assert_int_equal(hl_store_insert(f->s, tab, cnode, objs, 4, 0, NULL), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 1);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 1);
    assert_int_equal(lookup(f, tab, cnode, k3, o3), 1);
    assert_int_equal(lookup(f, tab, cnode, edge, oe), 1);
    assert_int_equal(hl_store_member(f->s, tab, cnode, binary(f, 601, 'x'), &found), HL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k2), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 0);
    assert_int_equal(size_of(f, tab), 3);
}

static void forge_row(fixture *f, uint64_t dbid, hl_bytes key, hl_bytes obj)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    char name[32];
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k, v;
    hl_buf val = {0};
    snprintf(name, sizeof name, "t%llu", (unsigned long long)dbid);
    assert_int_equal(hl_store_key_of(key, tmp, &k), 1);
    assert_int_equal(hl_buf_append_byte(&val, 131), HL_OK);
    assert_int_equal(hl_buf_append(&val, obj.data, obj.len), HL_OK);
    v.mv_size = val.len;
    v.mv_data = val.data;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    hl_buf_free(&val);
}

static void test_store_long_key_collision(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k1 = binary(f, 700, 1), k2 = binary(f, 700, 2);
    hl_bytes o1 = tuple(f, 2, k1, integer(f, 1)), o2 = tuple(f, 2, k2, integer(f, 2));
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    rows r = {0};
    int found = -1, ins = -1;
    assert_int_equal(hl_store_create(f->s, tab, &m), HL_OK);
    hl_store_close(f->s);
    f->s = NULL;
    forge_row(f, m.dbid, k1, o2);
    open_store(f, 0, 0);
    assert_int_equal(hl_store_lookup(f->s, tab, cnode, k1, on_row, &r), HL_ECOLLISION);
    assert_int_equal(r.n, 0);
    assert_int_equal(hl_store_member(f->s, tab, cnode, k1, &found), HL_ECOLLISION);
    assert_int_equal(insert1(f, tab, cnode, o1), HL_ECOLLISION);
    assert_int_equal(hl_store_insert(f->s, tab, cnode, &o1, 1, 1, &ins), HL_ECOLLISION);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k1), HL_ECOLLISION);
    assert_int_equal(size_of(f, tab), 1); /* the other key's row is untouched */
}

static void test_store_hash_mixes(void **state)
{
    (void)state;
    unsigned char a[16], b[16], buf[64] = {0};
    hl_store_hash128(buf, sizeof buf, a);
    buf[63] ^= 1;
    hl_store_hash128(buf, sizeof buf, b);
    int diff = 0;
    for (int i = 0; i < 16; i++)
        diff += __builtin_popcount(a[i] ^ b[i]);
    assert_true(diff > 32 && diff < 96); /* one flipped bit moves about half */
    hl_store_hash128(buf, 63, b);
    assert_memory_not_equal(a, b, 16);
}

static void test_store_long_table_names(void **state)
{
    fixture *f = *state;
    char name[251]; /* atoms hold at most 255 characters */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    /* A tuple name stands in for any long canonical term. */
    hl_bytes tab = tuple(f, 2, atom(f, name), atom(f, name)), other = atom(f, "short");
    assert_true(tab.len > HL_STORE_MAX_INLINE_KEY);
    create(f, tab, HL_PUBLIC, 1, cnode);
    create(f, other, HL_PUBLIC, 1, cnode);
    hl_meta m;
    assert_int_equal(hl_store_get_meta(f->s, tab, &m), HL_OK);
    hl_meta_free(&m);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, integer(f, 5))), HL_OK);
    assert_int_equal(size_of(f, tab), 1);
    hl_meta m2 = meta_of(HL_PUBLIC, 1, cnode);
    assert_int_equal(hl_store_create(f->s, tab, &m2), HL_EEXISTS);
    assert_int_equal(hl_store_drop(f->s, tab, cnode), HL_OK);
    assert_int_equal(hl_store_stats(f->s, tab, &(hl_table_stats){0}), HL_ENOTABLE);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_store_long_keys_round_trip),
        T(test_store_long_key_collision),
        cmocka_unit_test(test_store_hash_mixes),
        T(test_store_long_table_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
