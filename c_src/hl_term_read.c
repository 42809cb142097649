/*
 * hl_term_read.c: the tag table, validation (hl_term_skip) and the
 * accessors that read parts of a term in place (contract in hl_term_read.h).
 *
 * The one idea: nothing here recurses on the C stack, because a peer can send
 * a list nested 100,000 deep and the NIF runs on small dirty-scheduler
 * stacks. hl_term_skip keeps a single counter of terms still to read (every
 * term is at least one byte, so the counter is bounded by the bytes left).
 *
 * Accessors return views into the caller's bytes and never copy; they check
 * bounds on everything they touch but only validate the parts they walk, so
 * an element view of a malformed tuple can still be refused later by
 * hl_term_canon. Scalars are read by hl_term_util.c, the one reader per kind.
 */
#include "hl_term_int.h"

#include <math.h>

/* Tag -> kind, the one classification (see hl_term_kind in hl_term_read.h). */
static const unsigned char kinds[256] = {
    [HL_TAG_SMALL_INTEGER] = HL_KIND_INT,
    [HL_TAG_INTEGER] = HL_KIND_INT,
    [HL_TAG_SMALL_BIG] = HL_KIND_INT,
    [HL_TAG_LARGE_BIG] = HL_KIND_INT,
    [HL_TAG_NEW_FLOAT] = HL_KIND_FLOAT,
    [HL_TAG_FLOAT] = HL_KIND_FLOAT,
    [HL_TAG_ATOM] = HL_KIND_ATOM,
    [HL_TAG_SMALL_ATOM] = HL_KIND_ATOM,
    [HL_TAG_ATOM_UTF8] = HL_KIND_ATOM,
    [HL_TAG_SMALL_ATOM_UTF8] = HL_KIND_ATOM,
    [HL_TAG_REFERENCE] = HL_KIND_REF,
    [HL_TAG_NEW_REFERENCE] = HL_KIND_REF,
    [HL_TAG_NEWER_REFERENCE] = HL_KIND_REF,
    [HL_TAG_NEW_FUN] = HL_KIND_FUN,
    [HL_TAG_EXPORT] = HL_KIND_EXPORT,
    [HL_TAG_PORT] = HL_KIND_PORT,
    [HL_TAG_NEW_PORT] = HL_KIND_PORT,
    [HL_TAG_V4_PORT] = HL_KIND_PORT,
    [HL_TAG_PID] = HL_KIND_PID,
    [HL_TAG_NEW_PID] = HL_KIND_PID,
    [HL_TAG_SMALL_TUPLE] = HL_KIND_TUPLE,
    [HL_TAG_LARGE_TUPLE] = HL_KIND_TUPLE,
    [HL_TAG_MAP] = HL_KIND_MAP,
    [HL_TAG_NIL] = HL_KIND_NIL,
    [HL_TAG_STRING] = HL_KIND_STRING,
    [HL_TAG_LIST] = HL_KIND_LIST,
    [HL_TAG_BINARY] = HL_KIND_BINARY,
    [HL_TAG_BIT_BINARY] = HL_KIND_BITS,
};

hl_term_kind hl_term_kind_of(unsigned char tag)
{
    return (hl_term_kind)kinds[tag];
}

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

/* Skip one term's own bytes (a container's header, a scalar whole) and add
 * its children to *todo. Sets *neg_zero for a float -0.0. */
static int skip_one(const unsigned char *b, size_t len, size_t *pos, size_t *todo, int *neg_zero)
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
    switch (hl_term_kind_of(tag)) {
    case HL_KIND_INT:
        rc = hl_term_read_int(b, len, &p, &u.i);
        break;
    case HL_KIND_FLOAT:
        rc = hl_term_read_float(b, len, &p, &u.d);
        if (!rc && u.d == 0.0 && signbit(u.d))
            *neg_zero = 1;
        break;
    case HL_KIND_ATOM:
        rc = hl_term_read_atom(b, len, &p, &u.a);
        break;
    case HL_KIND_REF:
    case HL_KIND_PORT:
    case HL_KIND_PID:
        rc = hl_term_read_ident(b, len, &p, &u.id);
        break;
    case HL_KIND_NIL:
        p++;
        break;
    case HL_KIND_TUPLE:
        rc = count_field(b, len, p + 1, tag == HL_TAG_SMALL_TUPLE ? 1 : 4, &kids);
        p += tag == HL_TAG_SMALL_TUPLE ? 2 : 5;
        break;
    case HL_KIND_LIST:
        rc = count_field(b, len, p + 1, 4, &kids);
        kids++; /* the tail */
        p += 5;
        break;
    case HL_KIND_MAP:
        rc = count_field(b, len, p + 1, 4, &n);
        p += 5;
        if (!rc && n > (len - p) / 2)
            return HL_EBADARG;
        kids = 2 * n;
        break;
    case HL_KIND_STRING:
    case HL_KIND_BINARY:
        rc = count_field(b, len, p + 1, tag == HL_TAG_STRING ? 2 : 4, &n);
        p += tag == HL_TAG_STRING ? 3 : 5;
        if (!rc && n > len - p)
            return HL_EBADARG;
        p += n;
        break;
    case HL_KIND_BITS:
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
    case HL_KIND_EXPORT:
        p++;
        rc = skip_export(b, len, &p);
        break;
    case HL_KIND_FUN:
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

int hl_term_skip_scan(const unsigned char *buf, size_t len, size_t *pos, int *neg_zero)
{
    if (!buf || !pos || !neg_zero)
        return HL_EBADARG;
    size_t p = *pos, todo = 1;
    int nz = 0;
    if (p >= len)
        return HL_EBADARG;
    while (todo > 0) {
        todo--;
        if (p >= len || skip_one(buf, len, &p, &todo, &nz))
            return HL_EBADARG;
    }
    *pos = p;
    *neg_zero = nz;
    return HL_OK;
}

int hl_term_skip(const unsigned char *buf, size_t len, size_t *pos)
{
    int nz;
    return hl_term_skip_scan(buf, len, pos, &nz);
}

int hl_term_tuple_arity(const unsigned char *t, size_t len, size_t *arity)
{
    if (!t || len < 2)
        return HL_EBADARG;
    if (t[0] == HL_TAG_SMALL_TUPLE) {
        *arity = t[1];
        return HL_OK;
    }
    if (t[0] == HL_TAG_LARGE_TUPLE && len >= 5) {
        *arity = hl_get_u32(t + 1);
        return HL_OK;
    }
    return HL_EBADARG;
}

int hl_term_tuple_element(const unsigned char *t, size_t len, size_t n, hl_bytes *elem)
{
    size_t arity;
    if (hl_term_tuple_arity(t, len, &arity) || n < 1 || n > arity)
        return HL_EBADARG;
    size_t pos = t[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
    for (size_t i = 1; i < n; i++)
        if (hl_term_skip(t, len, &pos))
            return HL_EBADARG;
    size_t start = pos;
    if (hl_term_skip(t, len, &pos))
        return HL_EBADARG;
    elem->data = t + start;
    elem->len = pos - start;
    return HL_OK;
}

int hl_term_tuple_elements(const unsigned char *t, size_t len, hl_bytes *elems, size_t cap,
                           size_t *arity)
{
    if (hl_term_tuple_arity(t, len, arity))
        return HL_EBADARG;
    size_t pos = t[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
    for (size_t i = 0; i < *arity && i < cap; i++) {
        size_t start = pos;
        if (hl_term_skip(t, len, &pos))
            return HL_EBADARG;
        elems[i] = (hl_bytes){t + start, pos - start};
    }
    return HL_OK;
}

int hl_term_node_of(const unsigned char *t, size_t len, hl_bytes *node_atom)
{
    hl_ident id;
    size_t pos = 0;
    if (!t || hl_term_read_ident(t, len, &pos, &id))
        return HL_EBADARG;
    *node_atom = id.node.enc;
    return HL_OK;
}

int hl_term_is_pid(const unsigned char *t, size_t len)
{
    hl_ident id;
    size_t pos = 0;
    return t && hl_term_read_ident(t, len, &pos, &id) == HL_OK && id.kind == HL_TAG_NEW_PID;
}

int hl_term_get_atom(const unsigned char *t, size_t len, char *name, size_t cap)
{
    hl_atom a;
    size_t pos = 0, w = 0;
    if (!t || !name || hl_term_read_atom(t, len, &pos, &a) || hl_term_atom_utf8_len(&a) >= cap)
        return HL_EBADARG;
    for (size_t i = 0; i < a.n; i++) {
        unsigned c = a.p[i];
        if (a.latin1 && c >= 0x80) {
            name[w++] = (char)(0xC0 | (c >> 6));
            name[w++] = (char)(0x80 | (c & 0x3F));
        } else {
            name[w++] = (char)c;
        }
    }
    name[w] = 0;
    return HL_OK;
}

int hl_term_get_int(const unsigned char *t, size_t len, int64_t *v)
{
    hl_int x;
    size_t pos = 0;
    if (!t || hl_term_read_int(t, len, &pos, &x) || x.n > 8)
        return HL_EBADARG;
    uint64_t m = 0;
    for (size_t i = x.n; i-- > 0;)
        m = (m << 8) | hl_int_byte(&x, i);
    if (x.neg ? m > (UINT64_C(1) << 63) : m > (uint64_t)INT64_MAX)
        return HL_EBADARG;
    *v = x.neg ? (int64_t)(0 - m) : (int64_t)m;
    return HL_OK;
}

/* Walk the list at t, calling fn per element when fn is not NULL. Tails that
 * are lists continue the walk; the list must end in [] (or a string). */
static int walk_list(const unsigned char *t, size_t len, hl_term_elem_fn fn, void *ctx)
{
    size_t pos = 0;
    unsigned char small[2] = {HL_TAG_SMALL_INTEGER, 0};
    for (;;) {
        if (pos >= len)
            return HL_EBADARG;
        if (t[pos] == HL_TAG_NIL)
            return HL_OK;
        if (t[pos] == HL_TAG_STRING) {
            if (len - pos < 3)
                return HL_EBADARG;
            size_t n = hl_get_u16(t + pos + 1);
            if (len - pos - 3 < n)
                return HL_EBADARG;
            for (size_t i = 0; fn && i < n; i++) {
                small[1] = t[pos + 3 + i];
                int rc = fn(ctx, (hl_bytes){small, 2});
                if (rc)
                    return rc;
            }
            return HL_OK;
        }
        if (t[pos] != HL_TAG_LIST || len - pos < 5)
            return HL_EBADARG;
        size_t n = hl_get_u32(t + pos + 1);
        pos += 5;
        for (size_t i = 0; i < n; i++) {
            size_t start = pos;
            if (hl_term_skip(t, len, &pos))
                return HL_EBADARG;
            int rc = fn ? fn(ctx, (hl_bytes){t + start, pos - start}) : HL_OK;
            if (rc)
                return rc;
        }
    }
}

int hl_term_list_each(const unsigned char *t, size_t len, hl_term_elem_fn fn, void *ctx)
{
    if (!t || !fn)
        return HL_EBADARG;
    /* a first pass without fn: an improper list is refused before any call */
    int rc = walk_list(t, len, NULL, NULL);
    return rc ? rc : walk_list(t, len, fn, ctx);
}
