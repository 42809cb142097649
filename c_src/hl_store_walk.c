/*
 * hl_store_walk.c: walking a table's keys (first/next/last/prev) and its
 * objects in bounded chunks (folds), contract in hl_store.h.
 *
 * Order: an ordered_set's rows are in Erlang term order (its comparator,
 * hl_store_ordered.c). Other types walk their LMDB row-key order, which is a
 * fixed order of the keys, not term order, as ETS's hash order is not; for
 * them last/1 is first/1 and prev/2 is next/2, as in ETS. A position is a
 * key: a chunk ends on a key's last row, and the next chunk starts after
 * that key, found again by its row key, so a key deleted between chunks is
 * no obstacle (the walk then sees what a walk of ETS without safe_fixtable
 * may: rows written meanwhile may or may not appear).
 */
#include "hl_store_int.h"

#include "hl_term.h"

#include <string.h>

typedef struct {
    hl_store_op op;
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char pos[HL_STORE_MAX_INLINE_KEY + HL_BAG_SEQ];
    hl_buf scratch;
} walk;

/* The key element of the row in w->v (object form, a view into the txn). */
static int row_key(walk *w, hl_bytes *key)
{
    const unsigned char *p = w->v.mv_data;
    size_t arity;
    if (w->v.mv_size < 2 || hl_term_tuple_arity(p + 1, w->v.mv_size - 1, &arity) ||
        arity < w->op.meta.keypos ||
        hl_term_tuple_element(p + 1, w->v.mv_size - 1, w->op.meta.keypos, key))
        return hl_store_mdb_err(w->op.s, MDB_CORRUPTED, "unreadable row");
    return HL_OK;
}

/* The row-key prefix of a row (a bag's key without its sequence). */
static size_t prefix_len(const walk *w, const MDB_val *k)
{
    return hl_store_is_bag(&w->op.meta) ? k->mv_size - HL_BAG_SEQ : k->mv_size;
}

static int mdb_rc(walk *w, int mrc)
{
    return mrc == 0 ? HL_OK : mrc == MDB_NOTFOUND ? 1 : hl_store_mdb_err(w->op.s, mrc, "walk");
}

/*
 * Put the cursor on the first row past `key` (forward), or before it
 * (backward): 1 when there is none. An ordered_set compares keys in term
 * order; other types by row key, past every row of that key.
 */
static int seek(walk *w, hl_bytes key, int back)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val rk;
    hl_bytes kf;
    int rc = hl_term_key_form(key, &w->scratch, &kf);
    if (rc)
        return rc;
    int ordered = w->op.meta.type == HL_ORDERED_SET;
    if (ordered) {
        rk.mv_size = kf.len;
        rk.mv_data = (void *)kf.data;
    } else {
        (void)hl_store_key_of(kf, tmp, &rk);
    }
    memcpy(w->pos, rk.mv_data, rk.mv_size);
    w->k.mv_data = w->pos;
    w->k.mv_size = rk.mv_size;
    if (hl_store_is_bag(&w->op.meta)) {
        memset(w->pos + rk.mv_size, back ? 0 : 0xFF, HL_BAG_SEQ);
        w->k.mv_size += HL_BAG_SEQ;
    }
    size_t want = rk.mv_size;
    rc = mdb_rc(w, mdb_cursor_get(w->cur, &w->k, &w->v, MDB_SET_RANGE));
    if (back)
        return mdb_rc(w, mdb_cursor_get(w->cur, &w->k, &w->v, rc == 1 ? MDB_LAST : MDB_PREV));
    if (rc)
        return rc;
    int same = ordered ? hl_store_ordered_cmp(&w->k, &rk) == 0
                       : prefix_len(w, &w->k) == want && !memcmp(w->k.mv_data, w->pos, want);
    return same ? mdb_rc(w, mdb_cursor_get(w->cur, &w->k, &w->v, MDB_NEXT)) : HL_OK;
}

static int walk_begin(walk *w, hl_store *s, hl_bytes name, hl_bytes caller)
{
    memset(w, 0, sizeof *w);
    int rc = hl_store_op_begin(&w->op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&w->op.meta.own, w->op.meta.access, caller))
        rc = HL_EACCESS;
    else if ((rc = mdb_cursor_open(w->op.txn, w->op.dbi, &w->cur)))
        rc = hl_store_mdb_err(s, rc, "cursor");
    if (rc)
        return hl_store_op_end(&w->op, rc);
    return HL_OK;
}

static int walk_end(walk *w, int rc)
{
    if (w->cur)
        mdb_cursor_close(w->cur);
    hl_buf_free(&w->scratch);
    return hl_store_op_end(&w->op, rc);
}

int hl_store_step(hl_store *s, hl_bytes name, hl_bytes caller, hl_step how, hl_bytes key,
                  hl_store_row_fn fn, void *ctx)
{
    walk w;
    int rc = walk_begin(&w, s, name, caller);
    if (rc)
        return rc;
    int ordered = w.op.meta.type == HL_ORDERED_SET, fixed = how >= HL_STEP_NEXT_FIXED;
    if (fixed)
        how = how == HL_STEP_NEXT_FIXED ? HL_STEP_NEXT : HL_STEP_PREV;
    if (!ordered && (how == HL_STEP_LAST || how == HL_STEP_PREV))
        how = how == HL_STEP_LAST ? HL_STEP_FIRST : HL_STEP_NEXT; /* as ETS */
    if (how == HL_STEP_FIRST || how == HL_STEP_LAST) {
        rc = mdb_rc(&w,
                    mdb_cursor_get(w.cur, &w.k, &w.v, how == HL_STEP_FIRST ? MDB_FIRST : MDB_LAST));
    } else if (key.len == 0) {
        rc = HL_EBADARG;
    } else {
        if (!ordered && !fixed) { /* ETS: badarg for a key not in the table */
            int found;
            MDB_val v;
            hl_bytes kf;
            rc = hl_term_key_form(key, &w.scratch, &kf);
            if (!rc)
                rc = hl_store_row_get(&w.op, kf, &found, &v);
            if (!rc && !found)
                rc = HL_EBADARG;
        } else if (ordered && key.len > HL_STORE_MAX_INLINE_KEY) {
            rc = HL_EUNSUPPORTED;
        }
        if (!rc)
            rc = seek(&w, key, how == HL_STEP_PREV);
    }
    hl_bytes found_key;
    if (rc == HL_OK)
        rc = row_key(&w, &found_key);
    if (rc == HL_OK)
        rc = fn(ctx, found_key);
    return walk_end(&w, rc == 1 ? HL_OK : rc);
}

int hl_store_chunk(hl_store *s, hl_bytes name, hl_bytes caller, int back, hl_bytes after,
                   size_t max, hl_store_row_fn fn, void *ctx, int *more)
{
    walk w;
    *more = 0;
    int rc = walk_begin(&w, s, name, caller);
    if (rc)
        return rc;
    if (w.op.meta.type != HL_ORDERED_SET)
        back = 0; /* foldr is foldl there, as last/prev are first/next */
    if (after.len && w.op.meta.type == HL_ORDERED_SET && after.len > HL_STORE_MAX_INLINE_KEY)
        rc = HL_EUNSUPPORTED;
    else if (after.len)
        rc = seek(&w, after, back);
    else
        rc = mdb_rc(&w, mdb_cursor_get(w.cur, &w.k, &w.v, back ? MDB_LAST : MDB_FIRST));
    size_t n = 0;
    MDB_val last = {0, NULL};
    while (rc == HL_OK) {
        /* Past the limit, stop on a key boundary (so `after` resumes). */
        if (n >= max && (!hl_store_is_bag(&w.op.meta) || prefix_len(&w, &w.k) != last.mv_size ||
                         memcmp(w.k.mv_data, last.mv_data, last.mv_size))) {
            *more = 1;
            break;
        }
        rc = fn(ctx, (hl_bytes){w.v.mv_data, w.v.mv_size});
        n++;
        last.mv_data = w.k.mv_data;
        last.mv_size = prefix_len(&w, &w.k);
        if (!rc)
            rc = mdb_rc(&w, mdb_cursor_get(w.cur, &w.k, &w.v, back ? MDB_PREV : MDB_NEXT));
    }
    return walk_end(&w, rc == 1 ? HL_OK : rc);
}
