/*
 * hl_store_ordered.c: the LMDB comparator of ordered_set tables.
 *
 * Why a comparator and not an order-preserving key encoding compared by
 * memcmp: Erlang's == order mixes integers of any size with floats (1 < 1.5
 * < 2, 1 == 1.0), and maps compare by their sorted keys; an encoding that
 * memcmp sorts that way would be a second canonical form to write, test and
 * keep in step with hl_order.c, and bignums against floats make it long. The
 * comparator is the term order already written and tested (test_order.c),
 * and the row key stays the canonical key, as in a set. The cost: every
 * process opening the store must install it before touching the table
 * (hl_store.c does on every handle open, the NIF included, since both go
 * through it), and a key must fit LMDB's key limit (no hashing: a hash has no
 * order), so ordered_set keys over HL_STORE_MAX_INLINE_KEY bytes are refused
 * (not_supported).
 *
 * The comparator also places probes (hl_keyrange.h), search keys that are
 * never stored: a select over an ordered_set seeks to the first key a
 * partly bound pattern reaches, as ETS descends its tree comparing with the
 * pattern (cmp_partly_bound), which no real key could stand for ({a, '$1'}
 * reaches every pair starting with a, and no term sorts before all of them
 * and after every other). LMDB compares its search key with stored ones;
 * both argument orders are handled anyway.
 */
#include "hl_store_int.h"

#include "hl_keyrange.h"
#include "hl_order.h"

int hl_store_ordered_cmp(const MDB_val *a, const MDB_val *b)
{
    if (hl_keyrange_is_probe(a->mv_data, a->mv_size))
        return hl_keyrange_probe_cmp(a->mv_data, a->mv_size, b->mv_data, b->mv_size);
    if (hl_keyrange_is_probe(b->mv_data, b->mv_size))
        return -hl_keyrange_probe_cmp(b->mv_data, b->mv_size, a->mv_data, a->mv_size);
    return hl_order_compare(a->mv_data, a->mv_size, b->mv_data, b->mv_size, HL_CMP_EQ);
}
