/*
 * hl_bmap.h: a hash map from byte strings to 64-bit values.
 *
 * The C node keeps sets keyed by terms (a watched pid, a monitor's
 * reference) that grow to tens of thousands of entries when many processes
 * own tables; a linear search per lookup made a mass death quadratic. Keys
 * are copied in (the map owns them); values are the caller's numbers (an
 * index into the caller's array, say).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), so lookups stay short however many deletions happen. Pure:
 * no I/O, no globals. Not thread-safe.
 */
#ifndef HL_BMAP_H
#define HL_BMAP_H

#include "hl_common.h"

typedef struct {
    unsigned char **keys; /* owned copies, NULL for a free slot */
    size_t *lens;
    uint64_t *vals;
    uint64_t *hashes;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} hl_bmap;

/* A zeroed hl_bmap ({0}) is an empty map. Free releases every key and the
 * tables, leaving the map empty and reusable. */
void hl_bmap_free(hl_bmap *m);

/* 1 and *val when key is present, else 0 (val untouched). */
int hl_bmap_get(const hl_bmap *m, hl_bytes key, uint64_t *val);

/* Insert key or replace its value. HL_OK, or HL_ENOMEM (map unchanged);
 * replacing the value of a present key always succeeds. */
int hl_bmap_put(hl_bmap *m, hl_bytes key, uint64_t val);

/* Remove key; 1 if it was present (its value in *val when val is not NULL),
 * else 0. */
int hl_bmap_del(hl_bmap *m, hl_bytes key, uint64_t *val);

#endif
