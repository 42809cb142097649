/*
 * hl_store_scan.h: walking a table's rows with a cursor that can start
 * after a given row and stop early, for reads (select, match, count) and
 * for rewriting rows in place (select_delete, select_replace).
 *
 * A position is the row's LMDB key (hl_store.h: the canonical key, or 0xFF
 * and a hash for long keys), an opaque byte string a caller keeps between
 * calls to resume a walk: the next walk starts at the first row whose LMDB
 * key sorts after it (before it, walking in reverse), so rows inserted or
 * deleted in between are seen or not according to where they sort.
 *
 * Access rules as hl_store.h: readers need hl_owner_may_read, rewriters
 * hl_owner_may_write, checked in the walk's own transaction.
 */
#ifndef HL_STORE_SCAN_H
#define HL_STORE_SCAN_H

#include "hl_store.h"

/*
 * Called for each row: pos is its LMDB key, obj the stored value (version
 * byte 131 then the canonical object); both valid only during the call.
 * Return 0 to go on, HL_STORE_SCAN_STOP to end the walk (HL_OK), or a
 * negative hl_err to abort with it.
 */
#define HL_STORE_SCAN_STOP 1
typedef int (*hl_store_scan_fn)(void *ctx, hl_bytes pos, hl_bytes obj);

/* Walk the rows of `name` in LMDB key order (reverse: backwards), starting
 * after `after` (len 0: at the first row), in one read snapshot. Returns
 * HL_OK, HL_ENOTABLE, HL_EACCESS, HL_ESTORE or fn's error. */
int hl_store_scan(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes after, int reverse,
                  hl_store_scan_fn fn, void *ctx);

/*
 * The same walk in one write transaction, where fn decides for each row:
 * return HL_STORE_KEEP (0), HL_STORE_DELETE, HL_STORE_REPLACE with *repl set
 * to the new canonical object (no version byte; fn owns its memory, which
 * must live until the next call of fn; its key must be the row's key, which
 * fn checks), HL_STORE_SCAN_STOP, or a negative hl_err, which aborts the
 * whole transaction (nothing is changed). Only `set` tables
 * (HL_EUNSUPPORTED for others). Returns HL_OK, HL_ENOTABLE, HL_EACCESS,
 * HL_EFULL, HL_ESTORE or fn's error.
 */
enum { HL_STORE_KEEP = 0, HL_STORE_DELETE = 2, HL_STORE_REPLACE = 3 };
typedef int (*hl_store_rewrite_fn)(void *ctx, hl_bytes pos, hl_bytes obj, hl_bytes *repl);
int hl_store_rewrite(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes after,
                     hl_store_rewrite_fn fn, void *ctx);

#endif
