/*
 * hl_order.c: Erlang term order over external-term-format bytes (contract
 * in hl_order.h). It sits on the readers (hl_term_read.c, hl_term_util.c)
 * and under the canonicaliser (hl_term.c), which sorts map keys with it;
 * it never calls the canonicaliser.
 *
 * The one idea: two terms are walked in lockstep with an explicit stack of
 * open containers (tuples, lists, maps, fun environments), never with C
 * recursion, so a key nested 100,000 deep cannot overflow a scheduler stack.
 * A frame holds a cursor into each side; when a child compares equal the
 * cursors move past it. The first difference decides.
 *
 * What erts (OTP 25) does, and this file copies:
 *   - exact order (=:=, map keys): every integer sorts before every float,
 *     whatever the values (maps:keys(#{1.5 => a, 100 => b}) is [100, 1.5]);
 *   - maps: size, then keys in exact order, then values in that key order;
 *     keys compare exactly even under ==, so #{1 => a} /= #{1.0 => a};
 *   - pids: serial, then number, then node name, then creation;
 *   - ports: node name, creation, then number;
 *   - references: node name, creation, then the id words from the most
 *     significant down, missing words counting as zero;
 *   - funs: local funs before exports; local by module, index, old uniq,
 *     number of free variables, then the free variables; exports by module,
 *     function, arity.
 * Map keys are sorted with a recursive call (only maps inside map keys
 * nest it); past HL_ORDER_MAP_DEPTH such levels the encoded key order is
 * trusted, which is right for canonical terms. A caller that knows the pair
 * orders (the canonicaliser, hl_order_maps) hands them in instead: no walk,
 * no sort, nothing trusted. If memory runs out, the result
 * falls back to a byte comparison (deterministic, but not term order).
 */
#include "hl_order.h"
#include "hl_term_int.h"

#include <stdlib.h>

#define HL_ORDER_MAP_DEPTH 8

enum { R_NUMBER, R_ATOM, R_REF, R_FUN, R_PORT, R_PID, R_TUPLE, R_MAP, R_NIL, R_LIST, R_BITS };
enum { K_SEQ, K_LIST, K_MAP };
enum { L_ELEM, L_VIRT, L_END, L_TAIL };

typedef struct {
    const unsigned char *s; /* remaining characters of a STRING_EXT */
    size_t slen;
    size_t left; /* elements left in the current LIST_EXT segment */
    int end;     /* reached [] */
} lside;

typedef struct {
    unsigned char kind, mode, avirt, bvirt, tails;
    size_t left, ap, bp;
    lside la, lb;
    size_t n, i, *ka, *kb, *ia, *ib; /* K_MAP */
} oframe;

typedef struct {
    const unsigned char *a, *b;
    size_t alen, blen;
    int depth, oom;
    const hl_order_maps *maps; /* pair orders known to the caller, or NULL */
    oframe *st, inl[16];
    size_t top, cap;
} octx;

static int cmp_at(const unsigned char *a, size_t alen, size_t ap, const unsigned char *b,
                  size_t blen, size_t bp, int mode, int depth, const hl_order_maps *maps, int *oom);

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

/* The order class of each kind (hl_term_kind lists kinds in term order). */
static const signed char class_of[HL_KIND_COUNT] = {
    [HL_KIND_BAD] = -1,        [HL_KIND_INT] = R_NUMBER, [HL_KIND_FLOAT] = R_NUMBER,
    [HL_KIND_ATOM] = R_ATOM,   [HL_KIND_REF] = R_REF,    [HL_KIND_FUN] = R_FUN,
    [HL_KIND_EXPORT] = R_FUN,  [HL_KIND_PORT] = R_PORT,  [HL_KIND_PID] = R_PID,
    [HL_KIND_TUPLE] = R_TUPLE, [HL_KIND_MAP] = R_MAP,    [HL_KIND_NIL] = R_NIL,
    [HL_KIND_STRING] = R_LIST, [HL_KIND_LIST] = R_LIST,  [HL_KIND_BINARY] = R_BITS,
    [HL_KIND_BITS] = R_BITS,
};

/* The class of the term at t[*pos]; LIST_EXT with no elements is its tail,
 * an empty STRING_EXT is []. */
static int rank(const unsigned char *t, size_t len, size_t *pos)
{
    while (*pos + 5 <= len && t[*pos] == HL_TAG_LIST && hl_get_u32(t + *pos + 1) == 0)
        *pos += 5;
    if (*pos >= len)
        return -1;
    if (t[*pos] == HL_TAG_STRING)
        return *pos + 3 <= len && hl_get_u16(t + *pos + 1) == 0 ? R_NIL : R_LIST;
    return class_of[hl_term_kind_of(t[*pos])];
}

static oframe *push(octx *c, unsigned char kind, int mode, size_t ap, size_t bp)
{
    if (c->top == c->cap) {
        size_t cap = 2 * c->cap;
        oframe *s = c->st == c->inl ? malloc(cap * sizeof *s) : realloc(c->st, cap * sizeof *s);
        if (!s) {
            c->oom = 1;
            return NULL;
        }
        if (c->st == c->inl)
            memcpy(s, c->inl, sizeof c->inl);
        c->st = s;
        c->cap = cap;
    }
    oframe *f = &c->st[c->top++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->mode = (unsigned char)mode;
    f->ap = ap;
    f->bp = bp;
    return f;
}

static void free_frame(oframe *f)
{
    free(f->ka);
    free(f->kb);
    free(f->ia);
    free(f->ib);
}

static int cmp_numbers(const unsigned char *a, size_t alen, size_t *ap, const unsigned char *b,
                       size_t blen, size_t *bp, int mode)
{
    hl_int ia, ib;
    double da = 0, db = 0;
    int aint = hl_term_read_int(a, alen, ap, &ia) == HL_OK;
    int bint = hl_term_read_int(b, blen, bp, &ib) == HL_OK;
    if (!aint)
        (void)hl_term_read_float(a, alen, ap, &da);
    if (!bint)
        (void)hl_term_read_float(b, blen, bp, &db);
    if (aint && bint)
        return hl_term_int_cmp(&ia, &ib);
    if (!aint && !bint)
        return (da > db) - (da < db);
    if (mode == HL_CMP_EXACT)
        return aint ? -1 : 1;
    return aint ? hl_term_int_cmp_double(&ia, db) : -hl_term_int_cmp_double(&ib, da);
}

static int cmp_node(const hl_ident *x, const hl_ident *y)
{
    int r = hl_term_atom_cmp(&x->node, &y->node);
    if (r)
        return r;
    return (x->creation > y->creation) - (x->creation < y->creation);
}

#define CMP3(x, y) (((x) > (y)) - ((x) < (y)))

static int cmp_idents(const unsigned char *a, size_t alen, size_t *ap, const unsigned char *b,
                      size_t blen, size_t *bp)
{
    hl_ident x, y;
    if (hl_term_read_ident(a, alen, ap, &x) || hl_term_read_ident(b, blen, bp, &y))
        return 0;
    if (x.kind == HL_TAG_NEW_PID) {
        if (x.serial != y.serial)
            return CMP3(x.serial, y.serial);
        if (x.id != y.id)
            return CMP3(x.id, y.id);
        return cmp_node(&x, &y);
    }
    int r = cmp_node(&x, &y);
    if (r || x.kind == HL_TAG_NEW_PORT)
        return r ? r : CMP3(x.id, y.id);
    for (size_t i = x.nwords > y.nwords ? x.nwords : y.nwords; i-- > 0;) {
        uint32_t u = i < x.nwords ? hl_get_u32(x.words + 4 * i) : 0;
        uint32_t v = i < y.nwords ? hl_get_u32(y.words + 4 * i) : 0;
        if (u != v)
            return CMP3(u, v);
    }
    return 0;
}

static int cmp_bits(const unsigned char *a, size_t *ap, const unsigned char *b, size_t *bp)
{
    const unsigned char *t[2] = {a + *ap, b + *bp};
    size_t n[2], bits[2];
    for (int k = 0; k < 2; k++) {
        n[k] = hl_get_u32(t[k] + 1);
        unsigned last = t[k][0] == HL_TAG_BINARY ? 8 : t[k][5];
        bits[k] = n[k] ? 8 * (n[k] - 1) + last : 0;
        t[k] += t[k][0] == HL_TAG_BINARY ? 5 : 6;
    }
    *ap = (size_t)(t[0] - a) + n[0];
    *bp = (size_t)(t[1] - b) + n[1];
    size_t m = bits[0] < bits[1] ? bits[0] : bits[1];
    int r = m >= 8 ? memcmp(t[0], t[1], m / 8) : 0;
    if (r)
        return sgn(r);
    if (m % 8) {
        unsigned x = t[0][m / 8] >> (8 - m % 8), y = t[1][m / 8] >> (8 - m % 8);
        if (x != y)
            return CMP3(x, y);
    }
    return CMP3(bits[0], bits[1]);
}

/* Position just after a fun's fixed header and module/old index/old uniq/pid. */
static size_t fun_env(const unsigned char *t, size_t len, size_t p, hl_atom *mod, hl_int *uniq)
{
    hl_int idx;
    p += 30;
    (void)hl_term_read_atom(t, len, &p, mod);
    (void)hl_term_read_int(t, len, &p, &idx);
    (void)hl_term_read_int(t, len, &p, uniq);
    (void)hl_term_skip(t, len, &p); /* Pid: not part of the order */
    return p;
}

static int cmp_funs(octx *c, size_t *ap, size_t *bp, int mode)
{
    const unsigned char *a = c->a + *ap, *b = c->b + *bp;
    if (a[0] != b[0])
        return a[0] == HL_TAG_NEW_FUN ? -1 : 1;
    if (a[0] == HL_TAG_EXPORT) {
        hl_atom m[2], f[2];
        ++*ap;
        ++*bp;
        (void)hl_term_read_atom(c->a, c->alen, ap, &m[0]);
        (void)hl_term_read_atom(c->a, c->alen, ap, &f[0]);
        (void)hl_term_read_atom(c->b, c->blen, bp, &m[1]);
        (void)hl_term_read_atom(c->b, c->blen, bp, &f[1]);
        hl_int ar[2];
        (void)hl_term_read_int(c->a, c->alen, ap, &ar[0]);
        (void)hl_term_read_int(c->b, c->blen, bp, &ar[1]);
        int r = hl_term_atom_cmp(&m[0], &m[1]);
        r = r ? r : hl_term_atom_cmp(&f[0], &f[1]);
        return r ? r : hl_term_int_cmp(&ar[0], &ar[1]);
    }
    hl_atom ma, mb;
    hl_int ua, ub;
    /* the Size field is not trusted (erts ignores it): walk instead */
    size_t ea = fun_env(c->a, c->alen, *ap, &ma, &ua), eb = fun_env(c->b, c->blen, *bp, &mb, &ub);
    uint32_t nfa = hl_get_u32(a + 26), nfb = hl_get_u32(b + 26);
    int r = hl_term_atom_cmp(&ma, &mb);
    r = r ? r : CMP3(hl_get_u32(a + 22), hl_get_u32(b + 22));
    r = r ? r : hl_term_int_cmp(&ua, &ub);
    r = r ? r : CMP3(nfa, nfb);
    if (r)
        return r;
    if (nfa > 0 && push(c, K_SEQ, mode, ea, eb))
        c->st[c->top - 1].left = nfa;
    *ap = ea; /* past the fun when it has no free variables */
    *bp = eb;
    return 0;
}

typedef struct {
    const unsigned char *t;
    size_t len;
    const size_t *k;
    int depth, *oom;
    const hl_order_maps *maps;
} ksort;

static int key_order(void *ctx, size_t x, size_t y)
{
    ksort *s = ctx;
    return cmp_at(s->t, s->len, s->k[2 * x], s->t, s->len, s->k[2 * y], HL_CMP_EXACT, s->depth + 1,
                  s->maps, s->oom);
}

/* Offsets of each key and value of the map at t[p] (then its end), and the
 * pair indices in exact key order: from the caller when it knows them (no
 * walk, no sort: this keeps nested maps in keys linear), else found here. */
static int map_index(octx *c, const unsigned char *t, size_t len, size_t p, size_t n, size_t **k,
                     size_t **idx)
{
    *k = malloc((2 * n + 1) * sizeof **k);
    *idx = malloc(n * sizeof **idx);
    if (!*k || !*idx)
        return HL_ENOMEM;
    if (c->maps && c->maps->fn(c->maps->ctx, t + p, n, *k, *idx)) {
        for (size_t i = 0; i <= 2 * n; i++)
            (*k)[i] += p;
        return HL_OK;
    }
    p += 5;
    for (size_t i = 0; i < 2 * n; i++) {
        (*k)[i] = p;
        if (hl_term_skip(t, len, &p))
            return HL_EBADARG;
    }
    (*k)[2 * n] = p;
    int sorted = 1;
    ksort s = {t, len, *k, c->depth, &c->oom, c->maps};
    for (size_t i = 0; i < n; i++) {
        (*idx)[i] = i;
        if (i > 0 && sorted && c->depth < HL_ORDER_MAP_DEPTH && key_order(&s, i - 1, i) > 0)
            sorted = 0;
    }
    return sorted ? HL_OK : hl_term_sort(*idx, n, key_order, &s);
}

/* Compare the terms at a[ap] and b[bp]. Non-zero: decided. Zero: equal so
 * far; either *ae and *be are set past both terms, or a frame was pushed that
 * will finish the comparison. */
static int open_pair(octx *c, const unsigned char *a, size_t alen, size_t ap,
                     const unsigned char *b, size_t blen, size_t bp, int mode, size_t *ae,
                     size_t *be)
{
    int ra = rank(a, alen, &ap), rb = rank(b, blen, &bp), r = 0;
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case R_NUMBER:
        r = cmp_numbers(a, alen, &ap, b, blen, &bp, mode);
        break;
    case R_ATOM: {
        hl_atom x, y;
        (void)hl_term_read_atom(a, alen, &ap, &x);
        (void)hl_term_read_atom(b, blen, &bp, &y);
        r = hl_term_atom_cmp(&x, &y);
        break;
    }
    case R_REF:
    case R_PORT:
    case R_PID:
        r = cmp_idents(a, alen, &ap, b, blen, &bp);
        break;
    case R_FUN:
        r = cmp_funs(c, &ap, &bp, mode);
        break;
    case R_BITS:
        r = cmp_bits(a, &ap, b, &bp);
        break;
    case R_NIL:
        ap += a[ap] == HL_TAG_NIL ? 1 : 3;
        bp += b[bp] == HL_TAG_NIL ? 1 : 3;
        break;
    case R_TUPLE: {
        size_t na, nb;
        (void)hl_term_tuple_arity(a + ap, alen - ap, &na);
        (void)hl_term_tuple_arity(b + bp, blen - bp, &nb);
        if (na != nb)
            return CMP3(na, nb);
        ap += a[ap] == HL_TAG_SMALL_TUPLE ? 2 : 5;
        bp += b[bp] == HL_TAG_SMALL_TUPLE ? 2 : 5;
        if (na > 0) {
            oframe *f = push(c, K_SEQ, mode, ap, bp);
            if (f)
                f->left = na;
        }
        break;
    }
    case R_LIST:
        push(c, K_LIST, mode, ap, bp);
        break;
    case R_MAP: {
        size_t na = hl_get_u32(a + ap + 1), nb = hl_get_u32(b + bp + 1);
        if (na != nb)
            return CMP3(na, nb);
        if (na == 0) {
            ap += 5;
            bp += 5;
            break;
        }
        oframe *f = push(c, K_MAP, mode, ap, bp);
        if (!f)
            break;
        f->n = na;
        if (map_index(c, a, alen, ap, na, &f->ka, &f->ia) ||
            map_index(c, b, blen, bp, nb, &f->kb, &f->ib))
            c->oom = 1;
        break;
    }
    default:
        c->oom = 1; /* not well formed: the caller broke the contract */
    }
    *ae = ap;
    *be = bp;
    return r;
}

/* The next item of one side of a list. */
static int list_next(const unsigned char *t, size_t len, size_t *pos, lside *s, unsigned char *v)
{
    for (;;) {
        if (s->slen > 0) {
            *v = *s->s++;
            s->slen--;
            return L_VIRT;
        }
        if (s->end)
            return L_END;
        if (s->left > 0) {
            s->left--;
            return L_ELEM;
        }
        if (*pos >= len)
            return L_END;
        unsigned char tag = t[*pos];
        if (tag == HL_TAG_LIST && len - *pos >= 5) {
            s->left = hl_get_u32(t + *pos + 1);
            *pos += 5;
        } else if (tag == HL_TAG_STRING && len - *pos >= 3) {
            s->slen = hl_get_u16(t + *pos + 1);
            s->s = t + *pos + 3;
            *pos += 3 + s->slen;
            s->end = 1;
        } else if (tag == HL_TAG_NIL) {
            *pos += 1;
            s->end = 1;
        } else {
            return L_TAIL;
        }
    }
}

/* Advance a list frame by one pair of items. */
static int list_step(octx *c, oframe *f, int *done)
{
    unsigned char va[2] = {HL_TAG_SMALL_INTEGER, 0}, vb[2] = {HL_TAG_SMALL_INTEGER, 0};
    size_t ae, be;
    if (f->tails) {
        *done = 1;
        return 0;
    }
    int ka = list_next(c->a, c->alen, &f->ap, &f->la, &va[1]);
    int kb = list_next(c->b, c->blen, &f->bp, &f->lb, &vb[1]);
    if (ka == L_END || kb == L_END) {
        if (ka == kb) {
            *done = 1;
            return 0;
        }
        /* [] against the rest of the other side */
        size_t p = ka == L_END ? f->bp : f->ap;
        int other = ka == L_END ? kb : ka;
        int ro = other == L_TAIL
                     ? rank(ka == L_END ? c->b : c->a, ka == L_END ? c->blen : c->alen, &p)
                     : R_LIST;
        int r = CMP3(R_NIL, ro);
        return ka == L_END ? r : -r;
    }
    if (ka == L_TAIL && kb == L_TAIL)
        f->tails = 1;
    else if (ka == L_TAIL || kb == L_TAIL) {
        size_t p = ka == L_TAIL ? f->ap : f->bp;
        int rt = rank(ka == L_TAIL ? c->a : c->b, ka == L_TAIL ? c->alen : c->blen, &p);
        int r = CMP3(rt, R_LIST);
        return ka == L_TAIL ? r : -r;
    }
    f->avirt = ka == L_VIRT;
    f->bvirt = kb == L_VIRT;
    size_t top = c->top;
    int r = open_pair(c, f->avirt ? va : c->a, f->avirt ? 2 : c->alen, f->avirt ? 0 : f->ap,
                      f->bvirt ? vb : c->b, f->bvirt ? 2 : c->blen, f->bvirt ? 0 : f->bp, f->mode,
                      &ae, &be);
    if (!r && c->top == top) {
        f = &c->st[top - 1];
        if (!f->avirt)
            f->ap = ae;
        if (!f->bvirt)
            f->bp = be;
    }
    return r;
}

static int run(octx *c, size_t ap, size_t bp, int mode)
{
    size_t ae, be;
    int r = open_pair(c, c->a, c->alen, ap, c->b, c->blen, bp, mode, &ae, &be);
    while (!r && !c->oom && c->top > 0) {
        oframe *f = &c->st[c->top - 1];
        int done = 0;
        size_t top = c->top;
        if (f->kind == K_LIST) {
            r = list_step(c, f, &done);
        } else if (f->kind == K_SEQ && f->left > 0) {
            f->left--;
            r = open_pair(c, c->a, c->alen, f->ap, c->b, c->blen, f->bp, f->mode, &ae, &be);
            if (!r && c->top == top)
                c->st[top - 1].ap = ae, c->st[top - 1].bp = be;
        } else if (f->kind == K_MAP && f->i < 2 * f->n) {
            /* keys first (always exact), then values in key order */
            int key = f->i < f->n;
            size_t j = key ? f->i : f->i - f->n;
            size_t pa = f->ka[2 * f->ia[j] + !key], pb = f->kb[2 * f->ib[j] + !key];
            f->i++;
            r = open_pair(c, c->a, c->alen, pa, c->b, c->blen, pb, key ? HL_CMP_EXACT : f->mode,
                          &ae, &be);
        } else {
            done = 1;
        }
        if (!done)
            continue;
        f = &c->st[c->top - 1];
        if (f->kind == K_MAP) {
            f->ap = f->ka[2 * f->n];
            f->bp = f->kb[2 * f->n];
        }
        ae = f->ap;
        be = f->bp;
        free_frame(f);
        c->top--;
        if (c->top == 0)
            break;
        oframe *p = &c->st[c->top - 1];
        if (p->kind == K_SEQ) {
            p->ap = ae;
            p->bp = be;
        } else if (p->kind == K_LIST) {
            if (!p->avirt)
                p->ap = ae;
            if (!p->bvirt)
                p->bp = be;
        }
    }
    return r;
}

static int cmp_at(const unsigned char *a, size_t alen, size_t ap, const unsigned char *b,
                  size_t blen, size_t bp, int mode, int depth, const hl_order_maps *maps, int *oom)
{
    octx c;
    c.maps = maps;
    c.a = a;
    c.b = b;
    c.alen = alen;
    c.blen = blen;
    c.depth = depth;
    c.oom = 0;
    c.st = c.inl;
    c.top = 0;
    c.cap = sizeof c.inl / sizeof c.inl[0];
    int r = run(&c, ap, bp, mode);
    for (size_t i = 0; i < c.top; i++)
        free_frame(&c.st[i]);
    if (c.st != c.inl)
        free(c.st);
    if (c.oom)
        *oom = 1;
    return sgn(r);
}

int hl_order_compare_known(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                           hl_cmp_mode mode, const hl_order_maps *maps)
{
    int oom = 0;
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    int r = cmp_at(a, alen, 0, b, blen, 0, mode, 0, maps, &oom);
    if (oom) {
        size_t m = alen < blen ? alen : blen;
        r = m ? memcmp(a, b, m) : 0;
        r = r ? sgn(r) : CMP3(alen, blen);
    }
    return r;
}

int hl_order_compare(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                     hl_cmp_mode mode)
{
    return hl_order_compare_known(a, alen, b, blen, mode, NULL);
}
