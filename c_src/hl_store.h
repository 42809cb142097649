/*
 * hl_store.h: the table store, on LMDB.
 *
 * One LMDB environment per C node directory. A metadata database ("meta")
 * maps a table's name (its canonical term: an atom, or a reference for
 * unnamed tables) to its hl_meta; each table's rows live in their own named
 * database "t<dbid>" (a fresh dbid per created table, so a dropped and
 * re-created name never sees old rows).
 *
 * Rows of a `set` table: LMDB key = the canonical key term when it is at most
 * HL_STORE_MAX_INLINE_KEY bytes, else 0xFF followed by a 128-bit hash of it;
 * LMDB value = 131 (version byte) followed by the canonical object, so a
 * reader can hand the value straight to binary_to_term. For hashed keys the
 * stored object's key is compared on every read and write; two different keys
 * with the same hash give HL_ECOLLISION rather than a wrong answer.
 *
 * Access rules (hl_owner_may_read/_may_write) are checked against the meta
 * read in the same LMDB transaction as the row operation, so a concurrent
 * ownership change (also a write transaction) can never let a non-owner
 * write. `caller` is the caller's canonical pid; a view of length 0 is the C
 * node itself, which may do anything.
 *
 * Several processes (the C node and NIFs in BEAM VMs on the same host) may
 * open the same directory; LMDB serialises writers and lets readers run
 * without locks.
 *
 * Every function returns HL_OK or a negative hl_err; HL_ESTORE means LMDB
 * failed in a way the caller cannot fix (the detail goes to the store's log
 * callback, if any). Any function that writes may return HL_EFULL: the
 * filesystem has no room for the data file to grow (or this store's cap,
 * opts.map_size, is reached). It is always an error, never a signal: LMDB
 * only ever touches pages of data.mdb reserved beforehand (hl_store_env.c).
 * Reads go on when the store is full.
 */
#ifndef HL_STORE_H
#define HL_STORE_H

#include "hl_common.h"
#include "hl_owner.h"

#define HL_STORE_MAX_INLINE_KEY 480

typedef enum { HL_SET = 0, HL_ORDERED_SET = 1, HL_BAG = 2, HL_DUPLICATE_BAG = 3 } hl_table_type;

typedef struct {
    hl_table_type type;
    unsigned keypos; /* 1-based */
    hl_access access;
    int named;     /* created with named_table */
    uint64_t dbid; /* set by hl_store_create */
    hl_own own;
    hl_bytes name; /* unnamed tables: the name given to new/2 (a canonical
                    * atom), for info(T, name); len 0 for named tables and
                    * for tables made before format 3 */
    void *blob_;   /* private: owned memory behind the views (get_meta) */
} hl_meta;

/* Release what hl_store_get_meta allocated; safe on a zeroed or freed meta. */
void hl_meta_free(hl_meta *m);

typedef struct {
    const char *dir;  /* created if missing (one level) */
    size_t map_size;  /* the most this process grows data.mdb to (bytes; 0: 64 GiB) */
    int sync;         /* 0: no fsync (tmpfs speed); 1: fsync on commit */
    int multi_thread; /* 1 when several threads use the store (the NIF) */
    void (*log)(void *ctx, const char *msg); /* may be NULL */
    void *log_ctx;
} hl_store_opts;

typedef struct hl_store hl_store;

/* Open (or create) the environment in opts->dir. On failure returns a
 * negative code (HL_EFULL: no room even to start) and writes a one-line
 * reason into err (size errlen). */
int hl_store_open(const hl_store_opts *opts, hl_store **out, char *err, size_t errlen);
/* Close; safe with NULL. Pending read snapshots must be finished first. */
void hl_store_close(hl_store *s);

/* For the calling thread: operations that would wait for one of the store's
 * own locks (held by another thread's long write, say) fail at once with
 * HL_EWOULDBLOCK instead. The NIF sets it on normal schedulers. LMDB's writer
 * lock is not covered: only reads may run with it set. */
void hl_store_no_wait(int on);

/* Create table `name` with meta (type, keypos, access, named, own). Fills
 * meta->dbid. HL_EEXISTS if the name is taken, HL_EUNSUPPORTED for types
 * other than HL_SET. */
int hl_store_create(hl_store *s, hl_bytes name, hl_meta *meta);
/* Delete table and rows. HL_ENOTABLE; HL_ENOTOWNER unless caller is owner
 * (or the C node, or the table is public). */
int hl_store_drop(hl_store *s, hl_bytes name, hl_bytes caller);
/* Read meta; free with hl_meta_free. HL_ENOTABLE. */
int hl_store_get_meta(hl_store *s, hl_bytes name, hl_meta *out);
/* Replace ownership state (owner/heir/adopted) of an existing table. HL_ENOTABLE. */
int hl_store_set_own(hl_store *s, hl_bytes name, const hl_own *own);
/* Change the access mode (setopts {protection, P}), checked in the same
 * transaction: HL_ENOTOWNER unless caller owns the table (or is the C node,
 * caller.len 0); HL_ENOTABLE; HL_EBADARG for an access out of range. */
int hl_store_set_access(hl_store *s, hl_bytes name, hl_bytes caller, hl_access access);
/* Call fn for every table (in name byte order) inside one read snapshot;
 * views are valid only during the call. A non-zero return from fn stops the
 * walk and is returned. */
typedef int (*hl_store_table_fn)(void *ctx, hl_bytes name, const hl_meta *meta);
int hl_store_each_table(hl_store *s, hl_store_table_fn fn, void *ctx);

/* Insert canonical objects (tuples, no version byte) atomically: all or none.
 * HL_EBADARG if one is not a tuple of arity >= keypos (nothing written).
 * only_new (insert_new): if any key already exists nothing is written and
 * *inserted = 0, else *inserted = 1. inserted may be NULL. */
int hl_store_insert(hl_store *s, hl_bytes name, hl_bytes caller, const hl_bytes *objs, size_t n,
                    int only_new, int *inserted);

/* Called for each object found; obj includes the leading version byte 131
 * and is valid only during the call. Non-zero return aborts with that code.
 * Callbacks run inside the store's transaction: they must not call the store. */
typedef int (*hl_store_row_fn)(void *ctx, hl_bytes obj);
/* Look up canonical key; fn is called 0 or 1 times for a set. */
int hl_store_lookup(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_store_row_fn fn,
                    void *ctx);
int hl_store_member(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, int *found);
/* Delete the object with this key (absent is fine). */
int hl_store_delete_key(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key);
int hl_store_delete_all(hl_store *s, hl_bytes name, hl_bytes caller);
/* Walk every object of a table (in LMDB key order) in one read snapshot. */
int hl_store_each_object(hl_store *s, hl_bytes name, hl_bytes caller, hl_store_row_fn fn,
                         void *ctx);

typedef struct {
    uint64_t size;         /* number of objects */
    uint64_t memory_bytes; /* LMDB pages used by the table's rows */
} hl_table_stats;
/* Size and memory of a table (no access check: info is public in ETS). */
int hl_store_stats(hl_store *s, hl_bytes name, hl_table_stats *out);

/* The directory the store was opened on (for telling clients where it is). */
const char *hl_store_dir(const hl_store *s);

#endif
