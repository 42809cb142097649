/*
 * hl_update.h: rewriting a stored object's elements, as ets:update_counter
 * and ets:update_element do. Pure: canonical terms in, canonical terms out,
 * no store. The store (hl_store_update.c) reads the row and writes the
 * result back in one transaction.
 *
 * Integers are of any size: the sums are exact, small integers overflow into
 * bignums and back as in ETS (the result is canonical, hl_term.h).
 */
#ifndef HL_UPDATE_H
#define HL_UPDATE_H

#include "hl_common.h"

/*
 * Apply update_counter's UpdateOp `ops` (canonical: Incr, {Pos, Incr},
 * {Pos, Incr, Threshold, SetValue}, or a list of those, applied in order)
 * to obj (a canonical tuple, no version byte) whose key is at keypos.
 * new_obj gets the new object, result the reply: an integer, or a list of
 * integers when ops is a list (both appended, no version byte).
 * HL_EBADARG where ETS says badarg: a position that is the key's, under 1 or
 * past the tuple, an element or argument that is not an integer, a
 * malformed op. HL_ENOMEM.
 */
int hl_update_counter(hl_bytes obj, unsigned keypos, hl_bytes ops, hl_buf *new_obj, hl_buf *result);

/*
 * Apply update_element's ElementSpec (canonical object form: {Pos, Value}
 * or a list of those, later ones winning) to obj. HL_EBADARG for a
 * position that is the key's, under 1 or past the tuple, or a malformed
 * spec. HL_ENOMEM.
 */
int hl_update_element(hl_bytes obj, unsigned keypos, hl_bytes spec, hl_buf *new_obj);

#endif
