/*
 * hl_dist.h: the Erlang distribution side of the C node.
 *
 * ei does the parts that need its secrets (epmd registration and the
 * handshake, through user-supplied socket callbacks so that the C node can
 * advertise DFLAG_DIST_MONITOR_NAME: without it erts never delivers
 * MONITOR_P_EXIT, see docs/architecture.md). After the handshake this module
 * owns the socket: it reads whole frames from a buffer, answers ticks,
 * notices silent peers, queues output without blocking, and hands each
 * message to the handlers as (control, message) term views.
 *
 * One connection per peer node. A dropped connection means every process on
 * that node is dead to us (on_down).
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
     * is 0 for control messages that carry none. Views live until return. */
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

/* Listen, then publish to epmd. On failure returns -1 with a one-line reason
 * in err. */
int hl_dist_start(hl_dist **out, const hl_dist_opts *opts, hl_loop *loop, hl_dist_handlers h,
                  char *err, size_t errlen);
/* Unpublish, close every connection (without calling on_down) and free. */
void hl_dist_stop(hl_dist *d);
/* Periodic work: ticks to quiet peers, drop silent ones, republish after an
 * epmd restart. Call about once a second. */
void hl_dist_tick(hl_dist *d);

/* The C node's own pid and a fresh reference, as canonical terms. */
hl_bytes hl_dist_self_pid(const hl_dist *d);
int hl_dist_make_ref(hl_dist *d, hl_buf *out);
int hl_dist_port(const hl_dist *d);

/* The connection to a node given as a canonical atom, or NULL. */
hl_conn *hl_dist_find(hl_dist *d, hl_bytes node_atom);
hl_bytes hl_conn_node(const hl_conn *c);
/* The connection to a node, connecting to it first (a blocking handshake of
 * at most a second) when there is none: an heir or a give_away target may
 * live on a node that never called us. NULL when the node cannot be reached
 * (tried again only after a second), or is this node. */
hl_conn *hl_dist_reach(hl_dist *d, hl_bytes node_atom);

/* Queue one frame (control term, optional message term; both without
 * version byte). HL_OK, HL_ENOMEM, or HL_EBADARG if the connection is gone. */
int hl_dist_send(hl_dist *d, hl_conn *c, hl_bytes control, hl_bytes msg);
/* Send msg to pid, connecting to its node if needed. HL_ENOPROC when the
 * pid's node cannot be reached. */
int hl_dist_send_to_pid(hl_dist *d, hl_bytes pid, hl_bytes msg);

#endif
