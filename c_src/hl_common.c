/*
 * hl_common.c: error reasons and the owned byte buffer (see hl_common.h).
 *
 * Buffers grow by doubling so that appending term after term while encoding
 * a reply stays linear.
 */
#include "hl_common.h"

#include <stdlib.h>
#include <string.h>

const char *hl_err_reason(int err)
{
    switch (err) {
    case HL_EBADARG:
        return "badarg";
    case HL_ENOMEM:
        return "enomem";
    case HL_ENOTABLE:
        return "no_table";
    case HL_EEXISTS:
        return "already_exists";
    case HL_EACCESS:
        return "access";
    case HL_ENOTOWNER:
        return "not_owner";
    case HL_ECOLLISION:
        return "key_hash_collision";
    case HL_ESTORE:
        return "store";
    case HL_EFULL:
        return "full";
    case HL_EUNSUPPORTED:
        return "not_supported";
    case HL_EOWNED:
        return "owned_by";
    case HL_ENOPROC:
        return "noproc";
    case HL_EUNKNOWN:
        return "unknown_request";
    case HL_EWOULDBLOCK:
        return "would_block";
    case HL_EFORGED:
        return "forged_from";
    case HL_EHANDLE:
        return "bad_handle";
    case HL_ETYPE:
        return "type_mismatch";
    case HL_EKEYPOS:
        return "keypos_mismatch";
    case HL_ETABTYPE:
        return "table_type";
    default:
        return "internal";
    }
}

int hl_buf_reserve(hl_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return HL_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return HL_ENOMEM;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra)
        cap *= 2;
    unsigned char *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
    if (!p)
        return HL_ENOMEM;
    if (b->borrowed && b->len)
        memcpy(p, b->data, b->len);
    b->borrowed = 0;
    b->data = p;
    b->cap = cap;
    return HL_OK;
}

void hl_buf_on(hl_buf *b, void *storage, size_t cap)
{
    *b = (hl_buf){storage, 0, cap, 1};
}

int hl_buf_append(hl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return HL_OK;
    int rc = hl_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return HL_OK;
}

int hl_buf_append_byte(hl_buf *b, unsigned char c)
{
    return hl_buf_append(b, &c, 1);
}

int hl_buf_append_u16(hl_buf *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    return hl_buf_append(b, x, 2);
}

int hl_buf_append_u32(hl_buf *b, uint32_t v)
{
    unsigned char x[4];
    hl_put_u32(x, v);
    return hl_buf_append(b, x, 4);
}

void hl_buf_free(hl_buf *b)
{
    if (!b->borrowed)
        free(b->data);
    *b = (hl_buf){0};
}

int hl_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t first)
{
    void *arr;
    memcpy(&arr, arrp, sizeof arr);
    if (need <= *cap)
        return HL_OK;
    size_t n = *cap ? *cap : (first ? first : 1);
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return HL_ENOMEM;
        n *= 2;
    }
    if (elem && n > SIZE_MAX / elem)
        return HL_ENOMEM;
    void *p = realloc(arr, n * elem);
    if (!p)
        return HL_ENOMEM;
    memcpy(arrp, &p, sizeof p);
    *cap = n;
    return HL_OK;
}
