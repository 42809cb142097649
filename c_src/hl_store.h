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
    int sync;         /* 0: no fsync (tmpfs speed); 1: fsync on commit; both
                         said to the store's followers (hl_store_sync_announce).
                         HL_STORE_SYNC_FOLLOW: as the C node last said (the NIF
                         follows its C node's --sync) */
    int multi_thread; /* 1 when several threads use the store (the NIF) */
    void (*log)(void *ctx, const char *msg); /* may be NULL */
    void *log_ctx;
} hl_store_opts;

#define HL_STORE_SYNC_FOLLOW 2

typedef struct hl_store hl_store;

/* Open (or create) the environment in opts->dir. On failure returns a
 * negative code (HL_EFULL: no room even to start) and writes a one-line
 * reason into err (size errlen). */
int hl_store_open(const hl_store_opts *opts, hl_store **out, char *err, size_t errlen);
/* Close; safe with NULL. Pending read snapshots must be finished first. */
void hl_store_close(hl_store *s);
/* 1 when this store's write commits fsync (data, then the meta page, in
 * LMDB's order): opts.sync 1, or HL_STORE_SYNC_FOLLOW while the store's C
 * node last said 1 (hl_store_sync_announce). Else 0. A follower's writes
 * see a change from their next transaction. */
int hl_store_syncs(const hl_store *s);
/* For a store opened with sync 0 or 1 (a C node): tell the store's
 * followers (the NIF) whether to fsync. The C node calls it once it is up,
 * so a node that fails to start says nothing; each of its writes says it
 * again, so the node that wrote last decides. No-op for a follower. */
void hl_store_sync_announce(hl_store *s);

/* For the calling thread: operations that would wait for one of the store's
 * own locks (held by another thread's long write, say) fail at once with
 * HL_EWOULDBLOCK instead, having done nothing. The NIF sets it on normal
 * schedulers. Writes too: every writer in every process takes the store's
 * write lock before LMDB's (hl_store_int.h), so a write that gets it never
 * waits in LMDB; one that does not, or that would have to grow the data
 * file, fsync (opts.sync), or touch more than HL_STORE_NO_WAIT_BYTES of
 * existing rows (or HL_STORE_NO_WAIT_ROWS rows of a bag key), answers
 * HL_EWOULDBLOCK and writes nothing. The caller bounds what it passes in. */
void hl_store_no_wait(int on);
#define HL_STORE_NO_WAIT_BYTES 65536
#define HL_STORE_NO_WAIT_ROWS 256

/* Create table `name` with meta (type, keypos, access, named, own). Fills
 * meta->dbid. HL_EEXISTS if the name is taken, HL_EBADARG for a type,
 * keypos or access out of range. Every type: set, ordered_set (keys in term
 * order, compared with ==; keys over HL_STORE_MAX_INLINE_KEY bytes are
 * refused with HL_EUNSUPPORTED), bag and duplicate_bag (a key's objects in
 * insertion order). */
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
/* rename/2: a named table's meta moves to new_name (canonical atom), rows
 * and all; an unnamed table only changes the name info(T, name) gives.
 * HL_EACCESS unless the caller may write (owner, or a public table);
 * HL_EEXISTS if new_name is taken; HL_ENOTABLE. */
int hl_store_rename(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes new_name);
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
/*
 * Every row operation below checks the caller against the table's access
 * mode in its own transaction (hl_owner_may_read / _may_write; caller.len 0
 * is the C node) and returns HL_OK or: HL_ENOTABLE (no such table),
 * HL_EACCESS (the access mode refuses the caller), HL_EBADARG (a malformed
 * argument), HL_ECOLLISION (two long keys share a hash), HL_EWOULDBLOCK
 * (with hl_store_no_wait set: a lock was busy or the work too big; nothing done),
 * HL_EFULL (writes: the filesystem or --map-size is exhausted), HL_ESTORE
 * (LMDB failed; logged), or a non-zero code a callback returned. Writes are
 * atomic and retried whole when the map must grow (hl_store_take hands its
 * objects over only after the commit; hl_store_rewrite, whose callback
 * decides row by row inside the transaction, is not retried and answers
 * HL_EFULL then).
 */
/* The objects of canonical key `key`: fn is called once for a set or
 * ordered_set that holds it (0 times if absent), once per object, in
 * insertion order, for a bag or duplicate_bag. The views passed to fn point
 * into the store's map and live only during the call (copy to keep); fn
 * runs inside the read transaction and must not call the store. */
int hl_store_lookup(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_store_row_fn fn,
                    void *ctx);
/* *found = 1 when key has an object (read access needed), else 0. */
int hl_store_member(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, int *found);
/* Delete every object of key (write access needed); absent is fine. */
int hl_store_delete_key(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key);
/* Delete every object, keep the table (write access needed). */
int hl_store_delete_all(hl_store *s, hl_bytes name, hl_bytes caller);
/* Walk every object of a table in one read snapshot: in term order for an
 * ordered_set, in the store's own order for the other types (a bag's
 * objects of one key together, in insertion order). Views live during the
 * call only; fn must not call the store. A large table holds its snapshot
 * for the whole walk: the API's folds and selects use chunked walks
 * (hl_store_chunk, hl_store_scan) instead. */
int hl_store_each_object(hl_store *s, hl_bytes name, hl_bytes caller, hl_store_row_fn fn,
                         void *ctx);

typedef struct {
    uint64_t size;         /* number of objects */
    uint64_t memory_bytes; /* LMDB pages used by the table's rows */
} hl_table_stats;
/* Size and memory of a table (no access check: info is public in ETS). */
int hl_store_stats(hl_store *s, hl_bytes name, hl_table_stats *out);

/* --- key-based operations of every type (hl_store_keyops.c) ------------ */

/* Delete the objects =:= obj (canonical, no version byte) of obj's key: one
 * for a set, all equal ones in a bag. HL_EBADARG for a non-tuple or short
 * tuple; absent is fine. */
int hl_store_delete_object(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes obj);
/* Call fn for each object of key (as hl_store_lookup), then delete them,
 * in one transaction. */
int hl_store_take(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_store_row_fn fn,
                  void *ctx);

/* lookup_element: fn gets element pos (canonical, no version byte) of each
 * object of key, in order; *many is 1 for a bag (ETS answers a list), 0
 * for a set (the element alone). HL_EBADARG when there is none or one is
 * shorter than pos, as ETS. */
int hl_store_lookup_element(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, size_t pos,
                            hl_store_row_fn fn, void *ctx, int *many);
/* update_counter (hl_update.h for ops): the object of key, or when there is
 * none and dflt.len, dflt with its key replaced by key, is updated and
 * written; the reply (an integer or a list) is appended to result. HL_EBADARG
 * for a bag, a missing key without default, or what hl_update_counter
 * refuses (nothing is written then). */
int hl_store_update_counter(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_bytes ops,
                            hl_bytes dflt, hl_buf *result);
/* update_element: *updated is 0 when key has no object. HL_EBADARG for a
 * bag or what hl_update_element refuses. */
int hl_store_update_element(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key,
                            hl_bytes spec, int *updated);

/* --- walks (hl_store_walk.c) -------------------------------------------- */

/* *_FIXED: NEXT and PREV in a table fixed by safe_fixtable, where the key
 * need not be in the table for any type (the walk goes on from where it
 * was, as ETS's fixed tables allow). */
typedef enum {
    HL_STEP_FIRST,
    HL_STEP_NEXT,
    HL_STEP_LAST,
    HL_STEP_PREV,
    HL_STEP_NEXT_FIXED,
    HL_STEP_PREV_FIXED
} hl_step;
/* first/next/last/prev: fn is called once with the key found (the key
 * element of its object, canonical, NO version byte, valid during the call),
 * or not at all at the end of the table ('$end_of_table'). key (canonical)
 * is used by NEXT and PREV: for an ordered_set it need not be in the table;
 * for other types it must be (else HL_EBADARG, as ETS), and LAST/PREV are
 * FIRST/NEXT, as in ETS. */
int hl_store_step(hl_store *s, hl_bytes name, hl_bytes caller, hl_step how, hl_bytes key,
                  hl_store_row_fn fn, void *ctx);
/* One chunk of a fold: fn gets objects (131 + object) from the start (or the
 * end, when back) or from just past the key `after` (canonical, len 0: from
 * the start), at least max of them unless the table ends, ending on a key's
 * last object. *more is 1 when rows remain (continue after the last key
 * seen). Each chunk is its own read snapshot. back only changes an
 * ordered_set's walk: other types have one order, as ETS's foldr is its
 * foldl for them. */
int hl_store_chunk(hl_store *s, hl_bytes name, hl_bytes caller, int back, hl_bytes after,
                   size_t max, hl_store_row_fn fn, void *ctx, int *more);

/* The directory the store was opened on (for telling clients where it is). */
const char *hl_store_dir(const hl_store *s);

#endif
