/*
 * test_pidx.c: cmocka tests of the pid -> tables index (hl_pidx.h).
 *
 * Random links and unlinks among a few nodes' pids are mirrored in a plain
 * matrix; taking a pid or a whole node must hand out exactly the tables the
 * matrix holds for it, and leave nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hl_pidx.h"
#include "hl_term.h"

#define PIDS 60
#define TABS 80
#define NODES 3

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A canonical pid <node.i.0> with node "n<i % NODES>@h". */
static hl_bytes pid_of(size_t i, hl_buf *b)
{
    char node[8];
    b->len = 0;
    snprintf(node, sizeof node, "n%zu@h", i % NODES);
    assert_int_equal(hl_buf_append_byte(b, HL_TAG_NEW_PID), HL_OK);
    assert_int_equal(hl_term_put_atom(b, node, strlen(node)), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, (uint32_t)i), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 0), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 1), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes node_of(size_t n, hl_buf *b)
{
    char node[8];
    b->len = 0;
    snprintf(node, sizeof node, "n%zu@h", n);
    assert_int_equal(hl_term_put_atom(b, node, strlen(node)), HL_OK);
    return hl_buf_view(b);
}

static hl_bytes tab_of(size_t t, hl_buf *b)
{
    char name[16];
    b->len = 0;
    snprintf(name, sizeof name, "t%zu", t);
    assert_int_equal(hl_term_put_atom(b, name, strlen(name)), HL_OK);
    return hl_buf_view(b);
}

static char linked[PIDS][TABS];

typedef struct {
    char seen[PIDS][TABS];
    size_t count;
} taken;

/* Decode "t<number>" and the pid number back into matrix indices. */
static int on_take(void *ctx, hl_bytes pid, hl_bytes tab)
{
    taken *tk = ctx;
    char name[16];
    assert_int_equal(hl_term_get_atom(tab.data, tab.len, name, sizeof name), HL_OK);
    size_t t = (size_t)atoi(name + 1);
    size_t p = hl_get_u32(pid.data + pid.len - 12);
    assert_false(tk->seen[p][t]);
    tk->seen[p][t] = 1;
    tk->count++;
    return 0;
}

static void check_taken(const taken *tk, size_t pid_lo, size_t node, int whole_node)
{
    for (size_t p = 0; p < PIDS; p++) {
        int mine = whole_node ? p % NODES == node : p == pid_lo;
        for (size_t t = 0; t < TABS; t++) {
            assert_int_equal(tk->seen[p][t], mine && linked[p][t]);
            if (mine)
                linked[p][t] = 0;
        }
    }
}

static size_t model_links(void)
{
    size_t n = 0;
    for (size_t p = 0; p < PIDS; p++)
        for (size_t t = 0; t < TABS; t++)
            n += linked[p][t];
    return n;
}

static void test_pidx_random_against_model(void **state)
{
    (void)state;
    hl_pidx *x = hl_pidx_new();
    hl_buf pb = {0}, tb = {0}, nb = {0};
    assert_non_null(x);
    memset(linked, 0, sizeof linked);
    for (int op = 0; op < 50000; op++) {
        size_t p = next() % PIDS, t = next() % TABS;
        unsigned what = (unsigned)(next() % 100);
        if (what < 55) {
            assert_int_equal(hl_pidx_link(x, pid_of(p, &pb), tab_of(t, &tb)), HL_OK);
            linked[p][t] = 1;
        } else if (what < 90) {
            hl_pidx_unlink(x, pid_of(p, &pb), tab_of(t, &tb));
            linked[p][t] = 0;
        } else if (what < 98) {
            static taken tk;
            memset(&tk, 0, sizeof tk);
            hl_pidx_take(x, pid_of(p, &pb), on_take, &tk);
            check_taken(&tk, p, 0, 0);
        } else {
            static taken tk;
            memset(&tk, 0, sizeof tk);
            size_t n = next() % NODES;
            hl_pidx_take_node(x, node_of(n, &nb), on_take, &tk);
            check_taken(&tk, 0, n, 1);
        }
        assert_int_equal(hl_pidx_links(x), model_links());
    }
    hl_pidx_free(x);
    hl_buf_free(&pb);
    hl_buf_free(&tb);
    hl_buf_free(&nb);
}

static void test_pidx_link_twice_and_empty_lists_go(void **state)
{
    (void)state;
    hl_pidx *x = hl_pidx_new();
    hl_buf pb = {0}, tb = {0};
    assert_int_equal(hl_pidx_link(x, pid_of(1, &pb), tab_of(1, &tb)), HL_OK);
    assert_int_equal(hl_pidx_link(x, pid_of(1, &pb), tab_of(1, &tb)), HL_OK);
    assert_int_equal(hl_pidx_links(x), 1);
    assert_int_equal(hl_pidx_pids(x), 1);
    hl_pidx_unlink(x, pid_of(1, &pb), tab_of(1, &tb));
    hl_pidx_unlink(x, pid_of(1, &pb), tab_of(1, &tb));
    assert_int_equal(hl_pidx_links(x), 0);
    assert_int_equal(hl_pidx_pids(x), 0);
    hl_pidx_take(x, pid_of(2, &pb), NULL, NULL); /* unknown pid: nothing */
    hl_pidx_free(x);
    hl_pidx_free(NULL);
    hl_buf_free(&pb);
    hl_buf_free(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pidx_random_against_model),
        cmocka_unit_test(test_pidx_link_twice_and_empty_lists_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
