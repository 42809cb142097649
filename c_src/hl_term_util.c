/*
 * hl_term_util.c: readers and canonical writers for the scalar terms
 * (integers, floats, atoms, pids, ports, references), shared by the codec and
 * the term order (see hl_term_int.h). A leaf of the term layer: it calls only
 * hl_common and libc.
 *
 * Every reader accepts all the encodings erts accepts for that kind and
 * decodes them to one set of fields; canonicalising a scalar is then "read,
 * write canonically". Readers check bounds before every access.
 */
#include "hl_term_int.h"

#include <string.h>

#include <math.h>
#include <stdlib.h>

int hl_term_read_int(const unsigned char *t, size_t len, size_t *pos, hl_int *v)
{
    size_t p = *pos, n;
    unsigned sign;
    if (p >= len)
        return HL_EBADARG;
    unsigned char tag = t[p++];
    v->big = NULL;
    v->neg = 0;
    v->small = 0;
    switch (tag) {
    case HL_TAG_SMALL_INTEGER:
        if (len - p < 1)
            return HL_EBADARG;
        v->small = t[p++];
        break;
    case HL_TAG_INTEGER: {
        if (len - p < 4)
            return HL_EBADARG;
        uint32_t u = hl_get_u32(t + p);
        p += 4;
        v->neg = (u >> 31) != 0;
        v->small = v->neg ? 0u - u : u;
        break;
    }
    case HL_TAG_SMALL_BIG:
    case HL_TAG_LARGE_BIG: {
        size_t hdr = tag == HL_TAG_SMALL_BIG ? 2 : 5;
        if (len - p < hdr)
            return HL_EBADARG;
        n = tag == HL_TAG_SMALL_BIG ? t[p] : hl_get_u32(t + p);
        sign = t[p + hdr - 1]; /* erts treats any non-zero sign byte as negative */
        p += hdr;
        if (len - p < n)
            return HL_EBADARG;
        const unsigned char *m = t + p;
        p += n;
        while (n > 0 && m[n - 1] == 0)
            n--;
        if (n > 4) {
            v->big = m;
            v->n = n;
            v->neg = sign != 0;
            *pos = p;
            return HL_OK;
        }
        for (size_t i = n; i-- > 0;)
            v->small = (v->small << 8) | m[i];
        v->neg = sign != 0;
        break;
    }
    default:
        return HL_EBADARG;
    }
    n = 0;
    for (uint32_t x = v->small; x; x >>= 8)
        n++;
    v->n = n;
    if (n == 0)
        v->neg = 0;
    *pos = p;
    return HL_OK;
}

/* FLOAT_EXT is a NUL-padded "%.20e" string. erts takes only
 * [+-]digits.digits[e[+-]digits] (no "inf", "1e5" or ".5"), and so do we,
 * before strtod does the correctly rounded conversion. */
static size_t digits(const unsigned char *s, size_t i)
{
    while (i < 31 && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

static int parse_old_float(const unsigned char *s, double *d)
{
    char tmp[32];
    size_t i = 0, j;
    if (s[i] == '+' || s[i] == '-')
        i++;
    if ((j = digits(s, i)) == i || j >= 31 || s[j] != '.')
        return HL_EBADARG;
    i = j + 1;
    if ((j = digits(s, i)) == i)
        return HL_EBADARG;
    i = j;
    if (i < 31 && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < 31 && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((j = digits(s, i)) == i)
            return HL_EBADARG;
        i = j;
    }
    if (i < 31 && s[i] != 0)
        return HL_EBADARG;
    memcpy(tmp, s, i);
    tmp[i] = 0;
    char *end;
    *d = strtod(tmp, &end);
    return end == tmp + i && isfinite(*d) ? HL_OK : HL_EBADARG;
}

int hl_term_read_float(const unsigned char *t, size_t len, size_t *pos, double *d)
{
    size_t p = *pos;
    if (p >= len)
        return HL_EBADARG;
    if (t[p] == HL_TAG_NEW_FLOAT) {
        if (len - p < 9)
            return HL_EBADARG;
        uint64_t bits = ((uint64_t)hl_get_u32(t + p + 1) << 32) | hl_get_u32(t + p + 5);
        memcpy(d, &bits, sizeof *d);
        if (!isfinite(*d))
            return HL_EBADARG;
        *pos = p + 9;
        return HL_OK;
    }
    if (t[p] == HL_TAG_FLOAT) {
        if (len - p < 32 || parse_old_float(t + p + 1, d))
            return HL_EBADARG;
        *pos = p + 32;
        return HL_OK;
    }
    return HL_EBADARG;
}

/* Decode one code point of valid UTF-8 (checked beforehand). */
static uint32_t utf8_next(const unsigned char *p, size_t *i)
{
    uint32_t c = p[(*i)++];
    int more = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (more)
        c &= 0x3F >> more;
    while (more--)
        c = (c << 6) | (p[(*i)++] & 0x3F);
    return c;
}

int hl_term_utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0, chars = 0;
    /* ASCII (node names, most atoms: several per call) eight bytes a step */
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            break;
        i += 8;
        chars += 8;
    }
    while (i < n) {
        unsigned c = p[i];
        size_t more;
        uint32_t min, cp;
        if (c < 0x80) {
            i++;
            chars++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            more = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3, min = 0x10000, cp = c & 0x07;
        else
            return 0;
        if (n - i - 1 < more)
            return 0;
        for (size_t k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += more + 1;
        chars++;
    }
    return chars <= 255;
}

int hl_term_read_atom(const unsigned char *t, size_t len, size_t *pos, hl_atom *a)
{
    size_t p = *pos, n;
    if (p >= len)
        return HL_EBADARG;
    unsigned char tag = t[p++];
    int wide = tag == HL_TAG_ATOM || tag == HL_TAG_ATOM_UTF8;
    if (!wide && tag != HL_TAG_SMALL_ATOM && tag != HL_TAG_SMALL_ATOM_UTF8)
        return HL_EBADARG;
    if (len - p < (size_t)(wide ? 2 : 1))
        return HL_EBADARG;
    n = wide ? hl_get_u16(t + p) : t[p];
    p += wide ? 2 : 1;
    if (len - p < n)
        return HL_EBADARG;
    a->p = t + p;
    a->n = n;
    a->latin1 = tag == HL_TAG_ATOM || tag == HL_TAG_SMALL_ATOM;
    if (a->latin1 ? n > 255 : !hl_term_utf8_ok(a->p, n))
        return HL_EBADARG;
    p += n;
    a->enc.data = t + *pos;
    a->enc.len = p - *pos;
    *pos = p;
    return HL_OK;
}

/* Fields of one ident encoding after the node atom: widths in bytes of id,
 * serial and creation (0 = absent). */
static int read_ident_fields(const unsigned char *t, size_t len, size_t *p, hl_ident *id,
                             size_t idw, size_t serw, size_t crew)
{
    if (len - *p < idw + serw + crew)
        return HL_EBADARG;
    const unsigned char *q = t + *p;
    id->id = idw == 8 ? ((uint64_t)hl_get_u32(q) << 32) | hl_get_u32(q + 4) : hl_get_u32(q);
    q += idw;
    id->serial = serw ? hl_get_u32(q) : 0;
    q += serw;
    id->creation = crew == 4 ? hl_get_u32(q) : q[0];
    *p += idw + serw + crew;
    return HL_OK;
}

int hl_term_read_ident(const unsigned char *t, size_t len, size_t *pos, hl_ident *id)
{
    size_t p = *pos, nw = 1;
    if (p >= len)
        return HL_EBADARG;
    unsigned char tag = t[p++];
    memset(id, 0, sizeof *id);
    if (tag == HL_TAG_NEW_REFERENCE || tag == HL_TAG_NEWER_REFERENCE) {
        if (len - p < 2)
            return HL_EBADARG;
        nw = hl_get_u16(t + p);
        p += 2;
        if (nw > 5) /* erts refuses more words than a reference can have */
            return HL_EBADARG;
    }
    if (hl_term_read_atom(t, len, &p, &id->node))
        return HL_EBADARG;
    int rc;
    switch (tag) {
    case HL_TAG_PID:
        rc = read_ident_fields(t, len, &p, id, 4, 4, 1);
        break;
    case HL_TAG_NEW_PID:
        rc = read_ident_fields(t, len, &p, id, 4, 4, 4);
        break;
    case HL_TAG_PORT:
        rc = read_ident_fields(t, len, &p, id, 4, 0, 1);
        break;
    case HL_TAG_NEW_PORT:
        rc = read_ident_fields(t, len, &p, id, 4, 0, 4);
        break;
    case HL_TAG_V4_PORT:
        rc = read_ident_fields(t, len, &p, id, 8, 0, 4);
        break;
    case HL_TAG_REFERENCE:
        /* one word, then the creation byte */
        if (len - p < 5)
            return HL_EBADARG;
        id->words = t + p;
        id->creation = t[p + 4];
        p += 5;
        rc = HL_OK;
        break;
    case HL_TAG_NEW_REFERENCE:
    case HL_TAG_NEWER_REFERENCE: {
        size_t cw = tag == HL_TAG_NEW_REFERENCE ? 1 : 4;
        if (len - p < cw + 4 * nw)
            return HL_EBADARG;
        id->creation = cw == 1 ? t[p] : hl_get_u32(t + p);
        id->words = t + p + cw;
        p += cw + 4 * nw;
        rc = HL_OK;
        break;
    }
    default:
        return HL_EBADARG;
    }
    if (rc)
        return rc;
    /* the old encodings carry a 2-bit creation, and an 18-bit first
     * reference word; erts refuses anything wider */
    int old = tag == HL_TAG_PID || tag == HL_TAG_PORT || tag == HL_TAG_REFERENCE ||
              tag == HL_TAG_NEW_REFERENCE;
    if (old && id->creation > 3)
        return HL_EBADARG;
    if (old && id->words && nw > 0 && hl_get_u32(id->words) >= (1u << 18))
        return HL_EBADARG;
    if (tag == HL_TAG_PID || tag == HL_TAG_NEW_PID)
        id->kind = HL_TAG_NEW_PID;
    else if (tag == HL_TAG_PORT || tag == HL_TAG_NEW_PORT || tag == HL_TAG_V4_PORT)
        id->kind = HL_TAG_NEW_PORT;
    else {
        id->kind = HL_TAG_NEWER_REFERENCE;
        id->nwords = nw;
    }
    *pos = p;
    return HL_OK;
}

int hl_term_put_canon_int(hl_buf *out, const hl_int *v)
{
    unsigned char b[5];
    if (v->n <= 4) {
        uint32_t m = v->small;
        if (!v->neg && m <= 255) {
            b[0] = HL_TAG_SMALL_INTEGER;
            b[1] = (unsigned char)m;
            return hl_buf_append(out, b, 2);
        }
        if ((!v->neg && m <= 0x7fffffffu) || (v->neg && m <= 0x80000000u)) {
            b[0] = HL_TAG_INTEGER;
            hl_put_u32(b + 1, v->neg ? 0u - m : m);
            return hl_buf_append(out, b, 5);
        }
    }
    int rc = hl_buf_reserve(out, v->n + 6);
    if (rc)
        return rc;
    if (v->n <= 255) {
        b[0] = HL_TAG_SMALL_BIG;
        b[1] = (unsigned char)v->n;
        b[2] = (unsigned char)v->neg;
        rc = hl_buf_append(out, b, 3);
    } else {
        b[0] = HL_TAG_LARGE_BIG;
        hl_put_u32(b + 1, (uint32_t)v->n);
        rc = hl_buf_append(out, b, 5);
        if (!rc)
            rc = hl_buf_append_byte(out, (unsigned char)v->neg);
    }
    for (size_t i = 0; !rc && i < v->n; i++)
        rc = hl_buf_append_byte(out, (unsigned char)hl_int_byte(v, i));
    return rc;
}

size_t hl_term_atom_utf8_len(const hl_atom *a)
{
    size_t n = a->n;
    if (a->latin1)
        for (size_t i = 0; i < a->n; i++)
            n += a->p[i] >= 0x80;
    return n;
}

int hl_term_put_canon_atom(hl_buf *out, const hl_atom *a)
{
    size_t n = hl_term_atom_utf8_len(a);
    int rc = hl_buf_reserve(out, n + 3);
    if (rc)
        return rc;
    if (n <= 255) {
        hl_buf_append_byte(out, HL_TAG_SMALL_ATOM_UTF8);
        hl_buf_append_byte(out, (unsigned char)n);
    } else {
        hl_buf_append_byte(out, HL_TAG_ATOM_UTF8);
        hl_buf_append_u16(out, (uint16_t)n);
    }
    if (!a->latin1)
        return hl_buf_append(out, a->p, a->n);
    for (size_t i = 0; i < a->n; i++) {
        unsigned c = a->p[i];
        if (c < 0x80) {
            hl_buf_append_byte(out, (unsigned char)c);
        } else {
            hl_buf_append_byte(out, (unsigned char)(0xC0 | (c >> 6)));
            hl_buf_append_byte(out, (unsigned char)(0x80 | (c & 0x3F)));
        }
    }
    return HL_OK;
}

int hl_term_put_canon_ident(hl_buf *out, const hl_ident *id)
{
    int rc = hl_buf_append_byte(
        out, id->kind == HL_TAG_NEW_PORT && id->id > 0xffffffffu ? HL_TAG_V4_PORT : id->kind);
    if (rc)
        return rc;
    if (id->kind == HL_TAG_NEWER_REFERENCE) {
        /* erts ignores high zero words (a 2-word ref ending in 0 =:= its
         * 1-word prefix), so they are dropped; one word always stays. */
        size_t nw = id->nwords;
        while (nw > 1 && hl_get_u32(id->words + 4 * (nw - 1)) == 0)
            nw--;
        rc = hl_buf_append_u16(out, (uint16_t)(nw ? nw : 1));
        if (!rc)
            rc = hl_term_put_canon_atom(out, &id->node);
        if (!rc)
            rc = hl_buf_append_u32(out, id->creation);
        if (!rc)
            rc = nw ? hl_buf_append(out, id->words, 4 * nw) : hl_buf_append_u32(out, 0);
        return rc;
    }
    rc = hl_term_put_canon_atom(out, &id->node);
    if (!rc && id->id > 0xffffffffu)
        rc = hl_buf_append_u32(out, (uint32_t)(id->id >> 32));
    if (!rc)
        rc = hl_buf_append_u32(out, (uint32_t)id->id);
    if (!rc && id->kind == HL_TAG_NEW_PID)
        rc = hl_buf_append_u32(out, id->serial);
    if (!rc)
        rc = hl_buf_append_u32(out, id->creation);
    return rc;
}

int hl_term_atom_cmp(const hl_atom *a, const hl_atom *b)
{
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        uint32_t x = a->latin1 ? a->p[i++] : utf8_next(a->p, &i);
        uint32_t y = b->latin1 ? b->p[j++] : utf8_next(b->p, &j);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (i < a->n) - (j < b->n);
}

static int int_sign(const hl_int *v)
{
    return v->n == 0 ? 0 : v->neg ? -1 : 1;
}

int hl_term_int_cmp(const hl_int *a, const hl_int *b)
{
    int sa = int_sign(a), sb = int_sign(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (a->n != b->n)
        return a->n > b->n ? sa : -sa;
    for (size_t i = a->n; i-- > 0;) {
        unsigned x = hl_int_byte(a, i), y = hl_int_byte(b, i);
        if (x != y)
            return x > y ? sa : -sa;
    }
    return 0;
}

static unsigned int_bit(const hl_int *v, size_t i)
{
    return (hl_int_byte(v, i / 8) >> (i % 8)) & 1;
}

/* |a| against |d| for a non-zero a and d: both are split into bit length
 * and bits, so no precision is lost on either side. */
static int mag_cmp_double(const hl_int *a, double d)
{
    int e;
    double f = frexp(fabs(d), &e); /* |d| = f * 2^e, f in [0.5, 1) */
    size_t top = hl_int_byte(a, a->n - 1), bits = 8 * (a->n - 1);
    while (top) {
        bits++;
        top >>= 1;
    }
    if (e <= 0)
        return 1; /* |d| < 1 <= |a| */
    if (bits != (size_t)e)
        return bits > (size_t)e ? 1 : -1;
    uint64_t mant = (uint64_t)ldexp(f, 53); /* |d| = mant * 2^(e-53) */
    if (e >= 53) {
        size_t shift = (size_t)e - 53;
        uint64_t hi = 0;
        for (size_t i = bits; i-- > shift;)
            hi = (hi << 1) | int_bit(a, i);
        if (hi != mant)
            return hi > mant ? 1 : -1;
        for (size_t i = 0; i < shift; i++)
            if (int_bit(a, i))
                return 1;
        return 0;
    }
    uint64_t av = 0;
    for (size_t i = bits; i-- > 0;)
        av = (av << 1) | int_bit(a, i);
    uint64_t ip = mant >> (53 - e), frac = mant & ((UINT64_C(1) << (53 - e)) - 1);
    if (av != ip)
        return av > ip ? 1 : -1;
    return frac ? -1 : 0;
}

int hl_term_int_cmp_double(const hl_int *a, double d)
{
    int sa = int_sign(a), sd = d > 0 ? 1 : d < 0 ? -1 : 0;
    if (sa != sd)
        return sa < sd ? -1 : 1;
    if (sa == 0)
        return 0;
    return sa * mag_cmp_double(a, d);
}

int hl_term_sort(size_t *idx, size_t n, hl_term_cmp_fn cmp, void *ctx)
{
    if (n < 2)
        return HL_OK;
    size_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return HL_ENOMEM;
    size_t *src = idx, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        size_t *s = src;
        src = dst;
        dst = s;
    }
    if (src != idx)
        memcpy(idx, src, n * sizeof *idx);
    free(tmp);
    return HL_OK;
}
