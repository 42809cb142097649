/*
 * hl_ms_val.c: values of a match specification run (see hl_ms_int.h):
 * the run's arena, and the small readers both the runner (hl_ms_run.c) and
 * the guard functions (hl_ms_bif.c) use. A leaf of the engine.
 */
#include "hl_ms_int.h"
#include "hl_order.h"
#include "hl_term.h"
#include "hl_term_int.h"

#include <stdlib.h>

const hl_bytes hl_ms_true = {(const unsigned char *)"\x77\x04true", 6};
const hl_bytes hl_ms_false = {(const unsigned char *)"\x77\x05"
                                                     "false",
                              7};
static const unsigned char nil_byte = HL_TAG_NIL;

int hl_ms_keep(hl_ms *ms, const void *p, size_t n, hl_bytes *out)
{
    hl_ms_block *b = ms->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        hl_ms_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return HL_ENOMEM;
        nb->cap = cap;
        nb->used = 0;
        /* a big one-off block goes second, so the small current one stays usable */
        if (b && n > 8192) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            ms->arena = nb;
        }
        b = nb;
    }
    if (n)
        memcpy(b->data + b->used, p, n);
    *out = (hl_bytes){b->data + b->used, n};
    b->used += n;
    return HL_OK;
}

int hl_ms_keep_tmp(hl_ms *ms, hl_bytes *out)
{
    int rc = hl_ms_keep(ms, ms->tmp.data, ms->tmp.len, out);
    ms->tmp.len = 0;
    return rc;
}

int hl_ms_is_atom(hl_bytes v, const char *name)
{
    hl_atom a;
    size_t pos = 0, n = strlen(name);
    if (hl_term_kind_of(v.data[0]) != HL_KIND_ATOM || hl_term_read_atom(v.data, v.len, &pos, &a))
        return 0;
    return a.n == n && !memcmp(a.p, name, n);
}

int hl_ms_exact_eq(hl_bytes a, hl_bytes b)
{
    if (a.len == b.len && !memcmp(a.data, b.data, a.len))
        return 1;
    return hl_order_compare(a.data, a.len, b.data, b.len, HL_CMP_EXACT) == 0;
}

/* A head's constants on canonical terms: as ETS's compiled constants,
 * floats compare by their bits, so a 0.0 pattern does not match -0.0
 * (though 0.0 =:= -0.0 in a guard): byte equality of the object forms. */
int hl_ms_canon_eq(hl_bytes a, hl_bytes b)
{
    return a.len == b.len && !memcmp(a.data, b.data, a.len);
}

int hl_ms_list_split(hl_ms *ms, hl_bytes l, hl_bytes *head, hl_bytes *tail)
{
    unsigned char hdr[5];
    if (l.data[0] == HL_TAG_STRING) {
        size_t n = hl_get_u16(l.data + 1);
        unsigned char h[2] = {HL_TAG_SMALL_INTEGER, l.data[3]};
        int rc = hl_ms_keep(ms, h, 2, head);
        if (rc || n == 1) {
            *tail = (hl_bytes){&nil_byte, 1};
            return rc;
        }
        hdr[0] = HL_TAG_STRING;
        hdr[1] = (unsigned char)((n - 1) >> 8);
        hdr[2] = (unsigned char)(n - 1);
        ms->tmp.len = 0;
        if (hl_buf_append(&ms->tmp, hdr, 3) || hl_buf_append(&ms->tmp, l.data + 4, n - 1))
            return HL_ENOMEM;
        return hl_ms_keep_tmp(ms, tail);
    }
    if (l.data[0] != HL_TAG_LIST)
        return HL_MS_RAISE;
    uint32_t n = hl_get_u32(l.data + 1);
    size_t pos = 5;
    if (hl_term_skip(l.data, l.len, &pos))
        return HL_MS_RAISE;
    *head = (hl_bytes){l.data + 5, pos - 5};
    if (n == 1) {
        *tail = (hl_bytes){l.data + pos, l.len - pos};
        return HL_OK;
    }
    hdr[0] = HL_TAG_LIST;
    hl_put_u32(hdr + 1, n - 1);
    ms->tmp.len = 0;
    if (hl_buf_append(&ms->tmp, hdr, 5) || hl_buf_append(&ms->tmp, l.data + pos, l.len - pos))
        return HL_ENOMEM;
    return hl_ms_keep_tmp(ms, tail);
}

/* The value of key in the map m, or 0 when absent or m is not a map. */
int hl_ms_map_find(hl_bytes m, hl_bytes key, hl_bytes *val, int canonical)
{
    if (m.data[0] != HL_TAG_MAP)
        return 0;
    uint32_t n = hl_get_u32(m.data + 1);
    size_t pos = 5;
    for (uint32_t i = 0; i < n; i++) {
        size_t k = pos;
        if (hl_term_skip(m.data, m.len, &pos))
            return 0;
        size_t v = pos;
        if (hl_term_skip(m.data, m.len, &pos))
            return 0;
        hl_bytes kb = {m.data + k, v - k};
        if (canonical ? hl_ms_canon_eq(kb, key) : hl_ms_exact_eq(kb, key)) {
            *val = (hl_bytes){m.data + v, pos - v};
            return 1;
        }
    }
    return 0;
}

int hl_ms_map_get(hl_bytes m, hl_bytes key, hl_bytes *val)
{
    return hl_ms_map_find(m, key, val, 0);
}
