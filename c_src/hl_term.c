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
 *    per enclosing map: quadratic in the depth. So a closing map only records
 *    its pair order (hl_term_mapord.c), and one last pass moves each byte
 *    once. Until then map bytes are out of order, so keys are compared with
 *    the orders recorded for the maps inside them (hl_order_compare_known),
 *    which also spares hl_order walking a nested map once per level.
 *  - Two forms. OTP 25 has 0.0 =:= -0.0, so keys (HL_FORM_KEY) turn -0.0 into
 *    0.0 and stay byte-equal exactly when =:=; objects (HL_FORM_OBJECT) keep
 *    the sign, so what comes back is term_to_binary-equal to what went in.
 */
#include "hl_term.h"
#include "hl_order.h"
#include "hl_term_int.h"
#include "hl_term_mapord.h"

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
    hl_mapord mo;       /* pair orders decided, applied at the end */
    hl_order_maps maps; /* the orders known so far, for comparing keys */
} canon_ctx;

/* hl_grow with this file's first size. */
static int grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    return hl_grow(arrp, cap, need, elem, 16);
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
    if (f->count == 0) /* no header: the term is its tail, written already, or [] */
        return f->proper ? hl_buf_append_byte(out, HL_TAG_NIL) : HL_OK;
    /* Only now: out->data may be NULL while nothing has been written. */
    unsigned char *d = out->data + f->start;
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
    canon_ctx *c;
    const size_t *offs;
} map_sort_ctx;

static int key_cmp(void *ctx, size_t x, size_t y)
{
    map_sort_ctx *m = ctx;
    const unsigned char *d = m->c->out->data;
    return hl_order_compare_known(d + m->offs[2 * x], m->offs[2 * x + 1] - m->offs[2 * x],
                                  d + m->offs[2 * y], m->offs[2 * y + 1] - m->offs[2 * y],
                                  HL_CMP_EXACT, &m->c->maps);
}

/* hl_order_maps: the maps closed inside keys so far. */
static int known_map(void *ctx, const unsigned char *m, size_t n, size_t *key_at, size_t *order)
{
    canon_ctx *c = ctx;
    return hl_mapord_find(&c->mo, (size_t)(m - c->out->data), n, key_at, order);
}

/* Sort the written pairs by key and refuse duplicates (keys that compare
 * equal in exact order: =:=, so 0.0 and -0.0 too). Keys in order already, as
 * term_to_binary writes small maps, cost n - 1 compares. A map inside a key
 * is remembered, for comparing the keys around it. */
static int close_map(canon_ctx *c, cframe *f)
{
    size_t n = f->count / 2, *offs = c->offs + f->offs, *idx = NULL, i = 1;
    offs[2 * n] = c->out->len;
    map_sort_ctx m = {c, offs};
    int rc = HL_OK;
    while (i < n && key_cmp(&m, i - 1, i) < 0)
        i++;
    if (i < n) {
        if (!(idx = malloc(n * sizeof *idx)))
            return HL_ENOMEM;
        for (i = 0; i < n; i++)
            idx[i] = i;
        rc = hl_term_sort(idx, n, key_cmp, &m);
        for (i = 1; !rc && i < n; i++)
            if (key_cmp(&m, idx[i - 1], idx[i]) == 0)
                rc = HL_EBADARG;
        if (!rc)
            rc = hl_mapord_move_pairs(&c->mo, offs, idx, n);
    }
    if (!rc && c->in_keys)
        rc = hl_mapord_know(&c->mo, f->start, offs, idx, n);
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
    c.maps = (hl_order_maps){known_map, &c};
    size_t entry = out->len;
    int rc = run(&c);
    if (!rc && c.pos != end)
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_mapord_apply(&c.mo, out);
    free(c.st);
    free(c.offs);
    hl_mapord_free(&c.mo);
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
