/*
 * fuzz_dist.h: what the request fuzzer needs from its fake hl_dist
 * (fake_dist.c): the handlers hl_node registered, the one connected peer,
 * and pids on that peer.
 */
#ifndef FUZZ_DIST_H
#define FUZZ_DIST_H

#include "hl_dist.h"

#define FUZZ_PEER "peer@127.0.0.1"

/* The handlers of the running node, or NULL before hl_node_start. */
const hl_dist_handlers *fuzz_dist_handlers(void);
/* The connection every fuzzed frame comes in on. */
hl_conn *fuzz_peer_conn(void);
/* Append the canonical pid <peer.id.0>. HL_OK or HL_ENOMEM. */
int fuzz_peer_pid(hl_buf *out, uint32_t id);

#endif
