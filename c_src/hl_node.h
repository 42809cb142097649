/*
 * hl_node.h: the C node as an Erlang process: the registered name
 * `heirloom` that answers gen_server calls, watches owners die and keeps
 * the DataMaster's promises.
 *
 * It wires hl_dist (connections), hl_watch (monitors), hl_dm (ownership)
 * and hl_proto (requests) together; none of those know each other's
 * internals.
 */
#ifndef HL_NODE_H
#define HL_NODE_H

#include "hl_dist.h"
#include "hl_store.h"

typedef struct hl_node hl_node;

typedef struct {
    hl_dist_opts dist;
    int verbose;
} hl_node_opts;

/* Start serving store (which stays the caller's). Every table is first taken
 * back by the C node (its old owners' pids cannot be trusted after a
 * restart). -1 with a reason in err on failure. */
int hl_node_start(hl_node **out, const hl_node_opts *o, hl_store *store, hl_loop *loop, char *err,
                  size_t errlen);
/* After every round of the loop: the distribution's end of round
 * (hl_dist_round_end: gathering), then one bounded slice of queued work
 * (owners' deaths); 1 while more is queued. The node registers it with the
 * loop; tests may call it. */
int hl_node_work(void *node);
/* Periodic work (about once a second). */
void hl_node_tick(void *node);
/* Stop serving; safe with NULL. */
void hl_node_stop(hl_node *n);
int hl_node_port(const hl_node *n);

#endif
