/*
 * hl_watch.h: knowing when BEAM processes die, without their help.
 *
 * For each pid that owns or is heir to a table the C node sends a raw
 * MONITOR_P; erts answers with MONITOR_P_EXIT when the process dies (at once,
 * with noproc, if it is already dead). A dropped connection kills every pid
 * on that node; hl_node tells us with hl_watch_node_down.
 *
 * A probe answers "is this pid alive right now?" (give_away needs it): the
 * pid is monitored and, right behind it on the same connection, a monitor of
 * a name that is never registered is sent. erts handles a connection's
 * control messages in order and answers a monitor of a dead pid or missing
 * name at once, so if the name's noproc comes back while the pid is still
 * watched, the pid was alive when erts handled the first monitor.
 */
#ifndef HL_WATCH_H
#define HL_WATCH_H

#include "hl_common.h"
#include "hl_dist.h"

typedef struct hl_watch hl_watch;

/* Callbacks; views passed to them live only during the call, and the
 * callbacks may call hl_watch again (the entry is gone by then). */
typedef struct {
    void *ctx;
    void (*on_down)(void *ctx, hl_bytes pid);                          /* a watched pid died */
    void (*on_probe)(void *ctx, uint64_t id, hl_bytes pid, int alive); /* a probe's answer */
} hl_watch_handlers;

/* A watcher sending its monitors through d (which stays the caller's and
 * must outlive it). NULL when out of memory. */
hl_watch *hl_watch_new(hl_dist *d, hl_watch_handlers h);
/* Free the watcher and every entry; no callback runs. Safe with NULL.
 * Monitors already sent stay with erts: their exits are then ignored. */
void hl_watch_free(hl_watch *w);
/* Make sure pid (canonical) is monitored; pid is copied. HL_OK (also when
 * it already was, or when its node is still being connected to: the
 * monitor goes out once it is up, and if it never is, the node's
 * hl_watch_node_down comes instead), HL_ENOPROC when hl_dist_reach says at
 * once that its node cannot be reached (so the pid is dead to us; nothing
 * is recorded), HL_EBADARG for a non-pid, HL_ENOMEM. O(1) apart from the
 * monitor's send. */
int hl_watch_pid(hl_watch *w, hl_bytes pid);
/* 1 when pid is monitored and no exit has been seen for it. */
int hl_watch_is_watched(const hl_watch *w, hl_bytes pid);
/* Start a probe; the answer comes through on_probe with this id (later, and
 * alive = 0, when the node being connected to cannot be reached). Returns
 * HL_ENOPROC at once (no callback) when hl_dist_reach does. */
int hl_watch_probe(hl_watch *w, hl_bytes pid, uint64_t id);
/* Feed a MONITOR_P_EXIT control tuple {21, From, To, Ref, Reason} (a view
 * the caller keeps for the call). An exit for a reference not watched, or a
 * malformed tuple, is ignored. Calls on_probe or on_down at most once. */
void hl_watch_handle_exit(hl_watch *w, hl_bytes control);
/* The connection to node is gone: answer its probes with alive = 0 and
 * forget its monitors without on_down (the caller handles all the node's
 * tables with one NODE_DOWN event). */
void hl_watch_node_down(hl_watch *w, hl_bytes node);

#endif
