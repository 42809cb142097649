/*
 * hl_term.c: validating and canonicalising external-term-format terms
 * (contract in hl_term.h; accessors and encoders are in hl_term_enc.c).
 *
 * The one idea: nothing here recurses on the C stack, because a peer can send
 * a list nested 100,000 deep and the NIF runs on small dirty-scheduler
 * stacks. hl_term_skip keeps a single counter of terms still to read (every
 * term is at least one byte, so the counter is bounded by the bytes left).
 * hl_term_canon keeps an explicit heap stack of open containers; its depth is
 * bounded only by the input size. There is no nesting limit.
 */
#include "hl_term_int.h"
#include "hl_order.h"

#include <stdlib.h>

/* NEW_FUN_EXT after its tag: Size(4) Arity(1) Uniq(16) Index(4) NumFree(4)
 * Module OldIndex OldUniq Pid, then NumFree free variables. erts ignores
 * Size when decoding, so this does too (hl_term_canon recomputes it). Pid
 * and the free variables are left to the caller's count (*nfree). */
static int skip_fun_head(const unsigned char *b, size_t len, size_t *pos, size_t *nfree)
{
    size_t p = *pos;
    hl_atom a;
    hl_int i;
    if (len - p < 29)
        return HL_EBADARG;
    *nfree = hl_get_u32(b + p + 25);
    p += 29;
    if (hl_term_read_atom(b, len, &p, &a) || hl_term_read_int(b, len, &p, &i) ||
        hl_term_read_int(b, len, &p, &i))
        return HL_EBADARG;
    *nfree += 1; /* erts takes any term as Pid; it is counted as a child */
    *pos = p;
    return HL_OK;
}

/* EXPORT_EXT: Module, Function (atoms), Arity (a non-negative integer in
 * any encoding: erts decodes fun m:f/70000 and fun m:f/1 from a big). */
static int skip_export(const unsigned char *b, size_t len, size_t *pos)
{
    hl_atom a;
    hl_int i;
    if (hl_term_read_atom(b, len, pos, &a) || hl_term_read_atom(b, len, pos, &a) ||
        hl_term_read_int(b, len, pos, &i) || i.neg || i.n > 4 || i.small > 0x7fffffffu)
        return HL_EBADARG;
    return HL_OK;
}

/* Read a container's element count; `hdr` is the width of the count field. */
static int count_field(const unsigned char *b, size_t len, size_t p, size_t hdr, size_t *n)
{
    if (len - p < hdr)
        return HL_EBADARG;
    *n = hdr == 1 ? b[p] : hdr == 2 ? hl_get_u16(b + p) : hl_get_u32(b + p);
    return HL_OK;
}

static int skip_one(const unsigned char *b, size_t len, size_t *pos, size_t *todo)
{
    size_t p = *pos, n = 0, kids = 0;
    unsigned char tag = b[p];
    union {
        hl_int i;
        hl_atom a;
        hl_ident id;
        double d;
    } u;
    int rc = HL_OK;
    switch (tag) {
    case HL_TAG_SMALL_INTEGER:
    case HL_TAG_INTEGER:
    case HL_TAG_SMALL_BIG:
    case HL_TAG_LARGE_BIG:
        rc = hl_term_read_int(b, len, &p, &u.i);
        break;
    case HL_TAG_NEW_FLOAT:
    case HL_TAG_FLOAT:
        rc = hl_term_read_float(b, len, &p, &u.d);
        break;
    case HL_TAG_ATOM:
    case HL_TAG_SMALL_ATOM:
    case HL_TAG_ATOM_UTF8:
    case HL_TAG_SMALL_ATOM_UTF8:
        rc = hl_term_read_atom(b, len, &p, &u.a);
        break;
    case HL_TAG_PID:
    case HL_TAG_NEW_PID:
    case HL_TAG_PORT:
    case HL_TAG_NEW_PORT:
    case HL_TAG_V4_PORT:
    case HL_TAG_REFERENCE:
    case HL_TAG_NEW_REFERENCE:
    case HL_TAG_NEWER_REFERENCE:
        rc = hl_term_read_ident(b, len, &p, &u.id);
        break;
    case HL_TAG_NIL:
        p++;
        break;
    case HL_TAG_SMALL_TUPLE:
    case HL_TAG_LARGE_TUPLE:
        rc = count_field(b, len, p + 1, tag == HL_TAG_SMALL_TUPLE ? 1 : 4, &kids);
        p += tag == HL_TAG_SMALL_TUPLE ? 2 : 5;
        break;
    case HL_TAG_LIST:
        rc = count_field(b, len, p + 1, 4, &kids);
        kids++; /* the tail */
        p += 5;
        break;
    case HL_TAG_MAP:
        rc = count_field(b, len, p + 1, 4, &n);
        p += 5;
        if (!rc && n > (len - p) / 2)
            return HL_EBADARG;
        kids = 2 * n;
        break;
    case HL_TAG_STRING:
    case HL_TAG_BINARY:
        rc = count_field(b, len, p + 1, tag == HL_TAG_STRING ? 2 : 4, &n);
        p += tag == HL_TAG_STRING ? 3 : 5;
        if (!rc && n > len - p)
            return HL_EBADARG;
        p += n;
        break;
    case HL_TAG_BIT_BINARY:
        if (count_field(b, len, p + 1, 4, &n) || len - p < 6)
            return HL_EBADARG;
        /* erts: an empty bitstring has 0 bits, any other 1..8 in its last byte */
        if (n == 0 ? b[p + 5] != 0 : b[p + 5] < 1 || b[p + 5] > 8)
            return HL_EBADARG;
        p += 6;
        if (n > len - p)
            return HL_EBADARG;
        p += n;
        break;
    case HL_TAG_EXPORT:
        p++;
        rc = skip_export(b, len, &p);
        break;
    case HL_TAG_NEW_FUN:
        p++;
        rc = skip_fun_head(b, len, &p, &kids);
        break;
    default:
        return HL_EBADARG; /* also compressed terms and atom cache refs */
    }
    if (rc || p > len)
        return HL_EBADARG;
    /* every pending term needs at least one byte: this bounds *todo */
    if (kids > len - p || *todo > len - p - kids)
        return HL_EBADARG;
    *todo += kids;
    *pos = p;
    return HL_OK;
}

static int skip_n(const unsigned char *b, size_t len, size_t *pos, size_t count)
{
    size_t todo = count;
    if (*pos > len || todo > len - *pos)
        return HL_EBADARG;
    while (todo > 0) {
        todo--;
        if (*pos >= len || skip_one(b, len, pos, &todo))
            return HL_EBADARG;
    }
    return HL_OK;
}

int hl_term_skip(const unsigned char *buf, size_t len, size_t *pos)
{
    if (!buf || !pos)
        return HL_EBADARG;
    size_t p = *pos;
    if (skip_n(buf, len, &p, 1))
        return HL_EBADARG;
    *pos = p;
    return HL_OK;
}

/* ---- canonicalisation ------------------------------------------------- */

enum { F_SEQ, F_LIST, F_MAP, F_FUN };

typedef struct {
    unsigned char kind;
    unsigned char in_tail; /* F_LIST: the pending child is the improper tail */
    unsigned char done;    /* F_LIST: the tail has been dealt with */
    unsigned char proper;  /* F_LIST: ended in [] */
    unsigned char all_small;
    size_t left;  /* children (F_LIST: elements of this segment) still to read */
    size_t start; /* out offset of this term's tag */
    size_t count; /* F_LIST: elements written; F_MAP: children begun */
    size_t child; /* out offset of the pending child */
    size_t *offs; /* F_MAP: out offsets of each key and value, then the end */
} cframe;

typedef struct {
    const unsigned char *b;
    size_t len, pos;
    hl_buf *out;
    cframe *st;
    size_t depth, cap;
} canon_ctx;

static cframe *push(canon_ctx *c, unsigned char kind, size_t left, size_t start)
{
    if (c->depth == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        cframe *s = realloc(c->st, cap * sizeof *s);
        if (!s)
            return NULL;
        c->st = s;
        c->cap = cap;
    }
    cframe *f = &c->st[c->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->left = left;
    f->start = start;
    f->all_small = 1;
    return f;
}

/* Write one scalar canonically, or write a container's header and open a
 * frame for its children. Input is known well formed (skipped first). */
static int open_term(canon_ctx *c)
{
    const unsigned char *b = c->b;
    hl_buf *out = c->out;
    size_t p = c->pos, start = out->len, n;
    unsigned char tag = b[p];
    int rc;
    union {
        hl_int i;
        hl_atom a;
        hl_ident id;
        double d;
    } u;
    switch (tag) {
    case HL_TAG_SMALL_INTEGER:
    case HL_TAG_INTEGER:
    case HL_TAG_SMALL_BIG:
    case HL_TAG_LARGE_BIG:
        rc = hl_term_read_int(b, c->len, &c->pos, &u.i);
        return rc ? rc : hl_term_put_canon_int(out, &u.i);
    case HL_TAG_NEW_FLOAT:
    case HL_TAG_FLOAT: {
        rc = hl_term_read_float(b, c->len, &c->pos, &u.d);
        if (rc)
            return rc;
        /* OTP 25: 0.0 =:= -0.0, so both must have one encoding */
        uint64_t bits = 0;
        if (u.d != 0.0)
            memcpy(&bits, &u.d, sizeof bits);
        rc = hl_buf_append_byte(out, HL_TAG_NEW_FLOAT);
        if (!rc)
            rc = hl_buf_append_u32(out, (uint32_t)(bits >> 32));
        return rc ? rc : hl_buf_append_u32(out, (uint32_t)bits);
    }
    case HL_TAG_ATOM:
    case HL_TAG_SMALL_ATOM:
    case HL_TAG_ATOM_UTF8:
    case HL_TAG_SMALL_ATOM_UTF8:
        rc = hl_term_read_atom(b, c->len, &c->pos, &u.a);
        return rc ? rc : hl_term_put_canon_atom(out, &u.a);
    case HL_TAG_PID:
    case HL_TAG_NEW_PID:
    case HL_TAG_PORT:
    case HL_TAG_NEW_PORT:
    case HL_TAG_V4_PORT:
    case HL_TAG_REFERENCE:
    case HL_TAG_NEW_REFERENCE:
    case HL_TAG_NEWER_REFERENCE:
        rc = hl_term_read_ident(b, c->len, &c->pos, &u.id);
        return rc ? rc : hl_term_put_canon_ident(out, &u.id);
    case HL_TAG_NIL:
        c->pos++;
        return hl_buf_append_byte(out, HL_TAG_NIL);
    case HL_TAG_STRING:
        n = hl_get_u16(b + p + 1);
        c->pos += 3 + n;
        return n ? hl_buf_append(out, b + p, 3 + n) : hl_buf_append_byte(out, HL_TAG_NIL);
    case HL_TAG_BINARY:
        n = hl_get_u32(b + p + 1);
        c->pos += 5 + n;
        return hl_buf_append(out, b + p, 5 + n);
    case HL_TAG_BIT_BINARY: {
        unsigned bits = b[p + 5];
        n = hl_get_u32(b + p + 1);
        c->pos += 6 + n;
        if (n == 0 || bits == 8) {
            rc = hl_buf_append_byte(out, HL_TAG_BINARY);
            if (!rc)
                rc = hl_buf_append_u32(out, (uint32_t)n);
            return rc ? rc : hl_buf_append(out, b + p + 6, n);
        }
        rc = hl_buf_append(out, b + p, 6 + n);
        if (!rc) /* unused low bits of the last byte are not part of the value */
            out->data[out->len - 1] &= (unsigned char)(0xFF << (8 - bits));
        return rc;
    }
    case HL_TAG_SMALL_TUPLE:
    case HL_TAG_LARGE_TUPLE:
        n = tag == HL_TAG_SMALL_TUPLE ? b[p + 1] : hl_get_u32(b + p + 1);
        c->pos += tag == HL_TAG_SMALL_TUPLE ? 2 : 5;
        rc = n <= 255 ? hl_buf_append_byte(out, HL_TAG_SMALL_TUPLE) : HL_OK;
        if (!rc)
            rc = n <= 255 ? hl_buf_append_byte(out, (unsigned char)n)
                          : hl_buf_append_byte(out, HL_TAG_LARGE_TUPLE);
        if (!rc && n > 255)
            rc = hl_buf_append_u32(out, (uint32_t)n);
        if (!rc && n)
            rc = push(c, F_SEQ, n, start) ? HL_OK : HL_ENOMEM;
        return rc;
    case HL_TAG_LIST:
        /* header patched (or rewritten as a string) when the list closes */
        rc = hl_buf_append(out, "\x6c\0\0\0\0", 5);
        return rc ? rc : push(c, F_LIST, 0, start) ? HL_OK : HL_ENOMEM;
    case HL_TAG_MAP: {
        n = hl_get_u32(b + p + 1);
        c->pos += 5;
        rc = hl_buf_append(out, b + p, 5);
        if (rc || n == 0)
            return rc;
        cframe *f = push(c, F_MAP, 2 * n, start);
        if (!f)
            return HL_ENOMEM;
        f->offs = malloc((2 * n + 1) * sizeof *f->offs);
        return f->offs ? HL_OK : HL_ENOMEM;
    }
    case HL_TAG_EXPORT:
        c->pos++;
        rc = hl_buf_append_byte(out, HL_TAG_EXPORT);
        return rc ? rc : push(c, F_SEQ, 3, start) ? HL_OK : HL_ENOMEM;
    case HL_TAG_NEW_FUN:
        /* Size is recomputed at close; Arity, Uniq, Index, NumFree are copied */
        n = hl_get_u32(b + p + 26);
        c->pos += 30;
        rc = hl_buf_append(out, b + p, 30);
        return rc ? rc : push(c, F_FUN, 4 + n, start) ? HL_OK : HL_ENOMEM;
    default:
        return HL_EBADARG;
    }
}

/* Append each character of a STRING_EXT tail as a SMALL_INTEGER_EXT element. */
static int string_tail(canon_ctx *c, cframe *f)
{
    size_t n = hl_get_u16(c->b + c->pos + 1);
    const unsigned char *s = c->b + c->pos + 3;
    int rc = hl_buf_reserve(c->out, 2 * n);
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
        if (f->left > 0)
            return 1;
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
    if (f->count == 0) {
        /* no elements at all: the term is its tail */
        memmove(d, d + 5, out->len - f->start - 5);
        out->len -= 5;
        return f->proper ? hl_buf_append_byte(out, HL_TAG_NIL) : HL_OK;
    }
    if (f->count > 0xffffffffu)
        return HL_EBADARG;
    if (f->proper && f->all_small && f->count <= 0xffff) {
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

/* Sort the written pairs by key and refuse duplicates: canonical keys are
 * byte-equal exactly when they are =:=. */
static int close_map(canon_ctx *c, cframe *f)
{
    hl_buf *out = c->out;
    size_t n = f->left == 0 ? f->count / 2 : 0, body = f->start + 5;
    f->offs[2 * n] = out->len;
    size_t *idx = malloc(n * sizeof *idx);
    unsigned char *tmp = malloc(out->len - body);
    int rc = idx && tmp ? HL_OK : HL_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        idx[i] = i;
    map_sort_ctx m = {out->data, f->offs};
    if (!rc)
        rc = hl_term_sort(idx, n, key_cmp, &m);
    size_t w = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t k = idx[i], klen = f->offs[2 * k + 1] - f->offs[2 * k];
        if (i > 0) {
            size_t j = idx[i - 1], jlen = f->offs[2 * j + 1] - f->offs[2 * j];
            if (klen == jlen &&
                !memcmp(out->data + f->offs[2 * k], out->data + f->offs[2 * j], klen))
                rc = HL_EBADARG;
        }
        size_t plen = f->offs[2 * k + 2] - f->offs[2 * k];
        memcpy(tmp + w, out->data + f->offs[2 * k], plen);
        w += plen;
    }
    if (!rc)
        memcpy(out->data + body, tmp, w);
    free(idx);
    free(tmp);
    return rc;
}

/* A child has just been written into frame f. */
static void child_done(canon_ctx *c, cframe *f)
{
    if (f->kind != F_LIST || f->in_tail)
        return;
    size_t clen = c->out->len - f->child;
    if (clen != 2 || c->out->data[f->child] != HL_TAG_SMALL_INTEGER)
        f->all_small = 0;
    f->count++;
}

static int run(canon_ctx *c)
{
    int rc = open_term(c);
    while (!rc && c->depth > 0) {
        cframe *f = &c->st[c->depth - 1];
        int more;
        if (f->kind == F_LIST)
            more = list_next(c, f, &rc);
        else
            more = f->left > 0;
        if (rc)
            break;
        if (more) {
            if (f->kind != F_LIST || !f->in_tail)
                f->left--;
            f->child = c->out->len;
            if (f->kind == F_MAP)
                f->offs[f->count++] = c->out->len;
            size_t depth = c->depth;
            rc = open_term(c);
            if (!rc && c->depth == depth)
                child_done(c, &c->st[depth - 1]);
            continue;
        }
        if (f->kind == F_LIST)
            rc = close_list(c, f);
        else if (f->kind == F_MAP)
            rc = close_map(c, f);
        else if (f->kind == F_FUN)
            hl_put_u32(c->out->data + f->start + 1, (uint32_t)(c->out->len - f->start - 1));
        free(f->offs);
        f->offs = NULL;
        c->depth--;
        if (!rc && c->depth > 0)
            child_done(c, &c->st[c->depth - 1]);
    }
    return rc;
}

int hl_term_canon(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out)
{
    size_t end;
    if (!buf || !pos || !out)
        return HL_EBADARG;
    end = *pos;
    if (hl_term_skip(buf, len, &end))
        return HL_EBADARG;
    canon_ctx c = {buf, end, *pos, out, NULL, 0, 0};
    size_t entry = out->len;
    int rc = run(&c);
    if (!rc && c.pos != end)
        rc = HL_EBADARG;
    for (size_t i = 0; i < c.depth; i++)
        free(c.st[i].offs);
    free(c.st);
    if (rc) {
        out->len = entry;
        return rc;
    }
    *pos = end;
    return HL_OK;
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
