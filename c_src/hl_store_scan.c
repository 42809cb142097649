/*
 * hl_store_scan.c: cursor walks over a table's rows, or a span of them,
 * that resume after a position (see hl_store_scan.h), each one transaction
 * framed by hl_store_op_begin/_end (hl_store.c), like the row operations.
 *
 * A span becomes sorted parts [lo, hi] of LMDB keys, compared with the
 * table's own comparator (mdb_cmp): a set's key is one row key, a bag's the
 * row keys of its sequence numbers, an ordered_set's range two probes that
 * its comparator places around the keys a pattern reaches
 * (hl_store_ordered.c). Each part costs one seek; a whole-table walk is one
 * part with open ends.
 */
#include "hl_store_scan.h"
#include "hl_keyrange.h"
#include "hl_store_int.h"
#include "hl_term.h"

#include <stdint.h>
#include <stdlib.h>

/* The parts of a span, each [lo, hi] in the table's LMDB key order, both
 * ends inclusive; an end of size 0 is open. Ends view the caller's keys,
 * or `bytes` (row keys and probes made here) from offset `at`, set once
 * bytes stops growing. */
typedef struct {
    MDB_val lo, hi;
    size_t at; /* SIZE_MAX: lo and hi view the caller's memory */
} part;

typedef struct {
    part *p;
    size_t n, cap;
    hl_buf bytes;
} parts;

static void parts_free(parts *ps)
{
    free(ps->p);
    hl_buf_free(&ps->bytes);
}

static int cmpv(hl_store_op *op, const MDB_val *a, const MDB_val *b)
{
    return mdb_cmp(op->txn, op->dbi, a, b);
}

/* A part with both ends the caller's view key (len 0: open ends). */
static int view_part(parts *ps, hl_bytes key)
{
    if (hl_grow(&ps->p, &ps->cap, ps->n + 1, sizeof *ps->p, 8))
        return HL_ENOMEM;
    MDB_val v = {key.len, (void *)key.data};
    ps->p[ps->n++] = (part){v, v, SIZE_MAX};
    return HL_OK;
}

/* A part whose ends are the last lo_len + hi_len bytes of ps->bytes. */
static int made_part(parts *ps, size_t lo_len, size_t hi_len)
{
    if (hl_grow(&ps->p, &ps->cap, ps->n + 1, sizeof *ps->p, 8))
        return HL_ENOMEM;
    MDB_val lo = {lo_len, NULL}, hi = {hi_len, NULL};
    ps->p[ps->n++] = (part){lo, hi, ps->bytes.len - lo_len - hi_len};
    return HL_OK;
}

/* The rows of one key: itself in an ordered_set, its row key in a set, the
 * row keys from prefix + 0 to prefix + all ones in a bag. */
static int key_part(hl_store_op *op, parts *ps, hl_bytes key)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val rk;
    if (op->meta.type == HL_ORDERED_SET)
        return key.len > HL_STORE_MAX_INLINE_KEY ? HL_OK /* never stored */ : view_part(ps, key);
    hl_store_key_of(key, tmp, &rk);
    int bag = hl_store_is_bag(&op->meta);
    size_t n = rk.mv_size + (bag ? HL_BAG_SEQ : 0);
    if (hl_buf_reserve(&ps->bytes, 2 * n))
        return HL_ENOMEM;
    for (int end = 0; end < 2; end++) { /* cannot fail: the room is reserved */
        hl_buf_append(&ps->bytes, rk.mv_data, rk.mv_size);
        for (int i = 0; bag && i < HL_BAG_SEQ; i++)
            hl_buf_append_byte(&ps->bytes, end ? 0xFF : 0x00);
    }
    return made_part(ps, n, n);
}

typedef struct {
    hl_store_op *op;
} sort_ctx;

static int part_order(const void *x, const void *y, void *ctx)
{
    return cmpv(((sort_ctx *)ctx)->op, &((const part *)x)->lo, &((const part *)y)->lo);
}

/* The parts of span, sorted, without repeats. */
static int make_parts(hl_store_op *op, const hl_store_span *span, parts *ps)
{
    int rc = HL_OK;
    if (!span || span->kind == HL_SPAN_ALL ||
        (span->kind == HL_SPAN_RANGE && op->meta.type != HL_ORDERED_SET))
        return view_part(ps, (hl_bytes){NULL, 0}); /* the whole table (hl_store_scan.h) */
    if (span->kind == HL_SPAN_RANGE) {
        size_t lo_len;
        rc = hl_keyrange_probe(span->least, 0, &ps->bytes);
        lo_len = ps->bytes.len;
        if (!rc)
            rc = hl_keyrange_probe(span->most, 1, &ps->bytes);
        if (!rc)
            rc = made_part(ps, lo_len, ps->bytes.len - lo_len);
    } else {
        for (size_t i = 0; !rc && i < span->nkeys; i++)
            rc = key_part(op, ps, span->keys[i]);
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < ps->n; i++) { /* bytes is complete: point into it */
        part *x = &ps->p[i];
        if (x->at != SIZE_MAX) {
            x->lo.mv_data = ps->bytes.data + x->at;
            x->hi.mv_data = ps->bytes.data + x->at + x->lo.mv_size;
        }
    }
    sort_ctx c = {op};
    if (ps->n > 1)
        qsort_r(ps->p, ps->n, sizeof *ps->p, part_order, &c);
    size_t kept = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (!kept || cmpv(op, &ps->p[kept - 1].lo, &ps->p[i].lo))
            ps->p[kept++] = ps->p[i];
    ps->n = kept;
    return HL_OK;
}

/* The first row >= x (> x when excl). A probe too long for LMDB's search
 * (MDB_BAD_VALSIZE) is reached by stepping from the first row instead. */
static int seek_ge(hl_store_op *op, MDB_cursor *cur, const MDB_val *x, int excl, MDB_val *k,
                   MDB_val *v)
{
    *k = *x;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == MDB_BAD_VALSIZE) {
        rc = mdb_cursor_get(cur, k, v, MDB_FIRST);
        while (!rc && cmpv(op, k, x) < 0)
            rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
    }
    if (!rc && excl && cmpv(op, k, x) == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
    return rc;
}

/* The last row <= x (< x when excl). */
static int seek_le(hl_store_op *op, MDB_cursor *cur, const MDB_val *x, int excl, MDB_val *k,
                   MDB_val *v)
{
    *k = *x;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE); /* the first row >= x */
    if (rc == MDB_BAD_VALSIZE) {
        rc = mdb_cursor_get(cur, k, v, MDB_LAST);
        while (!rc && cmpv(op, k, x) > 0)
            rc = mdb_cursor_get(cur, k, v, MDB_PREV);
        if (!rc && excl && cmpv(op, k, x) == 0)
            rc = mdb_cursor_get(cur, k, v, MDB_PREV);
        return rc;
    }
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    if (!rc && (excl || cmpv(op, k, x) != 0))
        rc = mdb_cursor_get(cur, k, v, MDB_PREV);
    return rc;
}

/* Where a walk of part x starts: after `a` if a is inside it, else at its
 * near end. 1 when x lies wholly at or behind a (nothing to visit). */
static int part_start(hl_store_op *op, MDB_cursor *cur, const part *x, const MDB_val *a,
                      int reverse, MDB_val *k, MDB_val *v, int *mrc)
{
    const MDB_val *near = reverse ? &x->hi : &x->lo, *far = reverse ? &x->lo : &x->hi;
    int back = reverse ? -1 : 1; /* a's side: where the walk has been */
    if (a->mv_size && far->mv_size && back * cmpv(op, a, far) >= 0)
        return 1;
    if (a->mv_size && (!near->mv_size || back * cmpv(op, a, near) >= 0))
        *mrc = reverse ? seek_le(op, cur, a, 1, k, v) : seek_ge(op, cur, a, 1, k, v);
    else if (near->mv_size)
        *mrc = reverse ? seek_le(op, cur, near, 0, k, v) : seek_ge(op, cur, near, 0, k, v);
    else
        *mrc = mdb_cursor_get(cur, k, v, reverse ? MDB_LAST : MDB_FIRST);
    return 0;
}

typedef int (*row_fn)(void *ctx, MDB_cursor *cur, hl_bytes pos, hl_bytes obj);

static int walk(hl_store_op *op, const hl_store_span *span, hl_bytes after, int reverse, row_fn fn,
                void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val a = {after.len, (void *)after.data}, k, v;
    parts ps = {0};
    int rc = make_parts(op, span, &ps);
    if (rc) {
        parts_free(&ps);
        return rc;
    }
    if ((rc = mdb_cursor_open(op->txn, op->dbi, &cur))) {
        parts_free(&ps);
        return hl_store_op_err(op, rc, "cursor");
    }
    for (size_t j = 0; !rc && j < ps.n; j++) {
        const part *x = &ps.p[reverse ? ps.n - 1 - j : j];
        const MDB_val *end = reverse ? &x->lo : &x->hi;
        int mrc = 0;
        if (part_start(op, cur, x, &a, reverse, &k, &v, &mrc))
            continue;
        for (; !rc; mrc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
            if (mrc) {
                if (mrc != MDB_NOTFOUND)
                    rc = hl_store_mdb_err(op->s, mrc, "scan");
                break;
            }
            if (end->mv_size && (reverse ? -1 : 1) * cmpv(op, &k, end) > 0)
                break;
            rc = fn(ctx, cur, (hl_bytes){k.mv_data, k.mv_size}, (hl_bytes){v.mv_data, v.mv_size});
        }
    }
    mdb_cursor_close(cur);
    parts_free(&ps);
    return rc == HL_STORE_SCAN_STOP ? HL_OK : rc;
}

typedef struct {
    hl_store_scan_fn fn;
    void *ctx;
} read_ctx;

static int read_row(void *ctx, MDB_cursor *cur, hl_bytes pos, hl_bytes obj)
{
    (void)cur;
    read_ctx *c = ctx;
    return c->fn(c->ctx, pos, obj);
}

int hl_store_scan(hl_store *s, hl_bytes name, hl_bytes caller, const hl_store_span *span,
                  hl_bytes after, int reverse, hl_store_scan_fn fn, void *ctx)
{
    hl_store_op op;
    read_ctx c = {fn, ctx};
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = walk(&op, span, after, reverse, read_row, &c);
    return hl_store_op_end(&op, rc);
}

typedef struct {
    hl_store_op *op;
    hl_store_rewrite_fn fn;
    void *ctx;
    hl_buf val;
} write_ctx;

static int write_row(void *ctx, MDB_cursor *cur, hl_bytes pos, hl_bytes obj)
{
    write_ctx *c = ctx;
    hl_bytes repl = {NULL, 0};
    int rc = c->fn(c->ctx, pos, obj, &repl), mrc = 0;
    if (rc == HL_STORE_DELETE) {
        c->op->dirty = 1;
        mrc = mdb_cursor_del(cur, 0);
    } else if (rc == HL_STORE_REPLACE && c->op->meta.type == HL_BAG) {
        /* A replaced object could equal another of its key, which a bag
         * must not hold twice: not done yet (README, Semantics). */
        return HL_EUNSUPPORTED;
    } else if (rc == HL_STORE_REPLACE) {
        MDB_val k = {pos.len, (void *)pos.data}, v;
        c->val.len = 0;
        if (hl_buf_append_byte(&c->val, HL_TAG_VERSION) ||
            hl_buf_append(&c->val, repl.data, repl.len))
            return HL_ENOMEM;
        v.mv_size = c->val.len;
        v.mv_data = c->val.data;
        c->op->dirty = 1;
        mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
    } else {
        return rc;
    }
    return mrc ? hl_store_op_err(c->op, mrc, "rewrite") : HL_OK;
}

int hl_store_rewrite(hl_store *s, hl_bytes name, hl_bytes caller, const hl_store_span *span,
                     hl_bytes after, hl_store_rewrite_fn fn, void *ctx)
{
    hl_store_op op;
    int rc = hl_store_op_begin(&op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    write_ctx c = {&op, fn, ctx, {0}};
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = walk(&op, span, after, 0, write_row, &c);
    hl_buf_free(&c.val);
    return hl_store_op_end(&op, rc);
}
