/*
 * hl_store_rows.c: the row operations of every table type (see hl_store.h;
 * a bag's rows are kept by hl_store_bag.c, ordered_set's order by hl_store_ordered.c),
 * each one transaction framed by hl_store_op_begin/_end (hl_store.c).
 *
 * The idea to keep in mind: a row's LMDB key is either the canonical key
 * itself or, for keys over HL_STORE_MAX_INLINE_KEY bytes, a hash of it. In
 * the hashed case the key inside the stored object is the truth, so every
 * read and write of a hashed row compares it with the key asked for
 * (row_check) and reports HL_ECOLLISION instead of touching another key's row.
 */
#include "hl_store_int.h"

#include "hl_term.h"

#include <string.h>

/* For a hashed key: is the stored value v the row of `key`? */
static int row_check(hl_store_op *op, hl_bytes key, const MDB_val *v)
{
    const unsigned char *p = v->mv_data;
    hl_bytes obj = {p + 1, v->mv_size - 1}, stored;
    hl_buf scratch = {0};
    int rc = v->mv_size < 2 || p[0] != HL_TAG_VERSION
                 ? HL_EBADARG
                 : hl_store_object_key(&op->meta, obj, &scratch, &stored);
    if (rc == HL_OK)
        rc = hl_bytes_eq(stored, key) ? HL_OK : HL_ECOLLISION;
    else if (rc != HL_ENOMEM)
        rc = hl_store_mdb_err(op->s, MDB_CORRUPTED, "unreadable row");
    hl_buf_free(&scratch);
    return rc;
}

static int first_row_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    *(MDB_val *)ctx = *v;
    return 1; /* stop at the first */
}

int hl_store_row_get(hl_store_op *op, hl_bytes key, int *found, MDB_val *v)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    *found = 0;
    if (key.len == 0)
        return HL_EBADARG;
    if (op->meta.type == HL_ORDERED_SET && key.len > HL_STORE_MAX_INLINE_KEY)
        return HL_OK; /* never stored; a hash must not reach the comparator */
    if (hl_store_is_bag(&op->meta)) {
        int rc = hl_bag_scan(op, key, first_row_cb, v);
        *found = rc == 1;
        return rc < 0 ? rc : HL_OK;
    }
    int hashed = hl_store_key_of(key, tmp, &k);
    int rc = mdb_get(op->txn, op->dbi, &k, v);
    if (rc == MDB_NOTFOUND)
        return HL_OK;
    if (rc)
        return hl_store_op_err(op, rc, "get");
    rc = hl_store_op_charge(op, v->mv_size);
    if (!rc && hashed)
        rc = row_check(op, key, v);
    *found = rc == HL_OK;
    return rc;
}

int hl_store_row_put(hl_store_op *op, hl_bytes key, hl_bytes obj)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k, v;
    int found;
    if (hl_store_is_bag(&op->meta))
        return hl_bag_put(op, key, obj);
    if (key.len > HL_STORE_MAX_INLINE_KEY && op->meta.type == HL_ORDERED_SET)
        return HL_EUNSUPPORTED; /* hl_store_ordered.c: no hashed keys */
    if (key.len > HL_STORE_MAX_INLINE_KEY) {
        int rc = hl_store_row_get(op, key, &found, &v);
        if (rc)
            return rc;
    }
    (void)hl_store_key_of(key, tmp, &k);
    v.mv_size = obj.len + 1;
    v.mv_data = NULL;
    op->dirty = 1;
    /* Reserve the value in place and write it there: no staging copy. */
    int rc = mdb_put(op->txn, op->dbi, &k, &v, MDB_RESERVE);
    if (rc)
        return hl_store_op_err(op, rc, "put");
    unsigned char *p = v.mv_data;
    p[0] = HL_TAG_VERSION;
    memcpy(p + 1, obj.data, obj.len);
    return HL_OK;
}

/* insert_new: does any object's key already have a row? */
static int any_exists(hl_store_op *op, const hl_bytes *objs, size_t n, int *exists)
{
    *exists = 0;
    for (size_t i = 0; i < n && !*exists; i++) {
        hl_bytes key;
        MDB_val v;
        hl_buf scratch = {0};
        int rc = hl_store_object_key(&op->meta, objs[i], &scratch, &key);
        if (!rc)
            rc = hl_store_row_get(op, key, exists, &v);
        hl_buf_free(&scratch);
        if (rc)
            return rc;
    }
    return HL_OK;
}

/* Keys repeated within one call: objects are written in the order ETS
 * (OTP 25) writes a list: the list's order (the last of a key wins in a
 * set), except in a bag, which ETS fills from the list's end, so a bag's
 * lookup lists one call's objects last first (ets:insert(B, [{a,1},{a,2}])
 * then lookup gives [{a,2},{a,1}]; a duplicate_bag gives [{a,1},{a,2}]). With only_new, only rows
 * already in the table count as existing (ets:insert_new(T, [{a,1},{a,2}])
 * on an empty table is true). */
static int insert_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                      const hl_bytes *objs, size_t n, int only_new, int *inserted)
{
    int exists = 0;
    if (inserted)
        *inserted = 0;
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op->meta.own, op->meta.access, caller))
        rc = HL_EACCESS;
    /* Every object is checked before anything is written. */
    hl_buf scratch = {0};
    for (size_t i = 0; i < n && !rc; i++) {
        hl_bytes key;
        rc = hl_store_object_key(&op->meta, objs[i], &scratch, &key);
    }
    if (!rc && only_new)
        rc = any_exists(op, objs, n, &exists);
    int reverse = op->meta.type == HL_BAG;
    for (size_t i = 0; i < n && !rc && !exists; i++) {
        hl_bytes key, obj = objs[reverse ? n - 1 - i : i];
        rc = hl_store_object_key(&op->meta, obj, &scratch, &key);
        if (!rc)
            rc = hl_store_row_put(op, key, obj);
    }
    hl_buf_free(&scratch);
    rc = hl_store_op_end(op, rc);
    if (rc == HL_OK && inserted)
        *inserted = !exists;
    return rc;
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_insert(hl_store *s, hl_bytes name, hl_bytes caller, const hl_bytes *objs, size_t n,
                    int only_new, int *inserted)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = insert_try(&op, s, name, caller, objs, n, only_new, inserted);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

typedef struct {
    hl_store_row_fn fn;
    void *ctx;
} row_call;

static int row_call_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    row_call *c = ctx;
    return c->fn(c->ctx, (hl_bytes){v->mv_data, v->mv_size});
}

int hl_store_lookup(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_store_row_fn fn,
                    void *ctx)
{
    hl_store_op op;
    MDB_val v;
    int found = 0;
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc && hl_store_is_bag(&op.meta)) {
        row_call rc_ = {fn, ctx};
        rc = hl_bag_scan(&op, key, row_call_cb, &rc_);
        return hl_store_op_end(&op, rc);
    }
    if (!rc)
        rc = hl_store_row_get(&op, key, &found, &v);
    if (!rc && found) {
        hl_bytes obj = {v.mv_data, v.mv_size};
        rc = fn(ctx, obj);
    }
    return hl_store_op_end(&op, rc);
}

static int member_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key,
                      int *found)
{
    MDB_val v;
    *found = 0;
    int rc = hl_store_op_begin(op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&op->meta.own, op->meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = hl_store_row_get(op, key, found, &v);
    return hl_store_op_end(op, rc);
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_member(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, int *found)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = member_try(&op, s, name, caller, key, found);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

static int delete_key_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                          hl_bytes key)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k, v;
    int found = 0;
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op->meta.own, op->meta.access, caller))
        rc = HL_EACCESS;
    if (!rc && hl_store_is_bag(&op->meta))
        return hl_store_op_end(op, hl_bag_delete(op, key, (hl_bytes){NULL, 0}, NULL));
    if (!rc)
        rc = hl_store_row_get(op, key, &found, &v);
    if (!rc && found) {
        (void)hl_store_key_of(key, tmp, &k);
        op->dirty = 1;
        int mrc = mdb_del(op->txn, op->dbi, &k, NULL);
        rc = mrc ? hl_store_op_err(op, mrc, "delete") : HL_OK;
    }
    return hl_store_op_end(op, rc);
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_delete_key(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = delete_key_try(&op, s, name, caller, key);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

static int delete_all_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller)
{
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_write(&op->meta.own, op->meta.access, caller))
        rc = HL_EACCESS;
    if (!rc) {
        op->dirty = 1;
        int mrc = mdb_drop(op->txn, op->dbi, 0); /* empties; the handle stays open */
        rc = mrc ? hl_store_op_err(op, mrc, "delete all") : HL_OK;
    }
    return hl_store_op_end(op, rc);
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_delete_all(hl_store *s, hl_bytes name, hl_bytes caller)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = delete_all_try(&op, s, name, caller);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

static int walk_rows(hl_store_op *op, hl_store_row_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(op->txn, op->dbi, &cur);
    if (rc)
        return hl_store_op_err(op, rc, "cursor");
    for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (mrc) {
            rc = mrc == MDB_NOTFOUND ? HL_OK : hl_store_op_err(op, mrc, "walk rows");
            break;
        }
        hl_bytes obj = {v.mv_data, v.mv_size};
        rc = fn(ctx, obj);
    }
    mdb_cursor_close(cur);
    return rc;
}

int hl_store_each_object(hl_store *s, hl_bytes name, hl_bytes caller, hl_store_row_fn fn, void *ctx)
{
    hl_store_op op;
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (!hl_owner_may_read(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    if (!rc)
        rc = walk_rows(&op, fn, ctx);
    return hl_store_op_end(&op, rc);
}
