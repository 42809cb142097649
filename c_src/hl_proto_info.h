/*
 * hl_proto_info.h: the reply to ets:info/1,2 for a Heirloom table.
 */
#ifndef HL_PROTO_INFO_H
#define HL_PROTO_INFO_H

#include "hl_proto.h"

/*
 * Append info for table tab (canonical): the whole property list when item
 * is NULL, else the value of that item. Like ETS, a table that does not
 * exist gives `undefined`; an unknown item gives HL_EBADARG.
 * Items: id, name, named_table, type, keypos, protection, owner, heir, size,
 * memory (words, from LMDB's page use), node, compressed,
 * read_concurrency, write_concurrency, decentralized_counters, and
 * Heirloom's own held_by_heirloom (true while the C node holds the table)
 * and memory_bytes.
 */
int hl_proto_info(hl_proto *p, hl_bytes tab, const char *item, hl_buf *out);

#endif
