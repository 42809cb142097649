/*
 * hl_ms_run.c: running a compiled match specification on one object (see
 * hl_ms.h): head patterns are matched against the object in place, guard
 * and body expressions evaluated to views of ETF bytes.
 *
 * Values made during a run (a list's tail, a constructed tuple, a sum) live
 * in the program's arena, blocks that never move, reset for each object, so
 * any view stays valid until the run ends. Recursion follows the compiled
 * nodes only, whose depth the compiler bounds (HL_MS_MAX_DEPTH); list
 * patterns and constructors are walked iteratively along their tails.
 */
#include "hl_ms_int.h"
#include "hl_order.h"
#include "hl_term.h"
#include "hl_term_int.h"

#include <stdlib.h>

static const hl_bytes am_exit = {(const unsigned char *)"\x77\x04"
                                                        "EXIT",
                                 6};

/* Forget the values of the last object; keep one block for the next. */
static void arena_reset(hl_ms *ms)
{
    hl_ms_block *b = ms->arena;
    if (!b)
        return;
    while (b->next) {
        hl_ms_block *n = b->next;
        b->next = n->next;
        free(n);
    }
    b->used = 0;
}

/* 1 match, 0 no match, or an error (< 0). */
static int match(hl_ms *ms, uint32_t idx, hl_bytes v)
{
    for (;;) {
        const hl_ms_node *nd = &ms->nodes[idx];
        hl_bytes h, t;
        size_t arity, pos;
        int rc;
        switch (nd->op) {
        case P_ANY:
            return 1;
        case P_VAR:
            /* erts compares a repeated variable with eq() (0.0 matches -0.0,
             * as =:= does in OTP 25), a constant by its bits (P_CONST). */
            if (ms->bound[nd->a])
                return hl_ms_exact_eq(ms->slots[nd->a], v);
            ms->bound[nd->a] = 1;
            ms->slots[nd->a] = v;
            return 1;
        case P_CONST:
            return hl_ms_canon_eq(nd->c, v);
        case P_TUPLE:
            if (hl_term_tuple_arity(v.data, v.len, &arity) || arity != nd->n)
                return 0;
            pos = v.data[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
            for (uint32_t i = 0; i < nd->n; i++) {
                size_t start = pos;
                if (hl_term_skip(v.data, v.len, &pos))
                    return 0;
                rc = match(ms, ms->kids[nd->k + i], (hl_bytes){v.data + start, pos - start});
                if (rc != 1)
                    return rc;
            }
            return 1;
        case P_CONS:
            rc = hl_ms_list_split(ms, v, &h, &t);
            if (rc)
                return rc == HL_MS_RAISE ? 0 : rc;
            rc = match(ms, ms->kids[nd->k], h);
            if (rc != 1)
                return rc;
            idx = ms->kids[nd->k + 1];
            v = t;
            break;
        case P_MAP:
            for (uint32_t i = 0; i < nd->n; i++) {
                hl_bytes key = ms->nodes[ms->kids[nd->k + 2 * i]].c;
                if (!hl_ms_map_find(v, key, &h, 1))
                    return 0;
                rc = match(ms, ms->kids[nd->k + 2 * i + 1], h);
                if (rc != 1)
                    return rc;
            }
            return 1;
        default:
            return 0;
        }
    }
}

static int eval(hl_ms *ms, uint32_t idx, hl_bytes *out);

/* Evaluate n kids from k into vals (a small array or malloc'd: *heap). */
static int eval_kids(hl_ms *ms, uint32_t k, uint32_t n, hl_bytes *small, size_t nsmall,
                     hl_bytes **vals)
{
    *vals = n <= nsmall ? small : malloc(n * sizeof **vals);
    if (!*vals)
        return HL_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        int rc = eval(ms, ms->kids[k + i], &(*vals)[i]);
        if (rc) {
            if (*vals != small)
                free(*vals);
            return rc;
        }
    }
    return HL_OK;
}

/* Build into tmp: header bytes, then the values, then (list) the tail. */
static int build(hl_ms *ms, const unsigned char *hdr, size_t hlen, const hl_bytes *vals, size_t n,
                 hl_bytes *out)
{
    ms->tmp.len = 0;
    int rc = hl_buf_append(&ms->tmp, hdr, hlen);
    for (size_t i = 0; !rc && i < n; i++)
        rc = hl_buf_append(&ms->tmp, vals[i].data, vals[i].len);
    return rc ? HL_ENOMEM : hl_ms_keep_tmp(ms, out);
}

static int eval_list(hl_ms *ms, uint32_t idx, hl_bytes *out)
{
    hl_bytes *vals = NULL;
    size_t n = 0, cap = 0;
    int rc = HL_OK;
    while (!rc && ms->nodes[idx].op == E_CONS) {
        rc = hl_grow((void **)&vals, &cap, n + 2, sizeof *vals, 8);
        if (!rc)
            rc = eval(ms, ms->kids[ms->nodes[idx].k], &vals[n++]);
        idx = ms->kids[ms->nodes[idx].k + 1];
    }
    if (!rc)
        rc = eval(ms, idx, &vals[n]);
    if (!rc) {
        unsigned char hdr[5] = {HL_TAG_LIST};
        hl_put_u32(hdr + 1, (uint32_t)n);
        rc = build(ms, hdr, 5, vals, n + 1, out);
    }
    free(vals);
    return rc;
}

/* andalso / orelse: left to right, stopping at the deciding value. */
static int eval_short(hl_ms *ms, const hl_ms_node *nd, hl_bytes *out)
{
    int is_and = nd->a == HL_MS_FN_ANDALSO;
    for (uint32_t i = 0; i < nd->n; i++) {
        int rc = eval(ms, ms->kids[nd->k + i], out);
        if (rc || i + 1 == nd->n)
            return rc;
        if (hl_ms_is_atom(*out, is_and ? "false" : "true"))
            return HL_OK;
        if (!hl_ms_is_atom(*out, is_and ? "true" : "false"))
            return HL_MS_RAISE;
    }
    return HL_MS_RAISE;
}

static int eval(hl_ms *ms, uint32_t idx, hl_bytes *out)
{
    const hl_ms_node *nd = &ms->nodes[idx];
    const hl_ms_clause *cl;
    hl_bytes small[8], *vals = small;
    unsigned char hdr[5];
    int rc;
    switch (nd->op) {
    case E_CONST:
        *out = nd->c;
        return HL_OK;
    case E_VAR:
        *out = ms->slots[nd->a];
        return HL_OK;
    case E_ALL:
        *out = ms->obj;
        return HL_OK;
    case E_ALLVARS:
        cl = ms->cur;
        ms->tmp.len = 0;
        rc = cl->nvars ? hl_term_put_list_header(&ms->tmp, cl->nvars) : HL_OK;
        for (uint32_t i = 0; !rc && i < cl->nvars; i++)
            rc = hl_buf_append(&ms->tmp, ms->slots[cl->order[i]].data, ms->slots[cl->order[i]].len);
        if (!rc)
            rc = hl_term_put_nil(&ms->tmp);
        return rc ? HL_ENOMEM : hl_ms_keep_tmp(ms, out);
    case E_CONS:
        return eval_list(ms, idx, out);
    case E_CALL:
        if (nd->a == HL_MS_FN_ANDALSO || nd->a == HL_MS_FN_ORELSE) {
            rc = eval_short(ms, nd, out);
            break;
        }
        if (nd->a == HL_MS_FN_SELF) {
            *out = ms->self;
            return HL_OK;
        }
        if ((rc = eval_kids(ms, nd->k, nd->n, small, 8, &vals)))
            return rc;
        rc = hl_ms_bif(ms, nd->a, vals, nd->n, out);
        break;
    case E_TUPLE:
        if ((rc = eval_kids(ms, nd->k, nd->n, small, 8, &vals)))
            return rc;
        if (nd->n <= 255) {
            hdr[0] = HL_TAG_SMALL_TUPLE;
            hdr[1] = (unsigned char)nd->n;
            rc = build(ms, hdr, 2, vals, nd->n, out);
        } else {
            hdr[0] = HL_TAG_LARGE_TUPLE;
            hl_put_u32(hdr + 1, nd->n);
            rc = build(ms, hdr, 5, vals, nd->n, out);
        }
        break;
    case E_MAP:
        if ((rc = eval_kids(ms, nd->k, 2 * nd->n, small, 8, &vals)))
            return rc;
        hdr[0] = HL_TAG_MAP;
        hl_put_u32(hdr + 1, nd->n);
        rc = build(ms, hdr, 5, vals, 2 * nd->n, out);
        if (!rc) { /* pairs into key order; =:= keys: unsupported (see hl_ms.h) */
            size_t pos = 0;
            ms->tmp.len = 0;
            rc = hl_term_canon_form(out->data, out->len, &pos, &ms->tmp, HL_FORM_OBJECT);
            rc = rc == HL_EBADARG ? HL_EUNSUPPORTED : rc;
            if (!rc)
                rc = hl_ms_keep_tmp(ms, out);
        }
        break;
    default:
        return HL_MS_RAISE;
    }
    if (vals != small)
        free(vals);
    if (rc == HL_MS_RAISE && ms->in_body) { /* as erts: a call that fails in a body is 'EXIT' */
        *out = am_exit;
        rc = HL_OK;
    }
    return rc;
}

/* When every head names a key, ETS looks those keys up and runs the spec on
 * what it finds: only an object whose key is =:= to one of them is a
 * candidate (so a map there is not a sub-map pattern for other keys). */
static int keyed_candidate(hl_ms *ms, hl_bytes obj)
{
    hl_bytes k;
    if (hl_term_tuple_element(obj.data, obj.len, ms->keypos, &k))
        return 0;
    for (size_t c = 0; c < ms->nclauses; c++)
        if (ms->clauses[c].key.len && hl_ms_canon_eq(ms->clauses[c].key, k))
            return 1;
    return 0;
}

/* The clause that matches obj and passes its guards, or NULL (*err set). */
static const hl_ms_clause *select_clause(hl_ms *ms, hl_bytes obj, hl_bytes self, int *err)
{
    *err = HL_OK;
    arena_reset(ms);
    ms->obj = obj;
    ms->self = self;
    if (ms->keyed && !keyed_candidate(ms, obj))
        return NULL;
    for (size_t c = 0; c < ms->nclauses; c++) {
        const hl_ms_clause *cl = &ms->clauses[c];
        ms->cur = cl;
        if (cl->nvars)
            memset(ms->bound, 0, cl->nvars);
        int rc = match(ms, cl->head, obj);
        if (rc < 0) {
            *err = rc;
            return NULL;
        }
        for (uint32_t g = 0; rc == 1 && g < cl->nguards; g++) {
            hl_bytes v;
            int e = eval(ms, ms->kids[cl->guards + g], &v);
            if (e < 0) {
                *err = e;
                return NULL;
            }
            rc = !e && hl_ms_is_atom(v, "true");
        }
        if (rc == 1)
            return cl;
    }
    return NULL;
}

/* The body's value: its last expression's (a call that raised is 'EXIT'). */
static int body(hl_ms *ms, const hl_ms_clause *cl, hl_bytes *out)
{
    for (uint32_t b = 0; b < cl->nbody; b++) {
        ms->in_body = 1;
        int rc = eval(ms, ms->kids[cl->body + b], out);
        ms->in_body = 0;
        if (rc == HL_MS_RAISE) {
            *out = am_exit;
            return HL_OK;
        }
        if (rc)
            return rc;
    }
    return HL_OK;
}

int hl_ms_run(hl_ms *ms, hl_bytes obj, hl_bytes self, hl_buf *out, int *matched)
{
    hl_bytes v;
    int rc;
    *matched = 0;
    const hl_ms_clause *cl = select_clause(ms, obj, self, &rc);
    if (!cl)
        return rc;
    if ((rc = body(ms, cl, &v)))
        return rc;
    if (hl_buf_append(out, v.data, v.len))
        return HL_ENOMEM;
    *matched = 1;
    return HL_OK;
}

int hl_ms_run_true(hl_ms *ms, hl_bytes obj, hl_bytes self, int *matched)
{
    hl_bytes v;
    int rc;
    *matched = 0;
    const hl_ms_clause *cl = select_clause(ms, obj, self, &rc);
    if (!cl)
        return rc;
    if ((rc = body(ms, cl, &v)))
        return rc;
    *matched = hl_ms_is_atom(v, "true");
    return HL_OK;
}
