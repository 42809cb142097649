/*
 * hl_term_mapord.c: map pair orders kept aside by the canonicaliser and
 * applied in one last pass (contract and reasons in hl_term_mapord.h).
 *
 * The last pass copies the output from the first reordered map on into a
 * second buffer: plain runs of bytes are copied as they are; where a
 * reordered map's body begins, its pairs are copied in their recorded order,
 * each pair itself a run that may hold more reordered maps. Maps nest, so
 * the walk keeps a heap stack, not C recursion. Each byte is copied once;
 * finding the next map in a run is a binary search.
 */
#include "hl_term_mapord.h"

#include <stdlib.h>

/* hl_grow with this file's first size. */
static int grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    return hl_grow(arrp, cap, need, elem, 16);
}

void hl_mapord_free(hl_mapord *m)
{
    free(m->moves);
    free(m->spans);
    free(m->known);
    free(m->pool);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int hl_mapord_move_pairs(hl_mapord *m, const size_t *offs, const size_t *idx, size_t n)
{
    if (grow(&m->moves, &m->moves_cap, m->nmoves + 1, sizeof *m->moves) ||
        grow(&m->spans, &m->spans_cap, m->nspans + 2 * n, sizeof *m->spans))
        return HL_ENOMEM;
    m->moves[m->nmoves++] = (hl_mapord_move){offs[0], offs[2 * n], m->nspans, n};
    for (size_t i = 0; i < n; i++) {
        m->spans[m->nspans++] = offs[2 * idx[i]];
        m->spans[m->nspans++] = offs[2 * idx[i] + 2];
    }
    return HL_OK;
}

static size_t slot_of(size_t start, size_t nslots)
{
    uint64_t h = (uint64_t)start * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h ^ (h >> 29)) & (nslots - 1);
}

static void slot_put(size_t *slots, size_t nslots, size_t start, size_t index)
{
    size_t i = slot_of(start, nslots);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = index + 1;
}

/* Keep the table at most half full. */
static int slots_room(hl_mapord *m)
{
    if (2 * (m->nknown + 1) <= m->nslots)
        return HL_OK;
    size_t n = m->nslots ? 2 * m->nslots : 64;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return HL_ENOMEM;
    for (size_t i = 0; i < m->nknown; i++)
        slot_put(s, n, m->known[i].start, i);
    free(m->slots);
    m->slots = s;
    m->nslots = n;
    return HL_OK;
}

int hl_mapord_know(hl_mapord *m, size_t start, const size_t *offs, const size_t *idx, size_t n)
{
    size_t need = 2 * n + 1 + (idx ? n : 0);
    if (slots_room(m) || grow(&m->known, &m->known_cap, m->nknown + 1, sizeof *m->known) ||
        grow(&m->pool, &m->pool_cap, m->npool + need, sizeof *m->pool))
        return HL_ENOMEM;
    m->known[m->nknown] = (hl_mapord_known){start, m->npool, n, idx == NULL};
    memcpy(m->pool + m->npool, offs, (2 * n + 1) * sizeof *offs);
    if (idx)
        memcpy(m->pool + m->npool + 2 * n + 1, idx, n * sizeof *idx);
    m->npool += need;
    slot_put(m->slots, m->nslots, start, m->nknown++);
    return HL_OK;
}

int hl_mapord_find(const hl_mapord *m, size_t start, size_t n, size_t *key_at, size_t *order)
{
    if (!m->nslots)
        return 0;
    for (size_t i = slot_of(start, m->nslots); m->slots[i]; i = (i + 1) & (m->nslots - 1)) {
        const hl_mapord_known *k = &m->known[m->slots[i] - 1];
        if (k->start != start)
            continue;
        if (k->n != n)
            return 0;
        const size_t *p = m->pool + k->pool;
        for (size_t j = 0; j <= 2 * n; j++)
            key_at[j] = p[j] - start;
        for (size_t j = 0; j < n; j++)
            order[j] = k->in_order ? j : p[2 * n + 1 + j];
        return 1;
    }
    return 0;
}

static int move_order(const void *x, const void *y)
{
    const hl_mapord_move *a = x, *b = y;
    return (a->body > b->body) - (a->body < b->body);
}

/* The first move whose body starts after pos (moves sorted). A pair starts
 * where its map's body does, and a map nested in it starts later. */
static size_t move_after(const hl_mapord *m, size_t pos)
{
    size_t lo = 0, hi = m->nmoves;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->moves[mid].body <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A step of the last pass: copy out[cur, end) (move == SIZE_MAX) or write
 * the pairs of a move from the i-th on. */
typedef struct {
    size_t cur, end, move, i;
} astep;

int hl_mapord_apply(hl_mapord *m, hl_buf *out)
{
    if (m->nmoves == 0)
        return HL_OK;
    qsort(m->moves, m->nmoves, sizeof *m->moves, move_order);
    size_t from = m->moves[0].body - 5, top = 0, cap = 0; /* its MAP_EXT header */
    hl_buf dst = {0};
    astep *st = NULL;
    int rc = hl_buf_reserve(&dst, out->len - from);
    if (!rc && !(rc = grow(&st, &cap, 1, sizeof *st)))
        st[top++] = (astep){from, out->len, SIZE_MAX, 0};
    while (!rc && top > 0) {
        astep *a = &st[top - 1], next;
        if (a->move == SIZE_MAX) {
            size_t r = move_after(m, a->cur);
            if (r == m->nmoves || m->moves[r].body >= a->end) {
                rc = hl_buf_append(&dst, out->data + a->cur, a->end - a->cur);
                top--;
                continue;
            }
            rc = hl_buf_append(&dst, out->data + a->cur, m->moves[r].body - a->cur);
            a->cur = m->moves[r].end;
            next = (astep){0, 0, r, 0};
        } else {
            const hl_mapord_move *r = &m->moves[a->move];
            if (a->i == r->n) {
                top--;
                continue;
            }
            const size_t *s = m->spans + r->spans + 2 * a->i++;
            next = (astep){s[0], s[1], SIZE_MAX, 0};
        }
        if (!rc && !(rc = grow(&st, &cap, top + 1, sizeof *st)))
            st[top++] = next;
    }
    if (!rc) /* the same bytes in another order: the same length */
        memcpy(out->data + from, dst.data, dst.len);
    free(st);
    hl_buf_free(&dst);
    return rc;
}
