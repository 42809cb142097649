/*
 * hl_dist_sock.c: TCP callbacks for ei's user supplied socket interface,
 * patching the advertised distribution flags during the handshake (see
 * hl_dist_sock.h for why).
 *
 * Each socket's context is a small heap struct; ei owns it from socket() or
 * accept() until it calls close(), which frees it.
 */
#include "hl_dist_sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Distribution flag bits (erts's dist.h). */
#define HL_DFLAG_DIST_MONITOR_NAME 0x20u
/* Peers then name the sender of every message to our pid (SEND_SENDER),
 * which access checks need (hl_node.c): a plain SEND names nobody. */
#define HL_DFLAG_SEND_SENDER 0x80000u

typedef struct {
    int fd;
    int handshaking;
} sock_ctx;

static int ctx_new(void **ctx, int fd)
{
    sock_ctx *c = malloc(sizeof *c);
    if (!c)
        return ENOMEM;
    c->fd = fd;
    c->handshaking = 1;
    *ctx = c;
    return 0;
}

static int cb_socket(void **ctx, void *setup_ctx)
{
    (void)setup_ctx;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    int rc = ctx_new(ctx, fd);
    if (rc)
        close(fd);
    return rc;
}

static int cb_close(void *ctx)
{
    sock_ctx *c = ctx;
    int rc = close(c->fd) < 0 ? errno : 0;
    free(c);
    return rc;
}

static int cb_listen(void *ctx, void *addr, int *len, int backlog)
{
    sock_ctx *c = ctx;
    int one = 1;
    socklen_t sl = (socklen_t)*len;
    if (setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return errno;
    if (bind(c->fd, addr, sl) < 0 || listen(c->fd, backlog) < 0)
        return errno;
    if (getsockname(c->fd, addr, &sl) < 0)
        return errno;
    *len = (int)sl;
    return 0;
}

static int cb_accept(void **ctx, void *addr, int *len, unsigned tmo)
{
    (void)tmo; /* ei waits for readability itself: we are not FULL_IMPL */
    sock_ctx *l = *ctx;
    socklen_t sl = (socklen_t)*len;
    int fd = accept(l->fd, addr, &sl);
    if (fd < 0)
        return errno;
    *len = (int)sl;
    int rc = ctx_new(ctx, fd);
    if (rc)
        close(fd);
    return rc;
}

static int cb_connect(void *ctx, void *addr, int len, unsigned tmo)
{
    (void)tmo;
    sock_ctx *c = ctx;
    return connect(c->fd, addr, (socklen_t)len) < 0 ? errno : 0;
}

/* The name or challenge ('N', 8-byte big-endian flags, ...) behind a 2-byte
 * length: OR in the flags. Handshake packets are tiny: a stack copy is fine. */
static int write_patched(sock_ctx *c, const char *buf, ssize_t *len)
{
    char tmp[1024];
    const char *out = buf;
    if (c->handshaking && *len >= 11 && *len <= (ssize_t)sizeof tmp && buf[2] == 'N') {
        memcpy(tmp, buf, (size_t)*len);
        tmp[10] = (char)((unsigned char)tmp[10] | HL_DFLAG_DIST_MONITOR_NAME);
        tmp[8] = (char)((unsigned char)tmp[8] | (HL_DFLAG_SEND_SENDER >> 16));
        out = tmp;
    }
    ssize_t done = 0;
    while (done < *len) {
        ssize_t n = write(c->fd, out + done, (size_t)(*len - done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        done += n;
    }
    return 0;
}

static int cb_write(void *ctx, const char *buf, ssize_t *len, unsigned tmo)
{
    (void)tmo;
    return write_patched(ctx, buf, len);
}

static int cb_writev(void *ctx, const void *iov, int iovcnt, ssize_t *len, unsigned tmo)
{
    (void)tmo;
    sock_ctx *c = ctx;
    ssize_t n = writev(c->fd, iov, iovcnt);
    if (n < 0)
        return errno;
    *len = n;
    return 0;
}

static int cb_read(void *ctx, char *buf, ssize_t *len, unsigned tmo)
{
    (void)tmo;
    sock_ctx *c = ctx;
    ssize_t n;
    do
        n = read(c->fd, buf, (size_t)*len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno;
    *len = n;
    return 0;
}

static int cb_pkt_size(void *ctx, int *sz)
{
    (void)ctx;
    *sz = 2;
    return 0;
}

static int cb_handshake_done(void *ctx)
{
    sock_ctx *c = ctx;
    int one = 1;
    c->handshaking = 0;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static int cb_get_fd(void *ctx, int *fd)
{
    *fd = ((sock_ctx *)ctx)->fd;
    return 0;
}

static ei_socket_callbacks callbacks = {
    .flags = 0,
    .socket = cb_socket,
    .close = cb_close,
    .listen = cb_listen,
    .EI_ACCEPT_NAME = cb_accept,
    .connect = cb_connect,
    .writev = cb_writev,
    .write = cb_write,
    .read = cb_read,
    .handshake_packet_header_size = cb_pkt_size,
    .connect_handshake_complete = cb_handshake_done,
    .accept_handshake_complete = cb_handshake_done,
    .get_fd = cb_get_fd,
};

ei_socket_callbacks *hl_dist_sock_callbacks(void)
{
    return &callbacks;
}
