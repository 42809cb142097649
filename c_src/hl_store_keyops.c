/*
 * hl_store_keyops.c: key-based write operations of every table type
 * (delete_object, take), contract in hl_store.h. Each is one write
 * transaction of the frame in hl_store.c, access checked inside it.
 */
#include "hl_store_int.h"

#include "hl_order.h"

#include <string.h>

static int write_begin(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller)
{
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op->meta.own, op->meta.access, caller))
        return hl_store_op_end(op, HL_EACCESS);
    return HL_OK;
}

/* Delete the single row of key in a set or ordered_set (it exists). */
static int del_row(hl_store_op *op, hl_bytes key)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    (void)hl_store_key_of(key, tmp, &k);
    op->dirty = 1;
    int mrc = mdb_del(op->txn, op->dbi, &k, NULL);
    return mrc ? hl_store_op_err(op, mrc, "delete") : HL_OK;
}

static int delete_object_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                             hl_bytes obj)
{
    hl_buf scratch = {0};
    hl_bytes key;
    MDB_val v;
    int found = 0;
    int rc = write_begin(op, s, name, caller);
    if (rc)
        return rc;
    rc = hl_store_object_key(&op->meta, obj, &scratch, &key);
    if (!rc && hl_store_is_bag(&op->meta)) {
        rc = hl_bag_delete(op, key, obj, NULL);
    } else {
        if (!rc)
            rc = hl_store_row_get(op, key, &found, &v);
        /* The whole object must be =:= (an ordered_set finds 1.0's row
         * under 1, but {1.0, a} is not {1, a}). */
        if (!rc && found && v.mv_size >= 1 &&
            hl_order_compare(obj.data, obj.len, (const unsigned char *)v.mv_data + 1, v.mv_size - 1,
                             HL_CMP_EXACT) == 0)
            rc = del_row(op, key);
    }
    hl_buf_free(&scratch);
    return hl_store_op_end(op, rc);
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_delete_object(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes obj)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = delete_object_try(&op, s, name, caller, obj);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

/* Take copies what it removes and hands it to the caller's callback only
 * once the transaction committed: a retried attempt (the map had to grow)
 * must not show the caller an object twice. Each copy is a u32 length and
 * the bytes (131 + object). */
static int copy_row(hl_buf *got, const MDB_val *v)
{
    int rc = hl_buf_append_u32(got, (uint32_t)v->mv_size);
    return rc ? rc : hl_buf_append(got, v->mv_data, v->mv_size);
}

static int copy_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    return copy_row(ctx, v);
}

static int take_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key,
                    hl_buf *got)
{
    MDB_val v;
    int found = 0;
    got->len = 0;
    int rc = write_begin(op, s, name, caller);
    if (rc)
        return rc;
    if (hl_store_is_bag(&op->meta)) {
        rc = hl_bag_scan(op, key, copy_cb, got);
        if (!rc)
            rc = hl_bag_delete(op, key, (hl_bytes){NULL, 0}, NULL);
    } else {
        rc = hl_store_row_get(op, key, &found, &v);
        if (!rc && found)
            rc = copy_row(got, &v);
        if (!rc && found)
            rc = del_row(op, key);
    }
    return hl_store_op_end(op, rc);
}

int hl_store_take(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_store_row_fn fn,
                  void *ctx)
{
    hl_store_op op = {0};
    hl_buf got = {0};
    int rc, attempt = 0;
    do
        rc = take_try(&op, s, name, caller, key, &got);
    while (hl_store_again(&op, &rc, &attempt));
    for (size_t pos = 0; !rc && pos + 4 <= got.len;) {
        size_t n = hl_get_u32(got.data + pos);
        rc = fn(ctx, (hl_bytes){got.data + pos + 4, n});
        pos += 4 + n;
    }
    hl_buf_free(&got);
    return rc;
}
