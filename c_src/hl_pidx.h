/*
 * hl_pidx.h: which tables each process may own or inherit.
 *
 * When a watched process dies, the C node must find the tables it owned or
 * was heir to. Walking every table's meta per death made 20,000 deaths among
 * 8,800 tables take seconds; this index answers in O(tables of that pid).
 *
 * It may say too much, never too little: a link is added whenever a pid
 * becomes owner or heir, and removed when the DataMaster sees it stop being
 * one or the table dropped; the store's meta stays the truth, and each
 * table handed out is re-checked there (an event for a pid that no longer
 * owns the table changes nothing).
 *
 * Pids are canonical pid terms, tables canonical table ids, both copied in.
 * Pure: no I/O, no globals.
 */
#ifndef HL_PIDX_H
#define HL_PIDX_H

#include "hl_common.h"

typedef struct hl_pidx hl_pidx;

/* NULL when out of memory. */
hl_pidx *hl_pidx_new(void);
/* Safe with NULL. */
void hl_pidx_free(hl_pidx *x);

/* Record that pid owns or inherits tab (again is fine). HL_OK or HL_ENOMEM
 * (index unchanged). */
int hl_pidx_link(hl_pidx *x, hl_bytes pid, hl_bytes tab);
/* Forget that link, if present. O(1). */
void hl_pidx_unlink(hl_pidx *x, hl_bytes pid, hl_bytes tab);

/* Called with each table of a pid being taken out; views live during the
 * call only. A non-zero return stops the walk (the rest is still removed). */
typedef int (*hl_pidx_fn)(void *ctx, hl_bytes pid, hl_bytes tab);

/* Remove pid and everything linked to it, calling fn for each table. */
void hl_pidx_take(hl_pidx *x, hl_bytes pid, hl_pidx_fn fn, void *ctx);
/* The same for every pid on node (a canonical atom): a lost connection.
 * O(pids in the index). */
void hl_pidx_take_node(hl_pidx *x, hl_bytes node, hl_pidx_fn fn, void *ctx);

/* Number of links, and of pids with at least one (for tests). */
size_t hl_pidx_links(const hl_pidx *x);
size_t hl_pidx_pids(const hl_pidx *x);

#endif
