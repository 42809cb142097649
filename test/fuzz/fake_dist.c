/*
 * fake_dist.c: hl_dist without sockets, for the request fuzzer.
 *
 * It keeps hl_dist.h's contract for what the node, the DataMaster and the
 * watcher use, but owns no socket: the fuzzer plays the peer by calling the
 * handlers that hl_node registered (fuzz_dist_handlers). One peer node,
 * "peer@127.0.0.1", is "connected"; every other node is unreachable, so its
 * pids are dead to the C node. What the C node sends is encoded and then
 * dropped.
 */
#include "fuzz_dist.h"

#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

struct hl_dist {
    hl_dist_handlers h;
    hl_buf self_pid, node;
    uint32_t refs;
};

struct hl_conn {
    hl_buf node;
};

static hl_dist *the_dist;
static struct hl_conn the_peer;

static int put_pid(hl_buf *b, const char *node, uint32_t id)
{
    int rc = hl_buf_append_byte(b, HL_TAG_NEW_PID);
    if (!rc)
        rc = hl_term_put_atom(b, node, strlen(node));
    if (!rc)
        rc = hl_buf_append_u32(b, id);
    if (!rc)
        rc = hl_buf_append_u32(b, 0);
    if (!rc)
        rc = hl_buf_append_u32(b, 7);
    return rc;
}

int fuzz_peer_pid(hl_buf *out, uint32_t id)
{
    return put_pid(out, FUZZ_PEER, id);
}

const hl_dist_handlers *fuzz_dist_handlers(void)
{
    return the_dist ? &the_dist->h : NULL;
}

hl_conn *fuzz_peer_conn(void)
{
    return &the_peer;
}

int hl_dist_start(hl_dist **out, const hl_dist_opts *opts, hl_loop *loop, hl_dist_handlers h,
                  char *err, size_t errlen)
{
    (void)loop;
    (void)err;
    (void)errlen;
    hl_dist *d = calloc(1, sizeof *d);
    if (!d || put_pid(&d->self_pid, opts->node_name, 1) ||
        hl_term_put_atom(&d->node, opts->node_name, strlen(opts->node_name)) ||
        (!the_peer.node.len && hl_term_put_atom(&the_peer.node, FUZZ_PEER, strlen(FUZZ_PEER))))
        abort();
    d->h = h;
    the_dist = d;
    *out = d;
    return 0;
}

void hl_dist_stop(hl_dist *d)
{
    if (!d)
        return;
    hl_buf_free(&d->self_pid);
    hl_buf_free(&d->node);
    free(d);
    the_dist = NULL;
}

void hl_dist_tick(hl_dist *d)
{
    (void)d;
}

void hl_dist_flush(hl_dist *d)
{
    (void)d;
}

int hl_dist_round_end(hl_dist *d)
{
    (void)d;
    return 0;
}

hl_bytes hl_dist_self_pid(const hl_dist *d)
{
    return hl_buf_view(&d->self_pid);
}

int hl_dist_make_ref(hl_dist *d, hl_buf *out)
{
    int rc = hl_buf_append_byte(out, HL_TAG_NEWER_REFERENCE);
    if (!rc)
        rc = hl_buf_append_u16(out, 3);
    if (!rc)
        rc = hl_buf_append(out, d->node.data, d->node.len);
    if (!rc)
        rc = hl_buf_append_u32(out, 7);
    for (int i = 0; i < 3 && !rc; i++)
        rc = hl_buf_append_u32(out, i == 0 ? ++d->refs : 0);
    return rc;
}

int hl_dist_port(const hl_dist *d)
{
    (void)d;
    return 0;
}

hl_conn *hl_dist_find(hl_dist *d, hl_bytes node_atom)
{
    (void)d;
    return hl_bytes_eq(node_atom, hl_buf_view(&the_peer.node)) ? &the_peer : NULL;
}

hl_bytes hl_conn_node(const hl_conn *c)
{
    return hl_buf_view(&c->node);
}

hl_conn *hl_dist_reach(hl_dist *d, hl_bytes node_atom)
{
    return hl_dist_find(d, node_atom);
}

int hl_dist_send(hl_dist *d, hl_conn *c, hl_bytes control, hl_bytes msg)
{
    (void)d;
    (void)control;
    (void)msg;
    return c ? HL_OK : HL_EBADARG;
}

int hl_dist_send_to_pid(hl_dist *d, hl_bytes pid, hl_bytes msg)
{
    hl_bytes node;
    (void)msg;
    if (hl_term_node_of(pid.data, pid.len, &node))
        return HL_EBADARG;
    return hl_dist_find(d, node) ? HL_OK : HL_EBADARG;
}
