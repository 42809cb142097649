/*
 * hl_node.c: the `heirloom` process (see hl_node.h).
 *
 * Control messages are dispatched on their type number. Requests come as
 * {'$gen_call', {From, Tag}, Request}, sent to the registered name
 * (REG_SEND) or to the C node's pid (SEND); the reply {Tag, Reply} goes to
 * From, with Tag's bytes copied as they came (OTP 24+ tags are
 * [alias | Ref]). The caller is the sender the frame's header names, never
 * the From inside the message alone (anyone can write any pid there). A
 * request that must wait for a liveness probe is parked with a copy of
 * everything it needs and re-run when the answer comes. net_kernel's
 * {is_auth, Node} (net_adm:ping/1) is answered `yes`.
 */
#include "hl_node.h"

#include "hl_dm.h"
#include "hl_proto.h"
#include "hl_term.h"
#include "hl_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DOP_SEND = 2,
    DOP_REG_SEND = 6,
    DOP_MONITOR_P_EXIT = 21,
    DOP_SEND_SENDER = 22,
    DOP_UNLINK_ID = 35,
    DOP_UNLINK_ID_ACK = 36
};

typedef struct {
    uint64_t id;
    hl_buf caller, tag, request;
} parked;

struct hl_node {
    hl_dist *dist;
    hl_watch *watch;
    hl_dm *dm;
    hl_proto proto;
    hl_buf name_atom;       /* 'heirloom' */
    hl_buf net_kernel_atom; /* 'net_kernel' */
    parked *parked;
    size_t nparked, capparked;
    uint64_t next_probe;
    int verbose;
};

static void reply(hl_node *n, hl_bytes caller, hl_bytes tag, hl_bytes body)
{
    hl_buf msg = {0};
    int rc = hl_term_put_tuple_header(&msg, 2);
    if (!rc)
        rc = hl_buf_append(&msg, tag.data, tag.len);
    if (!rc)
        rc = hl_buf_append(&msg, body.data, body.len);
    if (!rc)
        (void)hl_dist_send_to_pid(n->dist, caller, hl_buf_view(&msg));
    hl_buf_free(&msg);
}

static void park_free(parked *p)
{
    hl_buf_free(&p->caller);
    hl_buf_free(&p->tag);
    hl_buf_free(&p->request);
}

static int park(hl_node *n, hl_bytes caller, hl_bytes tag, hl_bytes request, uint64_t id)
{
    if (hl_grow(&n->parked, &n->capparked, n->nparked + 1, sizeof *n->parked, 8))
        return HL_ENOMEM;
    parked p = {id, {0}, {0}, {0}};
    if (hl_buf_append(&p.caller, caller.data, caller.len) ||
        hl_buf_append(&p.tag, tag.data, tag.len) ||
        hl_buf_append(&p.request, request.data, request.len)) {
        park_free(&p);
        return HL_ENOMEM;
    }
    n->parked[n->nparked++] = p;
    return HL_OK;
}

static void run_request(hl_node *n, hl_bytes caller, hl_bytes tag, hl_bytes request,
                        const hl_liveness *known);

static void on_probe(void *ctx, uint64_t id, hl_bytes pid, int alive)
{
    hl_node *n = ctx;
    for (size_t i = 0; i < n->nparked; i++) {
        if (n->parked[i].id != id)
            continue;
        parked p = n->parked[i];
        n->parked[i] = n->parked[--n->nparked];
        hl_liveness known = {pid, alive};
        run_request(n, hl_buf_view(&p.caller), hl_buf_view(&p.tag), hl_buf_view(&p.request),
                    &known);
        park_free(&p);
        return;
    }
}

static void run_request(hl_node *n, hl_bytes caller, hl_bytes tag, hl_bytes request,
                        const hl_liveness *known)
{
    hl_buf out = {0}, target = {0};
    int rc = hl_proto_handle(&n->proto, caller, request, known, &out, &target);
    /* A request may probe again for another pid (new/2 finds a dead owner's
     * heir dead too), never twice for the same one: that could not end. */
    if (rc == HL_OK && target.len && (!known || !hl_bytes_eq(known->pid, hl_buf_view(&target)))) {
        uint64_t id = ++n->next_probe;
        rc = park(n, caller, tag, request, id);
        if (!rc) {
            rc = hl_watch_probe(n->watch, hl_buf_view(&target), id);
            if (rc == HL_ENOPROC) /* not connected: dead to us, answer now */
                on_probe(n, id, hl_buf_view(&target), 0);
            else if (rc)
                n->nparked--, park_free(&n->parked[n->nparked]);
        }
        if (rc == HL_OK || rc == HL_ENOPROC)
            goto done;
        out.len = 0;
        rc = HL_ENOMEM;
    }
    if (rc == HL_OK)
        reply(n, caller, tag, hl_buf_view(&out));
    else if (n->verbose)
        fprintf(stderr, "heirloom_node: could not answer a request (%s)\n", hl_err_reason(rc));
done:
    hl_buf_free(&out);
    hl_buf_free(&target);
}

/* net_adm:ping/1 asks the peer's net_kernel {is_auth, Node}; the connection
 * was set up with the cookie, so the answer is yes (as jinterface says).
 * Other net_kernel calls are not this node's business. */
static void answer_net_kernel(hl_node *n, hl_bytes caller, hl_bytes tag, hl_bytes request)
{
    hl_bytes e;
    size_t arity;
    char verb[16];
    hl_buf yes = {0};
    if (hl_term_tuple_arity(request.data, request.len, &arity) || arity != 2 ||
        hl_term_tuple_element(request.data, request.len, 1, &e) ||
        hl_term_get_atom(e.data, e.len, verb, sizeof verb) || strcmp(verb, "is_auth"))
        return;
    if (!hl_term_put_atom(&yes, "yes", 3))
        reply(n, caller, tag, hl_buf_view(&yes));
    hl_buf_free(&yes);
}

/* Reply {error, Reason} to a call the C node will not run. */
static void refuse(hl_node *n, hl_bytes to, hl_bytes tag, int err)
{
    hl_buf body = {0};
    int rc = hl_term_put_tuple_header(&body, 2);
    if (!rc)
        rc = hl_term_put_atom(&body, "error", 5);
    if (!rc)
        rc = hl_term_put_atom(&body, hl_err_reason(err), strlen(hl_err_reason(err)));
    if (!rc)
        reply(n, to, tag, hl_buf_view(&body));
    hl_buf_free(&body);
}

/*
 * msg = {'$gen_call', {From, Tag}, Request}; anything else is ignored.
 * Anyone can write any pid as From, so the caller is the sender the frame's
 * header names (REG_SEND, SEND_SENDER), which the peer node vouches for; a
 * From that differs is refused, answered to the real sender. A plain SEND
 * names no sender: then From must at least live on the node the frame came
 * from.
 */
static void handle_call(hl_node *n, hl_conn *c, hl_bytes sender, hl_bytes msg, int net_kernel)
{
    hl_bytes m[3], ft[2], node;
    size_t arity, farity, pos = 0;
    char verb[16];
    /* {'$gen_call', {From, Tag}, Request}: each tuple split in one pass. */
    if (hl_term_tuple_elements(msg.data, msg.len, m, 3, &arity) || arity != 3 ||
        hl_term_get_atom(m[0].data, m[0].len, verb, sizeof verb) || strcmp(verb, "$gen_call") ||
        hl_term_tuple_elements(m[1].data, m[1].len, ft, 2, &farity) || farity != 2) {
        if (n->verbose)
            fprintf(stderr, "heirloom_node: ignored a message that is not a gen_server call\n");
        return;
    }
    hl_bytes from = ft[0], tag = ft[1], request = m[2];
    hl_buf caller = {0}, proved = {0};
    if (hl_term_canon(from.data, from.len, &pos, &caller) ||
        !hl_term_is_pid(caller.data, caller.len))
        goto done;
    /* The sender is usually From byte for byte: then it is proved as is. */
    int same = sender.len && hl_bytes_eq(sender, from);
    pos = 0;
    if (sender.len && !same && hl_term_canon(sender.data, sender.len, &pos, &proved))
        goto done;
    if (sender.len ? !same && !hl_bytes_eq(hl_buf_view(&caller), hl_buf_view(&proved))
                   : hl_term_node_of(caller.data, caller.len, &node) ||
                         !hl_bytes_eq(node, hl_conn_node(c))) {
        if (n->verbose)
            fprintf(stderr, "heirloom_node: refused a call whose From is not its sender\n");
        if (proved.len)
            refuse(n, hl_buf_view(&proved), tag, HL_EFORGED);
        goto done;
    }
    if (net_kernel)
        answer_net_kernel(n, hl_buf_view(&caller), tag, request);
    else
        run_request(n, hl_buf_view(&caller), tag, request, NULL);
done:
    hl_buf_free(&caller);
    hl_buf_free(&proved);
}

static void unlink_ack(hl_node *n, hl_conn *c, hl_bytes control)
{
    hl_bytes id, from;
    hl_buf ctl = {0};
    hl_bytes self = hl_dist_self_pid(n->dist);
    if (hl_term_tuple_element(control.data, control.len, 2, &id) ||
        hl_term_tuple_element(control.data, control.len, 3, &from))
        return;
    int rc = hl_term_put_tuple_header(&ctl, 4);
    if (!rc)
        rc = hl_term_put_int(&ctl, DOP_UNLINK_ID_ACK);
    if (!rc)
        rc = hl_buf_append(&ctl, id.data, id.len);
    if (!rc)
        rc = hl_buf_append(&ctl, self.data, self.len);
    if (!rc)
        rc = hl_buf_append(&ctl, from.data, from.len);
    if (!rc)
        (void)hl_dist_send(n->dist, c, hl_buf_view(&ctl), (hl_bytes){NULL, 0});
    hl_buf_free(&ctl);
}

/* Who a message is for: 1 for `heirloom` or our pid, 2 for `net_kernel`,
 * 0 for anyone else. */
static int addressee(hl_node *n, hl_bytes to)
{
    hl_buf canon = {0};
    size_t pos = 0;
    int who = 0;
    if (hl_bytes_eq(to, hl_buf_view(&n->name_atom))) /* as peers encode it: no copy */
        return 1;
    if (hl_term_canon(to.data, to.len, &pos, &canon) == HL_OK) {
        hl_bytes t = hl_buf_view(&canon);
        if (hl_bytes_eq(t, hl_buf_view(&n->name_atom)) || hl_bytes_eq(t, hl_dist_self_pid(n->dist)))
            who = 1;
        else if (hl_bytes_eq(t, hl_buf_view(&n->net_kernel_atom)))
            who = 2;
    }
    hl_buf_free(&canon);
    return who;
}

static void on_message(void *ctx, hl_conn *c, hl_bytes control, hl_bytes msg)
{
    hl_node *n = ctx;
    hl_bytes e[4], sender = {NULL, 0};
    size_t arity;
    int64_t type;
    int who;
    if (hl_term_tuple_elements(control.data, control.len, e, 4, &arity) || arity < 1 ||
        hl_term_get_int(e[0].data, e[0].len, &type))
        return;
    switch (type) {
    case DOP_REG_SEND: /* {6, From, _, ToName} */
        if (arity >= 4 && (who = addressee(n, e[3])))
            handle_call(n, c, e[1], msg, who == 2);
        break;
    case DOP_SEND_SENDER: /* {22, From, ToPid} */
        if (arity >= 3 && addressee(n, e[2]) == 1)
            handle_call(n, c, e[1], msg, 0);
        break;
    case DOP_SEND: /* {2, _, ToPid}: no sender named */
        if (arity >= 3 && addressee(n, e[2]) == 1)
            handle_call(n, c, sender, msg, 0);
        break;
    case DOP_MONITOR_P_EXIT:
        hl_watch_handle_exit(n->watch, control);
        break;
    case DOP_UNLINK_ID:
        unlink_ack(n, c, control);
        break;
    default:
        /* Links, monitors of us, group leaders, ...: nothing to do. */
        break;
    }
}

static void on_node_down(void *ctx, hl_conn *c, hl_bytes node)
{
    hl_node *n = ctx;
    (void)c;
    hl_watch_node_down(n->watch, node);
    hl_dm_node_down(n->dm, node);
}

static void on_pid_down(void *ctx, hl_bytes pid)
{
    hl_node *n = ctx;
    hl_dm_pid_down(n->dm, pid);
}

/* Deaths are carried out a slice at a time between rounds of the loop:
 * each table is one write transaction (tens of microseconds), so a slice
 * keeps other callers waiting a few milliseconds at most. */
#define HL_NODE_WORK_SLICE 64

int hl_node_work(void *node)
{
    hl_node *n = node;
    (void)hl_dist_round_end(n->dist);
    if (!hl_dm_queued(n->dm)) /* the usual round: nothing to do, nothing to flush */
        return 0;
    int more = hl_dm_work(n->dm, HL_NODE_WORK_SLICE);
    /* The slice's 'ETS-TRANSFER's go out now, not at the next tick. */
    hl_dist_flush(n->dist);
    return more;
}

int hl_node_start(hl_node **out, const hl_node_opts *o, hl_store *store, hl_loop *loop, char *err,
                  size_t errlen)
{
    hl_node *n = calloc(1, sizeof *n);
    if (!n || hl_term_put_atom(&n->name_atom, "heirloom", 8) ||
        hl_term_put_atom(&n->net_kernel_atom, "net_kernel", 10)) {
        if (n)
            hl_buf_free(&n->name_atom);
        snprintf(err, errlen, "out of memory");
        free(n);
        return -1;
    }
    n->verbose = o->verbose;
    n->dm = hl_dm_new(store);
    if (!n->dm) {
        snprintf(err, errlen, "out of memory");
        hl_node_stop(n);
        return -1;
    }
    hl_dm_restart(n->dm); /* before serving: no dist needed, nothing is watched */
    hl_dist_handlers h = {n, on_message, on_node_down};
    if (hl_dist_start(&n->dist, &o->dist, loop, h, err, errlen)) {
        hl_node_stop(n);
        return -1;
    }
    n->watch = hl_watch_new(n->dist, (hl_watch_handlers){n, on_pid_down, on_probe});
    if (!n->watch) {
        snprintf(err, errlen, "out of memory");
        hl_node_stop(n);
        return -1;
    }
    hl_dm_attach(n->dm, n->dist, n->watch);
    hl_loop_set_work(loop, hl_node_work, n);
    n->proto = (hl_proto){n->dm, store, n->dist, o->dist.node_name, o->verbose};
    *out = n;
    return 0;
}

void hl_node_tick(void *node)
{
    hl_node *n = node;
    hl_dist_tick(n->dist);
}

int hl_node_port(const hl_node *n)
{
    return hl_dist_port(n->dist);
}

void hl_node_stop(hl_node *n)
{
    if (!n)
        return;
    hl_dist_stop(n->dist);
    hl_watch_free(n->watch);
    for (size_t i = 0; i < n->nparked; i++)
        park_free(&n->parked[i]);
    free(n->parked);
    hl_dm_free(n->dm);
    hl_buf_free(&n->name_atom);
    hl_buf_free(&n->net_kernel_atom);
    free(n);
}
