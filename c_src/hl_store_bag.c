/*
 * hl_store_bag.c: the rows of bag and duplicate_bag tables (layout in
 * hl_store_int.h): one LMDB row per object, keyed by the key's row key plus
 * an 8-byte big-endian sequence number.
 *
 * Why not MDB_DUPSORT: LMDB sorts a key's duplicates by value, while ETS
 * returns a key's objects in insertion order, and a duplicate_bag holds
 * equal values twice, which DUPSORT cannot. A sequence after the key keeps
 * insertion order in the B-tree itself, so lookup is one range scan and
 * size is LMDB's entry count. A new object takes the key's last sequence
 * plus one (one cursor step, not a scan of the key's rows).
 */
#include "hl_store_int.h"

#include "hl_order.h"
#include "hl_term.h"

#include <string.h>

/* The row-key prefix of `key` in pre[] (length *n); 1 when it is hashed. */
static int prefix_of(hl_bytes key, unsigned char pre[HL_STORE_MAX_INLINE_KEY + HL_BAG_SEQ],
                     size_t *n)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    int hashed = hl_store_key_of(key, tmp, &k);
    memcpy(pre, k.mv_data, k.mv_size);
    *n = k.mv_size;
    return hashed;
}

static int has_prefix(const MDB_val *k, const unsigned char *pre, size_t n)
{
    return k->mv_size == n + HL_BAG_SEQ && memcmp(k->mv_data, pre, n) == 0;
}

/* For a hashed key: is row v an object of `key`? 1 yes, 0 no, or an error. */
static int row_is_key(hl_store_op *op, hl_bytes key, const MDB_val *v)
{
    const unsigned char *p = v->mv_data;
    hl_buf scratch = {0};
    hl_bytes stored;
    if (v->mv_size < 2 || p[0] != HL_TAG_VERSION)
        return hl_store_mdb_err(op->s, MDB_CORRUPTED, "unreadable row");
    int rc = hl_store_object_key(&op->meta, (hl_bytes){p + 1, v->mv_size - 1}, &scratch, &stored);
    if (rc == HL_OK)
        rc = hl_bytes_eq(stored, key);
    else if (rc != HL_ENOMEM)
        rc = hl_store_mdb_err(op->s, MDB_CORRUPTED, "unreadable row");
    hl_buf_free(&scratch);
    return rc;
}

int hl_bag_scan(hl_store_op *op, hl_bytes key, hl_bag_fn fn, void *ctx)
{
    unsigned char pre[HL_STORE_MAX_INLINE_KEY + HL_BAG_SEQ];
    size_t n;
    MDB_cursor *cur = NULL;
    if (key.len == 0)
        return HL_EBADARG;
    int hashed = prefix_of(key, pre, &n);
    memset(pre + n, 0, HL_BAG_SEQ);
    MDB_val k = {n + HL_BAG_SEQ, pre}, v;
    int rc = mdb_cursor_open(op->txn, op->dbi, &cur);
    if (rc)
        return hl_store_op_err(op, rc, "cursor");
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (!mrc && !rc && has_prefix(&k, pre, n)) {
        int mine = hashed ? row_is_key(op, key, &v) : 1;
        if (mine > 0 && (rc = hl_store_op_charge(op, v.mv_size)))
            break; /* a write on a normal scheduler that grew too big */
        if (mine < 0)
            rc = mine;
        else if (mine)
            rc = fn(ctx, &k, &v);
        if (!rc)
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        rc = hl_store_op_err(op, mrc, "scan key");
    mdb_cursor_close(cur);
    return rc;
}

/* The last sequence number used under prefix pre[0..n) (0: none). */
static int last_seq(hl_store_op *op, unsigned char *pre, size_t n, uint64_t *seq)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {n + HL_BAG_SEQ, pre}, v;
    *seq = 0;
    memset(pre + n, 0xFF, HL_BAG_SEQ);
    int rc = mdb_cursor_open(op->txn, op->dbi, &cur);
    if (rc)
        return hl_store_op_err(op, rc, "cursor");
    /* The first row after the prefix's highest possible key, then one back. */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && has_prefix(&k, pre, n)) {
        const unsigned char *s = (const unsigned char *)k.mv_data + n;
        *seq = ((uint64_t)hl_get_u32(s) << 32) | hl_get_u32(s + 4);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HL_OK : hl_store_op_err(op, rc, "last of key");
}

typedef struct {
    hl_bytes obj; /* without the version byte */
    int found;
} find_obj;

static int same_object(hl_bytes a, const MDB_val *v)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < 2)
        return 0;
    if (v->mv_size - 1 == a.len && memcmp(p + 1, a.data, a.len) == 0)
        return 1;
    /* =:= but not the same bytes: 0.0 and -0.0 somewhere inside. */
    return hl_order_compare(a.data, a.len, p + 1, v->mv_size - 1, HL_CMP_EXACT) == 0;
}

static int find_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    find_obj *f = ctx;
    f->found = same_object(f->obj, v);
    return f->found ? 1 : HL_OK;
}

int hl_bag_put(hl_store_op *op, hl_bytes key, hl_bytes obj)
{
    unsigned char pre[HL_STORE_MAX_INLINE_KEY + HL_BAG_SEQ];
    size_t n;
    uint64_t seq;
    if (op->meta.type == HL_BAG) {
        find_obj f = {obj, 0};
        int rc = hl_bag_scan(op, key, find_cb, &f);
        if (rc < 0)
            return rc;
        if (f.found)
            return HL_OK;
    }
    (void)prefix_of(key, pre, &n);
    int rc = last_seq(op, pre, n, &seq);
    if (rc)
        return rc;
    seq++;
    hl_put_u32(pre + n, (uint32_t)(seq >> 32));
    hl_put_u32(pre + n + 4, (uint32_t)seq);
    MDB_val k = {n + HL_BAG_SEQ, pre}, v = {obj.len + 1, NULL};
    op->dirty = 1;
    rc = mdb_put(op->txn, op->dbi, &k, &v, MDB_RESERVE);
    if (rc)
        return hl_store_op_err(op, rc, "put");
    unsigned char *p = v.mv_data;
    p[0] = HL_TAG_VERSION;
    memcpy(p + 1, obj.data, obj.len);
    return HL_OK;
}

typedef struct {
    hl_bytes obj; /* len 0: every row */
    hl_buf keys;  /* the LMDB keys to delete, each klen bytes */
    size_t klen, n;
} del_rows;

static int del_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    del_rows *d = ctx;
    if (d->obj.len && !same_object(d->obj, v))
        return HL_OK;
    d->klen = k->mv_size;
    d->n++;
    return hl_buf_append(&d->keys, k->mv_data, k->mv_size);
}

int hl_bag_delete(hl_store_op *op, hl_bytes key, hl_bytes obj, size_t *n)
{
    /* Collected first, deleted after: no cursor is moved under a delete. */
    del_rows d = {obj, {0}, 0, 0};
    int rc = hl_bag_scan(op, key, del_cb, &d);
    for (size_t i = 0; i < d.n && !rc; i++) {
        MDB_val k = {d.klen, d.keys.data + i * d.klen};
        op->dirty = 1;
        int mrc = mdb_del(op->txn, op->dbi, &k, NULL);
        rc = mrc ? hl_store_op_err(op, mrc, "delete") : HL_OK;
    }
    if (n)
        *n = rc ? 0 : d.n;
    hl_buf_free(&d.keys);
    return rc;
}
