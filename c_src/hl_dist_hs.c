/*
 * hl_dist_hs.c: the listener, epmd, and handshakes in both directions (see
 * hl_dist_int.h), all inside the event loop and none of them blocking.
 *
 * An incoming connection gets an hl_hs_io in the accepting state; beyond
 * HL_HS_MAX_IN at once, a new one is closed at once. An outgoing one
 * (hl_dist_reach) goes: non-blocking connect to epmd on the node's host,
 * PORT_PLEASE2, non-blocking connect to the port it names, handshake. Every
 * step runs when poll() reports its socket ready; hl_dist_hs_tick drops a
 * handshake past its deadline, so a peer that connects and stays silent (or
 * trickles a byte now and then) costs one slot for HL_HS_TMO_MS and nothing
 * else. The protocol itself is hl_handshake.c; this file only moves bytes.
 *
 * Two choices worth knowing. A node's host name that is not a numeric
 * address is resolved with getaddrinfo, which blocks in the resolver
 * (instant for /etc/hosts names; node names in Heirloom's setups are IP
 * addresses or local names). Registration with epmd uses ei and blocks: up
 * to 2 s at start, and at most HL_REPUBLISH_TMO_MS per attempt (one a
 * second) after epmd went away; a local epmd that is down refuses at once.
 */
#include "hl_dist_int.h"

#include "hl_term.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#define HL_REPUBLISH_TMO_MS 100
#define HL_HS_IN_CAP (2 * (HL_HS_PACKET_MAX + 2))

enum { PH_EPMD_CONNECT, PH_EPMD_REPLY, PH_NODE_CONNECT, PH_HANDSHAKE };

struct hl_hs_io {
    int fd;
    int outgoing;
    int phase;
    long long deadline;
    struct sockaddr_in addr;       /* outgoing: the node's host (epmd's port, then the node's) */
    hl_conn *conn;                 /* outgoing: the pending connection it serves */
    char name[HL_HS_NAME_MAX + 1]; /* outgoing: the node we connect to */
    hl_buf in;
    hl_buf out;
    size_t out_off;
    hl_hs hs;
};

long long hl_dist_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hl_dist_note_failed(hl_dist *d, const char *node)
{
    unsigned i = d->next_failed++ % HL_FAILED_SLOTS;
    snprintf(d->failed[i].node, sizeof d->failed[i].node, "%s", node);
    d->failed[i].at = hl_dist_now_ms();
}

static void on_hs_event(void *ctx, int fd, short revents);

/* At most a line a second: a peer that fails on purpose must not flood the
 * log. */
static void log_limited(hl_dist *d, const char *what, const char *node, const char *why)
{
    long long now = hl_dist_now_ms();
    if (now - d->last_refusal_log < 1000)
        return;
    d->last_refusal_log = now;
    fprintf(stderr, "heirloom_node: %s %s: %s\n", what, node, why);
}

static hl_hs_config config(hl_dist *d, uint32_t challenge)
{
    hl_hs_config c = {d->self_name, d->cookie, d->creation, HL_DFLAG_OURS, challenge};
    return c;
}

static int fresh_challenge(uint32_t *c)
{
    return getrandom(c, sizeof *c, GRND_NONBLOCK) == (ssize_t)sizeof *c ? 0 : -1;
}

static hl_hs_io *hs_new(hl_dist *d, int fd, int outgoing)
{
    hl_hs_io *h = calloc(1, sizeof *h);
    if (!h || hl_grow(&d->hss, &d->caphss, d->nhss + 1, sizeof *d->hss, 8)) {
        free(h);
        return NULL;
    }
    h->fd = fd;
    h->outgoing = outgoing;
    h->deadline = hl_dist_now_ms() + HL_HS_TMO_MS;
    d->hss[d->nhss++] = h;
    if (outgoing)
        d->n_out++;
    else
        d->n_in++;
    return h;
}

/* Forget a handshake and close its socket (if it still has one). */
static void hs_remove(hl_dist *d, hl_hs_io *h)
{
    for (size_t i = 0; i < d->nhss; i++) {
        if (d->hss[i] == h) {
            d->hss[i] = d->hss[--d->nhss];
            break;
        }
    }
    if (h->outgoing)
        d->n_out--;
    else
        d->n_in--;
    if (h->fd >= 0) {
        hl_loop_del(d->loop, h->fd);
        close(h->fd);
    }
    hl_hs_free(&h->hs);
    hl_buf_free(&h->in);
    hl_buf_free(&h->out);
    free(h);
}

void hl_dist_hs_abandon(hl_dist *d, hl_hs_io *h)
{
    if (h->conn)
        h->conn->hs = NULL;
    hs_remove(d, h);
}

/* Give up on a handshake. An outgoing one fails its pending connection
 * (reaped, with on_down, by the caller's hl_dist_flush_all), unless the
 * node said "nok": it is connecting to us itself, so the connection waits
 * for that. */
static void hs_fail(hl_dist *d, hl_hs_io *h, const char *why)
{
    hl_conn *c = h->conn;
    if (c) {
        c->hs = NULL;
        if (h->hs.nok) {
            c->pending_until = hl_dist_now_ms() + HL_HS_TMO_MS;
        } else {
            log_limited(d, "cannot connect to", h->name, why);
            hl_dist_note_failed(d, h->name);
            c->dead = 1;
        }
    } else {
        log_limited(d, "handshake refused from", h->hs.peer[0] ? h->hs.peer : "a peer", why);
    }
    hs_remove(d, h);
}

/* Non-blocking socket connecting to addr:port; -1 if it failed at once. */
static int start_connect(struct sockaddr_in addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    addr.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Write what is queued; watch for writability while some is left. */
static int hs_flush(hl_dist *d, hl_hs_io *h)
{
    while (h->out_off < h->out.len) {
        ssize_t n = write(h->fd, h->out.data + h->out_off, h->out.len - h->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return -1;
        h->out_off += (size_t)n;
    }
    hl_loop_set_events(d->loop, h->fd, h->out_off < h->out.len ? POLLIN | POLLOUT : POLLIN);
    return 0;
}

/* Move what the machine wants sent into our output. */
static int take_output(hl_hs_io *h)
{
    int rc = hl_buf_append(&h->out, h->hs.out.data, h->hs.out.len);
    h->hs.out.len = 0;
    return rc;
}

/* Accepting: what to answer a node that names itself `peer`. */
static const char *status_for(hl_dist *d, const char *peer)
{
    hl_buf atom = {0};
    hl_conn *c = NULL;
    if (strcmp(peer, d->self_name) == 0)
        return "not_allowed";
    if (!hl_term_put_atom(&atom, peer, strlen(peer)))
        c = d->conn.find(d, hl_buf_view(&atom));
    hl_buf_free(&atom);
    /* Both sides connecting at once: as in erts, the attempt of the greater
     * name goes on. Ours is greater: refuse theirs ("nok"). Theirs is: let
     * it go on ("ok_simultaneous"); they answer ours "nok", and theirs,
     * once done, takes over our pending connection (hs_done). */
    if (c && c->pending && c->hs)
        return strcmp(d->self_name, peer) > 0 ? "nok" : "ok_simultaneous";
    return "ok";
}

/* The handshake is done: the socket becomes a connection. */
static void hs_done(hl_dist *d, hl_hs_io *h)
{
    int fd = h->fd;
    hl_conn *c = h->conn;
    hl_loop_del(d->loop, fd);
    h->fd = -1;
    if (!c) {
        hl_buf atom = {0};
        if (!hl_term_put_atom(&atom, h->hs.peer, strlen(h->hs.peer))) {
            c = d->conn.find(d, hl_buf_view(&atom));
            /* A node that connects again under the same name is a new
             * incarnation: the old connection's processes are gone even if
             * we have not noticed yet. It is authenticated, so this is no
             * way for a stranger to cut a peer off. */
            if (c && !c->pending) {
                c->dead = 1;
                d->conn.flush_all(d);
                c = d->conn.find(d, hl_buf_view(&atom));
            }
        }
        hl_buf_free(&atom);
        if (!c || !c->pending)
            c = d->conn.conn_new(d, h->hs.peer);
        else if (c->hs) /* our own attempt lost: theirs carries our output */
            hl_dist_hs_abandon(d, c->hs);
    }
    if (!c) {
        close(fd);
    } else {
        hl_bytes first = {h->out.data + h->out_off, h->out.len - h->out_off};
        d->conn.conn_up(d, c, fd, first, hl_buf_view(&h->in));
    }
    h->conn = NULL;
    hs_remove(d, h);
}

/* Handle the input of a handshake; returns the machine's verdict. */
static hl_hs_result hs_feed(hl_dist *d, hl_hs_io *h)
{
    size_t used = 0, more;
    hl_hs_result r = hl_hs_feed(&h->hs, h->in.data, h->in.len, &used);
    if (r == HL_HS_NAME) {
        r = hl_hs_status(&h->hs, status_for(d, h->hs.peer));
        if (r == HL_HS_MORE) {
            r = hl_hs_feed(&h->hs, h->in.data + used, h->in.len - used, &more);
            used += more;
        }
    }
    memmove(h->in.data, h->in.data + used, h->in.len - used);
    h->in.len -= used;
    if (take_output(h))
        return HL_HS_FAILED;
    return r;
}

/* The connect to epmd or to the node finished (or failed). */
static void on_connected(hl_dist *d, hl_hs_io *h)
{
    int err = 0;
    socklen_t len = sizeof err;
    const char *at = strchr(h->name, '@');
    uint32_t challenge;
    if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        hs_fail(d, h, h->phase == PH_EPMD_CONNECT ? "no epmd on its host" : "connect refused");
        return;
    }
    if (h->phase == PH_EPMD_CONNECT) {
        if (hl_epmd_port_req(&h->out, h->name, (size_t)(at - h->name))) {
            hs_fail(d, h, "bad name");
            return;
        }
        h->phase = PH_EPMD_REPLY;
    } else {
        hl_hs_config cfg = config(d, 0);
        if (fresh_challenge(&challenge)) {
            hs_fail(d, h, "no random challenge");
            return;
        }
        cfg.challenge = challenge;
        if (hl_hs_connect(&h->hs, &cfg, h->name) || take_output(h)) {
            hs_fail(d, h, "out of memory");
            return;
        }
        h->phase = PH_HANDSHAKE;
    }
    if (hs_flush(d, h))
        hs_fail(d, h, "write failed");
}

/* epmd answered (or part of it): connect to the node's port. */
static void on_epmd_reply(hl_dist *d, hl_hs_io *h, int eof)
{
    int port = 0;
    int rc = hl_epmd_port_resp(h->in.data, h->in.len, &port);
    if (rc == 0 && !eof)
        return;
    if (rc <= 0) {
        hs_fail(d, h, "not registered with epmd");
        return;
    }
    hl_loop_del(d->loop, h->fd);
    close(h->fd);
    h->in.len = h->out.len = h->out_off = 0;
    h->fd = start_connect(h->addr, port);
    if (h->fd < 0 || hl_loop_add(d->loop, h->fd, POLLOUT, on_hs_event, d)) {
        hs_fail(d, h, "connect failed");
        return;
    }
    h->phase = PH_NODE_CONNECT;
}

static void hs_event(hl_dist *d, hl_hs_io *h, short revents)
{
    if (h->phase == PH_EPMD_CONNECT || h->phase == PH_NODE_CONNECT) {
        on_connected(d, h);
        return;
    }
    if ((revents & POLLOUT) && hs_flush(d, h)) {
        hs_fail(d, h, "write failed");
        return;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    int eof = 0;
    if (hl_buf_reserve(&h->in, HL_HS_IN_CAP - h->in.len)) {
        hs_fail(d, h, "out of memory");
        return;
    }
    ssize_t n = read(h->fd, h->in.data + h->in.len, HL_HS_IN_CAP - h->in.len);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        hs_fail(d, h, "read failed");
        return;
    }
    if (n == 0)
        eof = 1;
    if (n > 0)
        h->in.len += (size_t)n;
    if (h->phase == PH_EPMD_REPLY) {
        on_epmd_reply(d, h, eof);
        return;
    }
    hl_hs_result r = hs_feed(d, h);
    if (r == HL_HS_DONE) {
        hs_done(d, h);
    } else if (r == HL_HS_FAILED) {
        (void)hs_flush(d, h); /* a refusing status, if any, goes out first */
        hs_fail(d, h, h->hs.why ? h->hs.why : "out of memory");
    } else if (eof) {
        hs_fail(d, h, "closed during the handshake");
    } else if (hs_flush(d, h)) {
        hs_fail(d, h, "write failed");
    }
}

static void on_hs_event(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    for (size_t i = 0; i < d->nhss; i++) {
        if (d->hss[i]->fd == fd) {
            hs_event(d, d->hss[i], revents);
            break;
        }
    }
    d->conn.flush_all(d);
}

static void on_accept(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    (void)revents;
    for (int i = 0; i < 64; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        uint32_t challenge;
        if (cfd < 0 &&
            (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* The connection stays queued and the listener readable: stop
             * watching it until the next tick rather than spin. */
            hl_loop_set_events(d->loop, fd, 0);
            d->accept_paused = 1;
            log_limited(d, "cannot accept", "a connection", strerror(errno));
        }
        if (cfd < 0)
            return;
        if (d->n_in >= HL_HS_MAX_IN) {
            close(cfd);
            log_limited(d, "refused a connection:", "too many handshakes", "in progress");
            continue;
        }
        hl_hs_io *h = fresh_challenge(&challenge) ? NULL : hs_new(d, cfd, 0);
        if (!h) {
            close(cfd);
            continue;
        }
        hl_hs_config cfg = config(d, challenge);
        hl_hs_accept(&h->hs, &cfg);
        h->phase = PH_HANDSHAKE;
        if (hl_loop_add(d->loop, cfd, POLLIN, on_hs_event, d)) {
            h->fd = -1;
            close(cfd);
            hs_remove(d, h);
        }
    }
}

static int resolve(const char *host, struct in_addr *a)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char self[256];
    if (inet_pton(AF_INET, host, a) == 1)
        return 0;
    if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
        *a = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
        freeaddrinfo(res);
        return 0;
    }
    /* As ei does: this host's own short name means loopback. */
    if (gethostname(self, sizeof self) == 0) {
        self[strcspn(self, ".")] = 0;
        if (strcmp(self, host) == 0)
            return inet_pton(AF_INET, "127.0.0.1", a) == 1 ? 0 : -1;
    }
    return -1;
}

hl_conn *hl_dist_hs_connect(hl_dist *d, const char *name)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const char *at = strchr(name, '@');
    if (!at || strlen(name) > HL_HS_NAME_MAX || d->n_out >= HL_HS_MAX_OUT ||
        resolve(at + 1, &addr.sin_addr))
        return NULL;
    int fd = start_connect(addr, d->epmd_port);
    hl_hs_io *h = fd < 0 ? NULL : hs_new(d, fd, 1);
    if (!h) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    h->phase = PH_EPMD_CONNECT;
    h->addr = addr;
    strcpy(h->name, name);
    hl_conn *c = NULL;
    if (hl_loop_add(d->loop, fd, POLLOUT, on_hs_event, d) == 0)
        c = d->conn.conn_new(d, name);
    if (!c) {
        hs_remove(d, h);
        return NULL;
    }
    c->hs = h;
    h->conn = c;
    return c;
}

/* The registration's socket. epmd sends nothing after its reply (ei may
 * have left a few bytes of it unread), so readable means those bytes or
 * end-of-file: epmd went away and our registration with it. (Only watching
 * for POLLHUP never fired: a closed peer is EOF, not a hang-up.) */
static void on_publish_event(void *ctx, int fd, short revents)
{
    hl_dist *d = ctx;
    char buf[64];
    ssize_t n;
    (void)revents;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        ;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    hl_loop_del(d->loop, fd);
    close(fd);
    d->publish_fd = -1;
    fprintf(stderr, "heirloom_node: lost epmd registration, will re-publish\n");
}

static int publish(hl_dist *d, unsigned tmo_ms)
{
    int fd = ei_publish_tmo(&d->ec, d->port, tmo_ms);
    if (fd < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        hl_loop_add(d->loop, fd, POLLIN, on_publish_event, d)) {
        close(fd);
        return -1;
    }
    d->publish_fd = fd;
    return 0;
}

int hl_dist_hs_start(hl_dist *d, const hl_dist_opts *o, char *err, size_t errlen)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    socklen_t alen = sizeof addr;
    const char *ep = getenv("ERL_EPMD_PORT");
    int one = 1;
    d->epmd_port = ep && atoi(ep) > 0 ? atoi(ep) : 4369;
    if (inet_pton(AF_INET, o->listen_addr, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "bad listen address '%s'", o->listen_addr);
        return -1;
    }
    d->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0 ||
        setsockopt(d->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(d->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(d->listen_fd, 128) < 0 ||
        getsockname(d->listen_fd, (struct sockaddr *)&addr, &alen) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", o->listen_addr, o->port,
                 strerror(errno));
        return -1;
    }
    d->port = ntohs(addr.sin_port);
    if (hl_loop_add(d->loop, d->listen_fd, POLLIN, on_accept, d)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (publish(d, 2000)) {
        snprintf(err, errlen, "cannot register with epmd (is it running? name '%s' taken?)",
                 ei_thisalivename(&d->ec));
        return -1;
    }
    return 0;
}

void hl_dist_hs_tick(hl_dist *d, long long now)
{
    if (d->accept_paused) {
        d->accept_paused = 0;
        hl_loop_set_events(d->loop, d->listen_fd, POLLIN);
    }
    for (size_t i = 0; i < d->nhss;) {
        if (now > d->hss[i]->deadline)
            hs_fail(d, d->hss[i], "timed out"); /* removes it: same i again */
        else
            i++;
    }
    if (d->publish_fd < 0 && now >= d->next_publish) {
        d->next_publish = now + 1000;
        if (publish(d, HL_REPUBLISH_TMO_MS) == 0)
            fprintf(stderr, "heirloom_node: re-published to epmd\n");
    }
}

void hl_dist_hs_stop(hl_dist *d)
{
    while (d->nhss)
        hl_dist_hs_abandon(d, d->hss[0]);
    free(d->hss);
    if (d->publish_fd >= 0) {
        hl_loop_del(d->loop, d->publish_fd);
        close(d->publish_fd); /* epmd forgets the name when this closes */
    }
    if (d->listen_fd >= 0) {
        hl_loop_del(d->loop, d->listen_fd);
        close(d->listen_fd);
    }
}
