/*
 * hl_handshake.c: the distribution handshake state machine and the epmd
 * port query (see hl_handshake.h). Written from the protocol description
 * (erts's erl_dist_protocol): every packet is checked for its exact shape
 * before any field is used, since the peer is not authenticated yet.
 */
#include "hl_handshake.h"

#include "hl_md5.h"

#include <stdio.h>

enum { ACC_NAME, ACC_WAIT_STATUS, ACC_REPLY, CON_STATUS, CON_CHALLENGE, CON_ACK, DONE, FAILED };

#define EPMD_PORT_PLEASE2_REQ 122
#define EPMD_PORT2_RESP 119
#define HL_DIST_VERSION 6

static uint64_t get_u64(const unsigned char *p)
{
    return ((uint64_t)hl_get_u32(p) << 32) | hl_get_u32(p + 4);
}

static int put_u64(hl_buf *b, uint64_t v)
{
    int rc = hl_buf_append_u32(b, (uint32_t)(v >> 32));
    return rc ? rc : hl_buf_append_u32(b, (uint32_t)v);
}

void hl_hs_digest(const char *cookie, uint32_t challenge, unsigned char out[16])
{
    char dec[16];
    int n = snprintf(dec, sizeof dec, "%u", (unsigned)challenge);
    hl_md5_ctx c;
    hl_md5_init(&c);
    hl_md5_update(&c, cookie, strlen(cookie));
    hl_md5_update(&c, dec, (size_t)n);
    hl_md5_final(&c, out);
}

/* Compare digests without an early exit, so timing says nothing of how much
 * of a forged digest was right. */
static int digest_ok(const char *cookie, uint32_t challenge, const unsigned char *got)
{
    unsigned char want[16];
    unsigned diff = 0;
    hl_hs_digest(cookie, challenge, want);
    for (int i = 0; i < 16; i++)
        diff |= (unsigned)(want[i] ^ got[i]);
    return diff == 0;
}

static hl_hs_result fail(hl_hs *hs, const char *why)
{
    hs->step = FAILED;
    hs->why = why;
    return HL_HS_FAILED;
}

/* Start a packet: 2-byte length and tag. */
static int put_head(hl_buf *b, size_t len, unsigned char tag)
{
    int rc = hl_buf_append_u16(b, (uint16_t)len);
    return rc ? rc : hl_buf_append_byte(b, tag);
}

/* A name is alive@host: printable, non-empty on both sides of the '@'. */
static int name_ok(const unsigned char *p, size_t n)
{
    const unsigned char *at = n ? memchr(p, '@', n) : NULL;
    if (!at || at == p || at == p + n - 1 || n > HL_HS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] == 0x7f)
            return 0;
    return 1;
}

static int flags_ok(hl_hs *hs, uint64_t flags)
{
    if (flags & HL_DFLAG_MANDATORY_25_DIGEST)
        flags |= HL_DFLAG_MANDATORY;
    hs->peer_flags = flags;
    return (flags & HL_DFLAG_MANDATORY) == HL_DFLAG_MANDATORY && !(flags & HL_DFLAG_NAME_ME);
}

void hl_hs_accept(hl_hs *hs, const hl_hs_config *cfg)
{
    memset(hs, 0, sizeof *hs);
    hs->cfg = *cfg;
    hs->step = ACC_NAME;
}

int hl_hs_connect(hl_hs *hs, const hl_hs_config *cfg, const char *peer)
{
    size_t self_len = strlen(cfg->self), peer_len = strlen(peer);
    memset(hs, 0, sizeof *hs);
    hs->cfg = *cfg;
    if (!name_ok((const unsigned char *)peer, peer_len) || self_len > HL_HS_NAME_MAX)
        return HL_EBADARG;
    memcpy(hs->peer, peer, peer_len + 1);
    /* 'N', flags, creation, name length, name */
    int rc = put_head(&hs->out, 1 + 8 + 4 + 2 + self_len, 'N');
    if (!rc)
        rc = put_u64(&hs->out, cfg->flags);
    if (!rc)
        rc = hl_buf_append_u32(&hs->out, cfg->creation);
    if (!rc)
        rc = hl_buf_append_u16(&hs->out, (uint16_t)self_len);
    if (!rc)
        rc = hl_buf_append(&hs->out, cfg->self, self_len);
    if (rc)
        return rc;
    hs->step = CON_STATUS;
    return HL_OK;
}

/* Accepting: the peer's name 'N'. */
static hl_hs_result on_name(hl_hs *hs, const unsigned char *p, size_t n)
{
    if (n < 15 || p[0] != 'N')
        return fail(hs, "bad name packet");
    size_t nlen = hl_get_u16(p + 13);
    if (15 + nlen != n || !name_ok(p + 15, nlen))
        return fail(hs, "bad node name");
    if (!flags_ok(hs, get_u64(p + 1)))
        return fail(hs, "peer lacks mandatory flags or wants a dynamic name");
    hs->peer_creation = hl_get_u32(p + 9);
    memcpy(hs->peer, p + 15, nlen);
    hs->peer[nlen] = 0;
    hs->step = ACC_WAIT_STATUS;
    return HL_HS_NAME;
}

hl_hs_result hl_hs_status(hl_hs *hs, const char *status)
{
    if (hs->step != ACC_WAIT_STATUS)
        return fail(hs, "status out of turn");
    size_t slen = strlen(status), self_len = strlen(hs->cfg.self);
    int go_on = !strcmp(status, "ok") || !strcmp(status, "ok_simultaneous");
    int rc = put_head(&hs->out, 1 + slen, 's');
    if (!rc)
        rc = hl_buf_append(&hs->out, status, slen);
    if (rc)
        return fail(hs, "out of memory");
    if (!go_on)
        return fail(hs, "refused by status");
    /* 'N', flags, challenge, creation, name length, name */
    rc = put_head(&hs->out, 1 + 8 + 4 + 4 + 2 + self_len, 'N');
    if (!rc)
        rc = put_u64(&hs->out, hs->cfg.flags);
    if (!rc)
        rc = hl_buf_append_u32(&hs->out, hs->cfg.challenge);
    if (!rc)
        rc = hl_buf_append_u32(&hs->out, hs->cfg.creation);
    if (!rc)
        rc = hl_buf_append_u16(&hs->out, (uint16_t)self_len);
    if (!rc)
        rc = hl_buf_append(&hs->out, hs->cfg.self, self_len);
    if (rc)
        return fail(hs, "out of memory");
    hs->step = ACC_REPLY;
    return HL_HS_MORE;
}

/* Accepting: 'r', the peer's challenge and its digest of ours. */
static hl_hs_result on_reply(hl_hs *hs, const unsigned char *p, size_t n)
{
    unsigned char ack[16];
    if (n != 21 || p[0] != 'r')
        return fail(hs, "bad challenge reply");
    if (!digest_ok(hs->cfg.cookie, hs->cfg.challenge, p + 5))
        return fail(hs, "wrong cookie");
    hs->peer_challenge = hl_get_u32(p + 1);
    hl_hs_digest(hs->cfg.cookie, hs->peer_challenge, ack);
    if (put_head(&hs->out, 17, 'a') || hl_buf_append(&hs->out, ack, 16))
        return fail(hs, "out of memory");
    hs->step = DONE;
    return HL_HS_DONE;
}

/* Connecting: the status 's'. */
static hl_hs_result on_status(hl_hs *hs, const unsigned char *p, size_t n)
{
    if (n < 1 || p[0] != 's')
        return fail(hs, "bad status packet");
    const char *s = (const char *)p + 1;
    size_t slen = n - 1;
    if ((slen == 2 && !memcmp(s, "ok", 2)) || (slen == 15 && !memcmp(s, "ok_simultaneous", 15))) {
        hs->step = CON_CHALLENGE;
        return HL_HS_MORE;
    }
    if (slen == 5 && !memcmp(s, "alive", 5)) {
        /* The peer still sees an old connection from our name; we have
         * none (we connect only then), so it is stale: say go on. */
        if (put_head(&hs->out, 5, 's') || hl_buf_append(&hs->out, "true", 4))
            return fail(hs, "out of memory");
        hs->step = CON_CHALLENGE;
        return HL_HS_MORE;
    }
    if (slen == 3 && !memcmp(s, "nok", 3)) {
        hs->nok = 1;
        return fail(hs, "peer is connecting to us itself (nok)");
    }
    return fail(hs, "peer refused the connection");
}

/* Connecting: the peer's challenge 'N'; answer with 'r'. */
static hl_hs_result on_challenge(hl_hs *hs, const unsigned char *p, size_t n)
{
    unsigned char digest[16];
    if (n < 19 || p[0] != 'N')
        return fail(hs, "bad challenge packet");
    size_t nlen = hl_get_u16(p + 17);
    if (19 + nlen != n || nlen != strlen(hs->peer) || memcmp(p + 19, hs->peer, nlen))
        return fail(hs, "peer is not the node we asked for");
    if (!flags_ok(hs, get_u64(p + 1)))
        return fail(hs, "peer lacks mandatory flags");
    hs->peer_challenge = hl_get_u32(p + 9);
    hs->peer_creation = hl_get_u32(p + 13);
    hl_hs_digest(hs->cfg.cookie, hs->peer_challenge, digest);
    if (put_head(&hs->out, 21, 'r') || hl_buf_append_u32(&hs->out, hs->cfg.challenge) ||
        hl_buf_append(&hs->out, digest, 16))
        return fail(hs, "out of memory");
    hs->step = CON_ACK;
    return HL_HS_MORE;
}

/* Connecting: 'a', the peer's digest of our challenge. */
static hl_hs_result on_ack(hl_hs *hs, const unsigned char *p, size_t n)
{
    if (n != 17 || p[0] != 'a')
        return fail(hs, "bad challenge ack");
    if (!digest_ok(hs->cfg.cookie, hs->cfg.challenge, p + 1))
        return fail(hs, "wrong cookie");
    hs->step = DONE;
    return HL_HS_DONE;
}

hl_hs_result hl_hs_feed(hl_hs *hs, const unsigned char *in, size_t len, size_t *used)
{
    *used = 0;
    for (;;) {
        switch (hs->step) {
        case DONE:
            return HL_HS_DONE;
        case FAILED:
            return HL_HS_FAILED;
        case ACC_WAIT_STATUS:
            return HL_HS_NAME;
        default:
            break;
        }
        if (len - *used < 2)
            return HL_HS_MORE;
        size_t plen = hl_get_u16(in + *used);
        if (plen == 0 || plen > HL_HS_PACKET_MAX)
            return fail(hs, "bad packet length");
        if (len - *used - 2 < plen)
            return HL_HS_MORE;
        const unsigned char *p = in + *used + 2;
        *used += 2 + plen;
        hl_hs_result r;
        switch (hs->step) {
        case ACC_NAME:
            r = on_name(hs, p, plen);
            break;
        case ACC_REPLY:
            r = on_reply(hs, p, plen);
            break;
        case CON_STATUS:
            r = on_status(hs, p, plen);
            break;
        case CON_CHALLENGE:
            r = on_challenge(hs, p, plen);
            break;
        default:
            r = on_ack(hs, p, plen);
            break;
        }
        if (r != HL_HS_MORE)
            return r;
    }
}

void hl_hs_free(hl_hs *hs)
{
    hl_buf_free(&hs->out);
}

int hl_epmd_port_req(hl_buf *out, const char *alive, size_t alive_len)
{
    if (alive_len == 0 || alive_len > HL_HS_NAME_MAX)
        return HL_EBADARG;
    int rc = hl_buf_append_u16(out, (uint16_t)(1 + alive_len));
    if (!rc)
        rc = hl_buf_append_byte(out, EPMD_PORT_PLEASE2_REQ);
    if (!rc)
        rc = hl_buf_append(out, alive, alive_len);
    return rc;
}

int hl_epmd_port_resp(const unsigned char *in, size_t len, int *port)
{
    /* 119, result; then (result 0) port, type, protocol, highest, lowest, ... */
    if (len < 2)
        return 0;
    if (in[0] != EPMD_PORT2_RESP || in[1] != 0)
        return -1;
    if (len < 10)
        return 0;
    unsigned highest = hl_get_u16(in + 6), lowest = hl_get_u16(in + 8);
    if (in[5] != 0 || highest < HL_DIST_VERSION || lowest > HL_DIST_VERSION)
        return -1;
    *port = hl_get_u16(in + 2);
    return *port > 0 ? 1 : -1;
}
