/*
 * hl_store_tables.c: table-level operations of the store (contract in
 * hl_store.h): create, drop, read and change a table's meta, walk all
 * tables, and a table's size and memory.
 *
 * Each is one transaction of the frame in hl_store.c (hl_store_op_begin /
 * hl_store_op_end). A table's rows live in their own LMDB database "t<dbid>",
 * with a dbid never reused, so a dropped and re-created name never sees the
 * old rows, and a stale handle in another process is harmless.
 */
#include "hl_store_int.h"

#include <stdlib.h>
#include <string.h>

/* Reserved meta key holding the last dbid handed out (u64, big-endian). */
static const unsigned char next_dbid_key[] = {0x00, 'd', 'b', 'i', 'd'};

/* Hand out the next dbid from the counter kept in the meta db. */
static int next_dbid(hl_store_op *op, uint64_t *dbid)
{
    MDB_val k = {sizeof next_dbid_key, (void *)next_dbid_key}, v;
    unsigned char be[8];
    uint64_t last = 0;
    int rc = mdb_get(op->txn, hl_store_meta_dbi(op->s), &k, &v);
    if (rc == 0 && v.mv_size == 8)
        last = ((uint64_t)hl_get_u32(v.mv_data) << 32) | hl_get_u32((unsigned char *)v.mv_data + 4);
    else if (rc != MDB_NOTFOUND)
        return hl_store_op_err(op, rc ? rc : MDB_CORRUPTED, "read dbid counter");
    *dbid = last + 1;
    hl_put_u32(be, (uint32_t)(*dbid >> 32));
    hl_put_u32(be + 4, (uint32_t)*dbid);
    v.mv_size = sizeof be;
    v.mv_data = be;
    op->dirty = 1;
    rc = mdb_put(op->txn, hl_store_meta_dbi(op->s), &k, &v, 0);
    return rc ? hl_store_op_err(op, rc, "write dbid counter") : HL_OK;
}

static int put_meta(hl_store_op *op, hl_bytes name, const hl_meta *m)
{
    hl_buf val = {0};
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    int hashed = hl_store_key_of(name, tmp, &k);
    hl_bytes long_name = {hashed ? name.data : NULL, hashed ? name.len : 0};
    int rc = hl_store_meta_encode(m, long_name, &val);
    if (rc == HL_OK) {
        MDB_val v = {val.len, val.data};
        op->dirty = op->meta_changed = 1;
        int mrc = mdb_put(op->txn, hl_store_meta_dbi(op->s), &k, &v, 0);
        rc = mrc ? hl_store_op_err(op, mrc, "write meta") : HL_OK;
    }
    hl_buf_free(&val);
    return rc;
}

/* One attempt at creating (hl_store_again decides on another). */
static int create_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_meta *meta)
{
    uint64_t dbid = 0;
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, 0);
    if (rc)
        return rc;
    rc = hl_store_op_meta(op, name);
    if (rc == HL_OK)
        rc = HL_EEXISTS;
    else if (rc == HL_ENOTABLE)
        rc = next_dbid(op, &dbid);
    op->meta.type = meta->type; /* the handle's comparator depends on it */
    if (rc == HL_OK)
        rc = hl_store_op_create_dbi(op, dbid);
    if (rc == HL_OK) {
        hl_meta m = *meta;
        m.dbid = dbid;
        m.blob_ = NULL;
        rc = put_meta(op, name, &m);
    }
    rc = hl_store_op_end(op, rc);
    if (rc == HL_OK)
        meta->dbid = dbid;
    return rc;
}

int hl_store_create(hl_store *s, hl_bytes name, hl_meta *meta)
{
    hl_store_op op;
    int rc, attempt = 0;
    if (name.len == 0 || meta->keypos == 0 || meta->access > HL_PRIVATE ||
        meta->type > HL_DUPLICATE_BAG || meta->own.heir_kind > HL_HEIR_PID)
        return HL_EBADARG;
    do
        rc = create_try(&op, s, name, meta);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

/* Only the owner may drop a table, except that the C node (caller.len == 0)
 * always may, and anyone may drop a public table (as anyone may delete all
 * its rows). ETS itself lets only the owner call ets:delete/1; Heirloom is
 * looser for public tables because they have no single writer. */
static int drop_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    int rc = hl_store_op_begin(op, s, HL_OP_EXCL, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (caller.len && op->meta.access != HL_PUBLIC && !hl_bytes_eq(caller, op->meta.own.owner))
        rc = HL_ENOTOWNER;
    if (rc == HL_OK) {
        op->dirty = 1;
        int mrc = mdb_drop(op->txn, op->dbi, 1);
        if (mrc == 0) {
            /* The handle is closed now, whatever the commit does. */
            op->dropped = op->meta_changed = 1;
            hl_store_forget_dbi(s, op->dbid);
            (void)hl_store_key_of(name, tmp, &k);
            mrc = mdb_del(op->txn, hl_store_meta_dbi(s), &k, NULL);
        }
        rc = mrc ? hl_store_op_err(op, mrc, "drop") : HL_OK;
    }
    return hl_store_op_end(op, rc);
}

int hl_store_drop(hl_store *s, hl_bytes name, hl_bytes caller)
{
    hl_store_op op;
    int rc, attempt = 0;
    do
        rc = drop_try(&op, s, name, caller);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

int hl_store_get_meta(hl_store *s, hl_bytes name, hl_meta *out)
{
    hl_store_op op;
    hl_bytes long_name;
    memset(out, 0, sizeof *out);
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META);
    if (rc)
        return rc;
    /* One copy of the value; the decoded views point into it. */
    void *blob = malloc(op.meta_val.mv_size);
    if (!blob) {
        rc = HL_ENOMEM;
    } else {
        memcpy(blob, op.meta_val.mv_data, op.meta_val.mv_size);
        rc = hl_store_meta_decode(blob, op.meta_val.mv_size, out, &long_name);
        if (rc == HL_OK)
            out->blob_ = blob;
        else
            free(blob);
    }
    return hl_store_op_end(&op, rc);
}

/* A meta write: the owner (own != NULL) or the access mode (caller, access:
 * HL_ENOTOWNER unless the caller owns the table or is the C node). */
static int set_meta_try(hl_store_op *op, hl_store *s, hl_bytes name, const hl_own *own,
                        hl_bytes caller, hl_access access)
{
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META);
    if (rc)
        return rc;
    hl_meta m = op->meta;
    if (own) {
        m.own = *own;
    } else {
        if (caller.len && !hl_bytes_eq(caller, op->meta.own.owner))
            rc = HL_ENOTOWNER;
        m.access = access;
    }
    if (!rc && (own || op->meta.access != access))
        rc = put_meta(op, name, &m);
    return hl_store_op_end(op, rc);
}

static int set_meta(hl_store *s, hl_bytes name, const hl_own *own, hl_bytes caller,
                    hl_access access)
{
    hl_store_op op;
    int rc, attempt = 0;
    do
        rc = set_meta_try(&op, s, name, own, caller, access);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

int hl_store_set_own(hl_store *s, hl_bytes name, const hl_own *own)
{
    hl_bytes none = {NULL, 0};
    return set_meta(s, name, own, none, HL_PUBLIC);
}

int hl_store_set_access(hl_store *s, hl_bytes name, hl_bytes caller, hl_access access)
{
    if (access > HL_PRIVATE)
        return HL_EBADARG;
    return set_meta(s, name, NULL, caller, access);
}

static int each_table_walk(hl_store_op *op, hl_store_table_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(op->txn, hl_store_meta_dbi(op->s), &cur);
    if (rc)
        return hl_store_mdb_err(op->s, rc, "cursor");
    for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (mrc) {
            rc = mrc == MDB_NOTFOUND ? HL_OK : hl_store_mdb_err(op->s, mrc, "walk meta");
            break;
        }
        const unsigned char *kp = k.mv_data;
        hl_meta m;
        hl_bytes name = {kp, k.mv_size}, long_name;
        if (k.mv_size == 0 || kp[0] == 0x00) /* reserved keys */
            continue;
        rc = hl_store_meta_decode(v.mv_data, v.mv_size, &m, &long_name);
        if (rc == HL_OK && kp[0] == 0xFF)
            name = long_name;
        if (rc == HL_OK)
            rc = fn(ctx, name, &m);
    }
    mdb_cursor_close(cur);
    return rc;
}

int hl_store_each_table(hl_store *s, hl_store_table_fn fn, void *ctx)
{
    hl_store_op op;
    hl_bytes none = {NULL, 0};
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, none, 0);
    if (rc)
        return rc;
    rc = each_table_walk(&op, fn, ctx);
    return hl_store_op_end(&op, rc);
}

int hl_store_stats(hl_store *s, hl_bytes name, hl_table_stats *out)
{
    hl_store_op op;
    MDB_stat st;
    memset(out, 0, sizeof *out);
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    int mrc = mdb_stat(op.txn, op.dbi, &st);
    if (mrc) {
        rc = hl_store_mdb_err(s, mrc, "stat");
    } else {
        out->size = st.ms_entries;
        out->memory_bytes =
            (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
    }
    return hl_store_op_end(&op, rc);
}

/* The meta moves to the new name's key in one transaction (the rows stay
 * in "t<dbid>", which a name never appears in). An unnamed table keeps its
 * reference and changes only the name info(T, name) reports, as in ETS. */
static int rename_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                      hl_bytes new_name)
{
    unsigned char tmp[HL_STORE_HASHED_KEY];
    MDB_val k;
    if (new_name.len == 0)
        return HL_EBADARG;
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META);
    if (rc)
        return rc;
    hl_meta m = op->meta; /* views into the txn, valid until the first write */
    if (!hl_owner_may_write(&m.own, m.access, caller))
        rc = HL_EACCESS;
    if (!rc && !m.named) {
        m.name = new_name;
        return hl_store_op_end(op, put_meta(op, name, &m));
    }
    if (!rc && !hl_bytes_eq(name, new_name)) {
        rc = hl_store_op_meta(op, new_name);
        rc = rc == HL_OK ? HL_EEXISTS : rc == HL_ENOTABLE ? HL_OK : rc;
        if (!rc)
            rc = put_meta(op, new_name, &m);
        if (!rc) {
            (void)hl_store_key_of(name, tmp, &k);
            int mrc = mdb_del(op->txn, hl_store_meta_dbi(s), &k, NULL);
            rc = mrc ? hl_store_op_err(op, mrc, "rename") : HL_OK;
        }
    }
    return hl_store_op_end(op, rc);
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_rename(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes new_name)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = rename_try(&op, s, name, caller, new_name);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}
