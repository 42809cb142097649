/*
 * test_fix.c: cmocka tests of hl_fix.c, safe_fixtable's bookkeeping:
 * counts per process, the first fixation's time, release by false, by a
 * death, by a node's death, by deletion, and a rename.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_fix.h"
#include "hl_term.h"

#include <string.h>

static hl_buf bufs[16];
static size_t nbufs;

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nbufs; i++)
        hl_buf_free(&bufs[i]);
    nbufs = 0;
    return 0;
}

static hl_bytes atom(const char *s)
{
    hl_buf *b = &bufs[nbufs++];
    assert_int_equal(hl_term_put_atom(b, s, strlen(s)), HL_OK);
    return hl_buf_view(b);
}

/* A canonical pid (NEW_PID_EXT) on node `node`. */
static hl_bytes pid(const char *node, uint32_t id)
{
    hl_buf *b = &bufs[nbufs++];
    assert_int_equal(hl_buf_append_byte(b, HL_TAG_NEW_PID), HL_OK);
    assert_int_equal(hl_term_put_atom(b, node, strlen(node)), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, id), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 0), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 1), HL_OK);
    return hl_buf_view(b);
}

typedef struct {
    hl_bytes pids[4];
    uint64_t counts[4];
    size_t n;
} holders;

static int see(void *ctx, hl_bytes p, uint64_t count)
{
    holders *h = ctx;
    h->pids[h->n] = p;
    h->counts[h->n++] = count;
    return 0;
}

static holders of(hl_fix *f, hl_bytes tab, uint64_t *since)
{
    holders h = {{{0}}, {0}, 0};
    assert_int_equal(hl_fix_each(f, tab, since, see, &h), HL_OK);
    return h;
}

static void test_fix_counts_and_release(void **state)
{
    (void)state;
    hl_fix *f = hl_fix_new();
    hl_bytes t = atom("t"), u = atom("u"), a = pid("a@h", 1), b = pid("b@h", 2);
    uint64_t since;
    int first = 0;
    assert_false(hl_fix_fixed(f, t));
    assert_int_equal(hl_fix_set(f, t, a, 1, 100, &first), HL_OK);
    assert_true(first);
    assert_int_equal(hl_fix_set(f, t, a, 1, 200, &first), HL_OK);
    assert_false(first);
    assert_int_equal(hl_fix_set(f, t, b, 1, 300, &first), HL_OK);
    assert_true(first);
    assert_int_equal(hl_fix_set(f, u, a, 1, 400, &first), HL_OK);
    assert_false(first); /* a is watched already */
    holders h = of(f, t, &since);
    assert_int_equal(since, 100); /* the table's first fixation */
    assert_int_equal(h.n, 2);
    assert_true(hl_bytes_eq(h.pids[0], a) && h.counts[0] == 2);
    assert_true(hl_bytes_eq(h.pids[1], b) && h.counts[1] == 1);
    /* false by one who holds none changes nothing. */
    assert_int_equal(hl_fix_set(f, t, pid("c@h", 3), 0, 500, NULL), HL_OK);
    assert_int_equal(of(f, t, &since).n, 2);
    assert_int_equal(hl_fix_set(f, t, a, 0, 500, NULL), HL_OK);
    assert_int_equal(of(f, t, &since).counts[0], 1);
    hl_fix_pid_down(f, b);
    assert_int_equal(of(f, t, &since).n, 1);
    assert_int_equal(hl_fix_rename(f, t, atom("t2")), HL_OK);
    assert_false(hl_fix_fixed(f, t));
    assert_true(hl_fix_fixed(f, atom("t2")));
    hl_fix_node_down(f, atom("a@h"));
    assert_false(hl_fix_fixed(f, atom("t2")));
    assert_false(hl_fix_fixed(f, u));
    assert_int_equal(hl_fix_set(f, u, b, 1, 600, NULL), HL_OK);
    hl_fix_forget(f, u);
    assert_false(hl_fix_fixed(f, u));
    of(f, u, &since);
    assert_int_equal(since, 0);
    hl_fix_free(f);
    hl_fix_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fix_counts_and_release, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
