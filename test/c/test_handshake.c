/*
 * test_handshake.c: cmocka tests for MD5 (hl_md5.h) and the distribution
 * handshake state machine (hl_handshake.h).
 *
 * MD5 is checked against the test suite of RFC 1321 (appendix A.5). The
 * handshake is checked by letting an accepting and a connecting machine talk
 * to each other (each one's output is the other's input), by feeding one
 * machine hand-built packets as a hostile or odd peer would send them, and by
 * checking exactly which packets a machine wants sent at each step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_handshake.h"
#include "hl_md5.h"

#include <stdio.h>
#include <string.h>

static void hex(const unsigned char d[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_md5_rfc1321_suite(void **state)
{
    (void)state;
    static const char *const v[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char d[16];
        char h[33];
        hl_md5(v[i][0], strlen(v[i][0]), d);
        hex(d, h);
        assert_string_equal(h, v[i][1]);
    }
}

/* Fed in pieces of every size, across block boundaries, the digest is the
 * same as in one go. */
static void test_md5_incremental(void **state)
{
    (void)state;
    unsigned char data[1000], one[16], inc[16];
    memset(data, 'x', sizeof data);
    hl_md5(data, sizeof data, one);
    char h[33];
    hex(one, h);
    assert_string_equal(h, "398533d48111e9f664b1f64cb10c4b63");
    for (size_t step = 1; step <= 130; step++) {
        hl_md5_ctx c;
        hl_md5_init(&c);
        for (size_t off = 0; off < sizeof data; off += step)
            hl_md5_update(&c, data + off, off + step > sizeof data ? sizeof data - off : step);
        hl_md5_final(&c, inc);
        assert_memory_equal(one, inc, 16);
    }
}

/* MD5(cookie ++ decimal challenge), the largest challenge included. */
static void test_digest_is_md5_of_cookie_and_decimal(void **state)
{
    (void)state;
    unsigned char d[16];
    char h[33];
    hl_hs_digest("secret", 4294967295u, d);
    hex(d, h);
    assert_string_equal(h, "5dfd181e69aa587cc812eb333e6536b6");
}

static hl_hs_config cfg(const char *self, const char *cookie, uint32_t challenge)
{
    hl_hs_config c = {self, cookie, 77, HL_DFLAG_OURS, challenge};
    return c;
}

/* Move what `from` wants sent into `to`, one byte at a time when `trickle`,
 * and return to's verdict. Bytes `to` does not consume yet stay in *pend. */
typedef struct {
    unsigned char b[2048];
    size_t len;
} pending;

static hl_hs_result deliver(hl_hs *from, hl_hs *to, pending *pend, int trickle)
{
    hl_hs_result r = HL_HS_MORE;
    size_t i = 0, used;
    while (i < from->out.len) {
        size_t n = trickle ? 1 : from->out.len - i;
        memcpy(pend->b + pend->len, from->out.data + i, n);
        pend->len += n;
        i += n;
        r = hl_hs_feed(to, pend->b, pend->len, &used);
        memmove(pend->b, pend->b + used, pend->len - used);
        pend->len -= used;
        if (r != HL_HS_MORE)
            break;
    }
    from->out.len = 0;
    return r;
}

static void run_pair(int trickle)
{
    hl_hs a, c;
    pending to_a = {{0}, 0}, to_c = {{0}, 0};
    hl_hs_config ca = cfg("acc@127.0.0.1", "cookie", 111), cc = cfg("con@h", "cookie", 222);
    hl_hs_accept(&a, &ca);
    assert_int_equal(a.out.len, 0);
    assert_int_equal(hl_hs_connect(&c, &cc, "acc@127.0.0.1"), HL_OK);
    assert_int_equal(deliver(&c, &a, &to_a, trickle), HL_HS_NAME);
    assert_string_equal(a.peer, "con@h");
    assert_int_equal(a.peer_creation, 77);
    /* the two flags the C node needs on top of ei's */
    assert_true((a.peer_flags & HL_DFLAG_DIST_MONITOR_NAME) != 0);
    assert_true((a.peer_flags & HL_DFLAG_SEND_SENDER) != 0);
    assert_int_equal(hl_hs_status(&a, "ok"), HL_HS_MORE);
    /* status and challenge go out together; the connector answers 'r' */
    assert_int_equal(deliver(&a, &c, &to_c, trickle), HL_HS_MORE);
    assert_int_equal(c.peer_challenge, 111);
    assert_int_equal(c.out.data[2], 'r');
    assert_int_equal(deliver(&c, &a, &to_a, trickle), HL_HS_DONE);
    assert_int_equal(a.peer_challenge, 222);
    assert_int_equal(deliver(&a, &c, &to_c, trickle), HL_HS_DONE);
    assert_int_equal(to_a.len, 0);
    assert_int_equal(to_c.len, 0);
    hl_hs_free(&a);
    hl_hs_free(&c);
}

static void test_pair_completes(void **state)
{
    (void)state;
    run_pair(0);
}

static void test_pair_completes_one_byte_at_a_time(void **state)
{
    (void)state;
    run_pair(1);
}

static void test_wrong_cookie_fails_on_both_sides(void **state)
{
    (void)state;
    hl_hs a, c;
    pending to_a = {{0}, 0}, to_c = {{0}, 0};
    hl_hs_config ca = cfg("acc@x", "right", 5), cc = cfg("con@x", "wrong", 6);
    hl_hs_accept(&a, &ca);
    assert_int_equal(hl_hs_connect(&c, &cc, "acc@x"), HL_OK);
    assert_int_equal(deliver(&c, &a, &to_a, 0), HL_HS_NAME);
    assert_int_equal(hl_hs_status(&a, "ok"), HL_HS_MORE);
    assert_int_equal(deliver(&a, &c, &to_c, 0), HL_HS_MORE);
    assert_int_equal(deliver(&c, &a, &to_a, 0), HL_HS_FAILED);
    assert_string_equal(a.why, "wrong cookie");
    assert_int_equal(a.out.len, 0); /* no ack for an impostor */
    /* and an ack with a wrong digest fails the connector */
    unsigned char ack[19] = {0, 17, 'a'};
    size_t used;
    assert_int_equal(hl_hs_feed(&c, ack, sizeof ack, &used), HL_HS_FAILED);
    assert_string_equal(c.why, "wrong cookie");
    hl_hs_free(&a);
    hl_hs_free(&c);
}

/* A name packet built by hand: 'N', flags, creation, name. */
static size_t name_packet(unsigned char *b, uint64_t flags, const char *name)
{
    size_t n = strlen(name), len = 15 + n;
    b[0] = (unsigned char)(len >> 8);
    b[1] = (unsigned char)len;
    b[2] = 'N';
    for (int i = 0; i < 8; i++)
        b[3 + i] = (unsigned char)(flags >> (56 - 8 * i));
    memset(b + 11, 0, 4);
    b[15] = (unsigned char)(n >> 8);
    b[16] = (unsigned char)n;
    memcpy(b + 17, name, n);
    return 2 + len;
}

static hl_hs_result accept_one(const unsigned char *p, size_t n, hl_hs *a, size_t *used)
{
    hl_hs_config ca = cfg("acc@x", "c", 1);
    hl_hs_accept(a, &ca);
    return hl_hs_feed(a, p, n, used);
}

static void test_accept_checks_the_name_packet(void **state)
{
    (void)state;
    unsigned char b[600];
    size_t used, n;
    hl_hs a;
    /* OTP 25 sends only the one flag for the mandatory set */
    n = name_packet(b, HL_DFLAG_MANDATORY_25_DIGEST | HL_DFLAG_HANDSHAKE_23, "p@h");
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_NAME);
    assert_int_equal(used, n);
    n = name_packet(b, HL_DFLAG_MANDATORY, "p@h");
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_NAME);
    n = name_packet(b, HL_DFLAG_MANDATORY & ~HL_DFLAG_MAP_TAG, "p@h");
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_FAILED);
    n = name_packet(b, HL_DFLAG_MANDATORY | HL_DFLAG_NAME_ME, "h");
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_FAILED);
    for (int i = 0; i < 4; i++) {
        static const char *const bad[] = {"noat", "@h", "p@", "p q@h"};
        n = name_packet(b, HL_DFLAG_MANDATORY, bad[i]);
        assert_int_equal(accept_one(b, n, &a, &used), HL_HS_FAILED);
    }
    /* the old version 5 'n' packet */
    n = name_packet(b, HL_DFLAG_MANDATORY, "p@h");
    b[2] = 'n';
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_FAILED);
    /* a name length that overruns the packet */
    n = name_packet(b, HL_DFLAG_MANDATORY, "p@h");
    b[16] = 9;
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_FAILED);
    /* an empty or huge packet is refused from its length alone */
    unsigned char zero[2] = {0, 0}, huge[2] = {0xff, 0xff};
    assert_int_equal(accept_one(zero, 2, &a, &used), HL_HS_FAILED);
    assert_int_equal(accept_one(huge, 2, &a, &used), HL_HS_FAILED);
    /* nothing or part of a packet: wait, consuming nothing */
    assert_int_equal(accept_one(b, 0, &a, &used), HL_HS_MORE);
    n = name_packet(b, HL_DFLAG_MANDATORY, "p@h");
    assert_int_equal(accept_one(b, n - 1, &a, &used), HL_HS_MORE);
    assert_int_equal(used, 0);
    hl_hs_free(&a);
}

static void test_accept_refusing_status_is_sent_then_fails(void **state)
{
    (void)state;
    unsigned char b[64];
    size_t used, n = name_packet(b, HL_DFLAG_MANDATORY, "p@h");
    hl_hs a;
    assert_int_equal(accept_one(b, n, &a, &used), HL_HS_NAME);
    /* asked again before the status: still waiting for it */
    assert_int_equal(hl_hs_feed(&a, b, 0, &used), HL_HS_NAME);
    assert_int_equal(hl_hs_status(&a, "nok"), HL_HS_FAILED);
    assert_int_equal(a.out.len, 6);
    assert_memory_equal(a.out.data, "\0\4snok", 6);
    hl_hs_free(&a);
}

/* The connector's view: hand-built status, challenge and ack packets. */
static void put_packet(pending *p, const void *body, size_t n)
{
    p->b[p->len++] = (unsigned char)(n >> 8);
    p->b[p->len++] = (unsigned char)n;
    memcpy(p->b + p->len, body, n);
    p->len += n;
}

static void put_challenge(pending *p, uint64_t flags, uint32_t chal, const char *name)
{
    unsigned char b[300];
    size_t n = strlen(name);
    b[0] = 'N';
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(flags >> (56 - 8 * i));
    hl_put_u32(b + 9, chal);
    hl_put_u32(b + 13, 9);
    b[17] = (unsigned char)(n >> 8);
    b[18] = (unsigned char)n;
    memcpy(b + 19, name, n);
    put_packet(p, b, 19 + n);
}

static void test_connect_sends_name_then_reply_and_keeps_frames(void **state)
{
    (void)state;
    hl_hs c;
    hl_hs_config cc = cfg("me@h", "k", 42);
    pending in = {{0}, 0};
    size_t used;
    assert_int_equal(hl_hs_connect(&c, &cc, "them@h"), HL_OK);
    /* name: length 15 + 4, 'N', our flags, creation 77, "me@h" */
    assert_int_equal(c.out.len, 2 + 15 + 4);
    assert_int_equal(c.out.data[1], 19);
    assert_int_equal(c.out.data[2], 'N');
    assert_int_equal(c.out.data[10] & HL_DFLAG_DIST_MONITOR_NAME, HL_DFLAG_DIST_MONITOR_NAME);
    assert_memory_equal(c.out.data + 17, "me@h", 4);
    c.out.len = 0;
    put_packet(&in, "sok", 3);
    put_challenge(&in, HL_DFLAG_MANDATORY_25_DIGEST, 1234, "them@h");
    assert_int_equal(hl_hs_feed(&c, in.b, in.len, &used), HL_HS_MORE);
    assert_int_equal(used, in.len);
    unsigned char want[16];
    hl_hs_digest("k", 1234, want);
    assert_int_equal(c.out.len, 23);
    assert_memory_equal(c.out.data, "\0\25r\0\0\0\52", 7);
    assert_memory_equal(c.out.data + 7, want, 16);
    /* ack, and a tick frame behind it in the same read */
    in.len = 0;
    unsigned char ack[17] = {'a'};
    hl_hs_digest("k", 42, ack + 1);
    put_packet(&in, ack, 17);
    memset(in.b + in.len, 0, 4);
    in.len += 4;
    assert_int_equal(hl_hs_feed(&c, in.b, in.len, &used), HL_HS_DONE);
    assert_int_equal(used, 19);
    hl_hs_free(&c);
}

static void test_connect_statuses(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        hl_hs_result r;
        int nok;
    } v[] = {{"sok", HL_HS_MORE, 0},
             {"sok_simultaneous", HL_HS_MORE, 0},
             {"salive", HL_HS_MORE, 0},
             {"snok", HL_HS_FAILED, 1},
             {"snot_allowed", HL_HS_FAILED, 0},
             {"snamed:", HL_HS_FAILED, 0},
             {"xok", HL_HS_FAILED, 0}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hl_hs c;
        hl_hs_config cc = cfg("me@h", "k", 42);
        pending in = {{0}, 0};
        size_t used;
        assert_int_equal(hl_hs_connect(&c, &cc, "them@h"), HL_OK);
        c.out.len = 0;
        put_packet(&in, v[i].s, strlen(v[i].s));
        assert_int_equal(hl_hs_feed(&c, in.b, in.len, &used), v[i].r);
        assert_int_equal(c.nok, v[i].nok);
        if (!strcmp(v[i].s, "salive")) /* we have no old connection: go on */
            assert_memory_equal(c.out.data, "\0\5strue", 7);
        hl_hs_free(&c);
    }
}

static void test_connect_checks_the_challenge(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        hl_hs c;
        hl_hs_config cc = cfg("me@h", "k", 42);
        pending in = {{0}, 0};
        size_t used;
        assert_int_equal(hl_hs_connect(&c, &cc, "them@h"), HL_OK);
        put_packet(&in, "sok", 3);
        if (i == 0) /* another node answered on that port */
            put_challenge(&in, HL_DFLAG_MANDATORY, 1, "other@h");
        else if (i == 1) /* too old */
            put_challenge(&in, HL_DFLAG_MANDATORY & ~HL_DFLAG_BIG_CREATION, 1, "them@h");
        else /* an ack where the challenge belongs */
            put_packet(&in, "a0123456789abcdef", 17);
        assert_int_equal(hl_hs_feed(&c, in.b, in.len, &used), HL_HS_FAILED);
        hl_hs_free(&c);
    }
    hl_hs c;
    hl_hs_config cc = cfg("me@h", "k", 42);
    assert_int_equal(hl_hs_connect(&c, &cc, "noat"), HL_EBADARG);
    hl_hs_free(&c);
}

static void test_epmd_port_please(void **state)
{
    (void)state;
    hl_buf b = {0};
    int port = 0;
    assert_int_equal(hl_epmd_port_req(&b, "node", 4), HL_OK);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "\0\5\172node", 7);
    hl_buf_free(&b);
    assert_int_equal(hl_epmd_port_req(&b, "", 0), HL_EBADARG);
    /* registered: 119, 0, port 0x1234, type 77, proto 0, highest 6, lowest 5, ... */
    const unsigned char ok[] = {119, 0, 0x12, 0x34, 77, 0, 0, 6, 0, 5, 0, 1, 'n', 0, 0};
    for (size_t n = 0; n < 10; n++)
        assert_int_equal(hl_epmd_port_resp(ok, n, &port), 0);
    assert_int_equal(hl_epmd_port_resp(ok, sizeof ok, &port), 1);
    assert_int_equal(port, 0x1234);
    const unsigned char missing[] = {119, 1};
    assert_int_equal(hl_epmd_port_resp(missing, 2, &port), -1);
    const unsigned char old[] = {119, 0, 0x12, 0x34, 77, 0, 0, 5, 0, 5};
    assert_int_equal(hl_epmd_port_resp(old, sizeof old, &port), -1);
    const unsigned char junk[] = {120, 0};
    assert_int_equal(hl_epmd_port_resp(junk, 2, &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321_suite),
        cmocka_unit_test(test_md5_incremental),
        cmocka_unit_test(test_digest_is_md5_of_cookie_and_decimal),
        cmocka_unit_test(test_pair_completes),
        cmocka_unit_test(test_pair_completes_one_byte_at_a_time),
        cmocka_unit_test(test_wrong_cookie_fails_on_both_sides),
        cmocka_unit_test(test_accept_checks_the_name_packet),
        cmocka_unit_test(test_accept_refusing_status_is_sent_then_fails),
        cmocka_unit_test(test_connect_sends_name_then_reply_and_keeps_frames),
        cmocka_unit_test(test_connect_statuses),
        cmocka_unit_test(test_connect_checks_the_challenge),
        cmocka_unit_test(test_epmd_port_please),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
