/*
 * hl_order.h: Erlang term order over external-term-format bytes.
 *
 * number < atom < reference < fun < port < pid < tuple < map < [] < list
 * < bitstring, as in the Erlang reference manual. Two modes:
 *   HL_CMP_EQ     the order of < and ==, in which 1 == 1.0 (ordered_set keys)
 *   HL_CMP_EXACT  a total order consistent with =:=: every integer sorts
 *                 before every float, whatever their values (the order erts
 *                 uses for map keys); other numbers compare as in HL_CMP_EQ
 * Inputs may be canonical or not (STRING_EXT and LIST_EXT compare as the
 * lists they are, map pairs in any order are put in key order); both must be
 * well formed (hl_term_skip in hl_term_read.h said so). Past a few levels of
 * maps inside map keys, the encoded key order is trusted: right for
 * canonical terms (hl_term.h), which is what the store compares.
 *
 * Layer: built on the term readers (hl_term_read.h), under the
 * canonicaliser (hl_term.h), which sorts map keys with it. Pure: no I/O, no
 * globals, no recursion deeper than those few map-key levels.
 */
#ifndef HL_ORDER_H
#define HL_ORDER_H

#include "hl_common.h"

typedef enum { HL_CMP_EQ = 0, HL_CMP_EXACT = 1 } hl_cmp_mode;

/*
 * <0, 0 or >0 as a is less than, equal to or greater than b (the whole of
 * a[0..alen) and b[0..blen) are one term each). Never fails: if memory runs
 * out the answer falls back to a byte comparison (deterministic, not term
 * order). A NULL side sorts first.
 */
int hl_order_compare(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                     hl_cmp_mode mode);

/*
 * Map pair orders the caller knows already (the canonicaliser knows them for
 * every map it has closed, before the pairs are moved into that order).
 * fn is asked about each map met, m pointing at its MAP_EXT tag, n >= 1 its
 * pair count: if it knows the map, it fills key_at[0..2n] with the offsets
 * from m of each key and value as encoded, then of the map's end, and
 * order[0..n) with the pair indices in exact key order, and returns 1; it
 * returns 0 to let hl_order walk and sort the map itself. With every map
 * known, a comparison never walks a map twice, and no map order is trusted
 * from its bytes at any depth.
 */
typedef struct {
    int (*fn)(void *ctx, const unsigned char *m, size_t n, size_t *key_at, size_t *order);
    void *ctx;
} hl_order_maps;

/* hl_order_compare, asking maps (may be NULL) for the orders it knows. */
int hl_order_compare_known(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                           hl_cmp_mode mode, const hl_order_maps *maps);

#endif
