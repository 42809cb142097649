/*
 * hl_dist.c: established distribution connections (see hl_dist.h; the
 * handshakes that make them are in hl_dist_hs.c).
 *
 * A frame on an established connection is a 4-byte big-endian length
 * followed by that many bytes; length 0 is a tick. Heirloom's peers do not
 * use the atom cache or fragments (the C node does not advertise them), so
 * every non-tick frame is the pass-through byte 112, a version byte, the
 * control tuple, and for some control types a version byte and the message.
 *
 * Input is read in large chunks into a per-connection buffer and all whole
 * frames in it are dispatched before the next poll(): one read() serves many
 * requests under load. Output is appended to a per-connection buffer and
 * flushed after each dispatch round, so replies to a batch go out in one
 * write(). A write that would block leaves the rest queued behind POLLOUT.
 * A pending connection (still connecting) only queues.
 * With many callers, SO_RCVLOWAT holds wake-ups back (gather_want).
 */
#include "hl_dist_int.h"

#include "hl_term.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HL_MAX_FRAME (1u << 30)
#define HL_READ_CHUNK 65536
#define HL_TICK_SEND_MS 15000
/* After a failed connect, do not try the same node again this soon. */
#define HL_CONNECT_RETRY_MS 1000
/* Gathering: see gather_want. */
#define HL_GATHER_MIN_CALLERS 6
#define HL_GATHER_LEAVE 1
#define HL_GATHER_MAX_BYTES 16384
#define HL_GATHER_WAIT_US 200
#define HL_GATHER_HOLD 64

static void on_conn_event(void *ctx, int fd, short revents);

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
    if (c->hs)
        hl_dist_hs_abandon(d, c->hs);
    if (c->fd >= 0) {
        hl_loop_del(d->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
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
    (void)d;
    if (rc)
        c->out.len = mark;
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
    if (c->fd < 0) /* pending: output waits for the handshake */
        return;
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
        c->last_send = hl_dist_now_ms();
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

void hl_dist_flush(hl_dist *d)
{
    hl_dist_flush_all(d);
}

void hl_dist_flush_all(hl_dist *d)
{
    for (size_t i = 0; i < d->nconns; i++)
        conn_flush(d, d->conns[i]);
    reap_dead(d);
}

/* gen_server:call monitors its server for the length of the call: a node's
 * monitors of us count its callers (gather_want). MONITOR_P {19, ...} and
 * DEMONITOR_P {20, ...} frames are counted and consumed here, unwalked (two
 * of a call's three frames); nothing of the C node dies while it runs. */
static int take_monitor(hl_conn *c, const unsigned char *f, size_t n)
{
    if (n < 6 || f[2] != HL_TAG_SMALL_TUPLE || f[4] != HL_TAG_SMALL_INTEGER)
        return 0;
    if (f[5] == 19)
        c->watchers++;
    else if (f[5] != 20)
        return 0;
    else if (c->watchers > 0)
        c->watchers--;
    return 1;
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
    if (take_monitor(c, f, n))
        return;
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
    if (msg.len)
        c->round_msgs++;
    d->h.on_message(d->h.ctx, c, control, msg);
}

/* Dispatch every whole frame in c->in. */
static void conn_process(hl_dist *d, hl_conn *c)
{
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
    if (c->in_off) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in.cap > (4u << 20) && c->in.len == 0)
        hl_buf_free(&c->in);
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
    c->round_bytes += (size_t)r;
    c->round_read = 1;
    c->last_recv = hl_dist_now_ms();
    conn_process(d, c);
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
    hl_dist_flush_all(d);
}

/*
 * The SO_RCVLOWAT for a connection after a round. A wake-up costs more CPU
 * than a call (~10 us against 3-5 on a 2-vCPU VM), and with many callers it
 * used to serve one frame. With N >= HL_GATHER_MIN_CALLERS callers in a call,
 * wake us once the bytes of G calls are there (the last one half-way),
 * G = N - HL_GATHER_LEAVE, grown by one call a round. Not all N: the peer
 * works on the last reply while we answer the rest (waiting for all cost up
 * to a third of the calls/s; leaving two out, more CPU and fewer calls). A
 * wait that times out holds G at what came for HL_GATHER_HOLD rounds, so
 * monitors held by processes that do not call cannot make each round wait.
 * Fewer callers, or under two calls a round: 1 (a lone caller never waits).
 */
static int gather_want(hl_conn *c, int late)
{
    size_t calls = c->round_msgs;
    if (calls) {
        size_t per = c->round_bytes / calls;
        c->call_bytes = c->call_bytes ? (3 * c->call_bytes + per) / 4 : per;
    }
    if (late)
        c->gather_hold = HL_GATHER_HOLD;
    else if (c->gather_hold)
        c->gather_hold--;
    if (calls < 2 || c->watchers < HL_GATHER_MIN_CALLERS)
        return 1;
    size_t g = calls + (c->gather_hold ? 0 : 1);
    if (g > (size_t)c->watchers - HL_GATHER_LEAVE)
        g = (size_t)c->watchers - HL_GATHER_LEAVE;
    size_t want = c->call_bytes * g - c->call_bytes / 2;
    if (want > HL_GATHER_MAX_BYTES)
        want = HL_GATHER_MAX_BYTES;
    want &= ~(size_t)63; /* fewer setsockopt calls for sizes that jitter */
    return want > 1 ? (int)want : 1;
}

int hl_dist_round_end(hl_dist *d)
{
    int gathering = 0, read_late = 0, crowd = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    for (size_t i = 0; i < d->nconns; i++) {
        hl_conn *c = d->conns[i];
        if (c->dead || c->fd < 0)
            continue;
        int late = 0;
        if (c->lowat > 1 && !c->round_read) { /* short of the mark: read what came */
            late = now - c->gather_since >= HL_GATHER_WAIT_US; /* else another fd woke us */
            conn_read(d, c);
            read_late = 1;
        }
        int want = c->dead ? c->lowat : gather_want(c, late);
        crowd |= c->watchers >= HL_GATHER_MIN_CALLERS;
        int cur = c->lowat > 1 ? c->lowat : 1;
        /* Within a call of the mark in force: keep it, save a syscall. */
        int near = want > 1 && cur > 1 && (size_t)abs(want - cur) < c->call_bytes;
        if (want != cur && !near) {
            /* On failure the old mark stays, and so do the timed reads. */
            if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) == 0)
                c->lowat = want;
        }
        if (c->lowat > 1) {
            gathering = 1;
            c->gather_since = now;
        }
        c->round_bytes = c->round_msgs = 0;
        c->round_read = 0;
    }
    if (read_late)
        hl_dist_flush_all(d);
    if (gathering)
        hl_loop_timeout(d->loop, HL_GATHER_WAIT_US);
    /* Callers enough to gather: spinning would serve each call as it lands
     * and gathering (which starts from rounds of two calls or more) would
     * never begin (measured at 6 callers: 20 us of CPU per call against 12). */
    if (crowd)
        hl_loop_no_busy_wait(d->loop);
    return gathering;
}

hl_conn *hl_dist_conn_new(hl_dist *d, const char *node)
{
    hl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->d = d;
    c->fd = -1;
    c->pending = 1;
    c->last_recv = c->last_send = hl_dist_now_ms();
    if (hl_term_put_atom(&c->node, node, strlen(node)) ||
        hl_grow(&d->conns, &d->capconns, d->nconns + 1, sizeof *d->conns, 8)) {
        conn_free(c);
        return NULL;
    }
    d->conns[d->nconns++] = c;
    return c;
}

void hl_dist_conn_up(hl_dist *d, hl_conn *c, int fd, hl_bytes first, hl_bytes early)
{
    int one = 1;
    c->fd = fd;
    c->pending = 0;
    c->hs = NULL;
    c->last_recv = c->last_send = hl_dist_now_ms();
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (hl_loop_add(d->loop, fd, POLLIN, on_conn_event, d)) {
        close(fd);
        c->fd = -1;
        c->dead = 1;
        return;
    }
    if (first.len) { /* the handshake's last packet goes before queued frames */
        hl_buf out = {0};
        if (hl_buf_append(&out, first.data, first.len) ||
            hl_buf_append(&out, c->out.data + c->out_off, c->out.len - c->out_off)) {
            hl_buf_free(&out);
            c->dead = 1;
            return;
        }
        hl_buf_free(&c->out);
        c->out = out;
        c->out_off = 0;
    }
    if (early.len) {
        if (hl_buf_append(&c->in, early.data, early.len))
            c->dead = 1;
        else
            conn_process(d, c);
    }
    conn_flush(d, c);
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
    char name[HL_HS_NAME_MAX + 1];
    if (c)
        return c;
    if (hl_term_get_atom(node_atom.data, node_atom.len, name, sizeof name) ||
        strcmp(name, d->self_name) == 0 || !strchr(name, '@') ||
        recently_failed(d, name, hl_dist_now_ms()))
        return NULL;
    c = hl_dist_hs_connect(d, name);
    if (!c)
        hl_dist_note_failed(d, name);
    return c;
}

int hl_dist_start(hl_dist **out, const hl_dist_opts *o, hl_loop *loop, hl_dist_handlers h,
                  char *err, size_t errlen)
{
    hl_dist *d = calloc(1, sizeof *d);
    char alive[256], host[256];
    const char *at = strchr(o->node_name, '@');
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->loop = loop;
    d->h = h;
    /* hl_dist_hs.c calls back through these: it sits below this file. */
    d->conn =
        (hl_dist_conn_ops){hl_dist_conn_new, hl_dist_conn_up, hl_dist_find, hl_dist_flush_all};
    d->listen_fd = d->publish_fd = -1;
    d->silence_ms = o->silence_ms;
    if (!at || at == o->node_name || (size_t)(at - o->node_name) >= sizeof alive ||
        strlen(at + 1) >= sizeof host || !at[1] || strlen(o->node_name) > HL_HS_NAME_MAX) {
        snprintf(err, errlen, "bad node name '%s' (want alive@host)", o->node_name);
        goto fail;
    }
    memcpy(alive, o->node_name, (size_t)(at - o->node_name));
    alive[at - o->node_name] = 0;
    strcpy(host, at + 1);
    d->self_name = strdup(o->node_name);
    d->cookie = strdup(o->cookie);
    if (!d->self_name || !d->cookie) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* ei keeps our identity (pids, refs) and registers us with epmd. */
    if (ei_connect_xinit(&d->ec, host, alive, o->node_name, NULL, o->cookie, o->creation) < 0) {
        snprintf(err, errlen, "cannot initialise the node (name or cookie too long?)");
        goto fail;
    }
    d->creation = ei_self(&d->ec)->creation; /* as ei adjusted it: our pids carry it */
    if (encode_self_pid(d)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (hl_dist_hs_start(d, o, err, errlen))
        goto fail;
    *out = d;
    return 0;
fail:
    hl_dist_stop(d);
    return -1;
}

void hl_dist_tick(hl_dist *d)
{
    long long now = hl_dist_now_ms();
    static const unsigned char tick[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < d->nconns; i++) {
        hl_conn *c = d->conns[i];
        if (c->pending) {
            /* Waiting for the node to finish connecting to us, in vain. */
            if (!c->hs && now > c->pending_until)
                c->dead = 1;
        } else if (d->silence_ms > 0 && now - c->last_recv > d->silence_ms) {
            fprintf(stderr, "heirloom_node: peer silent for %d ms, dropping it\n", d->silence_ms);
            c->dead = 1;
        } else if (now - c->last_send > HL_TICK_SEND_MS && c->out.len == c->out_off) {
            (void)queue(c, tick, 4);
        }
    }
    hl_dist_hs_tick(d, now);
    hl_dist_flush_all(d);
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
    hl_dist_hs_stop(d);
    hl_buf_free(&d->self_pid);
    free(d->self_name);
    free(d->cookie);
    free(d);
}
