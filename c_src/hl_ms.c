/*
 * hl_ms.c: the match specification compiler (see hl_ms.h).
 *
 * The spec is copied, then walked clause by clause. Any part of a head
 * without variables, '_' or maps (a map pattern also matches larger maps),
 * and any part of a guard or body without tuples (calls) or variables, is a
 * constant: found by a flat scan of its bytes
 * (no recursion, any depth) and kept as a view, compared or copied whole at
 * run time. Only the parts around variables and calls become nodes, and
 * only they count towards HL_MS_MAX_DEPTH, which bounds the recursion of
 * both the compiler and the runner.
 */
#include "hl_ms_int.h"
#include "hl_term.h"
#include "hl_term_int.h"

#include <stdlib.h>

typedef struct {
    hl_ms *ms;
    hl_ms_clause *cl;
    size_t cap_vars;
} cctx;

/* '$N' (no leading zeros, N < 2^31): its number; else -1. */
static long var_number(const hl_atom *a)
{
    if (a->n < 2 || a->n > 11 || a->p[0] != '$' || (a->p[1] == '0' && a->n > 2))
        return -1;
    long v = 0;
    for (size_t i = 1; i < a->n; i++) {
        if (a->p[i] < '0' || a->p[i] > '9')
            return -1;
        v = v * 10 + (a->p[i] - '0');
    }
    return v < 0x7fffffffL ? v : -1;
}

static int atom_is(const hl_atom *a, const char *s)
{
    size_t n = strlen(s);
    return a->n == n && !memcmp(a->p, s, n);
}

/* Whether t[0..len) is free of (C_HEAD) variables, '_' and maps, (C_GROUND)
 * variables and '_', or (C_EXPR) variables, '$_', '$$' and tuples. A flat
 * walk: a count of terms still to read replaces recursion. */
enum { C_EXPR = 0, C_HEAD = 1, C_GROUND = 2 };

static int is_const(const unsigned char *t, size_t len, int head)
{
    size_t pos = 0, todo = 1;
    while (todo--) {
        if (pos >= len)
            return 0;
        hl_term_kind k = hl_term_kind_of(t[pos]);
        hl_atom a;
        size_t p = pos;
        switch (k) {
        case HL_KIND_TUPLE:
            if (head == C_EXPR)
                return 0;
            if (t[pos] == HL_TAG_SMALL_TUPLE) {
                if (pos + 2 > len)
                    return 0;
                todo += t[pos + 1];
                pos += 2;
            } else {
                if (pos + 5 > len)
                    return 0;
                todo += hl_get_u32(t + pos + 1);
                pos += 5;
            }
            break;
        case HL_KIND_MAP:
            if (head == C_HEAD)
                return 0; /* a map pattern matches maps with more keys */
            /* fall through */
        case HL_KIND_LIST:
            if (pos + 5 > len)
                return 0;
            todo +=
                (size_t)hl_get_u32(t + pos + 1) * (k == HL_KIND_MAP ? 2 : 1) + (k == HL_KIND_LIST);
            pos += 5;
            break;
        case HL_KIND_ATOM:
            if (hl_term_read_atom(t, len, &p, &a))
                return 0;
            if (var_number(&a) >= 0 || (head != C_EXPR && atom_is(&a, "_")) ||
                (head == C_EXPR && (atom_is(&a, "$_") || atom_is(&a, "$$"))))
                return 0;
            pos = p;
            break;
        default:
            if (hl_term_skip(t, len, &pos))
                return 0;
        }
    }
    return 1;
}

static int new_node(hl_ms *ms, unsigned char op, uint32_t *idx)
{
    if (hl_grow((void **)&ms->nodes, &ms->cap_nodes, ms->nnodes + 1, sizeof *ms->nodes, 32))
        return HL_ENOMEM;
    memset(&ms->nodes[ms->nnodes], 0, sizeof *ms->nodes);
    ms->nodes[ms->nnodes].op = op;
    *idx = (uint32_t)ms->nnodes++;
    return HL_OK;
}

static int put_kids(hl_ms *ms, const uint32_t *kids, size_t n, uint32_t node)
{
    if (hl_grow((void **)&ms->kids, &ms->cap_kids, ms->nkids + n, sizeof *ms->kids, 64))
        return HL_ENOMEM;
    if (n)
        memcpy(ms->kids + ms->nkids, kids, n * sizeof *kids);
    ms->nodes[node].k = (uint32_t)ms->nkids;
    ms->nkids += n;
    return HL_OK;
}

static int const_node(hl_ms *ms, unsigned char op, hl_bytes t, uint32_t *idx)
{
    int rc = new_node(ms, op, idx);
    if (!rc)
        ms->nodes[*idx].c = t;
    return rc;
}

/* The slot of variable number v in this clause; with bind, made if new. */
static int var_slot(cctx *c, long v, int bind, uint32_t *slot)
{
    hl_ms_clause *cl = c->cl;
    for (uint32_t i = 0; i < cl->nvars; i++)
        if (cl->var_num[i] == (uint32_t)v) {
            *slot = i;
            return HL_OK;
        }
    if (!bind)
        return HL_EBADARG; /* unbound variable in a guard or body */
    if (hl_grow((void **)&cl->var_num, &c->cap_vars, cl->nvars + 1, sizeof *cl->var_num, 8))
        return HL_ENOMEM;
    cl->var_num[cl->nvars] = (uint32_t)v;
    *slot = cl->nvars++;
    return HL_OK;
}

/* The elements of a tuple, list (with its tail last) or map (key, value, ...)
 * at t as views, into a malloc'd array *el of *n. */
static int elements(hl_bytes t, hl_bytes **el, size_t *n)
{
    size_t pos, count;
    unsigned char tag = t.data[0];
    if (tag == HL_TAG_SMALL_TUPLE) {
        count = t.data[1];
        pos = 2;
    } else if (tag == HL_TAG_LARGE_TUPLE || tag == HL_TAG_LIST || tag == HL_TAG_MAP) {
        count = hl_get_u32(t.data + 1);
        count = tag == HL_TAG_MAP ? 2 * count : count + (tag == HL_TAG_LIST);
        pos = 5;
    } else {
        return HL_EBADARG;
    }
    *el = malloc((count ? count : 1) * sizeof **el);
    if (!*el)
        return HL_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        size_t start = pos;
        if (hl_term_skip(t.data, t.len, &pos)) {
            free(*el);
            return HL_EBADARG;
        }
        (*el)[i] = (hl_bytes){t.data + start, pos - start};
    }
    *n = count;
    return HL_OK;
}

typedef int (*compile_fn)(cctx *c, hl_bytes t, int depth, uint32_t *idx);

/* A node of op over the compiled elements el[from..n). */
static int compound(cctx *c, unsigned char op, const hl_bytes *el, size_t n, int depth,
                    compile_fn fn, uint32_t *idx)
{
    uint32_t *kids = malloc((n ? n : 1) * sizeof *kids);
    int rc = kids ? HL_OK : HL_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        rc = fn(c, el[i], depth + 1, &kids[i]);
    if (!rc)
        rc = new_node(c->ms, op, idx);
    if (!rc) {
        c->ms->nodes[*idx].n = (uint32_t)n;
        rc = put_kids(c->ms, kids, n, *idx);
    }
    free(kids);
    return rc;
}

/* A list [E1, ..., En | Tail] as a chain of cons nodes (run iteratively). */
static int cons_chain(cctx *c, unsigned char op, const hl_bytes *el, size_t n, int depth,
                      compile_fn fn, uint32_t *idx)
{
    uint32_t acc, pair[2];
    int rc = fn(c, el[n - 1], depth + 1, &acc);
    for (size_t i = n - 1; !rc && i-- > 0;) {
        rc = fn(c, el[i], depth + 1, &pair[0]);
        pair[1] = acc;
        if (!rc)
            rc = new_node(c->ms, op, &acc);
        if (!rc)
            rc = put_kids(c->ms, pair, 2, acc);
    }
    *idx = acc;
    return rc;
}

static int compile_head(cctx *c, hl_bytes t, int depth, uint32_t *idx)
{
    hl_atom a;
    size_t pos = 0;
    hl_bytes *el = NULL;
    size_t n = 0;
    int rc;
    if (depth > HL_MS_MAX_DEPTH)
        return HL_EBADARG;
    if (hl_term_kind_of(t.data[0]) == HL_KIND_ATOM && !hl_term_read_atom(t.data, t.len, &pos, &a)) {
        long v = var_number(&a);
        if (atom_is(&a, "_"))
            return new_node(c->ms, P_ANY, idx);
        if (v >= 0) {
            rc = new_node(c->ms, P_VAR, idx);
            return rc ? rc : var_slot(c, v, 1, &c->ms->nodes[*idx].a);
        }
    }
    if (is_const(t.data, t.len, C_HEAD))
        return const_node(c->ms, P_CONST, t, idx);
    if ((rc = elements(t, &el, &n)))
        return rc;
    switch (hl_term_kind_of(t.data[0])) {
    case HL_KIND_TUPLE:
        rc = compound(c, P_TUPLE, el, n, depth, compile_head, idx);
        break;
    case HL_KIND_LIST:
        rc = cons_chain(c, P_CONS, el, n, depth, compile_head, idx);
        break;
    default: /* a map: keys must be constants */
        for (size_t i = 0; !rc && i < n; i += 2)
            if (!is_const(el[i].data, el[i].len, C_GROUND))
                rc = HL_EBADARG;
        if (!rc)
            rc = compound(c, P_MAP, el, n, depth, compile_head, idx);
        if (!rc)
            c->ms->nodes[*idx].n = (uint32_t)(n / 2);
    }
    free(el);
    return rc;
}

static int find_fn(const hl_atom *a, size_t nargs, uint32_t *id)
{
    for (size_t i = 0; i < hl_ms_nfns; i++)
        if (atom_is(a, hl_ms_fns[i].name) && nargs >= hl_ms_fns[i].min &&
            nargs <= hl_ms_fns[i].max) {
            *id = (uint32_t)i;
            return HL_OK;
        }
    return HL_EBADARG;
}

static int compile_expr(cctx *c, hl_bytes t, int depth, uint32_t *idx)
{
    hl_atom a;
    size_t pos = 0;
    hl_bytes *el = NULL;
    size_t n = 0;
    int rc;
    if (depth > HL_MS_MAX_DEPTH)
        return HL_EBADARG;
    if (hl_term_kind_of(t.data[0]) == HL_KIND_ATOM && !hl_term_read_atom(t.data, t.len, &pos, &a)) {
        long v = var_number(&a);
        if (atom_is(&a, "$_"))
            return new_node(c->ms, E_ALL, idx);
        if (atom_is(&a, "$$"))
            return new_node(c->ms, E_ALLVARS, idx);
        if (v >= 0) {
            uint32_t slot;
            rc = var_slot(c, v, 0, &slot);
            if (!rc)
                rc = new_node(c->ms, E_VAR, idx);
            if (!rc)
                c->ms->nodes[*idx].a = slot;
            return rc;
        }
    }
    if (is_const(t.data, t.len, C_EXPR))
        return const_node(c->ms, E_CONST, t, idx);
    if ((rc = elements(t, &el, &n)))
        return rc;
    switch (hl_term_kind_of(t.data[0])) {
    case HL_KIND_TUPLE:
        pos = 0;
        if (n == 1 && hl_term_kind_of(el[0].data[0]) == HL_KIND_TUPLE) {
            hl_bytes *inner = NULL;
            size_t m = 0;
            rc = elements(el[0], &inner, &m);
            if (!rc)
                rc = compound(c, E_TUPLE, inner, m, depth, compile_expr, idx);
            free(inner);
        } else if (n == 0 || hl_term_kind_of(el[0].data[0]) != HL_KIND_ATOM ||
                   hl_term_read_atom(el[0].data, el[0].len, &pos, &a)) {
            rc = HL_EBADARG;
        } else if (atom_is(&a, "const")) {
            rc = n == 2 ? const_node(c->ms, E_CONST, el[1], idx) : HL_EBADARG;
        } else {
            uint32_t id = 0;
            rc = find_fn(&a, n - 1, &id);
            if (!rc)
                rc = compound(c, E_CALL, el + 1, n - 1, depth, compile_expr, idx);
            if (!rc)
                c->ms->nodes[*idx].a = id;
        }
        break;
    case HL_KIND_LIST:
        rc = cons_chain(c, E_CONS, el, n, depth, compile_expr, idx);
        break;
    default:
        rc = compound(c, E_MAP, el, n, depth, compile_expr, idx);
        if (!rc)
            c->ms->nodes[*idx].n = (uint32_t)(n / 2);
    }
    free(el);
    return rc;
}

static const unsigned char small_ints[256][2] = {
#define I(n)                                                                                       \
    {                                                                                              \
        HL_TAG_SMALL_INTEGER, n                                                                    \
    }
#define I4(n) I(n), I(n + 1), I(n + 2), I(n + 3)
#define I16(n) I4(n), I4(n + 4), I4(n + 8), I4(n + 12)
#define I64(n) I16(n), I16(n + 16), I16(n + 32), I16(n + 48)
    I64(0), I64(64), I64(128), I64(192)};

/* Guards or a body given as a string: each element a constant integer. */
static int string_list(hl_ms *ms, hl_bytes t, uint32_t *first, uint32_t *count)
{
    size_t n = hl_get_u16(t.data + 1);
    if (hl_grow((void **)&ms->kids, &ms->cap_kids, ms->nkids + n, sizeof *ms->kids, 64))
        return HL_ENOMEM;
    *first = (uint32_t)ms->nkids;
    for (size_t i = 0; i < n; i++) {
        uint32_t idx;
        if (const_node(ms, E_CONST, (hl_bytes){small_ints[t.data[3 + i]], 2}, &idx))
            return HL_ENOMEM;
        ms->kids[ms->nkids++] = idx;
    }
    *count = (uint32_t)n;
    return HL_OK;
}

/* A proper list of expressions into kids: *first and *count. */
static int expr_list(cctx *c, hl_bytes t, int nonempty, uint32_t *first, uint32_t *count)
{
    hl_bytes *el = NULL;
    size_t n = 0;
    int rc = HL_OK;
    if (t.data[0] == HL_TAG_NIL) {
        *first = 0;
        *count = 0;
        return nonempty ? HL_EBADARG : HL_OK;
    }
    if (t.data[0] == HL_TAG_STRING) /* a list of small integers: constants */
        return string_list(c->ms, t, first, count);
    if (t.data[0] != HL_TAG_LIST)
        return HL_EBADARG;
    if ((rc = elements(t, &el, &n)))
        return rc;
    if (el[n - 1].data[0] != HL_TAG_NIL) {
        free(el);
        return HL_EBADARG;
    }
    uint32_t *kids = malloc(n * sizeof *kids);
    rc = kids ? HL_OK : HL_ENOMEM;
    for (size_t i = 0; !rc && i + 1 < n; i++)
        rc = compile_expr(c, el[i], 1, &kids[i]);
    if (!rc && hl_grow((void **)&c->ms->kids, &c->ms->cap_kids, c->ms->nkids + n - 1,
                       sizeof *c->ms->kids, 64))
        rc = HL_ENOMEM;
    if (!rc) {
        if (n > 1)
            memcpy(c->ms->kids + c->ms->nkids, kids, (n - 1) * sizeof *kids);
        *first = (uint32_t)c->ms->nkids;
        *count = (uint32_t)(n - 1);
        c->ms->nkids += n - 1;
    }
    free(kids);
    free(el);
    return rc;
}

static int cmp_var(const void *x, const void *y, void *ctx)
{
    const uint32_t *num = ctx;
    uint32_t a = num[*(const uint32_t *)x], b = num[*(const uint32_t *)y];
    return a < b ? -1 : a > b;
}

static int compile_clause(hl_ms *ms, hl_bytes t, hl_ms_clause *cl)
{
    hl_bytes *el = NULL;
    size_t n = 0;
    cctx c = {ms, cl, 0};
    if (t.data[0] != HL_TAG_SMALL_TUPLE || t.data[1] != 3)
        return HL_EBADARG;
    int rc = elements(t, &el, &n);
    if (!rc)
        cl->head_bytes = el[0];
    if (!rc)
        rc = compile_head(&c, el[0], 1, &cl->head);
    if (!rc)
        rc = expr_list(&c, el[1], 0, &cl->guards, &cl->nguards);
    if (!rc)
        rc = expr_list(&c, el[2], 1, &cl->body, &cl->nbody);
    free(el);
    if (!rc && cl->nvars) {
        cl->order = malloc(cl->nvars * sizeof *cl->order);
        if (!cl->order)
            return HL_ENOMEM;
        for (uint32_t i = 0; i < cl->nvars; i++)
            cl->order[i] = i;
        qsort_r(cl->order, cl->nvars, sizeof *cl->order, cmp_var, cl->var_num);
    }
    if (!rc && cl->nvars > ms->max_vars)
        ms->max_vars = cl->nvars;
    return rc;
}

int hl_ms_compile(const unsigned char *spec, size_t len, hl_ms **out)
{
    hl_bytes *el = NULL;
    size_t n = 0, pos = 0;
    *out = NULL;
    if (hl_term_skip(spec, len, &pos) || pos != len)
        return HL_EBADARG;
    hl_ms *ms = calloc(1, sizeof *ms);
    if (!ms || !(ms->spec = malloc(len))) {
        free(ms);
        return HL_ENOMEM;
    }
    memcpy(ms->spec, spec, len);
    ms->spec_len = len;
    hl_bytes t = {ms->spec, len};
    int rc = HL_OK;
    if (t.data[0] == HL_TAG_LIST) {
        rc = elements(t, &el, &n);
        if (!rc && el[n - 1].data[0] != HL_TAG_NIL)
            rc = HL_EBADARG;
        n = rc ? 0 : n - 1;
    } else if (t.data[0] != HL_TAG_NIL) {
        rc = HL_EBADARG;
    }
    if (!rc && n && !(ms->clauses = calloc(n, sizeof *ms->clauses)))
        rc = HL_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        ms->nclauses = i + 1;
        rc = compile_clause(ms, el[i], &ms->clauses[i]);
    }
    free(el);
    if (!rc && ms->max_vars) {
        ms->slots = calloc(ms->max_vars, sizeof *ms->slots);
        ms->bound = calloc(ms->max_vars, 1);
        if (!ms->slots || !ms->bound)
            rc = HL_ENOMEM;
    }
    if (rc) {
        hl_ms_free(ms);
        return rc;
    }
    *out = ms;
    return HL_OK;
}

void hl_ms_free(hl_ms *ms)
{
    if (!ms)
        return;
    for (size_t i = 0; i < ms->nclauses; i++) {
        free(ms->clauses[i].var_num);
        free(ms->clauses[i].order);
    }
    while (ms->arena) {
        hl_ms_block *next = ms->arena->next;
        free(ms->arena);
        ms->arena = next;
    }
    hl_buf_free(&ms->tmp);
    free(ms->clauses);
    free(ms->nodes);
    free(ms->kids);
    free(ms->slots);
    free(ms->bound);
    free(ms->spec);
    free(ms);
}
