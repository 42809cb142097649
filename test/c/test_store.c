/*
 * test_store.c: cmocka tests of the LMDB table store (hl_store.h).
 *
 * Every test gets a fresh store in its own mkdtemp directory under /tmp,
 * removed in teardown. Terms are built with the hl_term_put_* encoders; a
 * fixture keeps every buffer it hands out so tests never free by hand.
 * Two tests fork: LMDB forbids opening one environment twice in a process,
 * and the C node and the NIF are separate processes anyway.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_store_int.h"
#include "hl_term.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_BUFS 256
/* Not the 64 GiB default: valgrind cannot map that much. */
#define TEST_MAP ((size_t)1 << 30)

typedef struct {
    char dir[64];
    hl_store *s;
    hl_buf bufs[MAX_BUFS];
    size_t nbufs;
    int logged;
} fixture;

static const hl_bytes cnode = {NULL, 0};

static void count_log(void *ctx, const char *msg)
{
    (void)msg;
    ((fixture *)ctx)->logged++;
}

static void open_store(fixture *f, size_t map_size, int mt)
{
    char err[256] = "";
    hl_store_opts o = {f->dir, map_size ? map_size : TEST_MAP, 0, mt, count_log, f};
    int rc = hl_store_open(&o, &f->s, err, sizeof err);
    if (rc)
        fail_msg("open: %s", err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/hl_store_test_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    open_store(f, 0, 0);
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    hl_store_close(f->s);
    for (size_t i = 0; i < f->nbufs; i++)
        hl_buf_free(&f->bufs[i]);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    hl_store_close(f->s);
    f->s = NULL;
    open_store(f, 0, 0);
}

/* --- term builders: each returns a view of a buffer the fixture owns ---- */

static hl_buf *new_buf(fixture *f)
{
    assert_true(f->nbufs < MAX_BUFS);
    return &f->bufs[f->nbufs++];
}

static hl_bytes atom(fixture *f, const char *name)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_term_put_atom(b, name, strlen(name)), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes integer(fixture *f, int64_t v)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_term_put_int(b, v), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes binary(fixture *f, size_t len, unsigned char fill)
{
    hl_buf *b = new_buf(f);
    unsigned char *p = malloc(len ? len : 1);
    assert_non_null(p);
    memset(p, fill, len);
    assert_int_equal(hl_term_put_binary(b, p, len), HL_OK);
    free(p);
    return hl_buf_view(b);
}

/* A tuple of n elements given as hl_bytes. */
static hl_bytes tuple(fixture *f, size_t n, ...)
{
    hl_buf *b = new_buf(f);
    va_list ap;
    assert_int_equal(hl_term_put_tuple_header(b, n), HL_OK);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hl_bytes e = va_arg(ap, hl_bytes);
        assert_int_equal(hl_buf_append(b, e.data, e.len), HL_OK);
    }
    va_end(ap);
    return hl_buf_view(b);
}

/* A canonical pid (NEW_PID_EXT) on node a@h. */
static hl_bytes pid(fixture *f, uint32_t id)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_buf_append_byte(b, HL_TAG_NEW_PID), HL_OK);
    assert_int_equal(hl_term_put_atom(b, "a@h", 3), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, id), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 0), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 1), HL_OK);
    return hl_buf_view(b);
}

static hl_meta meta_of(hl_access access, unsigned keypos, hl_bytes owner)
{
    hl_meta m = {0};
    m.type = HL_SET;
    m.keypos = keypos;
    m.access = access;
    m.named = 1;
    m.own.owner = owner;
    m.own.heir_kind = HL_HEIR_CNODE;
    return m;
}

static void create(fixture *f, hl_bytes name, hl_access access, unsigned keypos, hl_bytes owner)
{
    hl_meta m = meta_of(access, keypos, owner);
    assert_int_equal(hl_store_create(f->s, name, &m), HL_OK);
    assert_true(m.dbid > 0);
}

static int insert1(fixture *f, hl_bytes tab, hl_bytes caller, hl_bytes obj)
{
    return hl_store_insert(f->s, tab, caller, &obj, 1, 0, NULL);
}

/* Row callback: count the rows and keep a copy of the last one. */
typedef struct {
    int n;
    hl_buf last;
    int stop_after; /* 0: never */
} rows;

static int on_row(void *ctx, hl_bytes obj)
{
    rows *r = ctx;
    r->n++;
    r->last.len = 0;
    assert_int_equal(hl_buf_append(&r->last, obj.data, obj.len), HL_OK);
    return r->stop_after && r->n == r->stop_after ? 42 : 0;
}

/* Lookup key: the number of rows found (0 or 1); the row must be 131 + obj. */
static int lookup(fixture *f, hl_bytes tab, hl_bytes caller, hl_bytes key, hl_bytes want)
{
    rows r = {0};
    int rc = hl_store_lookup(f->s, tab, caller, key, on_row, &r);
    assert_int_equal(rc, HL_OK);
    if (r.n) {
        assert_int_equal(r.last.len, want.len + 1);
        assert_int_equal(r.last.data[0], 131);
        assert_memory_equal(r.last.data + 1, want.data, want.len);
    }
    hl_buf_free(&r.last);
    return r.n;
}

static uint64_t size_of(fixture *f, hl_bytes tab)
{
    hl_table_stats st;
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_OK);
    return st.size;
}

/* --- tests ---------------------------------------------------------------- */

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

/* A real 128-bit collision cannot be found, so forge one: after closing the
 * store, write k2's object under k1's hashed LMDB key with LMDB directly. */
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

/* Wait for a forked child and check it exited 0. */
static void wait_child(pid_t child)
{
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child process: open the same directory, check the parent's row, write
 * a table and a row of its own, exit 0 on success. */
static int child_side(fixture *f, hl_bytes tab, hl_bytes k, hl_bytes mine, hl_bytes obj)
{
    hl_store *s = NULL;
    hl_store_opts o = {f->dir, TEST_MAP, 0, 1, NULL, NULL};
    int found = 0, ok = 1;
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    if (hl_store_open(&o, &s, NULL, 0))
        return 1;
    ok &= hl_store_member(s, tab, cnode, k, &found) == HL_OK && found;
    ok &= hl_store_create(s, mine, &m) == HL_OK;
    ok &= hl_store_insert(s, mine, cnode, &obj, 1, 0, NULL) == HL_OK;
    ok &= hl_store_delete_key(s, tab, cnode, k) == HL_OK;
    hl_store_close(s);
    return ok ? 0 : 1;
}

static void test_store_two_processes_share(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "shared"), mine = atom(f, "childs"), k = integer(f, 1);
    hl_bytes obj = tuple(f, 1, k);
    int found = 1;
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1); /* a handle cached first */
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(child_side(f, tab, k, mine, obj));
    wait_child(child);
    assert_int_equal(hl_store_member(f->s, tab, cnode, k, &found), HL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(lookup(f, mine, cnode, k, obj), 1);
    assert_int_equal(hl_store_drop(f->s, mine, cnode), HL_OK);
}

typedef struct {
    int n;
    int stop_after;
    hl_buf first; /* a copy: views die with the walk */
} tables;

static int on_table(void *ctx, hl_bytes name, const hl_meta *m)
{
    tables *t = ctx;
    assert_int_equal(m->type, HL_SET);
    if (t->n++ == 0)
        assert_int_equal(hl_buf_append(&t->first, name.data, name.len), HL_OK);
    return t->stop_after && t->n == t->stop_after ? 7 : 0;
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

static void test_store_map_full(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), big = binary(f, 256 << 10, 'f');
    int rc = HL_OK, i;
    hl_store_close(f->s);
    open_store(f, 4 << 20, 0);
    create(f, tab, HL_PUBLIC, 1, cnode);
    for (i = 0; i < 100 && rc == HL_OK; i++) {
        hl_buf b = {0};
        assert_int_equal(hl_term_put_tuple_header(&b, 2), HL_OK);
        assert_int_equal(hl_term_put_int(&b, i), HL_OK);
        assert_int_equal(hl_buf_append(&b, big.data, big.len), HL_OK);
        rc = insert1(f, tab, cnode, hl_buf_view(&b));
        hl_buf_free(&b);
    }
    assert_int_equal(rc, HL_EFULL);
    uint64_t n = size_of(f, tab);
    assert_int_equal(n, (uint64_t)(i - 1)); /* the failed insert wrote nothing */
    /* Still usable: deleting frees room for a new row. */
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, integer(f, 0)), HL_OK);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, integer(f, 500))), HL_OK);
}

/* Another process (the NIF opens with the default map size) grows the file
 * past this store's map: this store adopts the larger map and reads on. */
static void test_store_map_grown_by_other_process(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), obj = tuple(f, 2, k, binary(f, 6 << 20, 1));
    hl_store_close(f->s);
    open_store(f, 4 << 20, 0);
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_EFULL);
    /* Leaves a reset read txn in the pool: renewing it must meet the grown map. */
    assert_int_equal(lookup(f, tab, cnode, k, obj), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        hl_store *s = NULL;
        hl_store_opts o = {f->dir, TEST_MAP, 0, 0, NULL, NULL};
        int ok = hl_store_open(&o, &s, NULL, 0) == HL_OK &&
                 hl_store_insert(s, tab, cnode, &obj, 1, 0, NULL) == HL_OK;
        hl_store_close(s);
        _exit(ok ? 0 : 1);
    }
    wait_child(child);
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
    assert_int_equal(insert1(f, tab, cnode, tuple(f, 1, integer(f, 2))), HL_OK);
}

/* A reader table filled by a process that died holding slots (a crashed VM
 * with pooled reads): the next read frees them and goes on. A holder process
 * sizes the table at 4 slots and keeps the environment open, so the store's
 * own open is not the first and cannot re-initialise the table. */
static void test_store_reader_slots_of_the_dead(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k = integer(f, 1), obj = tuple(f, 2, k, atom(f, "v"));
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    hl_store_close(f->s);
    f->s = NULL;
    char lock[128];
    snprintf(lock, sizeof lock, "%s/lock.mdb", f->dir);
    assert_int_equal(unlink(lock), 0); /* LMDB grows a reader table, never shrinks it */
    int up[2], down[2];                /* holder -> parent "ready", parent -> holder "done" */
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    fflush(NULL);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        MDB_env *env;
        char c;
        close(up[0]);
        close(down[1]);
        int rc = mdb_env_create(&env);
        if (!rc)
            rc = mdb_env_set_maxdbs(env, 8);
        if (!rc)
            rc = mdb_env_set_maxreaders(env, 4);
        if (!rc)
            rc = mdb_env_open(env, f->dir, MDB_NOTLS, 0644);
        if (rc) {
            fprintf(stderr, "holder: %s\n", mdb_strerror(rc));
            _exit(1);
        }
        if (write(up[1], "r", 1) != 1 || read(down[0], &c, 1) != 1)
            _exit(2);
        mdb_env_close(env);
        _exit(0);
    }
    char c;
    close(up[1]); /* so a holder that failed reads as EOF, not a hang */
    close(down[0]);
    if (read(up[0], &c, 1) != 1) {
        wait_child(holder);
        fail_msg("holder did not open the environment");
    }
    open_store(f, 0, 0);
    pid_t filler = fork();
    assert_true(filler >= 0);
    if (filler == 0) {
        MDB_env *env;
        MDB_txn *t;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
            mdb_env_open(env, f->dir, MDB_NOTLS, 0644))
            _exit(1);
        for (int i = 0; i < 4; i++)
            if (mdb_txn_begin(env, NULL, MDB_RDONLY, &t))
                _exit(2);
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &t) != MDB_READERS_FULL)
            _exit(3);
        raise(SIGKILL); /* dies holding all four slots */
    }
    int status = 0;
    assert_int_equal(waitpid(filler, &status, 0), filler);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(lookup(f, tab, cnode, k, obj), 1);
    assert_int_equal(write(down[1], "d", 1), 1);
    wait_child(holder);
    close(up[0]);
    close(down[1]);
}

/* More tables than LMDB handle slots (4096 per process): creating and using
 * them recycles handles instead of failing. */
static void test_store_many_tables(void **state)
{
    fixture *f = *state;
    char name[32];
    for (int n = 0; n < 4200; n++) {
        hl_buf b = {0};
        hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
        snprintf(name, sizeof name, "t%d", n);
        assert_int_equal(hl_term_put_atom(&b, name, strlen(name)), HL_OK);
        assert_int_equal(hl_store_create(f->s, hl_buf_view(&b), &m), HL_OK);
        hl_buf_free(&b);
    }
    hl_bytes obj = tuple(f, 1, integer(f, 1));
    assert_int_equal(insert1(f, atom(f, "t0"), cnode, obj), HL_OK);
    assert_int_equal(insert1(f, atom(f, "t4199"), cnode, obj), HL_OK);
    assert_int_equal(lookup(f, atom(f, "t0"), cnode, integer(f, 1), obj), 1);
    tables t = {0};
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), HL_OK);
    assert_int_equal(t.n, 4200);
    hl_buf_free(&t.first);
}

/* The LMDB handle rules hl_store.c is built on, checked on this liblmdb:
 * a handle opened after a txn began is invalid in it (so the store retries
 * with a new txn); a read txn that aborts closes the handles it opened,
 * one that commits publishes them (so a read that opened one is committed);
 * a reset txn renewed later sees handles published meanwhile (so reads that
 * opened none can be reset and pooled). */
static void test_store_lmdb_handle_rules(void **state)
{
    fixture *f = *state;
    MDB_env *env;
    MDB_txn *old, *pooled, *t;
    MDB_dbi a, b;
    unsigned fl;
    hl_store_close(f->s);
    f->s = NULL;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "a", MDB_CREATE, &a), 0);
    assert_int_equal(mdb_dbi_open(t, "b", MDB_CREATE, &b), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    mdb_dbi_close(env, a);
    mdb_dbi_close(env, b);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &old), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &pooled), 0);
    mdb_txn_reset(pooled);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "a", 0, &a), 0);
    mdb_txn_abort(t);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
    assert_int_equal(mdb_dbi_flags(t, a, &fl), EINVAL); /* closed by the abort */
    assert_int_equal(mdb_dbi_open(t, "b", 0, &b), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    assert_int_equal(mdb_dbi_flags(old, b, &fl), EINVAL); /* old began first */
    mdb_txn_abort(old);
    assert_int_equal(mdb_txn_renew(pooled), 0); /* a renewed txn sees it */
    assert_int_equal(mdb_dbi_flags(pooled, b, &fl), 0);
    mdb_txn_abort(pooled);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
    assert_int_equal(mdb_dbi_flags(t, b, &fl), 0); /* published by the commit */
    mdb_txn_abort(t);
    mdb_env_close(env);
    open_store(f, 0, 0);
}

/* A child creates batches of tables that the parent reads (so the parent
 * opens and caches a handle for each) and then drops them. The parent's
 * handles go stale; past LMDB's handle limit it must sweep and go on. */
static void test_store_stale_handles_swept(void **state)
{
    fixture *f = *state;
    int to_child[2], to_parent[2];
    char c = 0;
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        hl_store *s = NULL;
        hl_store_opts o = {f->dir, TEST_MAP, 0, 0, NULL, NULL};
        int ok = hl_store_open(&o, &s, NULL, 0) == HL_OK;
        for (int round = 0; round < 5 && ok; round++) {
            for (int i = 0; i < 1000 && ok; i++) {
                hl_buf b = {0};
                hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
                char name[32];
                snprintf(name, sizeof name, "r%d", i);
                ok = hl_term_put_atom(&b, name, strlen(name)) == HL_OK;
                if (ok && round)
                    ok = hl_store_drop(s, hl_buf_view(&b), cnode) == HL_OK;
                ok = ok && hl_store_create(s, hl_buf_view(&b), &m) == HL_OK;
                hl_buf_free(&b);
            }
            ok = ok && write(to_parent[1], "x", 1) == 1 && read(to_child[0], &c, 1) == 1;
        }
        hl_store_close(s);
        _exit(ok ? 0 : 1);
    }
    for (int round = 0; round < 5; round++) {
        assert_int_equal(read(to_parent[0], &c, 1), 1);
        for (int i = 0; i < 1000; i++) {
            hl_buf b = {0};
            hl_table_stats st;
            char name[32];
            snprintf(name, sizeof name, "r%d", i);
            assert_int_equal(hl_term_put_atom(&b, name, strlen(name)), HL_OK);
            assert_int_equal(hl_store_stats(f->s, hl_buf_view(&b), &st), HL_OK);
            hl_buf_free(&b);
        }
        assert_int_equal(write(to_child[1], "x", 1), 1);
    }
    wait_child(child);
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
}

/* Several threads on one multi_thread store: readers and writers on a few
 * tables while another thread creates and drops tables. */
typedef struct {
    fixture *f;
    int id;
    int errors;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    hl_store *s = w->f->s;
    char name[32];
    for (int i = 0; i < 300; i++) {
        hl_buf tab = {0}, obj = {0}, key = {0};
        int found;
        snprintf(name, sizeof name, "w%d", (w->id + i) % 4);
        if (hl_term_put_atom(&tab, name, strlen(name)) || hl_term_put_int(&key, i) ||
            hl_term_put_tuple_header(&obj, 2) || hl_term_put_int(&obj, i) ||
            hl_term_put_int(&obj, w->id))
            w->errors++;
        hl_bytes o = hl_buf_view(&obj);
        if (w->id == 0) {
            hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
            snprintf(name, sizeof name, "tmp%d", i);
            hl_buf t2 = {0};
            w->errors += hl_term_put_atom(&t2, name, strlen(name)) != HL_OK;
            w->errors += hl_store_create(s, hl_buf_view(&t2), &m) != HL_OK;
            w->errors += hl_store_insert(s, hl_buf_view(&t2), cnode, &o, 1, 0, NULL) != HL_OK;
            w->errors += hl_store_drop(s, hl_buf_view(&t2), cnode) != HL_OK;
            hl_buf_free(&t2);
        } else if (w->id % 2) {
            w->errors += hl_store_insert(s, hl_buf_view(&tab), cnode, &o, 1, 0, NULL) != HL_OK;
        } else {
            w->errors +=
                hl_store_member(s, hl_buf_view(&tab), cnode, hl_buf_view(&key), &found) != HL_OK;
            /* Race the creating thread: its tables come and go. */
            hl_buf t2 = {0};
            snprintf(name, sizeof name, "tmp%d", i);
            w->errors += hl_term_put_atom(&t2, name, strlen(name)) != HL_OK;
            int rc = hl_store_member(s, hl_buf_view(&t2), cnode, hl_buf_view(&key), &found);
            w->errors += rc != HL_OK && rc != HL_ENOTABLE;
            hl_buf_free(&t2);
        }
        hl_buf_free(&tab);
        hl_buf_free(&obj);
        hl_buf_free(&key);
    }
    return NULL;
}

static void test_store_threads(void **state)
{
    fixture *f = *state;
    pthread_t th[6];
    worker w[6];
    hl_store_close(f->s);
    open_store(f, 0, 1);
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        create(f, atom(f, name), HL_PUBLIC, 1, cnode);
    }
    for (int i = 0; i < 6; i++) {
        w[i] = (worker){f, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].errors, 0);
    }
    tables t = {0};
    assert_int_equal(hl_store_each_table(f->s, on_table, &t), HL_OK);
    assert_int_equal(t.n, 4);
    hl_buf_free(&t.first);
}

/* A read that opens a table's handle holds the store's `open` lock for its
 * whole transaction; this one parks in its row callback until released. */
typedef struct {
    fixture *f;
    hl_bytes tab;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int inside, release, rc;
} parked;

static int park_on_row(void *ctx, hl_bytes obj)
{
    (void)obj;
    parked *p = ctx;
    pthread_mutex_lock(&p->m);
    p->inside = 1;
    pthread_cond_broadcast(&p->cv);
    while (!p->release)
        pthread_cond_wait(&p->cv, &p->m);
    pthread_mutex_unlock(&p->m);
    return 0;
}

static void *park(void *arg)
{
    parked *p = arg;
    p->rc = hl_store_each_object(p->f->s, p->tab, cnode, park_on_row, p);
    return NULL;
}

/* hl_store_no_wait: a read that would wait for that lock (the first read of
 * another table) answers HL_EWOULDBLOCK at once; a read of a table whose
 * handle is cached goes on; once the lock is free the first read works. */
static void test_store_no_wait_reads(void **state)
{
    fixture *f = *state;
    hl_bytes x = atom(f, "x"), y = atom(f, "y"), z = atom(f, "z"), k = integer(f, 1);
    hl_bytes obj = tuple(f, 2, k, atom(f, "v"));
    hl_bytes tabs[] = {x, y, z};
    hl_store_close(f->s);
    open_store(f, 0, 1);
    for (int i = 0; i < 3; i++) {
        create(f, tabs[i], HL_PUBLIC, 1, cnode);
        assert_int_equal(insert1(f, tabs[i], cnode, obj), HL_OK);
    }
    hl_store_close(f->s); /* forget every handle */
    open_store(f, 0, 1);
    assert_int_equal(lookup(f, z, cnode, k, obj), 1); /* z's handle cached */
    parked p = {f, x, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, park, &p), 0);
    pthread_mutex_lock(&p.m);
    while (!p.inside)
        pthread_cond_wait(&p.cv, &p.m);
    pthread_mutex_unlock(&p.m);
    int found = 0;
    hl_store_no_wait(1);
    assert_int_equal(hl_store_member(f->s, y, cnode, k, &found), HL_EWOULDBLOCK);
    assert_int_equal(hl_store_member(f->s, z, cnode, k, &found), HL_OK);
    assert_int_equal(found, 1);
    pthread_mutex_lock(&p.m);
    p.release = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.m);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(p.rc, HL_OK);
    found = 0;
    assert_int_equal(hl_store_member(f->s, y, cnode, k, &found), HL_OK);
    assert_int_equal(found, 1);
    hl_store_no_wait(0);
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

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

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
        T(test_store_long_keys_round_trip),
        T(test_store_long_key_collision),
        cmocka_unit_test(test_store_hash_mixes),
        T(test_store_long_table_names),
        T(test_store_access_protected),
        T(test_store_access_private),
        T(test_store_access_public_and_cnode),
        T(test_store_drop_rules),
        T(test_store_recreated_name_has_no_rows),
        T(test_store_set_own_persists),
        T(test_store_reopen_keeps_everything),
        T(test_store_two_processes_share),
        T(test_store_each_table),
        T(test_store_each_table_order),
        T(test_store_each_object),
        T(test_store_stats),
        T(test_store_big_object),
        T(test_store_map_full),
        T(test_store_map_grown_by_other_process),
        T(test_store_many_tables),
        T(test_store_reader_slots_of_the_dead),
        T(test_store_no_wait_reads),
        T(test_store_lmdb_handle_rules),
        T(test_store_stale_handles_swept),
        T(test_store_threads),
        T(test_store_sync_mode),
        T(test_store_callback_error_and_bad_args),
        cmocka_unit_test(test_store_open_failure_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
