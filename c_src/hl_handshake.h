/*
 * hl_handshake.h: the Erlang distribution handshake (protocol version 6,
 * OTP 23+), both directions, as a pure state machine, and the epmd
 * PORT_PLEASE2 exchange that precedes an outgoing one.
 *
 * No I/O here: the caller reads bytes from its socket and feeds them in, and
 * writes whatever the machine appended to hs->out. So a handshake never
 * waits inside this module, and the event loop (hl_dist_hs.c) can run many
 * at once, each with its own deadline.
 *
 * The accepting side (peer A connects to us, B):
 *   A: name 'N'   -> B answers status 's' + challenge 'N'
 *   A: reply 'r'  -> B checks A's digest, answers ack 'a': done
 * The connecting side (we are A):
 *   we send 'N'; B: status 's', challenge 'N'; we reply 'r'; B: ack 'a': done
 * Each packet has a 2-byte big-endian length. A digest is
 * MD5(cookie ++ the other side's challenge as an unsigned decimal).
 *
 * Our flags are ei's (the C node was an ei node) plus
 * DFLAG_DIST_MONITOR_NAME (erts forwards MONITOR_P_EXIT only to peers that
 * advertise it, docs/architecture.md) and DFLAG_SEND_SENDER. A peer must
 * offer erts's mandatory flags (DFLAG_MANDATORY_25_DIGEST stands for all of them, as in OTP 25);
 * dynamic node names (DFLAG_NAME_ME) are refused.
 */
#ifndef HL_HANDSHAKE_H
#define HL_HANDSHAKE_H

#include "hl_common.h"

#define HL_DFLAG_PUBLISHED 0x1ull
#define HL_DFLAG_EXTENDED_REFERENCES 0x4ull
#define HL_DFLAG_DIST_MONITOR 0x8ull
#define HL_DFLAG_FUN_TAGS 0x10ull
#define HL_DFLAG_DIST_MONITOR_NAME 0x20ull
#define HL_DFLAG_NEW_FUN_TAGS 0x80ull
#define HL_DFLAG_EXTENDED_PIDS_PORTS 0x100ull
#define HL_DFLAG_EXPORT_PTR_TAG 0x200ull
#define HL_DFLAG_BIT_BINARIES 0x400ull
#define HL_DFLAG_NEW_FLOATS 0x800ull
#define HL_DFLAG_SMALL_ATOM_TAGS 0x4000ull
#define HL_DFLAG_UTF8_ATOMS 0x10000ull
#define HL_DFLAG_MAP_TAG 0x20000ull
#define HL_DFLAG_BIG_CREATION 0x40000ull
#define HL_DFLAG_SEND_SENDER 0x80000ull
#define HL_DFLAG_HANDSHAKE_23 0x1000000ull
#define HL_DFLAG_UNLINK_ID 0x2000000ull
#define HL_DFLAG_MANDATORY_25_DIGEST 0x4000000ull
#define HL_DFLAG_NAME_ME (0x2ull << 32)
#define HL_DFLAG_V4_NC (0x4ull << 32)

/* What a peer must support (erts's DFLAG_DIST_MANDATORY of OTP 25). */
#define HL_DFLAG_MANDATORY                                                                         \
    (HL_DFLAG_EXTENDED_REFERENCES | HL_DFLAG_FUN_TAGS | HL_DFLAG_EXTENDED_PIDS_PORTS |             \
     HL_DFLAG_UTF8_ATOMS | HL_DFLAG_NEW_FUN_TAGS | HL_DFLAG_BIG_CREATION | HL_DFLAG_NEW_FLOATS |   \
     HL_DFLAG_MAP_TAG | HL_DFLAG_EXPORT_PTR_TAG | HL_DFLAG_BIT_BINARIES)

/* What the C node advertises: ei's flags (a hidden node, no DFLAG_PUBLISHED,
 * without the atom cache or fragments, so every frame it receives is
 * self-contained), plus DIST_MONITOR_NAME (see above) and SEND_SENDER: peers
 * then name the sender of every message to our pid, which access checks
 * need (hl_node.c); a plain SEND names nobody. */
#define HL_DFLAG_OURS                                                                              \
    (HL_DFLAG_MANDATORY_25_DIGEST | HL_DFLAG_EXTENDED_REFERENCES | HL_DFLAG_DIST_MONITOR |         \
     HL_DFLAG_DIST_MONITOR_NAME | HL_DFLAG_EXTENDED_PIDS_PORTS | HL_DFLAG_FUN_TAGS |               \
     HL_DFLAG_NEW_FUN_TAGS | HL_DFLAG_NEW_FLOATS | HL_DFLAG_SMALL_ATOM_TAGS |                      \
     HL_DFLAG_UTF8_ATOMS | HL_DFLAG_MAP_TAG | HL_DFLAG_BIG_CREATION | HL_DFLAG_EXPORT_PTR_TAG |    \
     HL_DFLAG_BIT_BINARIES | HL_DFLAG_HANDSHAKE_23 | HL_DFLAG_V4_NC | HL_DFLAG_UNLINK_ID |         \
     HL_DFLAG_SEND_SENDER)

/* Longest node name (erts's MAXNODELEN) and longest handshake packet we
 * take: a name packet is 15 bytes plus the name. */
#define HL_HS_NAME_MAX 256
#define HL_HS_PACKET_MAX 512

typedef enum {
    HL_HS_MORE,   /* feed more input (after sending hs->out) */
    HL_HS_NAME,   /* accepting: hs->peer is known; answer with hl_hs_status() */
    HL_HS_DONE,   /* authenticated; input past *used is distribution frames */
    HL_HS_FAILED, /* give up (hs->why); hs->out may still hold a status to send */
} hl_hs_result;

typedef struct {
    const char *self;   /* our node name; borrowed, must outlive the handshake */
    const char *cookie; /* borrowed likewise */
    uint32_t creation;
    uint64_t flags;     /* normally HL_DFLAG_OURS */
    uint32_t challenge; /* ours: random, fresh for every handshake */
} hl_hs_config;

typedef struct {
    hl_hs_config cfg;
    int step;        /* private */
    hl_buf out;      /* bytes to send, appended by the machine; owned */
    const char *why; /* static text when FAILED */
    int nok;         /* connecting: the peer answered "nok" (it connects to us itself) */
    char peer[HL_HS_NAME_MAX + 1];
    uint64_t peer_flags; /* as the peer sent them, mandatory-25 expanded */
    uint32_t peer_creation;
    uint32_t peer_challenge;
} hl_hs;

/* Start accepting: nothing to send until the peer's name arrives. */
void hl_hs_accept(hl_hs *hs, const hl_hs_config *cfg);
/* Start connecting to node `peer` (alive@host, at most HL_HS_NAME_MAX bytes):
 * queues our name. HL_OK, HL_EBADARG (bad peer name) or HL_ENOMEM. */
int hl_hs_connect(hl_hs *hs, const hl_hs_config *cfg, const char *peer);
/* Feed input. *used is how many bytes of in the machine consumed (whole
 * packets only; keep the rest and feed it again with more). */
hl_hs_result hl_hs_feed(hl_hs *hs, const unsigned char *in, size_t len, size_t *used);
/* Accepting, after HL_HS_NAME: "ok" or "ok_simultaneous" go on (MORE);
 * "nok" or "not_allowed" end it (FAILED, the status queued to send first). */
hl_hs_result hl_hs_status(hl_hs *hs, const char *status);
/* Release hs->out. */
void hl_hs_free(hl_hs *hs);

/* The digest for a challenge: MD5(cookie ++ "%u" challenge). */
void hl_hs_digest(const char *cookie, uint32_t challenge, unsigned char out[16]);

/* epmd: append a PORT_PLEASE2_REQ for `alive` (the part before '@'). */
int hl_epmd_port_req(hl_buf *out, const char *alive, size_t alive_len);
/* Parse epmd's PORT2_RESP: 1 with *port set when the node is registered and
 * speaks version 6; 0 when more bytes are needed; -1 when it is not
 * registered, too old, or the reply is malformed. */
int hl_epmd_port_resp(const unsigned char *in, size_t len, int *port);

#endif
