/*
 * hl_dm.h: the DataMaster, carrying out ownership events on the store.
 *
 * hl_owner decides (pure); this module reads a table's state from the store,
 * asks hl_owner, writes the new state back (or drops the table), sends the
 * 'ETS-TRANSFER' message and keeps every owner and heir pid monitored. A pid
 * that cannot be monitored (its node cannot be reached) is treated as dead at
 * once, so a table never stays with a process nobody can see. Deaths are
 * queued and carried out in bounded slices (hl_dm_work), so that thousands
 * of them never keep the C node from answering.
 */
#ifndef HL_DM_H
#define HL_DM_H

#include "hl_dist.h"
#include "hl_owner.h"
#include "hl_fix.h"
#include "hl_store.h"
#include "hl_watch.h"

typedef struct hl_dm hl_dm;

/* A DataMaster over store (which stays the caller's). It can handle a
 * restart at once; it needs hl_dm_attach before any other event. NULL when
 * out of memory. */
hl_dm *hl_dm_new(hl_store *store);
/* Give it the connections and the monitors (both stay the caller's). */
void hl_dm_attach(hl_dm *dm, hl_dist *dist, hl_watch *watch);
/* Free the DataMaster (not the store, dist or watch). Safe with NULL. */
void hl_dm_free(hl_dm *dm);

/* Apply ev to table tab and carry out the result. Returns the store's error
 * (HL_ENOTABLE, HL_ESTORE, ...) or HL_OK; refusals for the caller are in
 * res->err. Views in res (res->owned_by) live until the next hl_dm_event or
 * hl_dm_release on this DataMaster. */
int hl_dm_event(hl_dm *dm, hl_bytes tab, const hl_own_event *ev, hl_own_result *res);
/* Release what the last hl_dm_event's result points into (end of a request). */
void hl_dm_release(hl_dm *dm);
/* Monitor the owner and heir of a table just created or changed, and index
 * them (hl_pidx) so that their deaths find this table. */
void hl_dm_watch_table(hl_dm *dm, hl_bytes tab, const hl_own *own);
/* A watched pid died: every table it owns goes to its heir, every table it
 * is heir of gets the C node as heir. Only queued here (O(its tables)); the
 * work is done by hl_dm_work. */
void hl_dm_pid_down(hl_dm *dm, hl_bytes pid);
/* A node's connection dropped: as pid_down for all of its pids. */
void hl_dm_node_down(hl_dm *dm, hl_bytes node);
/* Carry out up to `budget` queued table changes (one write transaction
 * each). Returns 1 while more are queued, else 0. */
int hl_dm_work(hl_dm *dm, size_t budget);
/* 1 while table changes are queued (hl_dm_work has work), else 0. */
int hl_dm_queued(const hl_dm *dm);
/* ets:delete/1: drop the table (hl_store_drop's rules and errors) and
 * forget its owner and heir in the index. */
int hl_dm_drop(hl_dm *dm, hl_bytes tab, hl_bytes caller);
/* rename/2 (hl_store_rename), and the owner and heir watched under the new
 * name. */
int hl_dm_rename(hl_dm *dm, hl_bytes tab, hl_bytes caller, hl_bytes new_name);
/* safe_fixtable(tab, on) by caller (hl_fix.h), who needs read access; the
 * caller is watched so its death releases its fixations. HL_ENOTABLE,
 * HL_EACCESS, HL_ENOMEM. */
int hl_dm_fix(hl_dm *dm, hl_bytes tab, hl_bytes caller, int on);
/* The fixations, for info(T, safe_fixed) and walks. */
const hl_fix *hl_dm_fixes(const hl_dm *dm);
/* The C node (re)started: it holds every table until claimed. */
void hl_dm_restart(hl_dm *dm);
/* Build {'ETS-TRANSFER', Tab, From, Data}; from.len 0 means the C node. */
int hl_dm_transfer_msg(hl_dm *dm, hl_bytes tab, hl_bytes from, hl_bytes data, hl_buf *out);

#endif
