/*
 * hl_dist.c: distribution connections (see hl_dist.h).
 *
 * A frame on an established connection is a 4-byte big-endian length
 * followed by that many bytes; length 0 is a tick. Heirloom's peers do not
 * use the atom cache or fragments (ei does not advertise them), so every
 * non-tick frame is the pass-through byte 112, a version byte, the control
 * tuple, and for some control types a version byte and the message.
 *
 * Input is read in large chunks into a per-connection buffer and all whole
 * frames in it are dispatched before the next poll(): one read() serves many
 * requests under load. Output is appended to a per-connection buffer and
 * flushed after each dispatch round, so replies to a batch go out in one
 * write(). A write that would block leaves the rest queued behind POLLOUT.
 */
#include "hl_dist.h"

#include "hl_dist_sock.h"
#include "hl_term.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define HL_MAX_FRAME (1u << 30)
#define HL_READ_CHUNK 65536
#define HL_TICK_SEND_MS 15000
#define HL_HANDSHAKE_TMO_MS 5000
#define HL_CONNECT_TMO_MS 1000
/* After a failed connect, do not block on the same node again this soon. */
#define HL_CONNECT_RETRY_MS 1000
#define HL_FAILED_SLOTS 8

struct hl_conn {
    hl_dist *d;
    int fd;
    int dead;
    hl_buf node; /* canonical atom */
    hl_buf in;   /* unread input starts at in_off */
    size_t in_off;
    hl_buf out; /* unsent output starts at out_off */
    size_t out_off;
    long long last_recv, last_send;
};

struct hl_dist {
    ei_cnode ec;
    hl_loop *loop;
    hl_dist_handlers h;
    int listen_fd, publish_fd, port;
    int silence_ms;
    hl_buf self_pid;
    uint32_t ref_counter;
    hl_conn **conns;
    size_t nconns, capconns;
    struct {
        char node[MAXNODELEN + 1];
        long long at;
    } failed[HL_FAILED_SLOTS];
    unsigned next_failed;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_conn_event(void *ctx, int fd, short revents);
static void flush_all(hl_dist *d);

static int encode_self_pid(hl_dist *d)
{
    erlang_pid *p = ei_self(&d->ec);
    hl_buf *b = &d->self_pid;
    int rc = hl_buf_append_byte(b, HL_TAG_NEW_PID);
    if (!rc)
        rc = hl_term_put_atom(b, p->node, strlen(p->node));
    if (!rc)
        rc = hl_buf_append_u32(b, p->num);
    if (!rc)
        rc = hl_buf_append_u32(b, p->serial);
    if (!rc)
        rc = hl_buf_append_u32(b, p->creation);
    return rc;
}

hl_bytes hl_dist_self_pid(const hl_dist *d)
{
    return hl_buf_view(&d->self_pid);
}

int hl_dist_port(const hl_dist *d)
{
    return d->port;
}

int hl_dist_make_ref(hl_dist *d, hl_buf *out)
{
    erlang_pid *p = ei_self(&d->ec);
    uint32_t n = ++d->ref_counter;
    /* Three words like erts's refs; the counter plus the start time keeps
     * them unique within this incarnation (creation separates incarnations). */
    int rc = hl_buf_append_byte(out, HL_TAG_NEWER_REFERENCE);
    if (!rc)
        rc = hl_buf_append_u16(out, 3);
    if (!rc)
        rc = hl_term_put_atom(out, p->node, strlen(p->node));
    if (!rc)
        rc = hl_buf_append_u32(out, p->creation);
    if (!rc)
        rc = hl_buf_append_u32(out, n & 0x3ffff);
    if (!rc)
        rc = hl_buf_append_u32(out, n >> 18);
    if (!rc)
        rc = hl_buf_append_u32(out, (uint32_t)time(NULL));
    return rc;
}

hl_bytes hl_conn_node(const hl_conn *c)
{
    return hl_buf_view(&c->node);
}

hl_conn *hl_dist_find(hl_dist *d, hl_bytes node_atom)
{
    for (size_t i = 0; i < d->nconns; i++)
        if (!d->conns[i]->dead && hl_bytes_eq(hl_buf_view(&d->conns[i]->node), node_atom))
            return d->conns[i];
    return NULL;
}

static void conn_free(hl_conn *c)
{
    hl_buf_free(&c->node);
    hl_buf_free(&c->in);
    hl_buf_free(&c->out);
    free(c);
}

/* Forget a connection; tell the handlers unless we are shutting down. */
static void conn_drop(hl_dist *d, hl_conn *c, int notify)
{
    for (size_t i = 0; i < d->nconns; i++) {
        if (d->conns[i] == c) {
            d->conns[i] = d->conns[--d->nconns];
            break;
        }
    }
    hl_loop_del(d->loop, c->fd);
    ei_close_connection(c->fd);
    c->fd = -1;
    if (notify && d->h.on_down)
        d->h.on_down(d->h.ctx, c, hl_buf_view(&c->node));
    conn_free(c);
}

static void reap_dead(hl_dist *d)
{
    for (size_t i = 0; i < d->nconns;) {
        if (d->conns[i]->dead)
            conn_drop(d, d->conns[i], 1);
        else
            i++;
    }
}

static int queue(hl_conn *c, const void *p, size_t n)
{
    return hl_buf_append(&c->out, p, n);
}

int hl_dist_send(hl_dist *d, hl_conn *c, hl_bytes control, hl_bytes msg)
{
    if (!c || c->dead)
        return HL_EBADARG;
    size_t flen = 1 + 1 + control.len + (msg.len ? 1 + msg.len : 0);
    if (flen > HL_MAX_FRAME)
        return HL_EBADARG;
    unsigned char head[6];
    hl_put_u32(head, (uint32_t)flen);
    head[4] = 112;
    head[5] = HL_TAG_VERSION;
    size_t mark = c->out.len;
    int rc = hl_buf_reserve(&c->out, flen + 4);
    if (!rc)
        rc = queue(c, head, 6);
    if (!rc)
        rc = queue(c, control.data, control.len);
    if (!rc && msg.len) {
        unsigned char v = HL_TAG_VERSION;
        rc = queue(c, &v, 1);
        if (!rc)
            rc = queue(c, msg.data, msg.len);
    }
    if (rc)
        c->out.len = mark;
    else if (mark == c->out_off)
        /* Output was idle: a send made outside a dispatch round (queued
         * work between rounds) goes out as soon as the socket is writable,
         * not at the next tick. */
        hl_loop_set_events(d->loop, c->fd, POLLIN | POLLOUT);
    return rc;
}

int hl_dist_send_to_pid(hl_dist *d, hl_bytes pid, hl_bytes msg)
{
    hl_bytes node;
    if (hl_term_node_of(pid.data, pid.len, &node))
        return HL_EBADARG;
    hl_conn *c = hl_dist_reach(d, node);
    if (!c)
        return HL_ENOPROC;
    /* SEND: {2, '', ToPid} */
    hl_buf ctl = {0};
    int rc = hl_term_put_tuple_header(&ctl, 3);
    if (!rc)
        rc = hl_term_put_int(&ctl, 2);
    if (!rc)
        rc = hl_term_put_atom(&ctl, "", 0);
    if (!rc)
        rc = hl_buf_append(&ctl, pid.data, pid.len);
    if (!rc)
        rc = hl_dist_send(d, c, hl_buf_view(&ctl), msg);
    hl_buf_free(&ctl);
    return rc;
}

static void conn_flush(hl_dist *d, hl_conn *c)
{
    while (!c->dead && c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = 1;
            break;
        }
        c->out_off += (size_t)n;
        c->last_send = now_ms();
    }
    if (c->out_off == c->out.len) {
        c->out.len = c->out_off = 0;
        /* Give back the memory of a huge reply once it is sent. */
        if (c->out.cap > (4u << 20))
            hl_buf_free(&c->out);
        hl_loop_set_events(d->loop, c->fd, POLLIN);
    } else if (!c->dead) {
        hl_loop_set_events(d->loop, c->fd, POLLIN | POLLOUT);
    }
}

static void flush_all(hl_dist *d)
{
    for (size_t i = 0; i < d->nconns; i++)
        conn_flush(d, d->conns[i]);
    reap_dead(d);
}

/* One non-tick frame: 112, 131, control [, 131, message]. */
static void dispatch_frame(hl_dist *d, hl_conn *c, const unsigned char *f, size_t n)
{
    size_t pos = 2, end;
    if (n < 3 || f[0] != 112 || f[1] != HL_TAG_VERSION) {
        c->dead = 1;
        return;
    }
    end = pos;
    if (hl_term_skip(f, n, &end)) {
        c->dead = 1;
        return;
    }
    hl_bytes control = {f + pos, end - pos};
    hl_bytes msg = {NULL, 0};
    if (end < n) {
        if (f[end] != HL_TAG_VERSION) {
            c->dead = 1;
            return;
        }
        msg.data = f + end + 1;
        msg.len = n - end - 1;
    }
    d->h.on_message(d->h.ctx, c, control, msg);
}

static void conn_read(hl_dist *d, hl_conn *c)
{
    if (hl_buf_reserve(&c->in, HL_READ_CHUNK)) {
        c->dead = 1;
        return;
    }
    ssize_t r = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (r <= 0) {
        if (r == 0 || (errno != EINTR && errno != EAGAIN))
            c->dead = 1;
        return;
    }
    c->in.len += (size_t)r;
    c->last_recv = now_ms();
    int tick_seen = 0;
    while (!c->dead && c->in.len - c->in_off >= 4) {
        uint32_t flen = hl_get_u32(c->in.data + c->in_off);
        if (flen > HL_MAX_FRAME) {
            c->dead = 1;
            break;
        }
        if (flen == 0) {
            tick_seen = 1;
            c->in_off += 4;
            continue;
        }
        if (c->in.len - c->in_off - 4 < flen) {
            /* Make room for the whole frame so the next read completes it. */
            if (hl_buf_reserve(&c->in, flen + 4 - (c->in.len - c->in_off)))
                c->dead = 1;
            break;
        }
        dispatch_frame(d, c, c->in.data + c->in_off + 4, flen);
        c->in_off += 4 + flen;
    }
    if (tick_seen && c->out.len == c->out_off) {
        static const unsigned char tick[4] = {0, 0, 0, 0};
        (void)queue(c, tick, 4);
    }
    memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
    c->in.len -= c->in_off;
    c->in_off = 0;
    if (c->in.cap > (4u << 20) && c->in.len == 0)
        hl_buf_free(&c->in);
}

static void on_conn_event(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    hl_conn *c = NULL;
    for (size_t i = 0; i < d->nconns; i++)
        if (d->conns[i]->fd == fd)
            c = d->conns[i];
    if (!c)
        return;
    if (revents & POLLIN)
        conn_read(d, c);
    else if (revents & (POLLERR | POLLHUP | POLLNVAL))
        c->dead = 1;
    flush_all(d);
}

static int conn_add(hl_dist *d, int fd, const char *nodename)
{
    hl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->d = d;
    c->fd = fd;
    c->last_recv = c->last_send = now_ms();
    if (hl_term_put_atom(&c->node, nodename, strlen(nodename)))
        goto fail;
    if (d->nconns == d->capconns) {
        size_t cap = d->capconns ? d->capconns * 2 : 8;
        hl_conn **p = realloc(d->conns, cap * sizeof *p);
        if (!p)
            goto fail;
        d->conns = p;
        d->capconns = cap;
    }
    /* A node that reconnects under the same name is a new incarnation: the
     * old connection's processes are gone even if we have not noticed yet. */
    hl_conn *old = hl_dist_find(d, hl_buf_view(&c->node));
    if (old)
        conn_drop(d, old, 1);
    if (hl_loop_add(d->loop, fd, POLLIN, on_conn_event, d))
        goto fail;
    d->conns[d->nconns++] = c;
    return 0;
fail:
    conn_free(c);
    return -1;
}

static void on_accept(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    (void)fd;
    (void)revents;
    ErlConnect peer;
    /* The handshake is a few small packets; ei does it synchronously. */
    int cfd = ei_accept_tmo(&d->ec, d->listen_fd, &peer, HL_HANDSHAKE_TMO_MS);
    if (cfd < 0) {
        fprintf(stderr, "heirloom_node: handshake refused or failed (erl_errno %d)\n", erl_errno);
        return;
    }
    int fl = fcntl(cfd, F_GETFL);
    if (fl < 0 || fcntl(cfd, F_SETFL, fl | O_NONBLOCK) < 0 || conn_add(d, cfd, peer.nodename)) {
        ei_close_connection(cfd);
        return;
    }
}

static int recently_failed(hl_dist *d, const char *name, long long now)
{
    for (unsigned i = 0; i < HL_FAILED_SLOTS; i++)
        if (d->failed[i].at && now - d->failed[i].at < HL_CONNECT_RETRY_MS &&
            strcmp(d->failed[i].node, name) == 0)
            return 1;
    return 0;
}

hl_conn *hl_dist_reach(hl_dist *d, hl_bytes node_atom)
{
    hl_conn *c = hl_dist_find(d, node_atom);
    char name[MAXNODELEN + 1];
    if (c)
        return c;
    if (hl_term_get_atom(node_atom.data, node_atom.len, name, sizeof name) ||
        strcmp(name, ei_thisnodename(&d->ec)) == 0 || !strchr(name, '@'))
        return NULL;
    long long now = now_ms();
    if (recently_failed(d, name, now))
        return NULL;
    /* Synchronous like accept: epmd lookup and handshake are a few small
     * packets, and a node that is gone fails at the epmd lookup at once. */
    int fd = ei_connect_tmo(&d->ec, name, HL_CONNECT_TMO_MS);
    int fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || conn_add(d, fd, name)) {
        if (fd >= 0)
            ei_close_connection(fd);
        unsigned i = d->next_failed++ % HL_FAILED_SLOTS;
        strcpy(d->failed[i].node, name);
        d->failed[i].at = now;
        return NULL;
    }
    return hl_dist_find(d, node_atom);
}

static void on_publish_hup(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    (void)revents;
    /* epmd went away: our registration with it is gone. Retry from tick. */
    hl_loop_del(d->loop, fd);
    close(fd);
    d->publish_fd = -1;
    fprintf(stderr, "heirloom_node: lost epmd registration, will re-publish\n");
}

static int publish(hl_dist *d)
{
    int fd = ei_publish_tmo(&d->ec, d->port, 2000);
    if (fd < 0)
        return -1;
    /* Readable forever (ei reads part of epmd's reply): watch hang-up only. */
    if (hl_loop_add(d->loop, fd, 0, on_publish_hup, d)) {
        close(fd);
        return -1;
    }
    d->publish_fd = fd;
    return 0;
}

int hl_dist_start(hl_dist **out, const hl_dist_opts *o, hl_loop *loop, hl_dist_handlers h,
                  char *err, size_t errlen)
{
    hl_dist *d = calloc(1, sizeof *d);
    char alive[256], host[256];
    const char *at = strchr(o->node_name, '@');
    struct in_addr addr;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->loop = loop;
    d->h = h;
    d->listen_fd = d->publish_fd = -1;
    d->silence_ms = o->silence_ms;
    if (!at || at == o->node_name || (size_t)(at - o->node_name) >= sizeof alive ||
        strlen(at + 1) >= sizeof host || !at[1]) {
        snprintf(err, errlen, "bad node name '%s' (want alive@host)", o->node_name);
        goto fail;
    }
    memcpy(alive, o->node_name, (size_t)(at - o->node_name));
    alive[at - o->node_name] = 0;
    strcpy(host, at + 1);
    if (inet_pton(AF_INET, o->listen_addr, &addr) != 1) {
        snprintf(err, errlen, "bad listen address '%s'", o->listen_addr);
        goto fail;
    }
    if (ei_connect_xinit_ussi(&d->ec, host, alive, o->node_name, &addr, o->cookie, o->creation,
                              hl_dist_sock_callbacks(), sizeof(ei_socket_callbacks), NULL) < 0) {
        snprintf(err, errlen, "cannot initialise the node (name or cookie too long?)");
        goto fail;
    }
    if (encode_self_pid(d)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    d->port = o->port;
    d->listen_fd = ei_xlisten(&d->ec, &addr, &d->port, 128);
    if (d->listen_fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", o->listen_addr, o->port,
                 strerror(erl_errno));
        goto fail;
    }
    if (hl_loop_add(loop, d->listen_fd, POLLIN, on_accept, d)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (publish(d)) {
        snprintf(err, errlen, "cannot register with epmd (is it running? name '%s' taken?)", alive);
        goto fail;
    }
    *out = d;
    return 0;
fail:
    hl_dist_stop(d);
    return -1;
}

void hl_dist_tick(hl_dist *d)
{
    long long now = now_ms();
    static const unsigned char tick[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < d->nconns; i++) {
        hl_conn *c = d->conns[i];
        if (d->silence_ms > 0 && now - c->last_recv > d->silence_ms) {
            fprintf(stderr, "heirloom_node: peer silent for %d ms, dropping it\n", d->silence_ms);
            c->dead = 1;
        } else if (now - c->last_send > HL_TICK_SEND_MS && c->out.len == c->out_off) {
            (void)queue(c, tick, 4);
        }
    }
    flush_all(d);
    if (d->publish_fd < 0 && publish(d) == 0)
        fprintf(stderr, "heirloom_node: re-published to epmd\n");
}

void hl_dist_stop(hl_dist *d)
{
    if (!d)
        return;
    while (d->nconns) {
        conn_flush(d, d->conns[0]);
        conn_drop(d, d->conns[0], 0);
    }
    free(d->conns);
    if (d->publish_fd >= 0) {
        hl_loop_del(d->loop, d->publish_fd);
        close(d->publish_fd); /* epmd forgets the name when this closes */
    }
    if (d->listen_fd >= 0) {
        hl_loop_del(d->loop, d->listen_fd);
        ei_close_connection(d->listen_fd);
    }
    hl_buf_free(&d->self_pid);
    free(d);
}
