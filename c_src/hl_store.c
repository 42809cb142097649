/*
 * hl_store.c: the table store on LMDB (see hl_store.h for the contract and
 * hl_store_meta.c for the meta format, the long-key hash and the handle map).
 *
 * Every operation is one LMDB transaction framed by op_begin/op_end: take
 * the store's lock, begin the transaction, read the table's meta, find the
 * table's MDB_dbi; then the row work; then commit (or abort if something was
 * written and the operation failed) and unlock. The one idea a reader needs
 * is LMDB's handle rules, which op_begin/op_end exist to keep:
 *
 *  - A handle is opened inside a transaction and becomes usable by other
 *    transactions only once that transaction commits; if it aborts (or a
 *    read transaction is reset) the handle is closed. So read transactions
 *    are always committed, and a handle enters the cache only after commit.
 *  - mdb_dbi_open must not run in two transactions of one process at once,
 *    and a transaction that opened a handle must end before another may
 *    open one: the `open` mutex is held from mdb_dbi_open to the end of
 *    that transaction.
 *  - A transaction that began before a handle was opened cannot use it
 *    (mdb_dbi_flags says EINVAL): the operation restarts with a new one.
 *  - Closing a handle (mdb_drop(.., 1), mdb_dbi_close) is unsafe while any
 *    other transaction of the process runs: drops, the sweep of stale handles
 *    and adopting a grown map take the `use` lock exclusively; every other
 *    operation holds it shared. (Locks are skipped unless multi_thread.)
 *  - Handles are per process: another process (the NIF) may drop a table this
 *    process still holds a handle for. dbids are never reused, so such a
 *    handle is merely dead weight; when LMDB runs out of handle slots
 *    (MDB_DBS_FULL) the cache is emptied and handles are reopened lazily.
 *
 * Table-level operations (create, drop, meta, the table walk) are in
 * hl_store_tables.c, row operations in hl_store_rows.c; both go through the
 * frame kept here.
 *
 * Limits: the number of tables is not limited, but one process keeps at most
 * HL_STORE_MAX_HANDLES handles open; a process that uses more tables than
 * that in turn recycles them all (correct, slower). Every LMDB transaction
 * costs time linear in the handles open, another reason not to raise it.
 */
#include "hl_store_int.h"

#include "hl_term.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define DEFAULT_MAP_SIZE ((size_t)64 << 30)
#define MAX_ATTEMPTS 4
/* Reset read transactions kept for reuse (each keeps a reader slot): enough
 * for the schedulers of a BEAM reading at once. LMDB's reader table (126 by
 * default) is raised so that many VMs on one host fit; if it fills anyway,
 * pools are drained and dead processes' slots freed (RETRY_READERS). */
#define HL_STR_(x) #x
#define HL_STR(x) HL_STR_(x)
#define READ_POOL 16
#define MAX_READERS 1024

struct hl_store {
    MDB_env *env;
    MDB_dbi meta;
    char *dir;
    void (*log)(void *ctx, const char *msg);
    void *log_ctx;
    int mt;
    pthread_rwlock_t use;
    pthread_mutex_t open;
    pthread_mutex_t cache_lock;
    pthread_mutex_t pool_lock;
    hl_store_dbis dbis;
    MDB_txn *pool[READ_POOL];
    int pooled;
};

void hl_store_log(hl_store *s, const char *what, int rc)
{
    if (s->log) {
        char msg[256];
        snprintf(msg, sizeof msg, "hl_store %s: %s: %s", s->dir, what, mdb_strerror(rc));
        s->log(s->log_ctx, msg);
    }
}

/* An LMDB (or errno) code as an hl_err; unexpected ones are logged. */
int hl_store_mdb_err(hl_store *s, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return HL_EFULL;
    if (rc == ENOMEM)
        return HL_ENOMEM;
    hl_store_log(s, what, rc);
    return HL_ESTORE;
}

/* Set by hl_store_no_wait: this thread must not wait for the store's locks. */
static _Thread_local int no_wait;

void hl_store_no_wait(int on)
{
    no_wait = on;
}

/* HL_OK, or HL_EWOULDBLOCK when this thread may not wait and must. */
static int use_lock(hl_store *s, int excl)
{
    if (!s->mt)
        return HL_OK;
    if (no_wait)
        return (excl ? pthread_rwlock_trywrlock(&s->use) : pthread_rwlock_tryrdlock(&s->use))
                   ? HL_EWOULDBLOCK
                   : HL_OK;
    (void)(excl ? pthread_rwlock_wrlock(&s->use) : pthread_rwlock_rdlock(&s->use));
    return HL_OK;
}

/* The `open` mutex, on the same terms as use_lock. */
static int open_lock(hl_store *s)
{
    if (!s->mt)
        return HL_OK;
    if (no_wait)
        return pthread_mutex_trylock(&s->open) ? HL_EWOULDBLOCK : HL_OK;
    (void)pthread_mutex_lock(&s->open);
    return HL_OK;
}

static void use_unlock(hl_store *s)
{
    if (s->mt)
        (void)pthread_rwlock_unlock(&s->use);
}

static void mutex_lock(hl_store *s, pthread_mutex_t *m)
{
    if (s->mt)
        (void)pthread_mutex_lock(m);
}

static void mutex_unlock(hl_store *s, pthread_mutex_t *m)
{
    if (s->mt)
        (void)pthread_mutex_unlock(m);
}

static int cache_get(hl_store *s, uint64_t dbid, MDB_dbi *dbi)
{
    mutex_lock(s, &s->cache_lock);
    int found = hl_store_dbis_get(&s->dbis, dbid, dbi);
    mutex_unlock(s, &s->cache_lock);
    return found;
}

/* Repairs that need no transaction of this process to be running.
 * HL_OK, or HL_EWOULDBLOCK (nothing done). */
int hl_store_repair(hl_store *s, int why)
{
    if (use_lock(s, 1))
        return HL_EWOULDBLOCK;
    if (why == RETRY_MAP) {
        /* Another process grew the map: adopt its size. */
        int rc = mdb_env_set_mapsize(s->env, 0);
        if (rc)
            hl_store_log(s, "adopt map size", rc);
    } else if (why == RETRY_FULL) {
        /* Out of handle slots: close every cached handle; live tables'
         * handles are reopened on next use. */
        for (size_t i = 0; i < s->dbis.cap; i++)
            if (s->dbis.ids[i])
                mdb_dbi_close(s->env, s->dbis.dbis[i]);
        hl_store_dbis_free(&s->dbis);
    } else if (why == RETRY_READERS) {
        /* Reader table full: give back this process's idle slots and free
         * those of processes that died (a crashed VM's pooled reads). */
        int dead = 0;
        mutex_lock(s, &s->pool_lock);
        while (s->pooled > 0)
            mdb_txn_abort(s->pool[--s->pooled]);
        mutex_unlock(s, &s->pool_lock);
        int rc = mdb_reader_check(s->env, &dead);
        if (rc)
            hl_store_log(s, "reader check", rc);
    }
    use_unlock(s);
    return HL_OK;
}

/* Read the meta of `name` in op->txn. HL_ENOTABLE when absent. */
int hl_store_op_meta(hl_store_op *op, hl_bytes name)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    int hashed = hl_store_key_of(name, tmp, &k);
    int rc = mdb_get(op->txn, op->s->meta, &k, &op->meta_val);
    if (rc == MDB_NOTFOUND)
        return HL_ENOTABLE;
    if (rc)
        return hl_store_mdb_err(op->s, rc, "read meta");
    rc =
        hl_store_meta_decode(op->meta_val.mv_data, op->meta_val.mv_size, &op->meta, &op->long_name);
    if (rc) {
        if (op->s->log)
            op->s->log(op->s->log_ctx, "hl_store: unreadable table meta");
        return rc;
    }
    if (hashed && !hl_bytes_eq(op->long_name, name))
        return HL_ECOLLISION;
    return HL_OK;
}

/* Open "t<dbid>" in op->txn (flags: 0 or MDB_CREATE), s->open already held.
 * On success op->opened is set and s->open stays held until op_end; on
 * failure it is released. */
static int dbi_open_locked(hl_store_op *op, uint64_t dbid, unsigned flags)
{
    hl_store *s = op->s;
    char dbname[32];
    snprintf(dbname, sizeof dbname, "t%" PRIu64, dbid);
    int rc = mdb_dbi_open(op->txn, dbname, flags, &op->dbi);
    if (rc) {
        mutex_unlock(s, &s->open);
        return rc == MDB_DBS_FULL ? RETRY_FULL : hl_store_mdb_err(s, rc, "open table db");
    }
    op->opened = 1;
    op->dbid = dbid;
    /* Before any access, in every process (hl_store_ordered.c says why). */
    if (op->meta.type == HL_ORDERED_SET &&
        (rc = mdb_set_compare(op->txn, op->dbi, hl_store_ordered_cmp)))
        return hl_store_mdb_err(s, rc, "set compare");
    return HL_OK;
}

/* Find the handle of the table whose meta op->meta holds. */
static int dbi_get(hl_store_op *op)
{
    hl_store *s = op->s;
    unsigned flags;
    if (!cache_get(s, op->meta.dbid, &op->dbi)) {
        /* Re-check under `open`: another thread may have just opened it. */
        int rc = open_lock(s);
        if (rc)
            return rc;
        if (!cache_get(s, op->meta.dbid, &op->dbi))
            return dbi_open_locked(op, op->meta.dbid, 0);
        mutex_unlock(s, &s->open);
    }
    op->dbid = op->meta.dbid;
    return mdb_dbi_flags(op->txn, op->dbi, &flags) ? RETRY_STALE : HL_OK;
}

int hl_store_op_create_dbi(hl_store_op *op, uint64_t dbid)
{
    int rc = open_lock(op->s);
    return rc ? rc : dbi_open_locked(op, dbid, MDB_CREATE);
}

void hl_store_forget_dbi(hl_store *s, uint64_t dbid)
{
    mutex_lock(s, &s->cache_lock);
    hl_store_dbis_remove(&s->dbis, dbid);
    mutex_unlock(s, &s->cache_lock);
}

MDB_dbi hl_store_meta_dbi(const hl_store *s)
{
    return s->meta;
}

static void op_end_txn(hl_store_op *op, int *rc);

/* A read transaction, renewed from the pool when one is there. A fresh one
 * costs a zeroed allocation sized for every handle slot (about 200 KB, an
 * mmap and munmap per lookup); a renewed one costs a reader-slot update. */
static int read_begin(hl_store *s, MDB_txn **txn)
{
    mutex_lock(s, &s->pool_lock);
    *txn = s->pooled ? s->pool[--s->pooled] : NULL;
    mutex_unlock(s, &s->pool_lock);
    if (*txn) {
        if (mdb_txn_renew(*txn) == 0)
            return 0;
        /* A failed renew (a grown map, say) leaves it reset, not freed; a
         * fresh begin reports the same condition if it persists. */
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    return mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
}

/* Finish a read transaction that opened no handle: reset and keep it. */
static void read_end(hl_store *s, MDB_txn *txn)
{
    mdb_txn_reset(txn);
    mutex_lock(s, &s->pool_lock);
    if (s->pooled < READ_POOL) {
        s->pool[s->pooled++] = txn;
        txn = NULL;
    }
    mutex_unlock(s, &s->pool_lock);
    if (txn)
        mdb_txn_abort(txn);
}

/* One attempt of op_begin; > 0 means "repair (maybe) and try again". */
static int op_try(hl_store_op *op, hl_bytes name, int needs)
{
    int rc = op->mode == HL_OP_READ ? read_begin(op->s, &op->txn)
                                    : mdb_txn_begin(op->s->env, NULL, 0, &op->txn);
    if (rc) {
        op->txn = NULL;
        if (rc == MDB_MAP_RESIZED)
            return RETRY_MAP;
        return rc == MDB_READERS_FULL ? RETRY_READERS : hl_store_mdb_err(op->s, rc, "begin");
    }
    if (needs & HL_OPF_META)
        rc = hl_store_op_meta(op, name);
    if (!rc && (needs & HL_OPF_DBI))
        rc = dbi_get(op);
    return rc;
}

/* Begin an operation: lock, transaction, and (per needs) the table's meta
 * and handle. On failure everything is released and op_end is not needed. */
int hl_store_op_begin(hl_store_op *op, hl_store *s, int mode, hl_bytes name, int needs)
{
    int rc = HL_OK, retry = 0;
    if ((needs & HL_OPF_META) && name.len == 0)
        return HL_EBADARG;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        memset(op, 0, sizeof *op);
        op->s = s;
        op->mode = mode;
        if (use_lock(s, mode == HL_OP_EXCL))
            return HL_EWOULDBLOCK;
        rc = op_try(op, name, needs);
        if (rc == HL_OK)
            return HL_OK;
        retry = rc > 0 ? rc : 0;
        op_end_txn(op, &rc);
        use_unlock(s);
        if (!retry)
            return rc;
        if (hl_store_repair(s, retry))
            return HL_EWOULDBLOCK;
    }
    if (retry == RETRY_FULL) {
        hl_store_log(s, "too many tables open (limit " HL_STR(HL_STORE_MAX_HANDLES) ")",
                     MDB_DBS_FULL);
        return HL_EFULL;
    }
    return hl_store_mdb_err(s,
                            retry == RETRY_MAP       ? MDB_MAP_RESIZED
                            : retry == RETRY_READERS ? MDB_READERS_FULL
                                                     : MDB_BAD_DBI,
                            "retries");
}

/* Finish op->txn: commit unless something was written and *rc is an error;
 * publish or forget the handle this txn opened. */
static void op_end_txn(hl_store_op *op, int *rc)
{
    hl_store *s = op->s;
    int committed = 0;
    if (op->txn && op->mode == HL_OP_READ && !op->opened) {
        /* Nothing to publish: a read's commit is only a reset and free. */
        read_end(s, op->txn);
    } else if (op->txn && op->dirty && *rc != HL_OK) {
        mdb_txn_abort(op->txn);
    } else if (op->txn) {
        int cr = mdb_txn_commit(op->txn);
        committed = cr == 0;
        if (cr && *rc == HL_OK)
            *rc = hl_store_mdb_err(s, cr, "commit");
    }
    op->txn = NULL;
    if (op->opened) {
        if (committed && !op->dropped) {
            mutex_lock(s, &s->cache_lock);
            if (hl_store_dbis_put(&s->dbis, op->dbid, op->dbi) != HL_OK)
                hl_store_log(s, "cache table handle", ENOMEM);
            mutex_unlock(s, &s->cache_lock);
        }
        mutex_unlock(s, &s->open);
        op->opened = 0;
    }
}

int hl_store_op_end(hl_store_op *op, int rc)
{
    op_end_txn(op, &rc);
    use_unlock(op->s);
    return rc;
}

/* --- environment --------------------------------------------------------- */

/* The map size to ask for. With MDB_WRITEMAP LMDB writes through the map,
 * and a write to a page the filesystem has no room for is a SIGBUS, not an
 * error: so the map is clamped to the room left (free space plus what the
 * data file already holds), and LMDB reports MDB_MAP_FULL first. */
static size_t map_size_for(const char *dir, size_t want, int writemap)
{
    struct statvfs fs;
    struct stat st;
    char path[4096];
    if (!writemap || statvfs(dir, &fs))
        return want;
    uint64_t room = (uint64_t)fs.f_bavail * fs.f_frsize;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) == 0)
        room += (uint64_t)st.st_blocks * 512;
    room &= ~(uint64_t)0xFFFF; /* a whole number of pages of any size */
    return room < want ? (size_t)room : want;
}

/* Rows are the application's data: only this user may read them. The
 * directory is created 0700 (or narrowed to it); one that other users may
 * write is refused (EPERM) rather than narrowed, since someone else may have
 * planted files in it. Returns 0 or an errno, with *what saying which step. */
static int private_dir(const char *dir, const char **what)
{
    struct stat st;
    *what = "mkdir";
    if (mkdir(dir, 0700) && errno != EEXIST)
        return errno;
    *what = "stat";
    if (stat(dir, &st))
        return errno;
    *what = "check directory";
    if (!S_ISDIR(st.st_mode))
        return ENOTDIR;
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return EPERM;
    *what = "chmod directory";
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700))
        return errno;
    return 0;
}

/* data.mdb and lock.mdb 0600, whatever umask or an older version made. */
static int private_files(const char *dir)
{
    static const char *const names[] = {"data.mdb", "lock.mdb"};
    char path[4096];
    struct stat st;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st))
            return errno == ENOENT ? 0 : errno;
        if ((st.st_mode & 07777) != 0600 && chmod(path, 0600))
            return errno;
    }
    return 0;
}

/* MDB_WRITEMAP makes commits several times faster on tmpfs (no pwrite per
 * dirty page) but turns a full filesystem into a SIGBUS. It is used only by
 * a single-threaded, non-syncing store, i.e. the C node on tmpfs; never with
 * multi_thread (the NIF), because a signal there would kill the BEAM VM. */
static int open_env(hl_store *s, const hl_store_opts *o, const char **what)
{
    int writemap = !o->sync && !o->multi_thread;
    unsigned flags =
        MDB_NOTLS | (o->sync ? 0 : MDB_NOSYNC | MDB_NOMETASYNC) | (writemap ? MDB_WRITEMAP : 0);
    size_t map = map_size_for(s->dir, o->map_size ? o->map_size : DEFAULT_MAP_SIZE, writemap);
    int dead = 0, rc;
    MDB_txn *txn = NULL;
    if ((*what = "env_create", rc = mdb_env_create(&s->env)))
        return rc;
    if ((*what = "set_mapsize", rc = mdb_env_set_mapsize(s->env, map)))
        return rc;
    if ((*what = "set_maxdbs", rc = mdb_env_set_maxdbs(s->env, HL_STORE_MAX_HANDLES + 1)))
        return rc;
    /* Every VM on the host pools reads; the first opener sizes the table. */
    if ((*what = "set_maxreaders", rc = mdb_env_set_maxreaders(s->env, MAX_READERS)))
        return rc;
    if ((*what = "env_open", rc = mdb_env_open(s->env, s->dir, flags, 0600)))
        return rc;
    /* Files made before this rule (or by a looser umask) are narrowed too. */
    if ((*what = "chmod store files", rc = private_files(s->dir)))
        return rc;
    /* Free reader slots left by processes that crashed mid-read. */
    if ((*what = "reader_check", rc = mdb_reader_check(s->env, &dead)))
        return rc;
    if ((*what = "txn_begin", rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return rc;
    if ((*what = "open meta db", rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta))) {
        mdb_txn_abort(txn);
        return rc;
    }
    *what = "commit";
    return mdb_txn_commit(txn);
}

static int init_locks(hl_store *s)
{
    pthread_rwlockattr_t a;
    if (pthread_rwlockattr_init(&a))
        return -1;
    /* Writers first: a drop must not starve behind a stream of readers. */
    (void)pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&s->use, &a);
    (void)pthread_rwlockattr_destroy(&a);
    if (rc)
        return -1;
    if (pthread_mutex_init(&s->open, NULL)) {
        pthread_rwlock_destroy(&s->use);
        return -1;
    }
    if (pthread_mutex_init(&s->cache_lock, NULL)) {
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
        return -1;
    }
    if (pthread_mutex_init(&s->pool_lock, NULL)) {
        pthread_mutex_destroy(&s->cache_lock);
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
        return -1;
    }
    s->mt = 1;
    return 0;
}

int hl_store_open(const hl_store_opts *opts, hl_store **out, char *err, size_t errlen)
{
    int rc = HL_ENOMEM;
    const char *what = "allocate";
    int mrc = ENOMEM;
    *out = NULL;
    hl_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(opts->dir)))
        goto fail;
    s->log = opts->log;
    s->log_ctx = opts->log_ctx;
    if ((mrc = private_dir(s->dir, &what)) != 0) {
        rc = HL_ESTORE;
        goto fail;
    }
    if ((mrc = open_env(s, opts, &what)) != 0) {
        rc = mrc == ENOMEM ? HL_ENOMEM : HL_ESTORE;
        goto fail;
    }
    if (opts->multi_thread && init_locks(s)) {
        what = "init locks";
        goto fail;
    }
    *out = s;
    return HL_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "cannot open store %s: %s: %s", opts->dir, what,
                 mrc == EPERM ? "writable by other users" : mdb_strerror(mrc));
    if (s && s->env)
        mdb_env_close(s->env);
    if (s)
        free(s->dir);
    free(s);
    return rc;
}

void hl_store_close(hl_store *s)
{
    if (!s)
        return;
    while (s->pooled > 0)
        mdb_txn_abort(s->pool[--s->pooled]);
    mdb_env_close(s->env); /* also closes every handle */
    hl_store_dbis_free(&s->dbis);
    if (s->mt) {
        pthread_mutex_destroy(&s->pool_lock);
        pthread_mutex_destroy(&s->cache_lock);
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
    }
    free(s->dir);
    free(s);
}

const char *hl_store_dir(const hl_store *s)
{
    return s->dir;
}

void hl_meta_free(hl_meta *m)
{
    free(m->blob_);
    memset(m, 0, sizeof *m);
}
