/*
 * hl_update.c: update_counter and update_element on canonical objects (see
 * hl_update.h).
 *
 * The arithmetic is hl_bigint.c's, exact at any size (a counter past int64
 * becomes a bignum, as in ETS), reading and writing integers through the
 * term layer like every other module. An object is rewritten by copying its
 * elements with the changed ones replaced: one pass per op, fine for the
 * small tuples counters live in.
 */
#include "hl_update.h"

#include "hl_bigint.h"
#include "hl_term.h"
#include "hl_term_enc.h"

#include <stdlib.h>
#include <string.h>

/* Copy obj into out with element pos (1-based) replaced by val. */
static int replace(hl_bytes obj, size_t pos, hl_bytes val, hl_buf *out)
{
    size_t arity;
    int rc = hl_term_tuple_arity(obj.data, obj.len, &arity);
    if (!rc)
        rc = hl_term_put_tuple_header(out, arity);
    for (size_t i = 1; i <= arity && !rc; i++) {
        hl_bytes e;
        rc = hl_term_tuple_element(obj.data, obj.len, i, &e);
        if (!rc)
            rc = i == pos ? hl_buf_append(out, val.data, val.len)
                          : hl_buf_append(out, e.data, e.len);
    }
    return rc;
}

/* A position an op may change: an integer in 1..arity, not the key's. */
static int position(hl_bytes obj, unsigned keypos, hl_bytes t, size_t *pos)
{
    int64_t p;
    size_t arity;
    if (hl_term_get_int(t.data, t.len, &p) || hl_term_tuple_arity(obj.data, obj.len, &arity) ||
        p < 1 || (uint64_t)p > arity || (uint64_t)p == keypos)
        return HL_EBADARG;
    *pos = (size_t)p;
    return HL_OK;
}

typedef struct {
    unsigned keypos;
    int in_list;   /* a list holds only tuples: [Incr] is badarg, as in ETS */
    hl_buf cur;    /* the object so far */
    hl_buf result; /* the results so far, for a list */
    size_t n;      /* how many */
} counter;

/* One op on c->cur: Incr (op is an integer) or a tuple; appends the new
 * value to c->result. */
static int counter_op(counter *c, hl_bytes op)
{
    hl_bytes obj = hl_buf_view(&c->cur), el[4] = {{0}};
    size_t arity = 0, pos;
    hl_big val, incr, thr, set, sum;
    hl_big_init(&val);
    hl_big_init(&incr);
    hl_big_init(&thr);
    hl_big_init(&set);
    hl_big_init(&sum);
    int rc = HL_OK;
    if (hl_term_tuple_arity(op.data, op.len, &arity)) {
        if (c->in_list)
            return HL_EBADARG;
        /* Not a tuple: a bare increment, {KeyPos + 1, Incr}. */
        hl_buf pb = {0};
        arity = 0;
        rc = hl_term_put_int(&pb, (int64_t)c->keypos + 1);
        if (!rc)
            rc = position(obj, c->keypos, hl_buf_view(&pb), &pos);
        hl_buf_free(&pb);
        el[1] = op;
    } else if (arity == 2 || arity == 4) {
        for (size_t i = 0; i < arity && !rc; i++)
            rc = hl_term_tuple_element(op.data, op.len, i + 1, &el[i]);
        if (!rc)
            rc = position(obj, c->keypos, el[0], &pos);
    } else {
        rc = HL_EBADARG;
    }
    hl_bytes cell;
    if (!rc)
        rc = hl_term_tuple_element(obj.data, obj.len, pos, &cell);
    if (!rc)
        rc = hl_big_from_term(&val, cell);
    if (!rc)
        rc = hl_big_from_term(&incr, el[1]);
    if (!rc && arity == 4 && !(rc = hl_big_from_term(&thr, el[2])))
        rc = hl_big_from_term(&set, el[3]);
    if (!rc)
        rc = hl_big_add(&sum, &val, &incr);
    const hl_big *now = &sum;
    if (!rc && arity == 4) { /* past the threshold (below it when decrementing): SetValue */
        int c2 = hl_big_cmp(&sum, &thr);
        if (incr.neg ? c2 < 0 : c2 > 0)
            now = &set;
    }
    hl_buf enc = {0}, next = {0};
    if (!rc)
        rc = hl_big_to_term(now, &enc);
    if (!rc)
        rc = replace(obj, pos, hl_buf_view(&enc), &next);
    if (!rc)
        rc = hl_buf_append(&c->result, enc.data, enc.len);
    if (!rc) {
        hl_buf_free(&c->cur);
        c->cur = next;
        next = (hl_buf){0};
        c->n++;
    }
    hl_buf_free(&enc);
    hl_buf_free(&next);
    hl_big_free(&val);
    hl_big_free(&incr);
    hl_big_free(&thr);
    hl_big_free(&set);
    hl_big_free(&sum);
    return rc;
}

static int counter_cb(void *ctx, hl_bytes op)
{
    return counter_op(ctx, op);
}

int hl_update_counter(hl_bytes obj, unsigned keypos, hl_bytes ops, hl_buf *new_obj, hl_buf *result)
{
    counter c = {keypos, 0, {0}, {0}, 0};
    size_t arity;
    if (hl_term_tuple_arity(obj.data, obj.len, &arity) || ops.len == 0)
        return HL_EBADARG;
    int is_list =
        ops.data[0] == HL_TAG_NIL || ops.data[0] == HL_TAG_LIST || ops.data[0] == HL_TAG_STRING;
    c.in_list = is_list;
    int rc = hl_buf_append(&c.cur, obj.data, obj.len);
    if (!rc)
        rc = is_list ? hl_term_list_each(ops.data, ops.len, counter_cb, &c) : counter_op(&c, ops);
    if (!rc && is_list && c.n)
        rc = hl_term_put_list_header(result, c.n);
    if (!rc)
        rc = hl_buf_append(result, c.result.data, c.result.len);
    if (!rc && is_list)
        rc = hl_term_put_nil(result);
    if (!rc)
        rc = hl_buf_append(new_obj, c.cur.data, c.cur.len);
    hl_buf_free(&c.cur);
    hl_buf_free(&c.result);
    return rc;
}

typedef struct {
    unsigned keypos;
    hl_buf cur;
} elements;

static int element_op(void *ctx, hl_bytes op)
{
    elements *e = ctx;
    hl_bytes obj = hl_buf_view(&e->cur), pe, ve;
    size_t arity, pos;
    hl_buf next = {0};
    int rc = hl_term_tuple_arity(op.data, op.len, &arity) || arity != 2 ? HL_EBADARG : HL_OK;
    if (!rc)
        rc = hl_term_tuple_element(op.data, op.len, 1, &pe);
    if (!rc)
        rc = hl_term_tuple_element(op.data, op.len, 2, &ve);
    if (!rc)
        rc = position(obj, e->keypos, pe, &pos);
    if (!rc)
        rc = replace(obj, pos, ve, &next);
    if (!rc) {
        hl_buf_free(&e->cur);
        e->cur = next;
    } else {
        hl_buf_free(&next);
    }
    return rc;
}

int hl_update_element(hl_bytes obj, unsigned keypos, hl_bytes spec, hl_buf *new_obj)
{
    elements e = {keypos, {0}};
    size_t arity;
    if (hl_term_tuple_arity(obj.data, obj.len, &arity) || spec.len == 0)
        return HL_EBADARG;
    int is_list =
        spec.data[0] == HL_TAG_NIL || spec.data[0] == HL_TAG_LIST || spec.data[0] == HL_TAG_STRING;
    int rc = hl_buf_append(&e.cur, obj.data, obj.len);
    if (!rc)
        rc =
            is_list ? hl_term_list_each(spec.data, spec.len, element_op, &e) : element_op(&e, spec);
    if (!rc)
        rc = hl_buf_append(new_obj, e.cur.data, e.cur.len);
    hl_buf_free(&e.cur);
    return rc;
}
