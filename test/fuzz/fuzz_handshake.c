/*
 * fuzz_handshake.c: libFuzzer target on the distribution handshake
 * (hl_handshake.h), the one parser the C node runs on bytes from peers that
 * have not authenticated yet, and on epmd's PORT2_RESP parser.
 *
 * Input: byte 0 picks the side (bit 0: accepting or connecting), the status
 * an accepting side answers with (bit 1: "ok" or "nok") and how the rest is
 * cut into reads (bits 2-7: chunk size - 1); the rest is what the peer
 * sends. Whatever the bytes, the machine must not crash, read out of
 * bounds, leak, or consume more than it was given; it must end in a
 * definite state.
 */
#include "hl_handshake.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int accepting = data[0] & 1;
    const char *status = data[0] & 2 ? "ok" : "nok";
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    hl_hs_config cfg = {"fz@127.0.0.1", "cookie", 9, HL_DFLAG_OURS, 12345};
    hl_hs hs;
    if (accepting)
        hl_hs_accept(&hs, &cfg);
    else if (hl_hs_connect(&hs, &cfg, "peer@127.0.0.1") != HL_OK)
        abort();
    /* The peer's bytes arrive chunk by chunk; unconsumed ones wait. */
    unsigned char *pend = malloc(n ? n : 1);
    size_t have = 0, off = 0, used;
    hl_hs_result r = HL_HS_MORE;
    while (off < n && (r == HL_HS_MORE || r == HL_HS_NAME)) {
        size_t take = n - off < chunk ? n - off : chunk;
        memcpy(pend + have, in + off, take);
        have += take;
        off += take;
        r = hl_hs_feed(&hs, pend, have, &used);
        if (used > have)
            abort();
        if (r == HL_HS_NAME) {
            if (!accepting || strlen(hs.peer) == 0 || !strchr(hs.peer, '@'))
                abort();
            r = hl_hs_status(&hs, status);
            if (r == HL_HS_MORE) {
                size_t more;
                r = hl_hs_feed(&hs, pend + used, have - used, &more);
                used += more;
            }
        }
        memmove(pend, pend + used, have - used);
        have -= used;
        hs.out.len = 0; /* "sent" */
    }
    if (r == HL_HS_FAILED && !hs.why)
        abort();
    hl_hs_free(&hs);
    free(pend);
    int port;
    (void)hl_epmd_port_resp(in, n, &port);
    return 0;
}
