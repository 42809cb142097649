/*
 * hl_store_scan.c: cursor walks over a table's rows that resume after a
 * position (see hl_store_scan.h), each one transaction framed by
 * hl_store_op_begin/_end (hl_store.c), like the row operations.
 */
#include "hl_store_scan.h"
#include "hl_store_int.h"
#include "hl_term.h"

/* Position the cursor on the first row after `after` in the walk's
 * direction. MDB_NOTFOUND when there is none. */
static int first_row(MDB_cursor *cur, hl_bytes after, int reverse, MDB_val *k, MDB_val *v)
{
    if (!after.len)
        return mdb_cursor_get(cur, k, v, reverse ? MDB_LAST : MDB_FIRST);
    k->mv_data = (void *)after.data;
    k->mv_size = after.len;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE); /* first key >= after */
    if (rc == MDB_NOTFOUND)
        return reverse ? mdb_cursor_get(cur, k, v, MDB_LAST) : rc;
    if (rc)
        return rc;
    int same = k->mv_size == after.len && !memcmp(k->mv_data, after.data, after.len);
    if (reverse)
        return mdb_cursor_get(cur, k, v, MDB_PREV);
    return same ? mdb_cursor_get(cur, k, v, MDB_NEXT) : 0;
}

typedef int (*row_fn)(void *ctx, MDB_cursor *cur, hl_bytes pos, hl_bytes obj);

static int walk(hl_store_op *op, hl_bytes after, int reverse, row_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(op->txn, op->dbi, &cur);
    if (rc)
        return hl_store_op_err(op, rc, "cursor");
    for (int mrc = first_row(cur, after, reverse, &k, &v); !rc;
         mrc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
        if (mrc) {
            rc = mrc == MDB_NOTFOUND ? HL_OK : hl_store_mdb_err(op->s, mrc, "scan");
            break;
        }
        rc = fn(ctx, cur, (hl_bytes){k.mv_data, k.mv_size}, (hl_bytes){v.mv_data, v.mv_size});
    }
    mdb_cursor_close(cur);
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

int hl_store_scan(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes after, int reverse,
                  hl_store_scan_fn fn, void *ctx)
{
    hl_store_op op;
    read_ctx c = {fn, ctx};
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = walk(&op, after, reverse, read_row, &c);
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

int hl_store_rewrite(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes after,
                     hl_store_rewrite_fn fn, void *ctx)
{
    hl_store_op op;
    int rc = hl_store_op_begin(&op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    write_ctx c = {&op, fn, ctx, {0}};
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = walk(&op, after, 0, write_row, &c);
    hl_buf_free(&c.val);
    return hl_store_op_end(&op, rc);
}
