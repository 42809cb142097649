/*
 * test_store_race.c: the store under threads (the NIF runs on many
 * schedulers) and under another process re-creating tables: no-wait reads,
 * concurrent reads and writes, and the handle-slot race that made writes
 * fail with MDB_BAD_DBI (or land in another table).
 */
#include "store_fixture.h"

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

/* The root of "MDB_BAD_DBI after a re-create" (issue 10, item 7), step by
 * step in one thread: R begins knowing no table handle; T opens a's handle
 * and publishes it; then R opens b's. LMDB gives R the slot after the last
 * one R knows, which is a's: b's handle would overwrite a's, and writes to a
 * would land in b (or fail with MDB_BAD_DBI). The store must refuse R's open
 * (R's operation is retried) and keep each table in its own slot. */
static void test_store_open_after_publish_keeps_slots(void **state)
{
    fixture *f = *state;
    hl_bytes a = atom(f, "a"), b = atom(f, "b"), k = integer(f, 1);
    hl_bytes obj = tuple(f, 2, k, atom(f, "v"));
    hl_store_op r, t;
    hl_store_close(f->s);
    open_store(f, 0, 1);
    create(f, a, HL_PUBLIC, 1, cnode);
    create(f, b, HL_PUBLIC, 1, cnode);
    hl_store_close(f->s); /* no table handle open */
    open_store(f, 0, 1);
    assert_int_equal(hl_store_op_begin(&r, f->s, HL_OP_READ, b, HL_OPF_META), HL_OK);
    assert_int_equal(hl_store_op_begin(&t, f->s, HL_OP_READ, a, HL_OPF_META | HL_OPF_DBI), HL_OK);
    assert_int_equal(hl_store_op_end(&t, HL_OK), HL_OK);
    int rc = hl_store_op_create_dbi(&r, r.meta.dbid);
    (void)hl_store_op_end(&r, rc);
    assert_int_equal(insert1(f, a, cnode, obj), HL_OK);
    assert_int_equal(lookup(f, b, cnode, k, obj), 0);
    assert_int_equal(lookup(f, a, cnode, k, obj), 1);
    assert_int_equal(insert1(f, b, cnode, obj), HL_OK);
    assert_int_equal(size_of(f, a), 1);
    assert_int_equal(size_of(f, b), 1);
}

/* --- a live table re-created by another process (issue 10, item 7) -------
 *
 * A child process (the C node) drops and re-creates table `x` in a loop;
 * this process writes it from three threads and reads it from three (the
 * NIF's dirty and normal schedulers). Each re-creation is a new LMDB
 * database; the first thread to meet it opens its handle, and a write
 * transaction that began before that handle was published cannot use it
 * (RETRY_STALE). A write must then still succeed or find no table, never
 * fail. To make the race window of a real run (the writer's wake-up on
 * LMDB's writer lock) show up within seconds, write transactions pause
 * 50 us after they begin: mdb_txn_begin is interposed below. */
static volatile int slow_write_begins;

int mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags, MDB_txn **txn)
{
    static int (*real)(MDB_env *, MDB_txn *, unsigned, MDB_txn **);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "mdb_txn_begin");
    int rc = real(env, parent, flags, txn);
    if (rc == 0 && slow_write_begins && !(flags & MDB_RDONLY)) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

typedef struct {
    hl_store *s;
    int id;
    volatile int *stop;
    long ops, ok, notable, failed;
    int last_error;
} churner;

static void *churn(void *arg)
{
    churner *c = arg;
    hl_buf tab = {0};
    if (hl_term_put_atom(&tab, "x", 1))
        c->failed++;
    for (long i = 0; !*c->stop; i++) {
        hl_buf obj = {0};
        int rc, found;
        if (hl_term_put_tuple_header(&obj, 2) || hl_term_put_int(&obj, i % 64) ||
            hl_term_put_int(&obj, c->id)) {
            c->failed++;
            break;
        }
        hl_bytes o = hl_buf_view(&obj), key = {o.data + 2, 2}; /* the small int i % 64 */
        if (c->id < 3)
            rc = hl_store_insert(c->s, hl_buf_view(&tab), cnode, &o, 1, 0, NULL);
        else
            rc = hl_store_member(c->s, hl_buf_view(&tab), cnode, key, &found);
        c->ops++;
        if (rc == HL_OK)
            c->ok++;
        else if (rc == HL_ENOTABLE)
            c->notable++;
        else {
            c->failed++;
            c->last_error = rc;
        }
        hl_buf_free(&obj);
    }
    hl_buf_free(&tab);
    return NULL;
}

static void test_store_live_table_recreated_by_other_process(void **state)
{
    fixture *f = *state;
    volatile int stop = 0;
    churner c[6];
    pthread_t th[6];
    int done[2];
    hl_store_close(f->s);
    open_store(f, 0, 1);
    assert_int_equal(pipe(done), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        hl_store *s = NULL;
        hl_store_opts o = {f->dir, TEST_MAP, 0, 0, NULL, NULL};
        hl_buf tab = {0};
        long n = 0;
        int ok = hl_store_open(&o, &s, NULL, 0) == HL_OK && hl_term_put_atom(&tab, "x", 1) == 0;
        time_t end = time(NULL) + 3;
        while (ok && time(NULL) < end) {
            hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
            int rc = hl_store_drop(s, hl_buf_view(&tab), cnode);
            ok = (rc == HL_OK || rc == HL_ENOTABLE) &&
                 hl_store_create(s, hl_buf_view(&tab), &m) == HL_OK;
            n++;
        }
        fprintf(stderr, "  re-created x %ld times\n", n);
        hl_buf_free(&tab);
        hl_store_close(s);
        _exit(ok ? 0 : 1);
    }
    close(done[1]);
    slow_write_begins = 1;
    for (int i = 0; i < 6; i++) {
        c[i] = (churner){f->s, i, &stop, 0, 0, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, churn, &c[i]), 0);
    }
    wait_child(child);
    stop = 1;
    long writes = 0, written = 0, reads = 0, failed = 0;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (i < 3) {
            writes += c[i].ops;
            written += c[i].ok;
        } else {
            reads += c[i].ops;
        }
        failed += c[i].failed;
        if (c[i].failed)
            fprintf(stderr, "  thread %d: %ld failed, last %d\n", i, c[i].failed, c[i].last_error);
    }
    slow_write_begins = 0;
    close(done[0]);
    fprintf(stderr, "  writes %ld (%ld into a live table), reads %ld, failed %ld\n", writes,
            written, reads, failed);
    assert_true(written > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_store_no_wait_reads),
        T(test_store_threads),
        T(test_store_open_after_publish_keeps_slots),
        T(test_store_live_table_recreated_by_other_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
