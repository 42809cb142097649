/*
 * hl_term_mapord.h: the orders of map pairs that the canonicaliser
 * (hl_term.c) decides as maps close, kept aside and applied in one last pass.
 * Private to the term layer; a leaf (it calls only hl_common and libc).
 *
 * Why: writing a map's pairs in key order when the map closes moves every
 * map nested in it, once per enclosing map: quadratic in the depth. Instead
 * the pairs stay where they were written, their order is recorded here, and
 * hl_mapord_apply moves each byte once. Until then the bytes of a map are not
 * in key order, so a comparison of keys that contain maps asks
 * hl_mapord_find for their order (hl_order_maps in hl_order.h).
 *
 * Offsets are into the canonicaliser's output buffer, which must not move
 * bytes between recording and hl_mapord_apply (it may grow).
 */
#ifndef HL_TERM_MAPORD_H
#define HL_TERM_MAPORD_H

#include "hl_common.h"

typedef struct {
    size_t body, end; /* offsets of the map's first pair and of its end */
    size_t spans;     /* its pairs in key order: start, end at spans[this..] */
    size_t n;
} hl_mapord_move;

typedef struct {
    size_t start; /* offset of the map's tag */
    size_t pool;  /* 2n + 1 offsets, then n indices unless in order */
    size_t n;
    int in_order;
} hl_mapord_known;

/* Zero-initialise ({0}); release with hl_mapord_free. */
typedef struct {
    hl_mapord_move *moves;
    size_t nmoves, moves_cap;
    size_t *spans;
    size_t nspans, spans_cap;
    hl_mapord_known *known;
    size_t nknown, known_cap;
    size_t *pool;
    size_t npool, pool_cap;
    size_t *slots; /* hash of known by start: index + 1, 0 for empty */
    size_t nslots;
} hl_mapord;

void hl_mapord_free(hl_mapord *m);

/*
 * A map of n >= 1 pairs whose key and value offsets are offs[0..2n) (as
 * written, offs[2n] its end) is to be written in the pair order idx[0..n).
 * Copies what it needs. HL_OK or HL_ENOMEM.
 */
int hl_mapord_move_pairs(hl_mapord *m, const size_t *offs, const size_t *idx, size_t n);

/*
 * Remember the order of the map whose tag is at offset start (offs as above;
 * idx NULL when the pairs are in order already), for hl_mapord_find.
 * HL_OK or HL_ENOMEM.
 */
int hl_mapord_know(hl_mapord *m, size_t start, const size_t *offs, const size_t *idx, size_t n);

/*
 * If the map with n pairs whose tag is at offset start is known, fill
 * key_at[0..2n] with offsets from start and order[0..n) with its key order
 * (see hl_order_maps) and return 1; else return 0.
 */
int hl_mapord_find(const hl_mapord *m, size_t start, size_t n, size_t *key_at, size_t *order);

/* Write every recorded map's pairs in their order, in place in out.
 * HL_OK or HL_ENOMEM (out unchanged). */
int hl_mapord_apply(hl_mapord *m, hl_buf *out);

#endif
