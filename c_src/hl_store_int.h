/*
 * hl_store_int.h: internals shared by the store's files (hl_store.c,
 * hl_store_env.c, hl_store_wlock.c, hl_store_mcache.c, hl_store_tables.c,
 * hl_store_rows.c, hl_store_meta.c), and
 * exposed to test/c/test_store.c. Not part of the store's contract.
 *
 * hl_store_meta.c holds the pure pieces of the store: the versioned binary
 * format of a table's meta value, the 128-bit hash used for long keys and
 * names, and the small dbid -> MDB_dbi map that caches LMDB handles. None of
 * them touch LMDB's state, so hl_store.c is only about transactions.
 */
#ifndef HL_STORE_INT_H
#define HL_STORE_INT_H

#include "hl_store.h"

#include <lmdb.h>
#include <pthread.h>

/* Length of a hashed LMDB key: 0xFF, then the 128-bit hash. Canonical terms
 * start with a tag byte (70..120), so a hashed key never equals an inline
 * one, and the reserved meta keys (first byte 0x00) never equal either. */
#define HL_STORE_HASHED_KEY 17

/* 128-bit hash of n bytes, big-endian into out[16]. Two independent 64-bit
 * mixes; not cryptographic (collisions are detected, not assumed away). */
void hl_store_hash128(const unsigned char *p, size_t n, unsigned char out[16]);

/* The LMDB key for a term: the term itself when it is at most
 * HL_STORE_MAX_INLINE_KEY bytes, else 0xFF + hash written into tmp. Returns 1
 * when the key is hashed (the caller must then compare the stored term). */
int hl_store_key_of(hl_bytes term, unsigned char tmp[HL_STORE_HASHED_KEY], MDB_val *key);

/* Serialise meta (and, for a hashed name, the full name) to out, replacing
 * its contents. HL_OK or HL_ENOMEM. */
int hl_store_meta_encode(const hl_meta *m, hl_bytes long_name, hl_buf *out);
/* Parse a meta value: views in *m (blob_ left NULL) and *long_name point into
 * p. HL_OK, or HL_ESTORE for a value this version cannot read. */
int hl_store_meta_decode(const unsigned char *p, size_t len, hl_meta *m, hl_bytes *long_name);

/* dbid -> handle map, open addressing; dbid 0 marks a free slot (dbids
 * start at 1). The store serialises access to it. */
typedef struct {
    uint64_t *ids;
    MDB_dbi *dbis;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} hl_store_dbis;

int hl_store_dbis_get(const hl_store_dbis *c, uint64_t dbid, MDB_dbi *dbi);
/* HL_OK or HL_ENOMEM (map unchanged). */
int hl_store_dbis_put(hl_store_dbis *c, uint64_t dbid, MDB_dbi dbi);
void hl_store_dbis_remove(hl_store_dbis *c, uint64_t dbid);
void hl_store_dbis_free(hl_store_dbis *c);

/* --- the store itself (shared by hl_store.c and hl_store_env.c) ------- */

/* Reset read transactions kept for reuse (each keeps a reader slot): enough
 * for the schedulers of a BEAM reading at once. */
#define HL_STORE_READ_POOL 16

struct hl_store {
    MDB_env *env;
    MDB_dbi meta;
    char *dir;
    void (*log)(void *ctx, const char *msg);
    void *log_ctx;
    int mt;
    int sync;                       /* opts.sync; fsyncing commits never run where no_wait */
    int env_syncs;                  /* LMDB's NOSYNC flags are off (hl_store.c: follow_sync) */
    int fd;                         /* our own descriptor of data.mdb: flock and fallocate */
    int wfd;                        /* write.lock, which holds the store's write lock */
    struct hl_store_wshared *wlock; /* ... mapped (hl_store_wlock.c) */
    uint64_t serial;                /* unique per open store in this process */
    size_t cap;                     /* this store grows the file no further (opts->map_size) */
    size_t mapped;                  /* LMDB's map size = the bytes of data.mdb reserved */
    /* Bumped (under `open`) whenever a handle is published or closed: a
     * transaction that began before may not open one (see dbi_open_locked). */
    unsigned long epoch;
    pthread_rwlock_t use;
    pthread_mutex_t open;
    pthread_mutex_t cache_lock;
    pthread_mutex_t pool_lock;
    hl_store_dbis dbis;
    MDB_txn *pool[HL_STORE_READ_POOL];
    int pooled;
};

/* --- the transaction frame (hl_store.c), used by hl_store_rows.c -------- */

enum { HL_OP_READ = 0, HL_OP_WRITE = 1, HL_OP_EXCL = 2 }; /* EXCL: write, alone */
enum { HL_OPF_META = 1, HL_OPF_DBI = 2 };                 /* what op_begin finds */

typedef struct {
    hl_store *s;
    int mode;
    MDB_txn *txn;
    int dirty;           /* something was written: abort if the operation fails */
    int opened;          /* this txn opened `dbi` (and holds the store's open lock) */
    int held;            /* holds the store's open lock (opened, or escalated begin) */
    int escalated;       /* held `open` from before txn began: no handle is newer */
    int dropped;         /* mdb_drop(.., 1) closed `dbi` */
    int wlocked;         /* holds the store's write lock (writes, from before txn) */
    int meta_changed;    /* wrote a table's meta (hl_store_tables.c): see meta_gen */
    uint64_t meta_gen;   /* reads and row writes: the store's meta generation
                          * their snapshot has, or 1 (odd: unknown, no cache) */
    int retry;           /* RETRY_* the whole operation asks for (hl_store_again) */
    unsigned long epoch; /* the store's epoch before txn began */
    uint64_t dbid;
    MDB_dbi dbi;
    MDB_val meta_val; /* the raw meta value, in txn memory */
    hl_meta meta;     /* views into meta_val */
    hl_bytes long_name;
} hl_store_op;

/* Lock, begin a transaction and, per needs, read the meta of `name`
 * (HL_ENOTABLE, HL_ECOLLISION) and find its handle. On failure everything is
 * released; on success the caller must call hl_store_op_end. */
int hl_store_op_begin(hl_store_op *op, hl_store *s, int mode, hl_bytes name, int needs);
/* Commit (or abort, if op->dirty and rc != HL_OK), unlock; returns rc or the
 * commit's error. */
int hl_store_op_end(hl_store_op *op, int rc);
/* After one attempt of a whole operation (op_begin .. op_end): when the
 * attempt failed for a reason a new attempt can cure (op->retry: the map
 * must grow, a handle changed under it), repair and return 1; else return 0
 * with *rc final (HL_EFULL when the file cannot grow). *attempt counts. */
int hl_store_again(hl_store_op *op, int *rc, int *attempt);
/* An LMDB code as an hl_err (MAP_FULL and ENOSPC -> HL_EFULL); others are
 * logged. */
int hl_store_mdb_err(hl_store *s, int rc, const char *what);
/* The same inside an operation, which also records in op->retry whether a
 * new attempt can cure it (MDB_MAP_FULL: grow the file; MDB_BAD_DBI: fresh
 * transaction and handle). Such codes are not logged unless final. */
int hl_store_op_err(hl_store_op *op, int rc, const char *what);
/* Log "what: LMDB's message for rc" through the store's log callback. */
void hl_store_log(hl_store *s, const char *what, int rc);

/* Internal retry reasons, > 0, never returned past the store. */
enum { RETRY_STALE = 1, RETRY_FULL = 2, RETRY_MAP = 3, RETRY_READERS = 4, RETRY_GROW = 5 };
/* One process keeps at most this many LMDB handles open. LMDB's maxdbs,
 * and every write transaction begins by copying a word per slot (16 KB at
 * 4096 slots, a tenth of a small NIF insert), so not more than a process
 * is likely to use. */
#define HL_STORE_MAX_HANDLES 1024

/* Repairs that need no transaction of this process to be running (why is a
 * RETRY_* reason). HL_OK; HL_EWOULDBLOCK (nothing done); for RETRY_GROW,
 * HL_EFULL when data.mdb cannot grow (filesystem full, or the cap). */
int hl_store_repair(hl_store *s, int why);
/* Read the meta of `name` in op->txn into op->meta (views into the txn).
 * HL_OK, HL_ENOTABLE, HL_ECOLLISION, HL_ESTORE. */
int hl_store_op_meta(hl_store_op *op, hl_bytes name);
/* Create and open "t<dbid>" in op (a write). HL_OK (op->opened set; the
 * store's open lock is held until hl_store_op_end), RETRY_FULL when LMDB is
 * out of handle slots, HL_EWOULDBLOCK, HL_ESTORE. */
int hl_store_op_create_dbi(hl_store_op *op, uint64_t dbid);
/* Drop dbid's handle from this process's cache (after mdb_drop closed it). */
void hl_store_forget_dbi(hl_store *s, uint64_t dbid);
/* The handle of the meta database. */
MDB_dbi hl_store_meta_dbi(const hl_store *s);

/* --- the reserved data file (hl_store_env.c) ----------------------------
 * Called with no transaction of this process running (the `use` lock held
 * exclusively). RETRY_MAP: map what others reserved (never less than the
 * file). RETRY_GROW: reserve more of data.mdb (posix_fallocate) and map it;
 * HL_EFULL when that is impossible. HL_OK otherwise. */
int hl_store_reserve(hl_store *s, int why);
/* Is the used part of the map within a margin of its end? (A hint, read
 * without a transaction: a write grows the reservation first.) */
int hl_store_near_full(hl_store *s);

/* --- the write lock (hl_store_wlock.c) ---------------------------------
 * Every writer of the store, in every process, takes it before
 * mdb_txn_begin(write) and keeps it until the transaction ends: so a writer
 * holding it never waits inside LMDB for another writer, and one that may
 * not wait can find out first, with a try. A robust process-shared mutex in
 * write.lock, in the store's directory: a holder that dies (kill -9) leaves
 * it to the next taker, as LMDB's own writer lock does. */

/* Open (create, 0600) and map write.lock in s->dir, making its mutex if the
 * file is new: 0 or an errno. */
int hl_store_wlock_open(hl_store *s);
/* Unmap and close (safe on a store whose open failed half-way). */
void hl_store_wlock_close(hl_store *s);
/* The meta generation, also kept in write.lock, for the read-side cache of
 * tables' meta (hl_store.c): every committed change of a table's meta, in
 * any process, moves it on. A writer calls hl_store_meta_changing before
 * its commit (the generation goes odd: a change may be in flight) and
 * hl_store_meta_changed after it (even again, and new), both holding the
 * write lock. hl_store_meta_gen reads it (acquire). */
uint64_t hl_store_meta_gen(const hl_store *s);
void hl_store_meta_changing(hl_store *s);
void hl_store_meta_changed(hl_store *s);
/* Whether the store's commits should fsync, also kept in write.lock: an
 * opener with opts.sync 0 or 1 (the C node) says so once it is up and with
 * each write (hl_store_sync_announce), an opener that follows (the NIF)
 * reads it before each write. Zero in a new file. */
void hl_store_sync_say(hl_store *s, int on);
int hl_store_sync_said(const hl_store *s);

/* --- the read-side meta cache (hl_store_mcache.c) -----------------------
 * For reads whose op->meta_gen is even (known). get: 1 when this thread
 * remembers name's meta for op's store and generation (op->meta, meta_val
 * and long_name are set; views valid until the thread's next operation),
 * else 0. put: remember op's meta of name (a non-hashed name), just read
 * from the snapshot. */
int hl_store_mcache_get(hl_store_op *op, hl_bytes name);
void hl_store_mcache_put(hl_store_op *op, hl_bytes name);
/* Take the write lock: wait, or (wait 0) only try. HL_OK, HL_EWOULDBLOCK
 * (held by another thread or process; nothing taken), or a positive errno
 * for the caller to log (this file is below hl_store_log's). */
int hl_store_wlock(hl_store *s, int wait);
void hl_store_wunlock(hl_store *s);
/* With hl_store_no_wait set, a write's row work is bounded: each row read
 * inside a write (found by key, or one of a bag key's rows) is charged here,
 * and past HL_STORE_NO_WAIT_BYTES bytes or HL_STORE_NO_WAIT_ROWS rows the
 * operation answers HL_EWOULDBLOCK (the caller aborts; nothing is written).
 * HL_OK otherwise, and always without no_wait or in a read. */
int hl_store_op_charge(hl_store_op *op, size_t bytes);

/* --- rows by type (hl_store_meta.c, hl_store_rows.c, hl_store_bag.c,
 * hl_store_ordered.c) --- */

/* The key of a canonical object (no version byte) of table m, in the key
 * form: a view into obj, or into scratch when the key holds a -0.0.
 * HL_EBADARG if obj is not a tuple of arity >= keypos. */
int hl_store_object_key(const hl_meta *m, hl_bytes obj, hl_buf *scratch, hl_bytes *key);
/* set/ordered_set: find the row of `key`: HL_OK with *found and (if found)
 * *v (131 + object, in txn memory). An ordered_set key longer than
 * HL_STORE_MAX_INLINE_KEY is never stored, so it is not found. */
int hl_store_row_get(hl_store_op *op, hl_bytes key, int *found, MDB_val *v);
/* Write obj (canonical, no version byte) as a row of key: replaces a set's
 * or ordered_set's row, adds to a bag (hl_bag_put). HL_EUNSUPPORTED for an
 * ordered_set key over HL_STORE_MAX_INLINE_KEY bytes; HL_ECOLLISION. */
int hl_store_row_put(hl_store_op *op, hl_bytes key, hl_bytes obj);

/* ordered_set rows are keyed by the canonical key itself, compared in term
 * order with == (hl_order_compare, HL_CMP_EQ): 1 and 1.0 are one key. Every
 * process must install this comparator on the table's handle before any
 * access (hl_store.c does, wherever a handle is opened). */
int hl_store_ordered_cmp(const MDB_val *a, const MDB_val *b);

/* bag and duplicate_bag: one LMDB row per object, keyed by the row key of a
 * set (the canonical key, or 0xFF + hash when long) followed by an 8-byte
 * big-endian sequence number, so a key's objects are adjacent and in
 * insertion order. Canonical terms are prefix-free, so the rows of a key are
 * exactly those of length prefix + 8 that start with the prefix. */
#define HL_BAG_SEQ 8
static inline int hl_store_is_bag(const hl_meta *m)
{
    return m->type == HL_BAG || m->type == HL_DUPLICATE_BAG;
}
/* Called for each row of a key: k is the LMDB key, v 131 + object. A
 * non-zero return stops the scan and is returned. */
typedef int (*hl_bag_fn)(void *ctx, const MDB_val *k, const MDB_val *v);
/* Visit the rows of `key` in insertion order (rows of another key sharing a
 * hash are skipped). */
int hl_bag_scan(hl_store_op *op, hl_bytes key, hl_bag_fn fn, void *ctx);
/* Add obj (canonical, no version byte) under key; a bag skips it when an
 * object =:= to it is there already (keeping that one's place). */
int hl_bag_put(hl_store_op *op, hl_bytes key, hl_bytes obj);
/* Delete the rows of key: all of them when obj.len is 0, else those whose
 * object is =:= obj. *n (may be NULL) gets how many went. */
int hl_bag_delete(hl_store_op *op, hl_bytes key, hl_bytes obj, size_t *n);

#endif
