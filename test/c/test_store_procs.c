/*
 * test_store_procs.c: the store shared by several processes (hl_store.h):
 * the C node and the NIFs of many VMs open one directory. Tests fork, since
 * LMDB forbids opening one environment twice in a process; children stand
 * for processes that die mid-work (kill -9 with transactions open). Also
 * the map filling up and LMDB's handle and reader-slot limits.
 */
#include "store_fixture.h"

/* Wait for a forked child and check it exited 0. */

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

/* More tables than LMDB handle slots (HL_STORE_MAX_HANDLES per process):
 * creating and using them recycles handles instead of failing. */
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

/* --- the store's write lock (hl_store_wlock.c) --------------------------- */

/* In a child, the C node's settings (single-threaded): begin a write of
 * `obj` and hold it open until the parent says so on `go` (or, with
 * die, be killed holding it), after saying "holding" on `ready`. */
static int writer_side(const char *dir, hl_bytes tab, hl_bytes key, hl_bytes obj, int ready, int go,
                       int die)
{
    hl_store *s = NULL;
    hl_store_opts o = {dir, TEST_MAP, 0, 0, NULL, NULL};
    hl_store_op op;
    char c;
    if (hl_store_open(&o, &s, NULL, 0) ||
        hl_store_op_begin(&op, s, HL_OP_WRITE, tab, HL_OPF_META | HL_OPF_DBI))
        return 1;
    int rc = hl_store_row_put(&op, key, obj);
    if (rc || write(ready, "h", 1) != 1)
        return 2;
    if (die)
        raise(SIGKILL);
    if (read(go, &c, 1) != 1)
        return 3;
    rc = hl_store_op_end(&op, HL_OK);
    hl_store_close(s);
    return rc ? 4 : 0;
}

typedef struct {
    fixture *f;
    hl_bytes tab, obj;
    int rc;
} no_wait_insert;

/* On another thread, as the NIF on a normal scheduler: a no-wait insert. */
static void *insert_no_wait(void *arg)
{
    no_wait_insert *w = arg;
    hl_store_no_wait(1);
    w->rc = hl_store_insert(w->f->s, w->tab, cnode, &w->obj, 1, 0, NULL);
    hl_store_no_wait(0);
    return NULL;
}

/* Another process in a long write (the C node in a big insert) holds the
 * write lock: a write that may not wait (the NIF on a normal scheduler)
 * answers HL_EWOULDBLOCK at once and writes nothing, while reads go on;
 * the same write allowed to wait (the NIF's dirty retry) goes through once
 * the other commits, and both rows are there. A thread of this process in
 * a write keeps a no-wait write of another thread out the same way. */
static void test_store_write_lock_tried(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k1 = integer(f, 1), k2 = integer(f, 2);
    hl_bytes o1 = tuple(f, 2, k1, atom(f, "child")), o2 = tuple(f, 2, k2, atom(f, "parent"));
    int up[2], down[2];
    char c;
    hl_store_close(f->s);
    open_store(f, 0, 1); /* the NIF's settings */
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(up[0]);
        close(down[1]);
        _exit(writer_side(f->dir, tab, k1, o1, up[1], down[0], 0));
    }
    close(up[1]);
    close(down[0]);
    assert_int_equal(read(up[0], &c, 1), 1); /* the child holds its write */
    hl_store_no_wait(1);
    assert_int_equal(insert1(f, tab, cnode, o2), HL_EWOULDBLOCK);
    assert_int_equal(hl_store_delete_key(f->s, tab, cnode, k1), HL_EWOULDBLOCK);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 0); /* reads go on */
    hl_store_no_wait(0);
    assert_int_equal(write(down[1], "g", 1), 1);
    assert_int_equal(insert1(f, tab, cnode, o2), HL_OK); /* waits for the child's commit */
    wait_child(child);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 1);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 1);
    close(up[0]);
    close(down[1]);

    /* Threads of one process: the lock is the process's too. */
    hl_store_op op;
    pthread_t t;
    no_wait_insert w = {f, tab, tuple(f, 2, integer(f, 3), atom(f, "t")), 0};
    assert_int_equal(hl_store_op_begin(&op, f->s, HL_OP_WRITE, tab, HL_OPF_META | HL_OPF_DBI),
                     HL_OK);
    assert_int_equal(pthread_create(&t, NULL, insert_no_wait, &w), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, HL_EWOULDBLOCK);
    assert_int_equal(hl_store_op_end(&op, HL_OK), HL_OK);
    assert_int_equal(pthread_create(&t, NULL, insert_no_wait, &w), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, HL_OK);
}

/* In a child: a follower (the NIF's settings) writes k under no_wait and
 * then waiting; `syncs` is what the store's C node said at its open. */
static int follower_side(fixture *f, hl_bytes tab, hl_bytes obj, int syncs)
{
    hl_store *s = NULL;
    hl_store_opts o = {f->dir, TEST_MAP, HL_STORE_SYNC_FOLLOW, 1, NULL, NULL};
    unsigned flags = 0;
    int ok = 1;
    if (hl_store_open(&o, &s, NULL, 0))
        return 1;
    ok &= hl_store_syncs(s) == syncs;
    hl_store_no_wait(1);
    ok &= hl_store_insert(s, tab, cnode, &obj, 1, 0, NULL) == (syncs ? HL_EWOULDBLOCK : HL_OK);
    hl_store_no_wait(0);
    ok &= hl_store_insert(s, tab, cnode, &obj, 1, 0, NULL) == HL_OK;
    /* LMDB's own switches, as the last write left them */
    ok &= mdb_env_get_flags(s->env, &flags) == 0;
    ok &= (!(flags & MDB_NOSYNC)) == syncs && (!(flags & MDB_NOMETASYNC)) == syncs;
    hl_store_close(s);
    return ok ? 0 : 1;
}

/* The NIF follows its C node's --sync: while the C node fsyncs its commits
 * the NIF's writes do too (never on a scheduler that may not wait), and
 * stop when the C node starts again without. */
static void test_store_sync_followed(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t");
    create(f, tab, HL_PUBLIC, 1, cnode);
    for (int round = 0; round < 3; round++) {
        int syncs = round == 1;
        hl_bytes obj = tuple(f, 2, integer(f, round), atom(f, "x"));
        hl_store_close(f->s);
        char err[256];
        hl_store_opts o = {f->dir, TEST_MAP, syncs, 0, NULL, NULL};
        assert_int_equal(hl_store_open(&o, &f->s, err, sizeof err), HL_OK);
        assert_int_equal(hl_store_syncs(f->s), syncs);
        hl_store_sync_announce(f->s); /* as the C node does once it is up */
        fflush(NULL);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
            _exit(follower_side(f, tab, obj, syncs));
        wait_child(child);
        assert_int_equal(lookup(f, tab, cnode, integer(f, round), obj), 1);
    }
}

/* A writer killed (kill -9) holding the write lock mid-transaction: the
 * next writer, waiting or not, takes the lock over; the dead write is not
 * there, and the store takes writes as before. */
static void test_store_write_lock_holder_killed(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), k1 = integer(f, 1), k2 = integer(f, 2);
    hl_bytes o1 = tuple(f, 2, k1, atom(f, "dead")), o2 = tuple(f, 2, k2, atom(f, "alive"));
    int up[2], status = 0;
    char c;
    hl_store_close(f->s);
    open_store(f, 0, 1);
    create(f, tab, HL_PUBLIC, 1, cnode);
    assert_int_equal(pipe(up), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(up[0]);
        _exit(writer_side(f->dir, tab, k1, o1, up[1], -1, 1));
    }
    close(up[1]);
    assert_int_equal(read(up[0], &c, 1), 1);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    close(up[0]);
    hl_store_no_wait(1);
    assert_int_equal(insert1(f, tab, cnode, o2), HL_OK);
    hl_store_no_wait(0);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 0);
    assert_int_equal(lookup(f, tab, cnode, k2, o2), 1);
    assert_int_equal(insert1(f, tab, cnode, o1), HL_OK);
    assert_int_equal(lookup(f, tab, cnode, k1, o1), 1);
}

/* In a child (the C node): one meta change of `tab`, by `what`. */
static int meta_change_side(const char *dir, hl_bytes tab, hl_bytes other, int what)
{
    hl_store *s = NULL;
    hl_store_opts o = {dir, TEST_MAP, 0, 0, NULL, NULL};
    if (hl_store_open(&o, &s, NULL, 0))
        return 1;
    int rc = what == 0   ? hl_store_set_access(s, tab, cnode, HL_PRIVATE)
             : what == 1 ? hl_store_rename(s, tab, cnode, other)
                         : hl_store_drop(s, tab, cnode);
    hl_store_close(s);
    return rc ? 2 : 0;
}

static void change_meta_in_child(fixture *f, hl_bytes tab, hl_bytes other, int what)
{
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(meta_change_side(f->dir, tab, other, what));
    wait_child(child);
}

/* A read remembers the last table's meta it read (hl_store.c), so a lookup
 * skips the meta search; another process's change of that meta (access,
 * rename, drop) is seen by the very next read, with the rows as they are. */
static void test_store_meta_cache_sees_other_process(void **state)
{
    fixture *f = *state;
    hl_bytes tab = atom(f, "t"), other = atom(f, "u"), k = integer(f, 1);
    hl_bytes obj = tuple(f, 2, k, atom(f, "v"));
    hl_bytes anon = atom(f, "anonymous"), owner = pid(f, 7);
    int found = 0;
    hl_store_close(f->s);
    open_store(f, 0, 1); /* the NIF's settings */
    create(f, tab, HL_PUBLIC, 1, owner);
    assert_int_equal(insert1(f, tab, cnode, obj), HL_OK);
    for (int i = 0; i < 2; i++) /* the second from what it remembered */
        assert_int_equal(hl_store_member(f->s, tab, anon, k, &found), HL_OK);
    assert_true(found);

    change_meta_in_child(f, tab, other, 0); /* now private */
    assert_int_equal(hl_store_member(f->s, tab, anon, k, &found), HL_EACCESS);
    assert_int_equal(hl_store_member(f->s, tab, owner, k, &found), HL_OK);
    assert_int_equal(hl_store_member(f->s, tab, owner, k, &found), HL_OK);

    change_meta_in_child(f, tab, other, 1); /* renamed to u */
    assert_int_equal(hl_store_member(f->s, tab, owner, k, &found), HL_ENOTABLE);
    assert_int_equal(hl_store_member(f->s, other, owner, k, &found), HL_OK);
    assert_true(found);
    assert_int_equal(hl_store_member(f->s, other, owner, k, &found), HL_OK);

    change_meta_in_child(f, other, tab, 2); /* dropped */
    assert_int_equal(hl_store_member(f->s, other, owner, k, &found), HL_ENOTABLE);
    create(f, other, HL_PUBLIC, 1, cnode); /* a new table of that name: no rows */
    assert_int_equal(hl_store_member(f->s, other, anon, k, &found), HL_OK);
    assert_false(found);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_store_two_processes_share),
        T(test_store_map_full),
        T(test_store_map_grown_by_other_process),
        T(test_store_many_tables),
        T(test_store_reader_slots_of_the_dead),
        T(test_store_lmdb_handle_rules),
        T(test_store_stale_handles_swept),
        T(test_store_write_lock_tried),
        T(test_store_write_lock_holder_killed),
        T(test_store_meta_cache_sees_other_process),
        T(test_store_sync_followed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
