/*
 * hl_term_enc.c: reading parts of a term in place (tuple elements, node
 * names, atoms, integers, list elements) and the canonical encoders used to
 * build replies (contract in hl_term.h).
 *
 * Accessors return views into the caller's bytes and never copy; they check
 * bounds on everything they touch but only validate the parts they walk, so
 * an element view of a malformed tuple can still be refused later by
 * hl_term_canon.
 */
#include "hl_term_int.h"

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

int hl_term_put_atom(hl_buf *out, const char *name, size_t len)
{
    hl_atom a = {(const unsigned char *)name, len, 0, {NULL, 0}};
    if ((!name && len) || !hl_term_utf8_ok(a.p, len))
        return HL_EBADARG;
    return hl_term_put_canon_atom(out, &a);
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

int hl_term_put_tuple_header(hl_buf *out, size_t arity)
{
    if (arity <= 255) {
        unsigned char h[2] = {HL_TAG_SMALL_TUPLE, (unsigned char)arity};
        return hl_buf_append(out, h, 2);
    }
    int rc = hl_buf_append_byte(out, HL_TAG_LARGE_TUPLE);
    return rc ? rc : hl_buf_append_u32(out, (uint32_t)arity);
}

/* For n == 0 nothing is written: the tail that follows is then the whole
 * term, which is how [] stays canonical. */
int hl_term_put_list_header(hl_buf *out, size_t n)
{
    if (n == 0)
        return HL_OK;
    int rc = hl_buf_append_byte(out, HL_TAG_LIST);
    return rc ? rc : hl_buf_append_u32(out, (uint32_t)n);
}

int hl_term_put_nil(hl_buf *out)
{
    return hl_buf_append_byte(out, HL_TAG_NIL);
}

int hl_term_put_int(hl_buf *out, int64_t v)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    unsigned char mag[8];
    hl_int x = {v < 0, 0, NULL, 0};
    while (m) {
        mag[x.n++] = (unsigned char)m;
        m >>= 8;
    }
    if (x.n <= 4) {
        for (size_t i = x.n; i-- > 0;)
            x.small = (x.small << 8) | mag[i];
    } else {
        x.big = mag;
    }
    return hl_term_put_canon_int(out, &x);
}

int hl_term_put_binary(hl_buf *out, const void *data, size_t len)
{
    if (len > 0xffffffffu)
        return HL_ENOMEM;
    int rc = hl_buf_append_byte(out, HL_TAG_BINARY);
    if (!rc)
        rc = hl_buf_append_u32(out, (uint32_t)len);
    return rc ? rc : hl_buf_append(out, data, len);
}

/* s is taken as UTF-8 and becomes the list of its code points, as
 * unicode:characters_to_list/1 would make it; bytes that are not valid UTF-8
 * become one element each. */
int hl_term_put_string(hl_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0, i = 0, entry = out->len;
    uint32_t max = 0;
    int utf8 = 1;
    /* UTF-8 validity per character; count code points */
    while (i < n) {
        size_t k = 1;
        uint32_t c = p[i];
        if (c >= 0x80) {
            k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (k > n - i || !hl_term_utf8_ok(p + i, k)) {
                utf8 = 0;
                break;
            }
            c &= 0x3F >> (k - 1);
            for (size_t j = 1; j < k; j++)
                c = (c << 6) | (p[i + j] & 0x3F);
        }
        if (c > max)
            max = c;
        i += k;
        chars++;
    }
    if (!utf8) {
        chars = n;
        max = 255;
    }
    if (chars == 0)
        return hl_term_put_nil(out);
    int rc;
    if (max <= 255 && chars <= 0xffff) {
        rc = hl_buf_append_byte(out, HL_TAG_STRING);
        if (!rc)
            rc = hl_buf_append_u16(out, (uint16_t)chars);
    } else {
        rc = hl_term_put_list_header(out, chars);
    }
    for (i = 0; !rc && i < n;) {
        uint32_t c = p[i++];
        if (utf8 && c >= 0x80) {
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            c &= 0x3F >> (k - 1);
            for (size_t j = 1; j < k; j++)
                c = (c << 6) | (p[i++] & 0x3F);
        }
        if (max <= 255 && chars <= 0xffff)
            rc = hl_buf_append_byte(out, (unsigned char)c);
        else
            rc = hl_term_put_int(out, c);
    }
    if (!rc && !(max <= 255 && chars <= 0xffff))
        rc = hl_term_put_nil(out);
    if (rc)
        out->len = entry;
    return rc;
}
