/*
 * hl_store_update.c: update_counter, update_element and lookup_element on
 * the store (contract in hl_store.h): read the key's object, rewrite it with
 * hl_update.c, write it back, all in one write transaction with the access
 * rule checked inside it, so concurrent counters never lose an increment.
 */
#include "hl_store_int.h"

#include "hl_term.h"
#include "hl_update.h"

static int write_begin(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller)
{
    int rc = hl_store_op_begin(op, s, HL_OP_WRITE, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (hl_store_is_bag(&op->meta))
        return hl_store_op_end(op, HL_EBADARG); /* ETS: badarg on a bag */
    if (!hl_owner_may_write(&op->meta.own, op->meta.access, caller))
        return hl_store_op_end(op, HL_EACCESS);
    return HL_OK;
}

/* dflt with element keypos replaced by key, into out. */
static int default_object(hl_bytes dflt, unsigned keypos, hl_bytes key, hl_buf *out)
{
    size_t arity;
    int rc =
        hl_term_tuple_arity(dflt.data, dflt.len, &arity) || arity < keypos ? HL_EBADARG : HL_OK;
    if (!rc)
        rc = hl_term_put_tuple_header(out, arity);
    for (size_t i = 1; i <= arity && !rc; i++) {
        hl_bytes e;
        rc = hl_term_tuple_element(dflt.data, dflt.len, i, &e);
        if (!rc && i == keypos)
            e = key;
        if (!rc)
            rc = hl_buf_append(out, e.data, e.len);
    }
    return rc;
}

static int update_counter_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                              hl_bytes key, hl_bytes ops, hl_bytes dflt, hl_buf *result)
{
    MDB_val v;
    hl_buf start = {0}, next = {0};
    int found = 0;
    size_t mark = result->len;
    int rc = write_begin(op, s, name, caller);
    if (rc)
        return rc;
    rc = hl_store_row_get(op, key, &found, &v);
    if (!rc && found && v.mv_size >= 1)
        rc = hl_buf_append(&start, (const unsigned char *)v.mv_data + 1, v.mv_size - 1);
    else if (!rc && dflt.len)
        rc = default_object(dflt, op->meta.keypos, key, &start);
    else if (!rc)
        rc = HL_EBADARG; /* ETS: badkey */
    if (!rc)
        rc = hl_update_counter(hl_buf_view(&start), op->meta.keypos, ops, &next, result);
    if (!rc)
        rc = hl_store_row_put(op, key, hl_buf_view(&next));
    hl_buf_free(&start);
    hl_buf_free(&next);
    rc = hl_store_op_end(op, rc);
    if (rc)
        result->len = mark;
    return rc;
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_update_counter(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, hl_bytes ops,
                            hl_bytes dflt, hl_buf *result)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = update_counter_try(&op, s, name, caller, key, ops, dflt, result);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

static int update_element_try(hl_store_op *op, hl_store *s, hl_bytes name, hl_bytes caller,
                              hl_bytes key, hl_bytes spec, int *updated)
{
    MDB_val v;
    hl_buf next = {0};
    int found = 0;
    *updated = 0;
    int rc = write_begin(op, s, name, caller);
    if (rc)
        return rc;
    rc = hl_store_row_get(op, key, &found, &v);
    if (!rc && found && v.mv_size >= 1) {
        hl_bytes obj = {(const unsigned char *)v.mv_data + 1, v.mv_size - 1};
        rc = hl_update_element(obj, op->meta.keypos, spec, &next);
        if (!rc)
            rc = hl_store_row_put(op, key, hl_buf_view(&next));
    } else if (!rc) {
        /* ETS checks the spec only against an object: absent is false. */
    }
    hl_buf_free(&next);
    rc = hl_store_op_end(op, rc);
    *updated = rc == HL_OK && found;
    return rc;
}

/* The whole operation again while a new attempt can cure its failure (the
 * map must grow, a handle changed under it): hl_store_again. */
int hl_store_update_element(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key,
                            hl_bytes spec, int *updated)
{
    hl_store_op op = {0};
    int rc, attempt = 0;
    do
        rc = update_element_try(&op, s, name, caller, key, spec, updated);
    while (hl_store_again(&op, &rc, &attempt));
    return rc;
}

typedef struct {
    size_t pos;
    hl_store_row_fn fn;
    void *ctx;
    size_t n;
} element_ctx;

static int element_cb(void *ctx, hl_bytes obj)
{
    element_ctx *e = ctx;
    hl_bytes el;
    size_t arity;
    if (obj.len < 2 || hl_term_tuple_arity(obj.data + 1, obj.len - 1, &arity) || arity < e->pos ||
        hl_term_tuple_element(obj.data + 1, obj.len - 1, e->pos, &el))
        return HL_EBADARG;
    e->n++;
    return e->fn(e->ctx, el);
}

static int element_row_cb(void *ctx, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    return element_cb(ctx, (hl_bytes){v->mv_data, v->mv_size});
}

int hl_store_lookup_element(hl_store *s, hl_bytes name, hl_bytes caller, hl_bytes key, size_t pos,
                            hl_store_row_fn fn, void *ctx, int *many)
{
    element_ctx e = {pos, fn, ctx, 0};
    hl_store_op op;
    MDB_val v;
    int found = 0;
    *many = 0;
    if (pos < 1)
        return HL_EBADARG;
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, name, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    *many = hl_store_is_bag(&op.meta);
    if (!hl_owner_may_read(&op.meta.own, op.meta.access, caller))
        rc = HL_EACCESS;
    else if (*many)
        rc = hl_bag_scan(&op, key, element_row_cb, &e);
    else if (!(rc = hl_store_row_get(&op, key, &found, &v)) && found)
        rc = element_row_cb(&e, NULL, &v);
    rc = hl_store_op_end(&op, rc);
    return rc ? rc : e.n ? HL_OK : HL_EBADARG;
}
