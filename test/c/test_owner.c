/*
 * test_owner.c: cmocka tests for the ownership state machine (hl_owner.h).
 *
 * Every test starts from a state built by hand, applies one event (or a
 * short story of events) and checks three things: the new state, the
 * actions in the result, and that views point at the bytes they should
 * (the pid that came in the event, or the heir stored in the old state),
 * since the caller persists the state by copying through those views.
 * The result is filled with garbage before each call, so a field the state
 * machine forgot to reset shows up as a failure.
 *
 * Pids are canonical NEW_PID_EXT terms on two nodes, a@127.0.0.1 and
 * b@127.0.0.1, so NODE_DOWN can tell them apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_owner.h"

#include <string.h>

typedef struct {
    unsigned char b[48];
    size_t len;
} t_term;

/* Canonical pid on node <c>@127.0.0.1: NEW_PID_EXT, node as
 * SMALL_ATOM_UTF8_EXT, then id, serial, creation (big-endian). */
static t_term t_pid(char c, uint32_t id)
{
    static const char host[] = "@127.0.0.1";
    t_term t = {{0}, 0};
    size_t n = 1 + sizeof host - 1;
    t.b[t.len++] = 88;
    t.b[t.len++] = 119;
    t.b[t.len++] = (unsigned char)n;
    t.b[t.len++] = (unsigned char)c;
    memcpy(t.b + t.len, host, sizeof host - 1);
    t.len += sizeof host - 1;
    hl_put_u32(t.b + t.len, id);
    hl_put_u32(t.b + t.len + 4, 0);
    hl_put_u32(t.b + t.len + 8, 1);
    t.len += 12;
    return t;
}

/* The node atom term of <c>@127.0.0.1, as NODE_DOWN receives it. */
static t_term t_node(char c)
{
    t_term p = t_pid(c, 0), t = {{0}, 0};
    t.len = (size_t)p.b[2] + 2;
    memcpy(t.b, p.b + 1, t.len);
    return t;
}

static t_term A1, A2, B1, B2, NODE_A, NODE_B, NODE_C, GIFT, HDATA, HDATA2;

static int t_setup(void **state)
{
    (void)state;
    A1 = t_pid('a', 1);
    A2 = t_pid('a', 2);
    B1 = t_pid('b', 1);
    B2 = t_pid('b', 2);
    NODE_A = t_node('a');
    NODE_B = t_node('b');
    NODE_C = t_node('c');
    GIFT = (t_term){{100, 0, 4, 'g', 'i', 'f', 't'}, 7}; /* ATOM_EXT 'gift' */
    HDATA = (t_term){{97, 42}, 2};                       /* 42 */
    HDATA2 = (t_term){{97, 7}, 2};                       /* 7 */
    return 0;
}

static hl_bytes V(const t_term *t)
{
    return (hl_bytes){t->b, t->len};
}

static const hl_bytes NONE = {NULL, 0};

/* A state owned by owner (NULL: the C node) with a pid heir (NULL: the C
 * node as heir). */
static hl_own t_state(const t_term *owner, const t_term *heir)
{
    hl_own s = {NONE, HL_HEIR_CNODE, NONE, NONE};
    if (owner)
        s.owner = V(owner);
    if (heir) {
        s.heir_kind = HL_HEIR_PID;
        s.heir = V(heir);
        s.heir_data = V(&HDATA);
    }
    return s;
}

static void t_apply(hl_own *s, const hl_own_event *ev, hl_own_result *res)
{
    memset(res, 0xA5, sizeof *res);
    hl_owner_apply(s, ev, res);
}

/* The view is exactly `want`: same bytes, same memory. */
static void t_assert_view(hl_bytes got, hl_bytes want)
{
    assert_int_equal(got.len, want.len);
    assert_ptr_equal(got.data, want.data);
}

static void t_assert_empty(hl_bytes got)
{
    t_assert_view(got, NONE);
}

/* No transfer, no delete, no owned_by, nothing left over. */
static void t_assert_result(const hl_own_result *res, int err, int changed)
{
    assert_int_equal(res->err, err);
    assert_int_equal(res->changed, changed);
    assert_int_equal(res->delete_table, 0);
    assert_int_equal(res->transfer, 0);
    t_assert_empty(res->transfer_to);
    t_assert_empty(res->transfer_from);
    t_assert_empty(res->transfer_data);
    if (err != HL_EOWNED)
        t_assert_empty(res->owned_by);
}

static void t_assert_transfer(const hl_own_result *res, hl_bytes to, hl_bytes from, hl_bytes data)
{
    assert_int_equal(res->err, HL_OK);
    assert_int_equal(res->changed, 1);
    assert_int_equal(res->delete_table, 0);
    assert_int_equal(res->transfer, 1);
    t_assert_empty(res->owned_by);
    t_assert_view(res->transfer_to, to);
    t_assert_view(res->transfer_from, from);
    t_assert_view(res->transfer_data, data);
}

static void t_assert_heir(const hl_own *s, hl_heir_kind kind, hl_bytes heir, hl_bytes data)
{
    assert_int_equal(s->heir_kind, kind);
    t_assert_view(s->heir, heir);
    t_assert_view(s->heir_data, data);
}

static hl_own_event t_claim(hl_bytes caller)
{
    return (hl_own_event){.type = HL_OWN_CLAIM, .caller = caller};
}

static hl_own_event t_give(hl_bytes caller, hl_bytes target, int alive)
{
    return (hl_own_event){.type = HL_OWN_GIVE_AWAY,
                          .caller = caller,
                          .target = target,
                          .target_alive = alive,
                          .gift = V(&GIFT)};
}

static hl_own_event t_set_heir(hl_bytes caller, hl_heir_kind kind, hl_bytes heir, hl_bytes data)
{
    return (hl_own_event){.type = HL_OWN_SET_HEIR,
                          .caller = caller,
                          .heir_kind = kind,
                          .heir = heir,
                          .heir_data = data};
}

static hl_own_event t_pid_down(hl_bytes pid)
{
    return (hl_own_event){.type = HL_OWN_PID_DOWN, .pid = pid};
}

static hl_own_event t_node_down(hl_bytes node)
{
    return (hl_own_event){.type = HL_OWN_NODE_DOWN, .node = node};
}

/* ---- CLAIM ---- */

static void test_owner_claim_while_cnode_holds_caller_owns(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, &B1);
    hl_own_event ev = t_claim(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_view(s.owner, ev.caller);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_claim_by_owner_again_is_ok_unchanged(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    t_term again = A1; /* equal bytes, other memory */
    hl_own_event ev = t_claim(V(&again));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_claim_while_another_owns_is_eowned(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_claim(V(&B1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EOWNED, 0);
    t_assert_view(res.owned_by, V(&A1));
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_claim_by_cnode_when_it_holds_is_noop(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, NULL);
    hl_own_event ev = t_claim(NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_empty(s.owner);
}

static void test_owner_claim_by_cnode_while_pid_owns_is_eowned(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_claim(NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EOWNED, 0);
    t_assert_view(res.owned_by, V(&A1));
}

/* ---- GIVE_AWAY ---- */

static void test_owner_give_away_moves_owner_and_transfers_gift(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B2);
    hl_own_event ev = t_give(V(&A1), V(&B1), 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_transfer(&res, ev.target, ev.caller, ev.gift);
    t_assert_view(s.owner, ev.target);
    t_assert_heir(&s, HL_HEIR_PID, V(&B2), V(&HDATA)); /* heir kept, like ETS */
}

static void test_owner_give_away_to_self_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_give(V(&A1), V(&A1), 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_give_away_to_dead_pid_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_give(V(&A1), V(&B1), 0);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_give_away_by_non_owner_is_enotowner(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    /* Ownership is checked first: a non-owner learns nothing about target. */
    hl_own_event ev = t_give(V(&B1), V(&A1), 0);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_ENOTOWNER, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_give_away_by_pid_while_cnode_holds_is_enotowner(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, NULL);
    hl_own_event ev = t_give(V(&A1), V(&B1), 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_ENOTOWNER, 0);
    t_assert_empty(s.owner);
}

static void test_owner_give_away_by_cnode_it_holds(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, NULL);
    hl_own_event ev = t_give(NONE, V(&B1), 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_transfer(&res, ev.target, NONE, ev.gift);
    t_assert_view(s.owner, ev.target);
}

static void test_owner_give_away_to_cnode_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_give(V(&A1), NONE, 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_give_away_to_heir_then_death_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_give(V(&A1), V(&B1), 1);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_transfer(&res, V(&B1), V(&A1), V(&GIFT));
    /* B1 is now owner and heir; its death leaves no live heir. */
    ev = t_pid_down(V(&B1));
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

/* ---- SET_HEIR ---- */

static void test_owner_set_heir_pid_replaces_heir(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&B2), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_PID, ev.heir, ev.heir_data);
}

static void test_owner_set_heir_same_data_new_pid_changes(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&B2), V(&HDATA));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_PID, ev.heir, ev.heir_data);
}

static void test_owner_set_heir_same_pid_new_data_changes(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&B1), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_PID, ev.heir, ev.heir_data);
}

static void test_owner_set_heir_same_value_is_unchanged(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    t_term b1 = B1, hd = HDATA;
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&b1), V(&hd));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    assert_true(hl_bytes_eq(s.heir, V(&B1)));

    ev = t_set_heir(V(&A1), HL_HEIR_CNODE, NONE, NONE);
    s = t_state(&A1, NULL);
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_set_heir_none_clears_heir(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    /* Stray heir bytes in the event must not leak into the state. */
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_NONE, V(&B2), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_NONE, NONE, NONE);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_set_heir_cnode_clears_heir(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_CNODE, V(&B2), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_set_heir_by_non_owner_is_enotowner(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&B2), HL_HEIR_NONE, NONE, NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_ENOTOWNER, 0);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_set_heir_by_pid_while_cnode_holds_is_enotowner(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, NULL);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&A1), V(&HDATA));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_ENOTOWNER, 0);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_set_heir_by_cnode_while_it_holds(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, NULL);
    hl_own_event ev = t_set_heir(NONE, HL_HEIR_PID, V(&B1), V(&HDATA));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_PID, ev.heir, ev.heir_data);
    t_assert_empty(s.owner);
}

static void test_owner_set_heir_to_caller_is_allowed(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&A1), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_heir(&s, HL_HEIR_PID, V(&A1), V(&HDATA2));
}

static void test_owner_set_heir_pid_without_pid_or_data_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_PID, NONE, V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));

    ev = t_set_heir(V(&A1), HL_HEIR_PID, V(&B2), NONE);
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_set_heir_unknown_kind_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), (hl_heir_kind)7, V(&B2), V(&HDATA2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

/* ---- PID_DOWN ---- */

static void test_owner_pid_down_owner_live_heir_inherits(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    t_term dead = A1; /* the event's own copy of the pid */
    hl_own_event ev = t_pid_down(V(&dead));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    /* From the dead owner as stored, with the stored heir data. */
    t_assert_transfer(&res, V(&B1), V(&A1), V(&HDATA));
    t_assert_view(s.owner, V(&B1));
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA)); /* heir kept, like ETS */
}

static void test_owner_pid_down_owner_heir_none_deletes(void **st)
{
    (void)st;
    hl_own s = {V(&A1), HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = t_pid_down(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    assert_int_equal(res.err, HL_OK);
    assert_int_equal(res.delete_table, 1);
    assert_int_equal(res.changed, 0);
    assert_int_equal(res.transfer, 0);
    t_assert_empty(res.transfer_to);
    t_assert_empty(res.transfer_from);
    t_assert_empty(res.transfer_data);
    t_assert_empty(res.owned_by);
    t_assert_view(s.owner, V(&A1)); /* untouched: the table is going away */
}

static void test_owner_pid_down_owner_heir_cnode_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, NULL);
    hl_own_event ev = t_pid_down(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_pid_down_owner_is_own_heir_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &A1);
    hl_own_event ev = t_pid_down(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE); /* the dead heir is dropped */
}

static void test_owner_pid_down_heir_first_then_owner_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_pid_down(V(&B1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);

    ev = t_pid_down(V(&A1));
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
}

static void test_owner_pid_down_heir_pid_without_bytes_cnode_holds(void **st)
{
    (void)st;
    /* A corrupt stored heir (kind pid, no pid) must not become an empty
     * owner with a transfer to nobody. */
    hl_own s = {V(&A1), HL_HEIR_PID, NONE, NONE};
    hl_own_event ev = t_pid_down(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_pid_down_unrelated_no_change(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_pid_down(V(&A2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_pid_down_heir_while_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, &B1);
    hl_own_event ev = t_pid_down(V(&B1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_pid_down_empty_pid_never_matches_cnode(void **st)
{
    (void)st;
    /* The C node holds a table with {heir, none}: an empty pid is not the
     * C node dying, and must not delete the table. */
    hl_own s = {NONE, HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = t_pid_down(NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    assert_int_equal(s.heir_kind, HL_HEIR_NONE);
}

static void test_owner_pid_down_chain_of_heirs(void **st)
{
    (void)st;
    /* ETS keeps the heir option after inheritance: the new owner is its own
     * heir, so when it dies too the C node holds the table. */
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_pid_down(V(&A1));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_transfer(&res, V(&B1), V(&A1), V(&HDATA));
    ev = t_pid_down(V(&B1));
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_set_heir_none_then_owner_death_deletes(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_set_heir(V(&A1), HL_HEIR_NONE, NONE, NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    ev = t_pid_down(V(&A1));
    t_apply(&s, &ev, &res);
    assert_int_equal(res.err, HL_OK);
    assert_int_equal(res.delete_table, 1);
    assert_int_equal(res.transfer, 0);
}

/* ---- NODE_DOWN ---- */

static void test_owner_node_down_owner_node_heir_elsewhere_inherits(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_node_down(V(&NODE_A));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_transfer(&res, V(&B1), V(&A1), V(&HDATA));
    t_assert_view(s.owner, V(&B1));
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_node_down_owner_and_heir_same_node_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &A2);
    hl_own_event ev = t_node_down(V(&NODE_A));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_node_down_heir_node_only_heir_becomes_cnode(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_node_down(V(&NODE_B));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_node_down_unrelated_node_no_change(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_node_down(V(&NODE_C));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_node_down_owner_heir_none_deletes(void **st)
{
    (void)st;
    hl_own s = {V(&A1), HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = t_node_down(V(&NODE_A));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    assert_int_equal(res.err, HL_OK);
    assert_int_equal(res.delete_table, 1);
    assert_int_equal(res.changed, 0);
    assert_int_equal(res.transfer, 0);
}

static void test_owner_node_down_owner_heir_cnode_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(&B1, NULL);
    hl_own_event ev = t_node_down(V(&NODE_B));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_CNODE, NONE, NONE);
}

static void test_owner_node_down_while_cnode_holds_no_change(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, &B1);
    hl_own_event ev = t_node_down(V(&NODE_A));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

static void test_owner_node_down_empty_node_no_change(void **st)
{
    (void)st;
    hl_own s = {NONE, HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = t_node_down(NONE);
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);

    s = (hl_own){V(&A1), HL_HEIR_NONE, NONE, NONE};
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_view(s.owner, V(&A1));
}

static void test_owner_node_down_malformed_owner_is_on_no_node(void **st)
{
    (void)st;
    t_term bad = {{97, 1}, 2}; /* an integer, not a pid */
    hl_own s = {V(&bad), HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = t_node_down(V(&NODE_A));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_view(s.owner, V(&bad));
}

/* ---- RESTART ---- */

static void test_owner_restart_with_owner_cnode_holds_heir_kept(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = {.type = HL_OWN_RESTART};
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_empty(s.owner);
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));

    /* A restarted server claims it back. */
    ev = t_claim(V(&A2));
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 1);
    t_assert_view(s.owner, V(&A2));
}

static void test_owner_restart_without_owner_is_unchanged(void **st)
{
    (void)st;
    hl_own s = {NONE, HL_HEIR_NONE, NONE, NONE};
    hl_own_event ev = {.type = HL_OWN_RESTART};
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_empty(s.owner);
    assert_int_equal(s.heir_kind, HL_HEIR_NONE); /* {heir, none} does not delete here */
}

/* ---- result hygiene, unknown events ---- */

static void test_owner_result_reset_between_calls(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = t_claim(V(&B2));
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EOWNED, 0);
    /* Reuse the same result without clearing it between events. */
    ev = t_give(V(&A1), V(&B2), 1);
    hl_owner_apply(&s, &ev, &res);
    t_assert_transfer(&res, V(&B2), V(&A1), V(&GIFT));
    ev = t_pid_down(V(&A2));
    hl_owner_apply(&s, &ev, &res);
    t_assert_result(&res, HL_OK, 0);
    t_assert_empty(res.owned_by);
}

static void test_owner_unknown_event_is_badarg(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    hl_own_event ev = {.type = (hl_own_event_type)99, .caller = V(&A1)};
    hl_own_result res;
    t_apply(&s, &ev, &res);
    t_assert_result(&res, HL_EBADARG, 0);
    t_assert_view(s.owner, V(&A1));
    t_assert_heir(&s, HL_HEIR_PID, V(&B1), V(&HDATA));
}

/* ---- access ---- */

static void test_owner_may_read_by_mode(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    t_term owner_copy = A1;
    assert_true(hl_owner_may_read(&s, HL_PRIVATE, V(&owner_copy)));
    assert_false(hl_owner_may_read(&s, HL_PRIVATE, V(&B1))); /* the heir is no owner */
    assert_true(hl_owner_may_read(&s, HL_PRIVATE, NONE));
    assert_true(hl_owner_may_read(&s, HL_PROTECTED, V(&B2)));
    assert_true(hl_owner_may_read(&s, HL_PUBLIC, V(&B2)));
    assert_false(hl_owner_may_read(&s, (hl_access)9, V(&B2))); /* unknown: closed */
}

static void test_owner_may_write_by_mode(void **st)
{
    (void)st;
    hl_own s = t_state(&A1, &B1);
    assert_true(hl_owner_may_write(&s, HL_PUBLIC, V(&B2)));
    assert_true(hl_owner_may_write(&s, HL_PROTECTED, V(&A1)));
    assert_false(hl_owner_may_write(&s, HL_PROTECTED, V(&B1)));
    assert_true(hl_owner_may_write(&s, HL_PRIVATE, V(&A1)));
    assert_false(hl_owner_may_write(&s, HL_PRIVATE, V(&B2)));
    assert_true(hl_owner_may_write(&s, HL_PRIVATE, NONE));
    assert_true(hl_owner_may_write(&s, HL_PROTECTED, NONE));
    assert_false(hl_owner_may_write(&s, (hl_access)9, V(&B2)));
}

static void test_owner_access_while_cnode_holds(void **st)
{
    (void)st;
    hl_own s = t_state(NULL, &B1);
    assert_false(hl_owner_may_read(&s, HL_PRIVATE, V(&A1)));
    assert_true(hl_owner_may_read(&s, HL_PROTECTED, V(&A1)));
    assert_false(hl_owner_may_write(&s, HL_PROTECTED, V(&A1)));
    assert_false(hl_owner_may_write(&s, HL_PRIVATE, V(&B1)));
    assert_true(hl_owner_may_write(&s, HL_PUBLIC, V(&A1)));
    assert_true(hl_owner_may_read(&s, HL_PRIVATE, NONE));
    assert_true(hl_owner_may_write(&s, HL_PRIVATE, NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner_claim_while_cnode_holds_caller_owns),
        cmocka_unit_test(test_owner_claim_by_owner_again_is_ok_unchanged),
        cmocka_unit_test(test_owner_claim_while_another_owns_is_eowned),
        cmocka_unit_test(test_owner_claim_by_cnode_when_it_holds_is_noop),
        cmocka_unit_test(test_owner_claim_by_cnode_while_pid_owns_is_eowned),
        cmocka_unit_test(test_owner_give_away_moves_owner_and_transfers_gift),
        cmocka_unit_test(test_owner_give_away_to_self_is_badarg),
        cmocka_unit_test(test_owner_give_away_to_dead_pid_is_badarg),
        cmocka_unit_test(test_owner_give_away_by_non_owner_is_enotowner),
        cmocka_unit_test(test_owner_give_away_by_pid_while_cnode_holds_is_enotowner),
        cmocka_unit_test(test_owner_give_away_by_cnode_it_holds),
        cmocka_unit_test(test_owner_give_away_to_cnode_is_badarg),
        cmocka_unit_test(test_owner_give_away_to_heir_then_death_cnode_holds),
        cmocka_unit_test(test_owner_set_heir_pid_replaces_heir),
        cmocka_unit_test(test_owner_set_heir_same_data_new_pid_changes),
        cmocka_unit_test(test_owner_set_heir_same_pid_new_data_changes),
        cmocka_unit_test(test_owner_set_heir_same_value_is_unchanged),
        cmocka_unit_test(test_owner_set_heir_none_clears_heir),
        cmocka_unit_test(test_owner_set_heir_cnode_clears_heir),
        cmocka_unit_test(test_owner_set_heir_by_non_owner_is_enotowner),
        cmocka_unit_test(test_owner_set_heir_by_pid_while_cnode_holds_is_enotowner),
        cmocka_unit_test(test_owner_set_heir_by_cnode_while_it_holds),
        cmocka_unit_test(test_owner_set_heir_to_caller_is_allowed),
        cmocka_unit_test(test_owner_set_heir_pid_without_pid_or_data_is_badarg),
        cmocka_unit_test(test_owner_set_heir_unknown_kind_is_badarg),
        cmocka_unit_test(test_owner_pid_down_owner_live_heir_inherits),
        cmocka_unit_test(test_owner_pid_down_owner_heir_none_deletes),
        cmocka_unit_test(test_owner_pid_down_owner_heir_cnode_cnode_holds),
        cmocka_unit_test(test_owner_pid_down_owner_is_own_heir_cnode_holds),
        cmocka_unit_test(test_owner_pid_down_heir_first_then_owner_cnode_holds),
        cmocka_unit_test(test_owner_pid_down_heir_pid_without_bytes_cnode_holds),
        cmocka_unit_test(test_owner_pid_down_unrelated_no_change),
        cmocka_unit_test(test_owner_pid_down_heir_while_cnode_holds),
        cmocka_unit_test(test_owner_pid_down_empty_pid_never_matches_cnode),
        cmocka_unit_test(test_owner_pid_down_chain_of_heirs),
        cmocka_unit_test(test_owner_set_heir_none_then_owner_death_deletes),
        cmocka_unit_test(test_owner_node_down_owner_node_heir_elsewhere_inherits),
        cmocka_unit_test(test_owner_node_down_owner_and_heir_same_node_cnode_holds),
        cmocka_unit_test(test_owner_node_down_heir_node_only_heir_becomes_cnode),
        cmocka_unit_test(test_owner_node_down_unrelated_node_no_change),
        cmocka_unit_test(test_owner_node_down_owner_heir_none_deletes),
        cmocka_unit_test(test_owner_node_down_owner_heir_cnode_cnode_holds),
        cmocka_unit_test(test_owner_node_down_while_cnode_holds_no_change),
        cmocka_unit_test(test_owner_node_down_empty_node_no_change),
        cmocka_unit_test(test_owner_node_down_malformed_owner_is_on_no_node),
        cmocka_unit_test(test_owner_restart_with_owner_cnode_holds_heir_kept),
        cmocka_unit_test(test_owner_restart_without_owner_is_unchanged),
        cmocka_unit_test(test_owner_result_reset_between_calls),
        cmocka_unit_test(test_owner_unknown_event_is_badarg),
        cmocka_unit_test(test_owner_may_read_by_mode),
        cmocka_unit_test(test_owner_may_write_by_mode),
        cmocka_unit_test(test_owner_access_while_cnode_holds),
    };
    return cmocka_run_group_tests(tests, t_setup, NULL);
}
