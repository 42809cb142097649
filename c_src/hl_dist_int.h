/*
 * hl_dist_int.h: what hl_dist.c (established connections) and
 * hl_dist_hs.c (listening, epmd, handshakes in both directions) share.
 * Not a public header: only those two files include it.
 *
 * A connection (hl_conn) is the C node's view of one peer node. It is UP
 * with a socket, or PENDING: we are connecting out to the node (or waiting
 * for the node to finish connecting to us, after it answered our attempt
 * with "nok"), and frames sent to it queue in its output buffer until the
 * handshake is done. A handshake in progress is an hl_hs_io: its own socket
 * (first to epmd, then to the node, when outgoing), buffers and deadline.
 * Handshakes never block: each step runs when poll() says its socket is
 * ready, and a handshake past its deadline is dropped from hl_dist_tick.
 */
#ifndef HL_DIST_INT_H
#define HL_DIST_INT_H

#include "hl_dist.h"
#include "hl_handshake.h"

#include <ei.h>
#include <netinet/in.h>

/* A handshake must finish within this (incoming and outgoing alike; OTP's
 * net_setuptime defaults to 7 s). */
#define HL_HS_TMO_MS 5000
/* Handshakes in progress at once; an incoming connection beyond the cap is
 * closed at once, an outgoing one counts its node unreachable. */
#define HL_HS_MAX_IN 32
#define HL_HS_MAX_OUT 32

typedef struct hl_hs_io hl_hs_io;

struct hl_conn {
    hl_dist *d;
    int fd;                  /* -1 while pending */
    int dead;                /* reaped (and on_down called) after the current event */
    int pending;             /* not connected yet: output queues */
    hl_hs_io *hs;            /* pending: our outgoing handshake, or NULL after "nok" */
    long long pending_until; /* pending without a handshake: give up then */
    hl_buf node;             /* canonical atom */
    hl_buf in;               /* unread input starts at in_off */
    size_t in_off;
    hl_buf out; /* unsent output starts at out_off */
    size_t out_off;
    long long last_recv, last_send;
    /* This round (see hl_dist_round_end): bytes read, frames that carried
     * a message (calls, mostly), whether poll() let us read. */
    size_t round_bytes;
    unsigned round_msgs;
    int round_read;
    int lowat;              /* SO_RCVLOWAT in force; 0 or 1: the default */
    int watchers;           /* monitors of us from this node (MONITOR_P - DEMONITOR_P) */
    size_t call_bytes;      /* bytes a call brings, averaged */
    unsigned gather_hold;   /* rounds left without growing the wait */
    long long gather_since; /* when the wait for the mark began (us) */
};

/* What hl_dist_hs.c needs of hl_dist.c's connections, as calls through
 * pointers that hl_dist_start fills in, so that the handshake file depends
 * only downward (scripts/check_deps.sh): it finishes a handshake by handing
 * the socket up, it never reaches into the frame layer. */
typedef struct {
    hl_conn *(*conn_new)(hl_dist *d, const char *node);
    void (*conn_up)(hl_dist *d, hl_conn *c, int fd, hl_bytes first, hl_bytes early);
    hl_conn *(*find)(hl_dist *d, hl_bytes node_atom);
    void (*flush_all)(hl_dist *d);
} hl_dist_conn_ops;

struct hl_dist {
    hl_dist_conn_ops conn;
    ei_cnode ec;
    hl_loop *loop;
    hl_dist_handlers h;
    int listen_fd, publish_fd, port, epmd_port;
    int accept_paused; /* out of descriptors: listener unwatched until the tick */
    int silence_ms;
    char *self_name, *cookie; /* owned copies; handshakes borrow them */
    unsigned creation;
    hl_buf self_pid;
    uint32_t ref_counter;
    hl_conn **conns;
    size_t nconns, capconns;
    hl_hs_io **hss; /* handshakes in progress */
    size_t nhss, caphss, n_in, n_out;
    long long next_publish, last_refusal_log;
    struct {
        char node[HL_HS_NAME_MAX + 1];
        long long at;
    } failed[8];
    unsigned next_failed;
};

#define HL_FAILED_SLOTS (sizeof(((hl_dist *)0)->failed) / sizeof(((hl_dist *)0)->failed[0]))

/* A monotonic clock in milliseconds (hl_dist_hs.c). */
long long hl_dist_now_ms(void);

/* hl_dist.c */
/* A new pending connection to node (a C string): output queues until
 * hl_dist_conn_up. NULL on allocation failure. It is in d->conns at once. */
hl_conn *hl_dist_conn_new(hl_dist *d, const char *node);
/* Bring a pending connection up on fd after its handshake: `first` (the
 * handshake's own unsent bytes) goes out before anything queued, `early`
 * (frames that came with the last handshake packet) is handled at once.
 * Failure marks the connection dead. */
void hl_dist_conn_up(hl_dist *d, hl_conn *c, int fd, hl_bytes first, hl_bytes early);
/* Flush every connection's output and reap the dead ones (on_down). */
void hl_dist_flush_all(hl_dist *d);

/* hl_dist_hs.c */
/* Remember that node could not be reached, so reach does not retry it at
 * once. */
void hl_dist_note_failed(hl_dist *d, const char *node);
/* Listen on the options' address and port and publish to epmd (blocking,
 * at start only). -1 with a reason in err. */
int hl_dist_hs_start(hl_dist *d, const hl_dist_opts *o, char *err, size_t errlen);
/* Start connecting out to node `name` (alive@host) for a new pending
 * connection, returned; NULL when that cannot even start (host unknown,
 * too many handshakes, no memory): the node is unreachable. */
hl_conn *hl_dist_hs_connect(hl_dist *d, const char *name);
/* Drop an outgoing handshake whose connection goes away or came up by
 * another way; closes its socket. */
void hl_dist_hs_abandon(hl_dist *d, hl_hs_io *h);
/* Deadlines and re-publishing; from hl_dist_tick. */
void hl_dist_hs_tick(hl_dist *d, long long now);
/* Close every handshake, the listener and the epmd registration. */
void hl_dist_hs_stop(hl_dist *d);

#endif
