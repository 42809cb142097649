/*
 * hl_table.h: the rules about tables that the C node and the NIF share, so
 * that each has exactly one implementation: what may name a table, what a
 * new table's settings are when the options say nothing, and how the
 * object argument of insert/insert_new is read.
 *
 * Pure: no I/O, no globals. Input terms are external term format without
 * the version byte, canonical or not; outputs are canonical.
 */
#ifndef HL_TABLE_H
#define HL_TABLE_H

#include "hl_store.h"

/*
 * A table is named by an atom (named_table) or by a reference (an unnamed
 * table's id), as ETS tables are. tab must be canonical.
 * HL_OK, or HL_EBADARG for any other term.
 */
int hl_table_id_check(hl_bytes tab);

/*
 * The settings of ets:new/2 with no options: set, keypos 1, protected, not
 * named, owned by `owner` (a view the caller keeps alive), and the C node as
 * heir (Heirloom's one default that differs from ETS: see hl_owner.h).
 */
void hl_table_meta_default(hl_meta *m, hl_bytes owner);

/*
 * The objects of insert/insert_new: one tuple, or a proper list of tuples.
 * Each object is canonicalised and appended to `all` (which the caller owns
 * and frees with hl_buf_free); *objs receives a malloc'ed array of *n views
 * into `all` (the caller frees it with free(); NULL when *n is 0). The views
 * live as long as `all` is neither changed nor freed.
 * HL_OK; HL_EBADARG when t is neither, an element is not a non-empty tuple,
 * or a term is malformed; HL_ENOMEM. On error *objs is NULL and *n 0 (what
 * was appended to `all` stays; the caller frees it either way).
 */
int hl_table_objects(const unsigned char *t, size_t len, hl_buf *all, hl_bytes **objs, size_t *n);

#endif
