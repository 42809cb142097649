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
 */
#include "hl_store_int.h"

#include "hl_order.h"

int hl_store_ordered_cmp(const MDB_val *a, const MDB_val *b)
{
    return hl_order_compare(a->mv_data, a->mv_size, b->mv_data, b->mv_size, HL_CMP_EQ);
}
