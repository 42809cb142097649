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
 * A walk visits the whole table or a span of it (hl_store_span): the rows
 * of some keys (each key's rows, wherever they sort: one row in a set or
 * an ordered_set, a key's objects in a bag), or on an ordered_set the keys
 * between two key patterns (hl_keyrange.h). It goes through the span's
 * parts in LMDB key order (reverse: backwards), each part by a cursor seek
 * and steps, and resumes after a position inside or between them.
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

/* Which rows a walk visits. NULL (or HL_SPAN_ALL) is the whole table.
 * HL_SPAN_KEYS: the rows of keys[0..nkeys) (key form; repeats and keys not
 * in the table are fine; a hashed long key's rows may include another
 * key's sharing its hash, which the caller tells apart). HL_SPAN_RANGE,
 * ordered_set only: the keys k with hl_keyrange_cmp(least, k) <= 0 and
 * hl_keyrange_cmp(most, k) >= 0 (ETS's interval for least and most key
 * patterns; empty when least reaches past most); on another type of table
 * (one re-made under the same name since the caller looked) it is the
 * whole table. The views must live until the walk returns. */
typedef enum { HL_SPAN_ALL = 0, HL_SPAN_KEYS = 1, HL_SPAN_RANGE = 2 } hl_span_kind;
typedef struct {
    hl_span_kind kind;
    const hl_bytes *keys;
    size_t nkeys;
    hl_bytes least, most;
} hl_store_span;

/* Walk the rows of `name` in span in LMDB key order (reverse: backwards),
 * starting after `after` (len 0: at the first row), in one read snapshot.
 * Returns HL_OK, HL_ENOTABLE, HL_EACCESS, HL_ENOMEM, HL_ESTORE or fn's
 * error. */
int hl_store_scan(hl_store *s, hl_bytes name, hl_bytes caller, const hl_store_span *span,
                  hl_bytes after, int reverse, hl_store_scan_fn fn, void *ctx);

/*
 * The same walk in one write transaction, where fn decides for each row:
 * return HL_STORE_KEEP (0), HL_STORE_DELETE, HL_STORE_REPLACE with *repl set
 * to the new canonical object (no version byte; fn owns its memory, which
 * must live until the next call of fn; its key must be the row's key, which
 * fn checks), HL_STORE_SCAN_STOP, or a negative hl_err, which aborts the
 * whole transaction (nothing is changed). The walk goes forward over span
 * as hl_store_scan. HL_STORE_REPLACE on a bag is HL_EUNSUPPORTED. Returns
 * HL_OK, HL_ENOTABLE, HL_EACCESS, HL_ENOMEM, HL_EFULL,
 * HL_ESTORE or fn's error.
 */
enum { HL_STORE_KEEP = 0, HL_STORE_DELETE = 2, HL_STORE_REPLACE = 3 };
typedef int (*hl_store_rewrite_fn)(void *ctx, hl_bytes pos, hl_bytes obj, hl_bytes *repl);
int hl_store_rewrite(hl_store *s, hl_bytes name, hl_bytes caller, const hl_store_span *span,
                     hl_bytes after, hl_store_rewrite_fn fn, void *ctx);

#endif
