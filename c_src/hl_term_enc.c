/*
 * hl_term_enc.c: the canonical encoders used to build replies (contract in
 * hl_term_enc.h).
 *
 * A leaf of the term layer: each encoder writes one canonical term through
 * the scalar writers of hl_term_util.c and never reads a term back, so it
 * needs neither the skipper nor the term order.
 */
#include "hl_term_enc.h"
#include "hl_term_int.h"

int hl_term_put_atom(hl_buf *out, const char *name, size_t len)
{
    hl_atom a = {(const unsigned char *)name, len, 0, {NULL, 0}};
    if ((!name && len) || !hl_term_utf8_ok(a.p, len))
        return HL_EBADARG;
    return hl_term_put_canon_atom(out, &a);
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
