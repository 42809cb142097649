/*
 * hl_node.c: the `heirloom` process (see hl_node.h).
 *
 * Control messages are dispatched on their type number. Requests come as
 * {'$gen_call', {From, Tag}, Request}, sent to the registered name
 * (REG_SEND) or to the C node's pid (SEND); the reply {Tag, Reply} goes to
 * From, with Tag's bytes copied as they came (OTP 24+ tags are
 * [alias | Ref]). A request that must wait for a liveness probe is parked
 * with a copy of everything it needs and re-run when the answer comes.
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
    hl_dm dm;
    hl_proto proto;
    hl_buf name_atom; /* 'heirloom' */
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
    if (n->nparked == n->capparked) {
        size_t cap = n->capparked ? n->capparked * 2 : 8;
        parked *p = realloc(n->parked, cap * sizeof *p);
        if (!p)
            return HL_ENOMEM;
        n->parked = p;
        n->capparked = cap;
    }
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
    if (rc == HL_PROTO_PROBE && (!known || !hl_bytes_eq(known->pid, hl_buf_view(&target)))) {
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

/* msg = {'$gen_call', {From, Tag}, Request}; anything else is ignored. */
static void handle_message(hl_node *n, hl_bytes msg)
{
    hl_bytes e, from, tag, request;
    size_t arity, pos = 0;
    char verb[16];
    if (hl_term_tuple_arity(msg.data, msg.len, &arity) || arity != 3 ||
        hl_term_tuple_element(msg.data, msg.len, 1, &e) ||
        hl_term_get_atom(e.data, e.len, verb, sizeof verb) || strcmp(verb, "$gen_call") ||
        hl_term_tuple_element(msg.data, msg.len, 2, &e) ||
        hl_term_tuple_element(e.data, e.len, 1, &from) ||
        hl_term_tuple_element(e.data, e.len, 2, &tag) ||
        hl_term_tuple_element(msg.data, msg.len, 3, &request)) {
        if (n->verbose)
            fprintf(stderr, "heirloom_node: ignored a message that is not a gen_server call\n");
        return;
    }
    hl_buf caller = {0};
    if (hl_term_canon(from.data, from.len, &pos, &caller) == HL_OK &&
        hl_term_is_pid(caller.data, caller.len))
        run_request(n, hl_buf_view(&caller), tag, request, NULL);
    hl_buf_free(&caller);
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

static int is_for_us(hl_node *n, hl_bytes to)
{
    hl_buf canon = {0};
    size_t pos = 0;
    int yes = hl_term_canon(to.data, to.len, &pos, &canon) == HL_OK &&
              (hl_bytes_eq(hl_buf_view(&canon), hl_buf_view(&n->name_atom)) ||
               hl_bytes_eq(hl_buf_view(&canon), hl_dist_self_pid(n->dist)));
    hl_buf_free(&canon);
    return yes;
}

static void on_message(void *ctx, hl_conn *c, hl_bytes control, hl_bytes msg)
{
    hl_node *n = ctx;
    hl_bytes e, to;
    int64_t type;
    if (hl_term_tuple_element(control.data, control.len, 1, &e) ||
        hl_term_get_int(e.data, e.len, &type))
        return;
    switch (type) {
    case DOP_REG_SEND:
        if (!hl_term_tuple_element(control.data, control.len, 4, &to) && is_for_us(n, to))
            handle_message(n, msg);
        break;
    case DOP_SEND:
    case DOP_SEND_SENDER:
        if (!hl_term_tuple_element(control.data, control.len, 3, &to) && is_for_us(n, to))
            handle_message(n, msg);
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
    hl_dm_node_down(&n->dm, node);
}

static void on_pid_down(void *ctx, hl_bytes pid)
{
    hl_node *n = ctx;
    hl_dm_pid_down(&n->dm, pid);
}

int hl_node_start(hl_node **out, const hl_node_opts *o, hl_store *store, hl_loop *loop, char *err,
                  size_t errlen)
{
    hl_node *n = calloc(1, sizeof *n);
    if (!n || hl_term_put_atom(&n->name_atom, "heirloom", 8)) {
        snprintf(err, errlen, "out of memory");
        free(n);
        return -1;
    }
    n->verbose = o->verbose;
    n->dm.store = store;
    hl_dm_restart(&n->dm); /* before serving: no dist needed, nothing is watched */
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
    n->dm.dist = n->dist;
    n->dm.watch = n->watch;
    n->proto = (hl_proto){&n->dm, o->dist.node_name, o->verbose};
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
    hl_dm_clear(&n->dm);
    hl_buf_free(&n->name_atom);
    free(n);
}
