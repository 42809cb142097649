/*
 * hl_proto.h: requests in, replies out.
 *
 * A request is the term a client passes to gen_server:call: ets:F(A1..An)
 * becomes {F, A1, ..., An} (and ping, and the DataMaster verb
 * {claim, Name, Opts}). The reply is what ETS returns; where ETS raises, the
 * reply is {error, Reason}. This is the one place where hl_err codes become
 * reason atoms.
 *
 * Some requests need to know whether a process is alive before they can be
 * answered (give_away's target; the owner a claim finds, which may have
 * died a moment ago without its monitor's message having arrived yet). Then hl_proto_handle
 * puts the pid to probe in `probe` and no reply; the caller probes it and calls again with the
 * answer in `known`. The answer may lead to another pid to probe
 * (new/2: a dead owner's heir), never to the same one again.
 */
#ifndef HL_PROTO_H
#define HL_PROTO_H

#include "hl_dm.h"

/* What the protocol works on; every pointer stays the caller's. */
typedef struct {
    hl_dm *dm;
    hl_store *store;
    hl_dist *dist;
    const char *node_name;
    int verbose;
} hl_proto;

typedef struct {
    hl_bytes pid; /* canonical */
    int alive;
} hl_liveness;

/*
 * Handle one request from caller (canonical pid, as the distribution header
 * proved it). Returns HL_OK or HL_ENOMEM (nothing appended); every other
 * failure is an {error, _} reply. On HL_OK either the reply term (no version
 * byte) has been appended to reply, or, when a liveness probe is needed
 * first, the canonical pid to probe has been appended to probe (probe->len
 * grew) and reply is untouched. Both buffers stay the caller's.
 */
int hl_proto_handle(hl_proto *p, hl_bytes caller, hl_bytes req, const hl_liveness *known,
                    hl_buf *reply, hl_buf *probe);

#endif
