/*
 * hl_dist.h: the Erlang distribution side of the C node.
 *
 * ei keeps the node's identity (its pid, for refs) and registers it with
 * epmd. Everything else is ours: the handshakes in both directions
 * (hl_handshake.c, run without blocking by hl_dist_hs.c, so that the C node
 * advertises DFLAG_DIST_MONITOR_NAME, without which erts never delivers
 * MONITOR_P_EXIT, see docs/architecture.md), then the frames: this module
 * reads whole frames from a buffer, answers ticks, notices silent peers,
 * queues output without blocking, and hands each message to the handlers as
 * (control, message) term views. Nothing here waits for a peer: a peer that
 * connects and says nothing, or a node that is frozen, costs a handshake
 * slot until its deadline, never the loop's time.
 *
 * One connection per peer node. A dropped connection, or one that could not
 * be made, means every process on that node is dead to us (on_down).
 */
#ifndef HL_DIST_H
#define HL_DIST_H

#include "hl_common.h"
#include "hl_loop.h"

typedef struct hl_dist hl_dist;
typedef struct hl_conn hl_conn;

typedef struct {
    void *ctx;
    /* A message arrived. control and msg exclude the version byte; msg.len
     * is 0 for control messages that carry none. Views live until return.
     * Not for MONITOR_P and DEMONITOR_P, which this module counts and
     * drops (nothing of the C node dies while it serves). */
    void (*on_message)(void *ctx, hl_conn *c, hl_bytes control, hl_bytes msg);
    /* The connection to node (canonical atom) is gone; c is about to be freed. */
    void (*on_down)(void *ctx, hl_conn *c, hl_bytes node);
} hl_dist_handlers;

typedef struct {
    const char *node_name; /* alive@host */
    const char *cookie;
    const char *listen_addr; /* dotted IPv4, e.g. 127.0.0.1 */
    int port;                /* 0: any free port */
    unsigned creation;
    int silence_ms; /* drop a peer silent this long (net_ticktime) */
} hl_dist_opts;

/* Listen, then publish to epmd (blocking, up to 2 s: start-up only). On
 * failure returns -1 with a one-line reason in err. */
int hl_dist_start(hl_dist **out, const hl_dist_opts *opts, hl_loop *loop, hl_dist_handlers h,
                  char *err, size_t errlen);
/* Unpublish, close every connection (without calling on_down) and free. */
void hl_dist_stop(hl_dist *d);
/* Periodic work: ticks to quiet peers, drop silent ones and handshakes
 * past their deadline, republish after an epmd restart (an attempt blocks
 * at most ~100 ms). Call about once a second. */
void hl_dist_tick(hl_dist *d);
/* Write what is queued now (output is otherwise flushed after each round of
 * incoming frames and at ticks): for sends made outside a round, such as
 * the DataMaster's queued work between rounds. Dead connections are
 * reaped (on_down). */
void hl_dist_flush(hl_dist *d);

/*
 * Call once after every round of the event loop (hl_node_work does). While
 * many processes of a node are in a call with us at once, it asks the
 * kernel not to wake us for that connection until most of them are back
 * (SO_RCVLOWAT) and the loop to look again within a short timeout
 * (hl_loop_timeout) whatever happens; what came by then is read here. A
 * wake-up then serves a batch of calls instead of a frame; a lone caller,
 * or a few, are never held back (see gather_want in hl_dist.c). Returns
 * non-zero while some connection is gathering.
 */
int hl_dist_round_end(hl_dist *d);

/* The C node's own pid and a fresh reference, as canonical terms. */
hl_bytes hl_dist_self_pid(const hl_dist *d);
int hl_dist_make_ref(hl_dist *d, hl_buf *out);
int hl_dist_port(const hl_dist *d);

/* The connection to a node given as a canonical atom (established or still
 * connecting), or NULL. */
hl_conn *hl_dist_find(hl_dist *d, hl_bytes node_atom);
hl_bytes hl_conn_node(const hl_conn *c);
/* The connection to a node, starting to connect to it when there is none:
 * an heir or a give_away target may live on a node that never called us.
 * Returns at once. The connection may still be connecting: what is sent on
 * it queues and goes out, in order, once the handshake is done (the caller
 * that needs an answer, say a liveness probe, simply gets it later, so a
 * parked request stays parked meanwhile). If the connection cannot be made
 * (node unknown to epmd, refused, wrong cookie, no handshake within
 * HL_HS_TMO_MS), on_down reports it like a dropped one. NULL at once when
 * the node is this node, has no host part, its host does not resolve, too
 * many connects are in progress, or it failed less than a second ago. */
hl_conn *hl_dist_reach(hl_dist *d, hl_bytes node_atom);

/* Queue one frame (control term, optional message term; both without
 * version byte), also on a connection still connecting. HL_OK, HL_ENOMEM, or
 * HL_EBADARG if the connection is gone. */
int hl_dist_send(hl_dist *d, hl_conn *c, hl_bytes control, hl_bytes msg);
/* Send msg to pid, connecting to its node if needed (see hl_dist_reach).
 * HL_ENOPROC when reach says at once that the node cannot be reached. */
int hl_dist_send_to_pid(hl_dist *d, hl_bytes pid, hl_bytes msg);

#endif
