/*
 * hl_fix.h: safe_fixtable's bookkeeping in the C node: which processes fix
 * which tables, how many times, and since when (info(T, safe_fixed)).
 *
 * Fixations are few (a process fixes a table for one walk), so they are a
 * flat list scanned in full; every call is O(fixations). Pure: no I/O, the
 * caller (hl_dm) watches the pids and reports their deaths. Views passed in
 * are copied; views handed to callbacks live for the call.
 */
#ifndef HL_FIX_H
#define HL_FIX_H

#include "hl_common.h"

typedef struct hl_fix hl_fix;

/* NULL when out of memory. */
hl_fix *hl_fix_new(void);
/* Safe with NULL. */
void hl_fix_free(hl_fix *f);

/* safe_fixtable(tab, true) by pid: its count goes up (the table's fixation
 * time is now_us if it was not fixed); false: down by one, nothing when pid
 * holds none, as ETS. *first_of_pid (may be NULL) is 1 when pid held no
 * fixation of any table before (so the caller starts watching it).
 * HL_OK or HL_ENOMEM (nothing changed). */
int hl_fix_set(hl_fix *f, hl_bytes tab, hl_bytes pid, int on, uint64_t now_us, int *first_of_pid);
/* 1 when some process fixes tab. */
int hl_fix_fixed(const hl_fix *f, hl_bytes tab);
/* For a fixed tab: *since_us and fn(ctx, pid, count) per holder, in the
 * order they first fixed it; a non-zero fn return stops and is returned.
 * Returns HL_OK (also when not fixed: *since_us is then 0 and fn not called). */
typedef int (*hl_fix_fn)(void *ctx, hl_bytes pid, uint64_t count);
int hl_fix_each(const hl_fix *f, hl_bytes tab, uint64_t *since_us, hl_fix_fn fn, void *ctx);
/* A process died: its fixations go, as ETS releases them. */
void hl_fix_pid_down(hl_fix *f, hl_bytes pid);
/* Every process of a node (canonical atom) died. */
void hl_fix_node_down(hl_fix *f, hl_bytes node);
/* The table was deleted: its fixations go. */
void hl_fix_forget(hl_fix *f, hl_bytes tab);
/* The table was renamed. HL_OK or HL_ENOMEM (left under the old name). */
int hl_fix_rename(hl_fix *f, hl_bytes tab, hl_bytes new_tab);

#endif
