/*
 * hl_select.c: one chunk of a select-like call (see hl_select.h): the
 * match specification engine (hl_ms) run over a cursor walk of the store
 * (hl_store_scan).
 */
#include "hl_select.h"
#include "hl_keyrange.h"
#include "hl_ms.h"
#include "hl_store_scan.h"
#include "hl_term.h"

#include <stdlib.h>

typedef struct {
    hl_ms *ms;
    const hl_select_opts *o;
    hl_bytes self;
    unsigned keypos;
    size_t seen, matched;
    int stopped;
    hl_buf acc, last, repl, scratch;
} sel;

/* Count a row, remember its position; HL_STORE_SCAN_STOP when over budget. */
static int step(sel *c, hl_bytes pos)
{
    if (c->o->budget && c->seen >= c->o->budget) {
        c->stopped = 1;
        return HL_STORE_SCAN_STOP;
    }
    c->seen++;
    c->last.len = 0;
    return hl_buf_append(&c->last, pos.data, pos.len);
}

static int on_read(void *ctx, hl_bytes pos, hl_bytes stored)
{
    sel *c = ctx;
    hl_bytes obj = {stored.data + 1, stored.len - 1};
    int m = 0, rc = step(c, pos);
    if (rc)
        return rc;
    if (c->o->op == HL_SELECT_LIST)
        rc = hl_ms_run(c->ms, obj, c->self, &c->acc, &m);
    else
        rc = hl_ms_run_true(c->ms, obj, c->self, &m);
    c->matched += (size_t)m;
    if (!rc && c->o->limit && c->matched >= c->o->limit) {
        c->stopped = 1;
        return HL_STORE_SCAN_STOP;
    }
    return rc;
}

/* The key form of element keypos of a canonical object, into scratch. */
static int key_of(hl_bytes obj, unsigned keypos, hl_buf *scratch, hl_bytes *key)
{
    size_t arity;
    hl_bytes e;
    if (hl_term_tuple_arity(obj.data, obj.len, &arity) || arity < keypos ||
        hl_term_tuple_element(obj.data, obj.len, keypos, &e))
        return HL_EBADARG;
    return hl_term_key_form(e, scratch, key);
}

static int on_write(void *ctx, hl_bytes pos, hl_bytes stored, hl_bytes *repl)
{
    sel *c = ctx;
    hl_bytes obj = {stored.data + 1, stored.len - 1}, k1, k2;
    hl_buf k1buf = {0};
    int m = 0, rc = step(c, pos);
    if (rc)
        return rc;
    if (c->o->op == HL_SELECT_DELETE) {
        rc = hl_ms_run_true(c->ms, obj, c->self, &m);
        c->matched += (size_t)m;
        return rc ? rc : m ? HL_STORE_DELETE : HL_STORE_KEEP;
    }
    c->scratch.len = 0;
    rc = hl_ms_run(c->ms, obj, c->self, &c->scratch, &m);
    if (rc || !m)
        return rc;
    size_t p = 0;
    c->repl.len = 0;
    rc = hl_term_canon_form(c->scratch.data, c->scratch.len, &p, &c->repl, HL_FORM_OBJECT);
    if (!rc)
        rc = key_of(obj, c->keypos, &k1buf, &k1);
    if (!rc) {
        c->scratch.len = 0;
        rc = key_of(hl_buf_view(&c->repl), c->keypos, &c->scratch, &k2);
    }
    if (!rc && !hl_bytes_eq(k1, k2))
        rc = HL_EBADARG; /* ETS: select_replace may not change a key */
    hl_buf_free(&k1buf);
    if (rc)
        return rc;
    c->matched++;
    *repl = hl_buf_view(&c->repl);
    return HL_STORE_REPLACE;
}

/* ETS's static rule for select_replace (erts's db_match_keeps_key): each
 * clause's body is one expression, '$_' or {{...}} whose key element is the
 * head's key element itself or {const, Key}. */
typedef struct {
    unsigned keypos;
    int n;
} keeps_ctx;

static int elem(hl_bytes t, size_t i, hl_bytes *e)
{
    size_t arity;
    return hl_term_tuple_arity(t.data, t.len, &arity) || arity < i ||
           hl_term_tuple_element(t.data, t.len, i, e);
}

static int clause_keeps_key(void *ctx, hl_bytes cl)
{
    keeps_ctx *k = ctx;
    hl_bytes head, body, only, inner, hk, bk, c1, c2;
    char name[8];
    if (elem(cl, 1, &head) || elem(cl, 3, &body) || body.data[0] != HL_TAG_LIST ||
        hl_get_u32(body.data + 1) != 1)
        return HL_EBADARG;
    size_t pos = 5;
    if (hl_term_skip(body.data, body.len, &pos) || body.data[pos] != HL_TAG_NIL)
        return HL_EBADARG;
    only = (hl_bytes){body.data + 5, pos - 5};
    if (!hl_term_get_atom(only.data, only.len, name, sizeof name) && !strcmp(name, "$_"))
        return HL_OK;
    size_t arity;
    if (hl_term_tuple_arity(only.data, only.len, &arity) || arity != 1 || elem(only, 1, &inner) ||
        elem(inner, k->keypos, &bk) || elem(head, k->keypos, &hk))
        return HL_EBADARG;
    if (hl_bytes_eq(hk, bk))
        return HL_OK;
    if (hl_term_tuple_arity(bk.data, bk.len, &arity) || arity != 2 || elem(bk, 1, &c1) ||
        elem(bk, 2, &c2) || hl_term_get_atom(c1.data, c1.len, name, sizeof name) ||
        strcmp(name, "const") || !hl_bytes_eq(c2, hk))
        return HL_EBADARG;
    return HL_OK;
}

static int keeps_key(hl_bytes spec, unsigned keypos)
{
    keeps_ctx k = {keypos, 0};
    return hl_term_list_each(spec.data, spec.len, clause_keeps_key, &k);
}

/* The rows a call needs to look at, as ETS decides it (hl_select.h). */
typedef struct {
    hl_store_span span;
    hl_bytes *keys;
    hl_buf *forms; /* the keys' key forms */
    size_t n;
} plan;

static void plan_free(plan *p)
{
    for (size_t i = 0; p->forms && i < p->n; i++)
        hl_buf_free(&p->forms[i]);
    free(p->forms);
    free(p->keys);
}

/* ordered_set: the interval from the least to the most key pattern of the
 * clauses, unless one clause leaves its key unbound (erts's
 * analyze_pattern); clauses that can match nothing do not count, and when
 * no clause can match, nothing is visited. */
static void plan_range(hl_ms *ms, unsigned keypos, plan *p)
{
    hl_bytes key, least = {0}, most = {0};
    p->span.kind = HL_SPAN_KEYS; /* no keys: nothing */
    for (size_t i = 0; i < hl_ms_nclauses(ms); i++) {
        int kind = hl_ms_head_key(ms, i, keypos, &key);
        if (kind == HL_MS_KEY_NONE)
            continue;
        if (kind == HL_KEY_UNBOUND) {
            p->span.kind = HL_SPAN_ALL;
            return;
        }
        if (!least.len || hl_keyrange_lesser(key, least))
            least = key;
        if (!most.len || hl_keyrange_greater(key, most))
            most = key;
    }
    if (least.len) {
        p->span.kind = HL_SPAN_RANGE;
        p->span.least = least;
        p->span.most = most;
    }
}

/* set, bag, duplicate_bag: the bound keys' rows when every head binds its
 * key (or matches nothing), the program then keeping to those keys. */
static int plan_keys(hl_ms *ms, unsigned keypos, plan *p)
{
    hl_bytes key;
    size_t n = hl_ms_nclauses(ms);
    hl_ms_set_keypos(ms, keypos);
    if (!hl_ms_keyed(ms))
        return HL_OK; /* the whole table */
    p->forms = calloc(n ? n : 1, sizeof *p->forms);
    p->keys = calloc(n ? n : 1, sizeof *p->keys);
    if (!p->forms || !p->keys)
        return HL_ENOMEM;
    p->span.kind = HL_SPAN_KEYS;
    for (size_t i = 0; i < n; i++) {
        if (hl_ms_head_key(ms, i, keypos, &key) != HL_KEY_BOUND)
            continue;
        int rc = hl_term_key_form(key, &p->forms[p->n], &p->keys[p->n]);
        p->n++;
        if (rc)
            return rc;
    }
    p->span.keys = p->keys;
    p->span.nkeys = p->n;
    return HL_OK;
}

static int put_reply(sel *c, hl_buf *out)
{
    int rc = hl_term_put_tuple_header(out, 2);
    if (!rc && c->o->op == HL_SELECT_LIST) {
        if (c->matched)
            rc = hl_term_put_list_header(out, c->matched);
        if (!rc)
            rc = hl_buf_append(out, c->acc.data, c->acc.len);
        if (!rc)
            rc = hl_term_put_nil(out);
    } else if (!rc) {
        rc = hl_term_put_int(out, (int64_t)c->matched);
    }
    if (!rc)
        rc = c->stopped ? hl_term_put_binary(out, c->last.data, c->last.len)
                        : hl_term_put_atom(out, "$end_of_table", 13);
    return rc;
}

int hl_select_chunk(hl_store *s, hl_bytes tab, hl_bytes caller, hl_bytes spec,
                    const hl_select_opts *o, hl_buf *out)
{
    sel c = {.o = o, .self = caller};
    size_t mark = out->len;
    hl_meta m = {0};
    plan p = {{HL_SPAN_ALL, NULL, 0, {0}, {0}}, NULL, NULL, 0};
    int rc = hl_store_get_meta(s, tab, &m);
    c.keypos = m.keypos;
    if (!rc && o->op == HL_SELECT_REPLACE && m.type == HL_BAG)
        rc = HL_ETABTYPE; /* ETS refuses bags first of all */
    if (!rc)
        rc = hl_ms_compile(spec.data, spec.len, &c.ms);
    if (!rc && o->op == HL_SELECT_REPLACE)
        rc = keeps_key(spec, c.keypos);
    if (!rc && m.type == HL_ORDERED_SET)
        plan_range(c.ms, c.keypos, &p);
    else if (!rc)
        rc = plan_keys(c.ms, c.keypos, &p);
    hl_meta_free(&m);
    if (!rc && (o->op == HL_SELECT_DELETE || o->op == HL_SELECT_REPLACE))
        rc = hl_store_rewrite(s, tab, caller, &p.span, o->after, on_write, &c);
    else if (!rc)
        rc = hl_store_scan(s, tab, caller, &p.span, o->after, o->reverse, on_read, &c);
    if (!rc)
        rc = put_reply(&c, out);
    if (rc)
        out->len = mark;
    plan_free(&p);
    hl_ms_free(c.ms);
    hl_buf_free(&c.acc);
    hl_buf_free(&c.last);
    hl_buf_free(&c.repl);
    hl_buf_free(&c.scratch);
    return rc;
}

int hl_select_match_spec(hl_bytes pattern, const char *body, hl_buf *out)
{
    int rc = hl_term_put_list_header(out, 1);
    if (!rc)
        rc = hl_term_put_tuple_header(out, 3);
    if (!rc)
        rc = hl_buf_append(out, pattern.data, pattern.len);
    if (!rc)
        rc = hl_term_put_nil(out);
    if (!rc)
        rc = hl_term_put_list_header(out, 1);
    if (!rc)
        rc = hl_term_put_atom(out, body, strlen(body));
    if (!rc)
        rc = hl_term_put_nil(out);
    if (!rc)
        rc = hl_term_put_nil(out);
    return rc;
}
