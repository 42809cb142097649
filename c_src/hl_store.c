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
 *  - Nor may it open one: mdb_dbi_open puts a new handle in the slot after
 *    the last one *the transaction* knows, which may be the slot of a handle
 *    published since (by another thread); the other table's slot is then
 *    overwritten (its sequence bumped, so writes through it fail with
 *    MDB_BAD_DBI, or go to the wrong table). So the store counts
 *    publications (`epoch`), and a transaction opens a handle only if none
 *    happened since it began; else the operation restarts, and its next
 *    begin holds `open` from before the transaction starts (`escalate`), so
 *    that none can happen.
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
 * frame kept here, and retry a whole operation through hl_store_again when
 * the map must grow (MDB_MAP_FULL) or a handle changed under it. Opening
 * the environment and reserving the data file are in hl_store_env.c.
 *
 * Limits: the number of tables is not limited, but one process keeps at most
 * HL_STORE_MAX_HANDLES handles open; a process that uses more tables than
 * that in turn recycles them all (correct, slower). Every LMDB transaction
 * costs time linear in the handles open, and every write transaction time
 * linear in the limit itself, reasons not to raise it.
 */
#include "hl_store_int.h"

#include "hl_term.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 4
/* Growing the map is progress: each attempt reserves more of the file. */
#define MAX_GROWS 32
/* Reset read transactions kept for reuse (each keeps a reader slot): enough
 * for the schedulers of a BEAM reading at once. LMDB's reader table (126 by
 * default) is raised so that many VMs on one host fit; if it fills anyway,
 * pools are drained and dead processes' slots freed (RETRY_READERS). */
#define HL_STR_(x) #x
#define HL_STR(x) HL_STR_(x)
#define READ_POOL HL_STORE_READ_POOL

/* An LMDB (or errno) code as an hl_err; unexpected ones are logged. */
int hl_store_mdb_err(hl_store *s, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL || rc == ENOSPC)
        return HL_EFULL;
    if (rc == ENOMEM)
        return HL_ENOMEM;
    hl_store_log(s, what, rc);
    return HL_ESTORE;
}

int hl_store_op_err(hl_store_op *op, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) {
        op->retry = RETRY_GROW;
        return HL_EFULL;
    }
    if (rc == MDB_BAD_DBI) {
        op->retry = RETRY_STALE;
        return HL_ESTORE;
    }
    return hl_store_mdb_err(op->s, rc, what);
}

/* Set by hl_store_no_wait: this thread must not wait for the store's locks. */
static _Thread_local int no_wait;
/* What the running write of this thread has read of existing rows, charged
 * against the no_wait bounds (hl_store_op_charge). */
static _Thread_local size_t charged_bytes, charged_rows;
/* Set when this thread's last operation met a handle published after its
 * transaction began (RETRY_STALE): its next begin holds the `open` lock from
 * before the transaction starts, so no handle can be published in between. */
static _Thread_local int escalate;

void hl_store_no_wait(int on)
{
    no_wait = on;
}

int hl_store_op_charge(hl_store_op *op, size_t bytes)
{
    if (!no_wait || op->mode == HL_OP_READ)
        return HL_OK;
    charged_bytes += bytes;
    charged_rows++;
    return charged_bytes > HL_STORE_NO_WAIT_BYTES || charged_rows > HL_STORE_NO_WAIT_ROWS
               ? HL_EWOULDBLOCK
               : HL_OK;
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
    /* Reserving may wait for another process's posix_fallocate (under the
     * data file's flock) and take as long as the filesystem likes. */
    if (no_wait && (why == RETRY_MAP || why == RETRY_GROW))
        return HL_EWOULDBLOCK;
    if (use_lock(s, 1))
        return HL_EWOULDBLOCK;
    int rc = HL_OK;
    if (why == RETRY_MAP || why == RETRY_GROW) {
        /* Another process used pages past our map, or we need more. */
        rc = hl_store_reserve(s, why);
    } else if (why == RETRY_FULL) {
        /* Out of handle slots: close every cached handle; live tables'
         * handles are reopened on next use. */
        for (size_t i = 0; i < s->dbis.cap; i++)
            if (s->dbis.ids[i])
                mdb_dbi_close(s->env, s->dbis.dbis[i]);
        hl_store_dbis_free(&s->dbis);
        __atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
    } else if (why == RETRY_READERS) {
        /* Reader table full: give back this process's idle slots and free
         * those of processes that died (a crashed VM's pooled reads). */
        int dead = 0;
        mutex_lock(s, &s->pool_lock);
        while (s->pooled > 0)
            mdb_txn_abort(s->pool[--s->pooled]);
        mutex_unlock(s, &s->pool_lock);
        int mrc = mdb_reader_check(s->env, &dead);
        if (mrc)
            hl_store_log(s, "reader check", mrc);
    }
    use_unlock(s);
    return why == RETRY_GROW && rc != HL_OK ? HL_EFULL : HL_OK;
}

/* Read the meta of `name` in op->txn. HL_ENOTABLE when absent. */
int hl_store_op_meta(hl_store_op *op, hl_bytes name)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    int cacheable = !(op->meta_gen & 1); /* op_try decides which ops may */
    if (cacheable && hl_store_mcache_get(op, name))
        return HL_OK;
    int hashed = hl_store_key_of(name, tmp, &k);
    int rc = mdb_get(op->txn, op->s->meta, &k, &op->meta_val);
    if (rc == MDB_NOTFOUND)
        return HL_ENOTABLE;
    if (rc)
        return hl_store_op_err(op, rc, "read meta");
    rc =
        hl_store_meta_decode(op->meta_val.mv_data, op->meta_val.mv_size, &op->meta, &op->long_name);
    if (rc) {
        if (op->s->log)
            op->s->log(op->s->log_ctx, "hl_store: unreadable table meta");
        return rc;
    }
    if (hashed && !hl_bytes_eq(op->long_name, name))
        return HL_ECOLLISION;
    if (cacheable && !hashed)
        hl_store_mcache_put(op, name);
    return HL_OK;
}

/* Take the `open` lock for op. A write holds LMDB's writer lock already, and
 * an escalated begin (op_try) takes `open` before that lock: so a write only
 * tries, and when busy asks for an escalated attempt (RETRY_STALE) instead
 * of waiting in the opposite order. */
static int op_hold_open(hl_store_op *op)
{
    if (op->held)
        return HL_OK;
    if (op->s->mt && op->mode != HL_OP_READ) {
        if (pthread_mutex_trylock(&op->s->open))
            return RETRY_STALE;
    } else {
        int rc = open_lock(op->s);
        if (rc)
            return rc;
    }
    op->held = 1;
    return HL_OK;
}

static void op_release_open(hl_store_op *op)
{
    if (op->held) {
        mutex_unlock(op->s, &op->s->open);
        op->held = 0;
    }
}

/* Open "t<dbid>" in op->txn (flags: 0 or MDB_CREATE), `open` held. On
 * success op->opened is set and `open` stays held until op_end; on failure
 * it is released. */
static int dbi_open_locked(hl_store_op *op, uint64_t dbid, unsigned flags)
{
    char dbname[32];
    if (op->s->mt && op->epoch != __atomic_load_n(&op->s->epoch, __ATOMIC_ACQUIRE)) {
        op_release_open(op);
        return RETRY_STALE;
    }
    snprintf(dbname, sizeof dbname, "t%" PRIu64, dbid);
    int rc = mdb_dbi_open(op->txn, dbname, flags, &op->dbi);
    if (rc) {
        op_release_open(op);
        return rc == MDB_DBS_FULL ? RETRY_FULL : hl_store_op_err(op, rc, "open table db");
    }
    op->opened = 1;
    op->dbid = dbid;
    /* Before any access, in every process (hl_store_ordered.c says why). */
    if (op->meta.type == HL_ORDERED_SET &&
        (rc = mdb_set_compare(op->txn, op->dbi, hl_store_ordered_cmp)))
        return hl_store_op_err(op, rc, "set compare");
    return HL_OK;
}

/* Find the handle of the table whose meta op->meta holds. A cached handle
 * published after op->txn began is unusable in it (RETRY_STALE); under an
 * escalated begin none can be. */
static int dbi_get(hl_store_op *op)
{
    hl_store *s = op->s;
    unsigned flags;
    op->dbid = op->meta.dbid;
    if (cache_get(s, op->dbid, &op->dbi)) {
        if (mdb_dbi_flags(op->txn, op->dbi, &flags) == 0) {
            op_release_open(op);
            return HL_OK;
        }
        if (!op->escalated) {
            op_release_open(op);
            return RETRY_STALE;
        }
        /* Nothing was published since this txn began, so the cached handle
         * is dead, not new: forget it and open the table afresh. */
        hl_store_forget_dbi(s, op->dbid);
    }
    /* Re-check under `open`: another thread may have just opened it. */
    int rc = op_hold_open(op);
    if (rc)
        return rc;
    if (!cache_get(s, op->dbid, &op->dbi))
        return dbi_open_locked(op, op->dbid, 0);
    op_release_open(op);
    return mdb_dbi_flags(op->txn, op->dbi, &flags) ? RETRY_STALE : HL_OK;
}

int hl_store_op_create_dbi(hl_store_op *op, uint64_t dbid)
{
    int rc = op_hold_open(op);
    if (rc == RETRY_STALE) {
        op->retry = RETRY_STALE;
        return HL_ESTORE;
    }
    if (rc)
        return rc;
    rc = dbi_open_locked(op, dbid, MDB_CREATE);
    if (rc == RETRY_FULL || rc == RETRY_STALE) {
        op->retry = rc;
        return rc == RETRY_FULL ? HL_EFULL : HL_ESTORE;
    }
    return rc;
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

/*
 * A follower's write, holding the write lock: LMDB's NOSYNC flags off while
 * the store's C node says its commits fsync, on otherwise. The flags are
 * the environment's, changed only here, under the write lock, between
 * transactions (LMDB reads them at commit); readers of this process read
 * other bits of the same word. HL_EWOULDBLOCK for a write that may not wait
 * and would now fsync.
 */
static int follow_sync(hl_store *s)
{
    int want = hl_store_sync_said(s);
    if (want != s->env_syncs) {
        int rc = mdb_env_set_flags(s->env, MDB_NOSYNC | MDB_NOMETASYNC, !want);
        if (rc)
            return hl_store_mdb_err(s, rc, "set sync flags");
        s->env_syncs = want;
    }
    return want && no_wait ? HL_EWOULDBLOCK : HL_OK;
}

/* One attempt of op_begin; > 0 means "repair (maybe) and try again". With
 * hold, `open` is taken before the transaction begins (see `escalate`). */
static int op_try(hl_store_op *op, hl_bytes name, int needs, int hold)
{
    int rc = hold ? open_lock(op->s) : HL_OK;
    if (rc)
        return rc;
    op->held = op->escalated = hold && op->s->mt;
    op->epoch = __atomic_load_n(&op->s->epoch, __ATOMIC_ACQUIRE);
    uint64_t gen = op->mode == HL_OP_READ ? hl_store_meta_gen(op->s) : 1;
    if (op->mode != HL_OP_READ) {
        /* Before LMDB's writer lock, which cannot be tried (hl_store_wlock.c). */
        if ((rc = hl_store_wlock(op->s, !no_wait)) > 0) {
            hl_store_log(op->s, "write lock", rc);
            return HL_ESTORE;
        }
        if (rc)
            return rc;
        op->wlocked = 1;
        if (op->s->sync != HL_STORE_SYNC_FOLLOW)
            hl_store_sync_announce(op->s); /* the last C node to write decides */
        else if ((rc = follow_sync(op->s)))
            return rc;
    }
    rc = op->mode == HL_OP_READ ? read_begin(op->s, &op->txn)
                                : mdb_txn_begin(op->s->env, NULL, 0, &op->txn);
    if (rc) {
        op->txn = NULL;
        if (rc == MDB_MAP_RESIZED)
            return RETRY_MAP;
        return rc == MDB_READERS_FULL ? RETRY_READERS : hl_store_mdb_err(op->s, rc, "begin");
    }
    /* The same even generation before and after the snapshot began: the
     * snapshot has every meta change up to it and none after (odd: not
     * known, no cache). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (op->mode == HL_OP_READ) {
        op->meta_gen = hl_store_meta_gen(op->s) == gen ? gen : 1;
    } else {
        /* A row write holds the write lock, which every meta change takes
         * (and moves the generation under): the generation now is the one
         * its snapshot has, and stays so until it commits. Writes that
         * change a meta themselves (no HL_OPF_DBI, or EXCL) read it afresh.
         * Odd: a writer died mid-change; not known. */
        uint64_t now = hl_store_meta_gen(op->s);
        op->meta_gen = op->mode == HL_OP_WRITE && (needs & HL_OPF_DBI) && !(now & 1) ? now : 1;
    }
    if (needs & HL_OPF_META)
        rc = hl_store_op_meta(op, name);
    if (!rc && (needs & HL_OPF_DBI))
        rc = dbi_get(op);
    if (!op->opened)
        op_release_open(op);
    return rc;
}

/* Begin an operation: lock, transaction, and (per needs) the table's meta
 * and handle. On failure everything is released and op_end is not needed. */
int hl_store_op_begin(hl_store_op *op, hl_store *s, int mode, hl_bytes name, int needs)
{
    int rc = HL_OK, retry = 0, hold = escalate;
    memset(op, 0, sizeof *op);
    escalate = 0;
    if ((needs & HL_OPF_META) && name.len == 0)
        return HL_EBADARG;
    charged_bytes = charged_rows = 0;
    if (mode != HL_OP_READ && no_wait && hl_store_syncs(s))
        return HL_EWOULDBLOCK; /* the commit would fsync (follow_sync checks again) */
    if (mode != HL_OP_READ && use_lock(s, 0) == HL_OK) {
        /* Reserve more of the file before LMDB runs out of map. */
        int near = hl_store_near_full(s);
        use_unlock(s);
        if (near && no_wait)
            return HL_EWOULDBLOCK; /* growing is for a scheduler that may wait */
        if (near)
            (void)hl_store_repair(s, RETRY_GROW);
    }
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        /* op is zero here: from the top, or from the failed attempt's end. */
        op->s = s;
        op->mode = mode;
        if (use_lock(s, mode == HL_OP_EXCL))
            return HL_EWOULDBLOCK;
        rc = op_try(op, name, needs, hold);
        if (rc == HL_OK)
            return HL_OK;
        retry = rc > 0 ? rc : 0;
        op_end_txn(op, &rc);
        use_unlock(s);
        memset(op, 0, sizeof *op);
        if (!retry)
            return rc;
        hold |= retry == RETRY_STALE; /* once escalated, stays so */
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
        if (op->meta_changed)
            hl_store_meta_changing(s);
        int cr = mdb_txn_commit(op->txn);
        if (op->meta_changed)
            hl_store_meta_changed(s);
        committed = cr == 0;
        if (cr && *rc == HL_OK)
            *rc = hl_store_op_err(op, cr, "commit");
    }
    op->txn = NULL;
    if (op->wlocked) {
        hl_store_wunlock(s);
        op->wlocked = 0;
    }
    if (op->opened && committed && !op->dropped) {
        mutex_lock(s, &s->cache_lock);
        if (hl_store_dbis_put(&s->dbis, op->dbid, op->dbi) != HL_OK)
            hl_store_log(s, "cache table handle", ENOMEM);
        mutex_unlock(s, &s->cache_lock);
    }
    if (op->opened || op->dropped) /* published, or a slot closed or freed */
        __atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
    op->opened = 0;
    op_release_open(op);
}

int hl_store_op_end(hl_store_op *op, int rc)
{
    op_end_txn(op, &rc);
    use_unlock(op->s);
    return rc;
}

int hl_store_again(hl_store_op *op, int *rc, int *attempt)
{
    int why = op->retry;
    if (!why || *rc == HL_OK)
        return 0;
    op->retry = 0;
    if (++*attempt >= (why == RETRY_GROW ? MAX_GROWS : MAX_ATTEMPTS)) {
        if (why == RETRY_FULL)
            hl_store_log(op->s, "too many tables (limit " HL_STR(HL_STORE_MAX_HANDLES) ")",
                         MDB_DBS_FULL);
        else if (why == RETRY_STALE)
            hl_store_log(op->s, "retries", MDB_BAD_DBI);
        return 0;
    }
    int r = hl_store_repair(op->s, why);
    if (r) {
        *rc = r;
        return 0;
    }
    if (why == RETRY_STALE) {
        /* MDB_BAD_DBI: the next attempt holds `open` from its begin and,
         * if the handle is still refused, opens the table afresh. */
        escalate = 1;
        if (op->dbid)
            hl_store_forget_dbi(op->s, op->dbid);
    }
    return 1;
}
