/*
 * hl_keyrange.h: which keys of an ordered_set a match specification can
 * reach, as ETS decides it (erts's erl_db_tree.c), over external term
 * format bytes.
 *
 * A key pattern is the key element of a head: a term in which the atoms '_'
 * and '$N' are wildcards. It is
 *   bound     when it has no wildcard (maps allowed): one key, by ==;
 *   partial   when it has a wildcard, is not one itself and holds no map:
 *             the keys that agree with it up to its first wildcard in term
 *             order ({a, '$1'}: every pair whose first element == a; [a | '_']:
 *             every list whose head == a); they form one interval;
 *   unbound   otherwise (a wildcard, or a map with a wildcard anywhere).
 * A select on an ordered_set whose clauses' keys are all bound or partial
 * visits only the keys from its least to its most key pattern (below), and
 * matches the spec on each; ETS does exactly that, so a row outside that
 * interval is never a result even if a clause could match it (a map pattern
 * matches larger maps, which sort elsewhere).
 *
 * Patterns and keys are single well-formed terms (hl_term_skip said so),
 * canonical or not. Pure: no I/O, no globals, no allocation; recursion
 * only through tuples and lists that both sides share, bounded at
 * HL_KEYRANGE_MAX_DEPTH levels (deeper, a pattern counts as reaching
 * everything below, which only widens an interval).
 */
#ifndef HL_KEYRANGE_H
#define HL_KEYRANGE_H

#include "hl_common.h"

#define HL_KEYRANGE_MAX_DEPTH 128

typedef enum { HL_KEY_UNBOUND = 0, HL_KEY_PARTIAL = 1, HL_KEY_BOUND = 2 } hl_key_kind;

/* 1 when the term at t is a wildcard atom ('_', or '$N' with N < 2^31 and
 * no leading zero: OTP 25's rule, hl_ms.c's too), else 0. */
int hl_keyrange_is_wild(hl_bytes t);

/* How the key pattern p constrains a key (above). */
hl_key_kind hl_keyrange_kind(hl_bytes p);

/*
 * ETS's comparison of a key pattern p with a key k: <0, 0 or >0 as every
 * key the pattern reaches sorts after k, k is one of them, or they all sort
 * before k. Elements are compared with == (1 and 1.0 agree); the first
 * wildcard met ends the comparison with 0. Monotone in k: the keys giving 0
 * are one interval of the term order.
 */
int hl_keyrange_cmp(hl_bytes p, hl_bytes k);

/*
 * Whether pattern a can reach a key less (greater) than any pattern b
 * reaches: how ETS picks the least (most) of several clauses' key patterns.
 * 1 or 0. Faithful to erts, quirks included: equal numbers of different
 * representations (1 and 1.0) end the comparison with 0, and a tuple of
 * greater arity does not end it.
 */
int hl_keyrange_lesser(hl_bytes a, hl_bytes b);
int hl_keyrange_greater(hl_bytes a, hl_bytes b);

/*
 * Probes: search keys for an ordered_set's LMDB comparator that sit just
 * before (low) or just after (high) the keys a pattern reaches, so that a
 * cursor's MDB_SET_RANGE finds an interval's ends. A probe is the byte
 * HL_KEYRANGE_PROBE, then 0 (low) or 1 (high), then the pattern; no
 * canonical term starts with that byte, so a probe is never a stored key.
 */
#define HL_KEYRANGE_PROBE 0x00
/* Append the probe of pattern p to out. HL_OK or HL_ENOMEM. */
int hl_keyrange_probe(hl_bytes p, int high, hl_buf *out);
/* 1 when the LMDB key x[0..n) is a probe. */
static inline int hl_keyrange_is_probe(const unsigned char *x, size_t n)
{
    return n > 1 && x[0] == HL_KEYRANGE_PROBE;
}
/* Compare a probe with a key (a stored key or another probe): <0 or >0,
 * never 0 against a stored key. */
int hl_keyrange_probe_cmp(const unsigned char *probe, size_t plen, const unsigned char *k,
                          size_t klen);

#endif
