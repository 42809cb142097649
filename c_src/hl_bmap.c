/*
 * hl_bmap.c: byte-string hash map (see hl_bmap.h).
 *
 * The table is kept at most half full, so a probe sequence ends at a free
 * slot quickly. Deletion shifts later members of the same cluster back into
 * the hole (Knuth's algorithm R), which keeps every key reachable from its
 * home slot without tombstones.
 */
#include "hl_bmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a over the bytes, finalised with a 64-bit mix: keys are terms whose
 * bytes differ mostly at the end (pid numbers, reference words). */
static uint64_t hash_bytes(hl_bytes k)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < k.len; i++) {
        h ^= k.data[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

void hl_bmap_free(hl_bmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->lens);
    free(m->vals);
    free(m->hashes);
    memset(m, 0, sizeof *m);
}

/* The slot holding key, or the free slot where it would go. */
static size_t find(const hl_bmap *m, hl_bytes key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->keys[i] && !(m->hashes[i] == h && m->lens[i] == key.len &&
                           (key.len == 0 || memcmp(m->keys[i], key.data, key.len) == 0)))
        i = (i + 1) & mask;
    return i;
}

int hl_bmap_get(const hl_bmap *m, hl_bytes key, uint64_t *val)
{
    if (!m->n)
        return 0;
    size_t i = find(m, key, hash_bytes(key));
    if (!m->keys[i])
        return 0;
    *val = m->vals[i];
    return 1;
}

static int resize(hl_bmap *m, size_t cap)
{
    hl_bmap t = {0};
    t.keys = calloc(cap, sizeof *t.keys);
    t.lens = calloc(cap, sizeof *t.lens);
    t.vals = calloc(cap, sizeof *t.vals);
    t.hashes = calloc(cap, sizeof *t.hashes);
    if (!t.keys || !t.lens || !t.vals || !t.hashes) {
        free(t.keys);
        free(t.lens);
        free(t.vals);
        free(t.hashes);
        return HL_ENOMEM;
    }
    t.cap = cap;
    t.n = m->n;
    /* Keys move over as they are: no copy, so nothing can fail now. */
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = find(&t, (hl_bytes){m->keys[i], m->lens[i]}, m->hashes[i]);
        t.keys[j] = m->keys[i];
        t.lens[j] = m->lens[i];
        t.vals[j] = m->vals[i];
        t.hashes[j] = m->hashes[i];
    }
    free(m->keys);
    free(m->lens);
    free(m->vals);
    free(m->hashes);
    *m = t;
    return HL_OK;
}

int hl_bmap_put(hl_bmap *m, hl_bytes key, uint64_t val)
{
    uint64_t h = hash_bytes(key);
    if (m->cap) {
        /* Replacing never resizes, so it cannot fail. */
        size_t i = find(m, key, h);
        if (m->keys[i]) {
            m->vals[i] = val;
            return HL_OK;
        }
    }
    if ((m->n + 1) * 2 > m->cap) {
        if (m->cap > SIZE_MAX / 4)
            return HL_ENOMEM;
        int rc = resize(m, m->cap ? m->cap * 2 : 16);
        if (rc)
            return rc;
    }
    size_t i = find(m, key, h);
    unsigned char *copy = malloc(key.len ? key.len : 1);
    if (!copy)
        return HL_ENOMEM;
    if (key.len)
        memcpy(copy, key.data, key.len);
    m->keys[i] = copy;
    m->lens[i] = key.len;
    m->vals[i] = val;
    m->hashes[i] = h;
    m->n++;
    return HL_OK;
}

int hl_bmap_del(hl_bmap *m, hl_bytes key, uint64_t *val)
{
    if (!m->n)
        return 0;
    size_t mask = m->cap - 1, i = find(m, key, hash_bytes(key));
    if (!m->keys[i])
        return 0;
    if (val)
        *val = m->vals[i];
    free(m->keys[i]);
    m->keys[i] = NULL;
    m->n--;
    /* Shift back every later member of the cluster that may move into the
     * hole: one whose home slot is not cyclically within (hole, j]. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = (size_t)m->hashes[j] & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->lens[i] = m->lens[j];
        m->vals[i] = m->vals[j];
        m->hashes[i] = m->hashes[j];
        m->keys[j] = NULL;
        i = j;
    }
    return 1;
}
