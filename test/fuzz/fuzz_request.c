/*
 * fuzz_request.c: libFuzzer target on the C node's request path.
 *
 * Everything after the socket is real: hl_node decodes the control tuple
 * and the message, checks the sender, hl_proto splits and canonicalises the
 * request and dispatches it, hl_dm and hl_store carry it out on an LMDB
 * store in a temporary directory (small map, so "full" is reached too).
 * Only the distribution layer is fake (fake_dist.c): the fuzzer is the peer.
 *
 * Input: byte 0 picks how the rest is delivered, byte 1 the sender's pid
 * number, the rest is a term (external format, no version byte):
 *   0  REG_SEND to `heirloom`, the rest as the whole message
 *   1  REG_SEND, the rest as Request inside a well-formed gen_server call
 *   2  SEND_SENDER to the node's pid, the same call
 *   3  MONITOR_P_EXIT whose reference is the rest (a watched pid dying)
 *   4  the rest as a whole control message with no payload
 *   5  the peer node goes down
 * After each input the queued work (deaths) is run to the end.
 */
#include "fuzz_dist.h"

#include "hl_loop.h"
#include "hl_node.h"
#include "hl_store.h"
#include "hl_term.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kept for the life of the process (reachable, so not leaks). */
static hl_node *node;
static hl_store *store;
static hl_loop *loop;

static void build_call(hl_buf *msg, hl_bytes from, uint8_t tag, const uint8_t *req, size_t n)
{
    static const char gen_call[] = "$gen_call";
    if (hl_term_put_tuple_header(msg, 3) || hl_term_put_atom(msg, gen_call, sizeof gen_call - 1) ||
        hl_term_put_tuple_header(msg, 2) || hl_buf_append(msg, from.data, from.len) ||
        hl_term_put_int(msg, tag) || hl_buf_append(msg, req, n))
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char tmpl[] = "/tmp/hl_fuzz_XXXXXX", err[512];
    char *dir = mkdtemp(tmpl);
    loop = hl_loop_new();
    if (!dir || !loop)
        abort();
    hl_store_opts so = {dir, (size_t)64 << 20, 0, 0, NULL, NULL};
    if (hl_store_open(&so, &store, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    hl_node_opts no = {{"heirloom@127.0.0.1", "cookie", "127.0.0.1", 0, 1, 60000}, 0};
    if (hl_node_start(&node, &no, store, loop, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    /* The store, loop and node live as long as the process: state carries
     * over from input to input, as in a C node that serves for days. */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const hl_dist_handlers *h = fuzz_dist_handlers();
    hl_conn *peer = fuzz_peer_conn();
    hl_buf control = {0}, msg = {0}, from = {0}, name = {0};
    const uint8_t *rest = data + 2;
    size_t n = size - 2;
    if (fuzz_peer_pid(&from, data[1]) || hl_term_put_atom(&name, "heirloom", 8))
        abort();
    switch (data[0] % 6) {
    case 0:
    case 1:
        if (hl_term_put_tuple_header(&control, 4) || hl_term_put_int(&control, 6) ||
            hl_buf_append(&control, from.data, from.len) || hl_term_put_nil(&control) ||
            hl_buf_append(&control, name.data, name.len))
            abort();
        if (data[0] % 6 == 0) {
            if (hl_buf_append(&msg, rest, n))
                abort();
        } else {
            build_call(&msg, hl_buf_view(&from), data[1], rest, n);
        }
        break;
    case 2: /* addressed by name: hl_node takes the name or its pid */
        if (hl_term_put_tuple_header(&control, 3) || hl_term_put_int(&control, 22) ||
            hl_buf_append(&control, from.data, from.len) ||
            hl_buf_append(&control, name.data, name.len))
            abort();
        build_call(&msg, hl_buf_view(&from), data[1], rest, n);
        break;
    case 3:
        if (hl_term_put_tuple_header(&control, 5) || hl_term_put_int(&control, 21) ||
            hl_buf_append(&control, from.data, from.len) ||
            hl_buf_append(&control, name.data, name.len) || hl_buf_append(&control, rest, n) ||
            hl_term_put_atom(&control, "noproc", 6))
            abort();
        break;
    case 4:
        if (hl_buf_append(&control, rest, n))
            abort();
        break;
    default:
        h->on_down(h->ctx, peer, hl_conn_node(peer));
        break;
    }
    if (control.len)
        h->on_message(h->ctx, peer, hl_buf_view(&control), hl_buf_view(&msg));
    while (hl_node_work(node))
        ;
    hl_buf_free(&control);
    hl_buf_free(&msg);
    hl_buf_free(&from);
    hl_buf_free(&name);
    return 0;
}
