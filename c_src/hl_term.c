/*
 * hl_term.c: canonicalising external-term-format terms (contract in
 * hl_term.h). The top of the term layer: it validates and reads with
 * hl_term_read.c and hl_term_util.c and sorts map keys with hl_order.c;
 * nothing below it calls up.
 *
 * Three ideas:
 *  - No C recursion: a peer can send a term nested 1,000,000 deep and the NIF
 *    runs on small scheduler stacks, so open containers live on a heap stack
 *    whose depth is bounded only by the input size.
 *  - Linear time. Pairs of a map are written as they come and must end up in
 *    key order. Moving them when each map closes would move a nested map once
 *    per enclosing map: quadratic in the depth. So a map only records the
 *    order of its pairs (a `crec`), and one last pass (assemble) writes every
 *    map's pairs in order, moving each byte once. The exception is a map
 *    inside a map key: the enclosing map compares its keys' bytes, and
 *    hl_order trusts the byte order of maps nested past a few levels of
 *    keys, so such a map is put in order at once.
 *  - Two forms. OTP 25 has 0.0 =:= -0.0, so keys (HL_FORM_KEY) turn -0.0 into
 *    0.0 and stay byte-equal exactly when =:=; objects (HL_FORM_OBJECT) keep
 *    the sign, so what comes back is term_to_binary-equal to what went in.
 */
#include "hl_term.h"
#include "hl_order.h"
#include "hl_term_int.h"

#include <stdlib.h>

enum { F_SEQ, F_LIST, F_MAP, F_FUN };

typedef struct {
    unsigned char kind;
    unsigned char in_tail;   /* F_LIST: the pending child is the improper tail */
    unsigned char done;      /* F_LIST: the tail has been dealt with */
    unsigned char proper;    /* F_LIST: ended in [] */
    unsigned char all_small; /* F_LIST: every element so far is 0..255 */
    unsigned char header;    /* F_LIST: the LIST_EXT header is written */
    unsigned char in_key;    /* F_MAP: the pending child is a key */
    size_t left;             /* children (F_LIST: elements of this segment) still to read */
    size_t start;            /* out offset of this term's tag */
    size_t count;            /* F_LIST: elements written; F_MAP: children begun */
    size_t child;            /* F_LIST: out offset of the pending child */
    size_t offs;             /* F_MAP: where its offsets start in canon_ctx.offs */
} cframe;

/* A map whose pairs the last pass writes in another order. */
typedef struct {
    size_t body, end; /* out offsets of its first pair and of its end */
    size_t spans;     /* its pairs in key order: start, end at spans[this..] */
    size_t n;
} crec;

typedef struct {
    const unsigned char *b;
    size_t len, pos;
    hl_buf *out;
    int key_form;
    size_t in_keys; /* open maps whose pending child is a key */
    cframe *st;
    size_t depth, cap;
    size_t *offs; /* per open map: out offset of each key and value, then its end */
    size_t noffs, offs_cap;
    crec *recs;
    size_t nrec, rec_cap;
    size_t *spans;
    size_t nspans, spans_cap;
} canon_ctx;

/* hl_grow through a typed pointer. */
static int grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    void *p;
    memcpy(&p, arrp, sizeof p);
    int rc = hl_grow(&p, cap, need, elem, 16);
    memcpy(arrp, &p, sizeof p);
    return rc;
}

static cframe *push(canon_ctx *c, unsigned char kind, size_t left, size_t start)
{
    if (grow(&c->st, &c->cap, c->depth + 1, sizeof *c->st))
        return NULL;
    cframe *f = &c->st[c->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->left = left;
    f->start = start;
    f->all_small = 1;
    return f;
}

static int put_float(canon_ctx *c)
{
    double d;
    int rc = hl_term_read_float(c->b, c->len, &c->pos, &d);
    if (rc)
        return rc;
    uint64_t bits = 0;
    if (d != 0.0 || !c->key_form) /* key form: -0.0 is 0.0 */
        memcpy(&bits, &d, sizeof bits);
    rc = hl_buf_append_byte(c->out, HL_TAG_NEW_FLOAT);
    if (!rc)
        rc = hl_buf_append_u32(c->out, (uint32_t)(bits >> 32));
    return rc ? rc : hl_buf_append_u32(c->out, (uint32_t)bits);
}

static int put_bits(canon_ctx *c)
{
    const unsigned char *b = c->b + c->pos;
    unsigned bits = b[5];
    size_t n = hl_get_u32(b + 1);
    hl_buf *out = c->out;
    int rc;
    c->pos += 6 + n;
    if (n == 0 || bits == 8) {
        rc = hl_buf_append_byte(out, HL_TAG_BINARY);
        if (!rc)
            rc = hl_buf_append_u32(out, (uint32_t)n);
        return rc ? rc : hl_buf_append(out, b + 6, n);
    }
    rc = hl_buf_append(out, b, 6 + n);
    if (!rc) /* unused low bits of the last byte are not part of the value */
        out->data[out->len - 1] &= (unsigned char)(0xFF << (8 - bits));
    return rc;
}

static int open_tuple(canon_ctx *c, size_t start)
{
    const unsigned char *b = c->b + c->pos;
    size_t n = b[0] == HL_TAG_SMALL_TUPLE ? b[1] : hl_get_u32(b + 1);
    c->pos += b[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
    int rc = hl_term_put_tuple_header(c->out, n);
    if (!rc && n)
        rc = push(c, F_SEQ, n, start) ? HL_OK : HL_ENOMEM;
    return rc;
}

static int open_map(canon_ctx *c, size_t start)
{
    size_t n = hl_get_u32(c->b + c->pos + 1);
    int rc = hl_buf_append(c->out, c->b + c->pos, 5);
    c->pos += 5;
    if (rc || n == 0)
        return rc;
    /* the input holds n pairs (skipped first), so 2n + 1 cannot overflow */
    if (grow(&c->offs, &c->offs_cap, c->noffs + 2 * n + 1, sizeof *c->offs))
        return HL_ENOMEM;
    cframe *f = push(c, F_MAP, 2 * n, start);
    if (!f)
        return HL_ENOMEM;
    f->offs = c->noffs;
    c->noffs += 2 * n + 1;
    return HL_OK;
}

/* Write one scalar canonically, or write a container's header and open a
 * frame for its children. Input is known well formed (skipped first). */
static int open_term(canon_ctx *c)
{
    const unsigned char *b = c->b;
    hl_buf *out = c->out;
    size_t p = c->pos, start = out->len, n;
    int rc;
    union {
        hl_int i;
        hl_atom a;
        hl_ident id;
    } u;
    switch (hl_term_kind_of(b[p])) {
    case HL_KIND_INT:
        rc = hl_term_read_int(b, c->len, &c->pos, &u.i);
        return rc ? rc : hl_term_put_canon_int(out, &u.i);
    case HL_KIND_FLOAT:
        return put_float(c);
    case HL_KIND_ATOM:
        rc = hl_term_read_atom(b, c->len, &c->pos, &u.a);
        return rc ? rc : hl_term_put_canon_atom(out, &u.a);
    case HL_KIND_REF:
    case HL_KIND_PORT:
    case HL_KIND_PID:
        rc = hl_term_read_ident(b, c->len, &c->pos, &u.id);
        return rc ? rc : hl_term_put_canon_ident(out, &u.id);
    case HL_KIND_NIL:
        c->pos++;
        return hl_buf_append_byte(out, HL_TAG_NIL);
    case HL_KIND_STRING:
        n = hl_get_u16(b + p + 1);
        c->pos += 3 + n;
        return n ? hl_buf_append(out, b + p, 3 + n) : hl_buf_append_byte(out, HL_TAG_NIL);
    case HL_KIND_BINARY:
        n = hl_get_u32(b + p + 1);
        c->pos += 5 + n;
        return hl_buf_append(out, b + p, 5 + n);
    case HL_KIND_BITS:
        return put_bits(c);
    case HL_KIND_TUPLE:
        return open_tuple(c, start);
    case HL_KIND_LIST:
        /* the header is written before the first element (list_next), so a
         * list of no elements is its tail and nothing has to move */
        return push(c, F_LIST, 0, start) ? HL_OK : HL_ENOMEM;
    case HL_KIND_MAP:
        return open_map(c, start);
    case HL_KIND_EXPORT:
        c->pos++;
        rc = hl_buf_append_byte(out, HL_TAG_EXPORT);
        return rc ? rc : push(c, F_SEQ, 3, start) ? HL_OK : HL_ENOMEM;
    case HL_KIND_FUN:
        /* Size is recomputed at close; Arity, Uniq, Index, NumFree are copied */
        n = hl_get_u32(b + p + 26);
        c->pos += 30;
        rc = hl_buf_append(out, b + p, 30);
        return rc ? rc : push(c, F_FUN, 4 + n, start) ? HL_OK : HL_ENOMEM;
    default:
        return HL_EBADARG;
    }
}

/* The LIST_EXT header goes in once the list is known to have an element;
 * its count is patched at close. */
static int list_header(canon_ctx *c, cframe *f)
{
    if (f->header)
        return HL_OK;
    f->header = 1;
    return hl_buf_append(c->out, "\x6c\0\0\0\0", 5);
}

/* Append each character of a STRING_EXT tail as a SMALL_INTEGER_EXT element. */
static int string_tail(canon_ctx *c, cframe *f)
{
    size_t n = hl_get_u16(c->b + c->pos + 1);
    const unsigned char *s = c->b + c->pos + 3;
    int rc = n ? list_header(c, f) : HL_OK;
    if (!rc)
        rc = hl_buf_reserve(c->out, 2 * n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        c->out->data[c->out->len++] = HL_TAG_SMALL_INTEGER;
        c->out->data[c->out->len++] = s[i];
    }
    f->count += n;
    c->pos += 3 + n;
    return HL_OK;
}

/* Decide what comes next in a list: another element (return 1), the end
 * (return 0, f->done set), or an improper tail to write (return 1, in_tail).
 * Tails that are themselves lists are flattened into this list. */
static int list_next(canon_ctx *c, cframe *f, int *rc)
{
    while (!f->done) {
        if (f->left > 0) {
            *rc = list_header(c, f);
            return *rc == HL_OK;
        }
        unsigned char tag = c->b[c->pos];
        if (tag == HL_TAG_LIST) {
            f->left = hl_get_u32(c->b + c->pos + 1);
            c->pos += 5;
        } else if (tag == HL_TAG_STRING) {
            if ((*rc = string_tail(c, f)) != HL_OK)
                return 0;
            f->done = f->proper = 1;
        } else if (tag == HL_TAG_NIL) {
            c->pos++;
            f->done = f->proper = 1;
        } else {
            f->done = 1;
            f->in_tail = 1;
            return 1;
        }
    }
    return 0;
}

static int close_list(canon_ctx *c, cframe *f)
{
    hl_buf *out = c->out;
    unsigned char *d = out->data + f->start;
    if (f->count == 0) /* no header: the term is its tail, written already, or [] */
        return f->proper ? hl_buf_append_byte(out, HL_TAG_NIL) : HL_OK;
    if (f->count > 0xffffffffu)
        return HL_EBADARG;
    if (f->proper && f->all_small && f->count <= 0xffff) {
        /* the list is last in out and holds only small integers: no map
         * record points into what moves */
        d[0] = HL_TAG_STRING;
        d[1] = (unsigned char)(f->count >> 8);
        d[2] = (unsigned char)f->count;
        for (size_t i = 0; i < f->count; i++)
            d[3 + i] = d[5 + 2 * i + 1];
        out->len = f->start + 3 + f->count;
        return HL_OK;
    }
    hl_put_u32(d + 1, (uint32_t)f->count);
    return f->proper ? hl_buf_append_byte(out, HL_TAG_NIL) : HL_OK;
}

typedef struct {
    const unsigned char *d;
    const size_t *offs;
} map_sort_ctx;

static int key_cmp(void *ctx, size_t x, size_t y)
{
    map_sort_ctx *m = ctx;
    const unsigned char *a = m->d + m->offs[2 * x], *b = m->d + m->offs[2 * y];
    return hl_order_compare(a, m->offs[2 * x + 1] - m->offs[2 * x], b,
                            m->offs[2 * y + 1] - m->offs[2 * y], HL_CMP_EXACT);
}

/* Put the n pairs (offsets offs) in the order idx now, through a copy. */
static int reorder_now(canon_ctx *c, const size_t *offs, const size_t *idx, size_t n)
{
    size_t body = offs[0], w = 0;
    unsigned char *tmp = malloc(offs[2 * n] - body);
    if (!tmp)
        return HL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t k = idx[i], plen = offs[2 * k + 2] - offs[2 * k];
        memcpy(tmp + w, c->out->data + offs[2 * k], plen);
        w += plen;
    }
    memcpy(c->out->data + body, tmp, w);
    free(tmp);
    return HL_OK;
}

/* Leave the n pairs where they are and record the order idx for assemble. */
static int reorder_later(canon_ctx *c, const size_t *offs, const size_t *idx, size_t n)
{
    if (grow(&c->recs, &c->rec_cap, c->nrec + 1, sizeof *c->recs) ||
        grow(&c->spans, &c->spans_cap, c->nspans + 2 * n, sizeof *c->spans))
        return HL_ENOMEM;
    c->recs[c->nrec++] = (crec){offs[0], offs[2 * n], c->nspans, n};
    for (size_t i = 0; i < n; i++) {
        c->spans[c->nspans++] = offs[2 * idx[i]];
        c->spans[c->nspans++] = offs[2 * idx[i] + 2];
    }
    return HL_OK;
}

/* Sort the written pairs by key and refuse duplicates (keys that compare
 * equal in exact order: =:=, so 0.0 and -0.0 too). Keys in the input's
 * order already, as term_to_binary writes small maps, cost n - 1 compares. */
static int close_map(canon_ctx *c, cframe *f)
{
    size_t n = f->count / 2, *offs = c->offs + f->offs;
    offs[2 * n] = c->out->len;
    map_sort_ctx m = {c->out->data, offs};
    size_t i = 1;
    while (i < n && key_cmp(&m, i - 1, i) < 0)
        i++;
    if (i >= n)
        return HL_OK;
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx)
        return HL_ENOMEM;
    for (i = 0; i < n; i++)
        idx[i] = i;
    int rc = hl_term_sort(idx, n, key_cmp, &m);
    for (i = 1; !rc && i < n; i++)
        if (key_cmp(&m, idx[i - 1], idx[i]) == 0)
            rc = HL_EBADARG;
    if (!rc)
        rc = c->in_keys ? reorder_now(c, offs, idx, n) : reorder_later(c, offs, idx, n);
    free(idx);
    return rc;
}

/* A child has just been written into frame f. */
static void child_done(canon_ctx *c, cframe *f)
{
    if (f->kind == F_MAP && f->in_key) {
        f->in_key = 0;
        c->in_keys--;
    }
    if (f->kind != F_LIST || f->in_tail)
        return;
    size_t clen = c->out->len - f->child;
    if (clen != 2 || c->out->data[f->child] != HL_TAG_SMALL_INTEGER)
        f->all_small = 0;
    f->count++;
}

/* Begin the next child of f, the top frame. */
static int open_child(canon_ctx *c, cframe *f)
{
    if (f->kind != F_LIST || !f->in_tail)
        f->left--;
    f->child = c->out->len;
    if (f->kind == F_MAP) {
        if (f->count % 2 == 0) {
            f->in_key = 1;
            c->in_keys++;
        }
        c->offs[f->offs + f->count++] = c->out->len;
    }
    size_t depth = c->depth;
    int rc = open_term(c);
    if (!rc && c->depth == depth)
        child_done(c, &c->st[depth - 1]);
    return rc;
}

static int close_frame(canon_ctx *c, cframe *f)
{
    int rc = HL_OK;
    if (f->kind == F_LIST)
        rc = close_list(c, f);
    else if (f->kind == F_MAP)
        rc = close_map(c, f);
    else if (f->kind == F_FUN)
        hl_put_u32(c->out->data + f->start + 1, (uint32_t)(c->out->len - f->start - 1));
    if (f->kind == F_MAP)
        c->noffs = f->offs;
    c->depth--;
    if (!rc && c->depth > 0)
        child_done(c, &c->st[c->depth - 1]);
    return rc;
}

static int run(canon_ctx *c)
{
    int rc = open_term(c);
    while (!rc && c->depth > 0) {
        cframe *f = &c->st[c->depth - 1];
        int more = f->kind == F_LIST ? list_next(c, f, &rc) : f->left > 0;
        if (rc)
            break;
        rc = more ? open_child(c, f) : close_frame(c, f);
    }
    return rc;
}

static int rec_order(const void *x, const void *y)
{
    const crec *a = x, *b = y;
    return (a->body > b->body) - (a->body < b->body);
}

/* The first record whose body starts after pos (records sorted). A pair
 * starts where its map's body does, and a map nested in it starts later. */
static size_t rec_at(const canon_ctx *c, size_t pos)
{
    size_t lo = 0, hi = c->nrec;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->recs[mid].body <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A step of assemble: copy out[cur, end) (rec == SIZE_MAX) or write the
 * pairs of record rec from the i-th on. */
typedef struct {
    size_t cur, end, rec, i;
} astep;

/* Write every recorded map's pairs in key order: copy out from the first
 * record on into dst, taking pairs in recorded order where records begin;
 * maps nest, so the walk keeps a heap stack. Each byte is copied once. */
static int assemble(canon_ctx *c)
{
    hl_buf *out = c->out;
    qsort(c->recs, c->nrec, sizeof *c->recs, rec_order);
    size_t from = c->recs[0].body - 5, top = 0, cap = 0; /* its MAP_EXT header */
    hl_buf dst = {0};
    astep *st = NULL;
    int rc = hl_buf_reserve(&dst, out->len - from);
    if (!rc && !(rc = grow(&st, &cap, 1, sizeof *st)))
        st[top++] = (astep){from, out->len, SIZE_MAX, 0};
    while (!rc && top > 0) {
        astep *a = &st[top - 1];
        astep next;
        if (a->rec == SIZE_MAX) {
            size_t r = rec_at(c, a->cur);
            if (r == c->nrec || c->recs[r].body >= a->end) {
                rc = hl_buf_append(&dst, out->data + a->cur, a->end - a->cur);
                top--;
                continue;
            }
            rc = hl_buf_append(&dst, out->data + a->cur, c->recs[r].body - a->cur);
            a->cur = c->recs[r].end;
            next = (astep){0, 0, r, 0};
        } else {
            const crec *r = &c->recs[a->rec];
            if (a->i == r->n) {
                top--;
                continue;
            }
            const size_t *s = c->spans + r->spans + 2 * a->i++;
            next = (astep){s[0], s[1], SIZE_MAX, 0};
        }
        if (!rc && !(rc = grow(&st, &cap, top + 1, sizeof *st)))
            st[top++] = next;
    }
    if (!rc) /* the same bytes in another order: same length */
        memcpy(out->data + from, dst.data, dst.len);
    free(st);
    hl_buf_free(&dst);
    return rc;
}

static int canon_as(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out,
                    hl_term_form form)
{
    size_t end;
    if (!buf || !pos || !out)
        return HL_EBADARG;
    end = *pos;
    if (hl_term_skip(buf, len, &end))
        return HL_EBADARG;
    canon_ctx c;
    memset(&c, 0, sizeof c);
    c.b = buf;
    c.len = end;
    c.pos = *pos;
    c.out = out;
    c.key_form = form == HL_FORM_KEY;
    size_t entry = out->len;
    int rc = run(&c);
    if (!rc && c.pos != end)
        rc = HL_EBADARG;
    if (!rc && c.nrec)
        rc = assemble(&c);
    free(c.st);
    free(c.offs);
    free(c.recs);
    free(c.spans);
    if (rc) {
        out->len = entry;
        return rc;
    }
    *pos = end;
    return HL_OK;
}

int hl_term_canon(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out)
{
    return canon_as(buf, len, pos, out, HL_FORM_KEY);
}

int hl_term_canon_form(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out,
                       hl_term_form form)
{
    return canon_as(buf, len, pos, out, form);
}

int hl_term_canon_binary(const unsigned char *buf, size_t len, hl_buf *out)
{
    size_t pos = 1, entry;
    if (!buf || !out || len < 2 || buf[0] != HL_TAG_VERSION)
        return HL_EBADARG;
    entry = out->len;
    int rc = hl_buf_append_byte(out, HL_TAG_VERSION);
    if (!rc)
        rc = hl_term_canon(buf, len, &pos, out);
    if (!rc && pos != len)
        rc = HL_EBADARG;
    if (rc)
        out->len = entry;
    return rc;
}

int hl_term_key_form(hl_bytes t, hl_buf *scratch, hl_bytes *key)
{
    size_t pos = 0;
    int neg_zero;
    if (!t.data || !scratch || !key || hl_term_skip_scan(t.data, t.len, &pos, &neg_zero) ||
        pos != t.len)
        return HL_EBADARG;
    if (!neg_zero) {
        *key = t;
        return HL_OK;
    }
    scratch->len = 0;
    pos = 0;
    int rc = canon_as(t.data, t.len, &pos, scratch, HL_FORM_KEY);
    if (!rc)
        *key = hl_buf_view(scratch);
    return rc;
}
