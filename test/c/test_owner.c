/*
 * test_owner.c: cmocka tests for the ownership state machine (hl_owner.h).
 *
 * Table-driven: a case is a start state and a short story of steps; a step
 * is one event and everything expected afterwards: the reply (err,
 * owned_by), the actions (changed, delete, transfer to/from/data) and the
 * whole new state. Every field is checked on every step, so a case says
 * what must not happen as well as what must.
 *
 * Terms live in numbered slots, each in its own memory, and expectations
 * name slots: a view is right only if it points at that slot (same bytes,
 * same memory), since the caller persists the state by copying through
 * those views. A1c, B1c and HDc are copies of A1, B1 and HD (equal bytes,
 * other memory): with them a case tells "the pid stored in the state" from
 * "the pid that came in the event". EQ(slot) accepts any memory with equal
 * bytes where the header leaves the choice open.
 *
 * The result is filled with garbage before each step (unless the step says
 * `reuse`), so a field the state machine forgot to reset shows up.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- terms ---- */

/* clang-format off */
enum {
    S_ = 0, /* no term: the C node, or an absent field */
    A1, A2, B1, B2, A1c, B1c, HDc, NA, NB, NC, GIFT, HD, HD2, BAD, NSLOTS
};
/* clang-format on */
#define EQ(slot) ((slot) | 0x80) /* equal bytes, any memory */

typedef struct {
    unsigned char b[48];
    size_t len;
} t_term;

static t_term T[NSLOTS];

/* Canonical pid on node <c>@127.0.0.1: NEW_PID_EXT, node as
 * SMALL_ATOM_UTF8_EXT, then id, serial, creation (big-endian). */
static t_term t_pid(char c, uint32_t id)
{
    static const char host[] = "@127.0.0.1";
    t_term t = {{0}, 0};
    t.b[t.len++] = 88;
    t.b[t.len++] = 119;
    t.b[t.len++] = (unsigned char)(sizeof host);
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

static int t_setup(void **state)
{
    (void)state;
    T[A1] = T[A1c] = t_pid('a', 1);
    T[A2] = t_pid('a', 2);
    T[B1] = T[B1c] = t_pid('b', 1);
    T[B2] = t_pid('b', 2);
    T[NA] = t_node('a');
    T[NB] = t_node('b');
    T[NC] = t_node('c');
    T[GIFT] = (t_term){{100, 0, 4, 'g', 'i', 'f', 't'}, 7}; /* ATOM_EXT 'gift' */
    T[HD] = T[HDc] = (t_term){{97, 42}, 2};                 /* 42 */
    T[HD2] = (t_term){{97, 7}, 2};                          /* 7 */
    T[BAD] = (t_term){{97, 1}, 2};                          /* an integer, not a pid */
    return 0;
}

static hl_bytes V(unsigned slot)
{
    slot &= 0x7f;
    return slot ? (hl_bytes){T[slot].b, T[slot].len} : (hl_bytes){NULL, 0};
}

/* ---- the table's vocabulary ---- */

typedef struct {
    unsigned char owner;
    hl_heir_kind kind;
    unsigned char heir, data;
    int adopted;
} t_state;

typedef struct {
    int on; /* 1 in every step that is used */
    hl_own_event_type type;
    unsigned char caller, target, alive, heir, data, pid, node;
    hl_heir_kind kind;
} t_event;

typedef struct {
    int err, changed, del;
    unsigned char owned_by, to, from, data; /* transfer expected iff to != S_ */
} t_expect;

typedef struct {
    t_event ev;
    t_expect want;
    t_state after;
    int reuse; /* do not refill the result with garbage before this step */
} t_step;

typedef struct {
    const char *name;
    t_state start;
    t_step steps[3]; /* the used ones first */
} t_case;

/* clang-format would spread these brace-initialiser macros over blocks. */
/* clang-format off */
#define ST(o, k, h, d) {o, HL_HEIR_##k, h, d, 0}
#define ADOPTED(o, k, h, d) {o, HL_HEIR_##k, h, d, 1}
#define CNODE_HEIR(o) ST(o, CNODE, S_, S_)
#define NO_HEIR(o) ST(o, NONE, S_, S_)

#define EV(t, ...) {.on = 1, .type = t, __VA_ARGS__}
#define CLAIM(c) EV(HL_OWN_CLAIM, .caller = c)
#define GIVE(c, t, alive_) EV(HL_OWN_GIVE_AWAY, .caller = c, .target = t, .alive = alive_)
#define SETH_K(c, k, h, d) EV(HL_OWN_SET_HEIR, .caller = c, .kind = k, .heir = h, .data = d)
#define SETH(c, k, h, d) SETH_K(c, HL_HEIR_##k, h, d)
#define NEW(c, k, h, d) EV(HL_OWN_NEW, .caller = c, .kind = HL_HEIR_##k, .heir = h, .data = d)
#define PDOWN(p) EV(HL_OWN_PID_DOWN, .pid = p)
#define NDOWN(n) EV(HL_OWN_NODE_DOWN, .node = n)
#define RESTART EV(HL_OWN_RESTART, .caller = S_)

#define STEP(e, w, a) {.ev = e, .want = w, .after = a}
#define AGAIN(e, w, a) {.ev = e, .want = w, .after = a, .reuse = 1} /* keep the last result */

#define OK(ch) {.changed = ch}
#define ERR(e) {.err = e}
#define OWNED(o) {.err = HL_EOWNED, .owned_by = o}
#define EXISTS(o) {.err = HL_EEXISTS, .owned_by = o}
#define XFER(t, f, d) {.changed = 1, .to = t, .from = f, .data = d}
#define DEL {.del = 1}
/* clang-format on */

/* ---- the cases ---- */

static const t_case cases[] = {
    /* CLAIM */
    {"claim_while_cnode_holds_caller_owns",
     ST(S_, PID, B1, HD),
     {STEP(CLAIM(A1), OK(1), ADOPTED(A1, PID, B1, HD))}},
    {"claim_by_owner_again_is_ok_unchanged",
     CNODE_HEIR(A1), /* equal bytes, other memory */
     {STEP(CLAIM(A1c), OK(0), CNODE_HEIR(A1))}},
    {"claim_while_another_owns_is_eowned",
     CNODE_HEIR(A1),
     {STEP(CLAIM(B1), OWNED(A1), CNODE_HEIR(A1))}},
    {"claim_by_cnode_when_it_holds_is_noop",
     CNODE_HEIR(S_),
     {STEP(CLAIM(S_), OK(0), CNODE_HEIR(S_))}},
    {"claim_by_cnode_while_pid_owns_is_eowned",
     CNODE_HEIR(A1),
     {STEP(CLAIM(S_), OWNED(A1), CNODE_HEIR(A1))}},

    /* NEW on an existing name: only a table the C node holds is taken over,
     * with the call's heir; adopted from then on, through deaths and hands. */
    {"new_while_cnode_holds_takes_over_with_its_heir",
     ST(S_, PID, B1, HD),
     {STEP(NEW(A1, PID, A1, HD2), OK(1), ADOPTED(A1, PID, A1, HD2))}},
    {"new_while_cnode_holds_heir_cnode",
     ST(S_, PID, B1, HD),
     {STEP(NEW(A1, CNODE, B2, HD2), OK(1), ADOPTED(A1, CNODE, S_, S_))}},
    {"new_while_cnode_holds_heir_none",
     CNODE_HEIR(S_),
     {STEP(NEW(A1, NONE, S_, S_), OK(1), ADOPTED(A1, NONE, S_, S_))}},
    {"new_while_pid_owns_is_eexists",
     CNODE_HEIR(A1),
     {STEP(NEW(B1, CNODE, S_, S_), EXISTS(A1), CNODE_HEIR(A1))}},
    {"new_by_the_owner_itself_is_eexists",
     ST(A1, PID, B1, HD),
     {STEP(NEW(A1c, PID, A1c, HD2), EXISTS(A1), ST(A1, PID, B1, HD))}},
    {"new_by_cnode_is_eexists",
     CNODE_HEIR(S_),
     {STEP(NEW(S_, CNODE, S_, S_), EXISTS(S_), CNODE_HEIR(S_))}},
    {"new_with_pid_heir_without_data_is_badarg_untouched",
     ST(S_, PID, B1, HD),
     {STEP(NEW(A1, PID, A1, S_), ERR(HL_EBADARG), ST(S_, PID, B1, HD))}},
    /* The seed's DataMaster: its own heir, killed with its Server, started
     * again; then the restarted C node and a claim. */
    {"new_data_master_lifecycle",
     ST(A1, PID, A1, HD),
     {STEP(PDOWN(A1), OK(1), CNODE_HEIR(S_)),
      STEP(NEW(A2, PID, A2, HD2), OK(1), ADOPTED(A2, PID, A2, HD2)),
      STEP(GIVE(A2, B1, 1), XFER(B1, A2, GIFT), ADOPTED(B1, PID, A2, HD2))}},
    {"adopted_kept_through_inheritance_restart_and_claim",
     ADOPTED(A1, PID, B1, HD),
     {STEP(PDOWN(A1), XFER(B1, A1, HD), ADOPTED(B1, PID, B1, HD)),
      STEP(RESTART, OK(1), ADOPTED(S_, PID, B1, HD)),
      STEP(CLAIM(B2), OK(1), ADOPTED(B2, PID, B1, HD))}},

    /* GIVE_AWAY (the heir is kept, like ETS) */
    {"give_away_moves_owner_and_transfers_gift",
     ST(A1, PID, B2, HD),
     {STEP(GIVE(A1, B1, 1), XFER(B1, A1, GIFT), ST(B1, PID, B2, HD))}},
    {"give_away_to_self_is_badarg",
     CNODE_HEIR(A1),
     {STEP(GIVE(A1, A1, 1), ERR(HL_EBADARG), CNODE_HEIR(A1))}},
    {"give_away_to_dead_pid_is_badarg",
     CNODE_HEIR(A1),
     {STEP(GIVE(A1, B1, 0), ERR(HL_EBADARG), CNODE_HEIR(A1))}},
    /* Ownership is checked first: a non-owner learns nothing about target. */
    {"give_away_by_non_owner_is_enotowner",
     CNODE_HEIR(A1),
     {STEP(GIVE(B1, A1, 0), ERR(HL_ENOTOWNER), CNODE_HEIR(A1))}},
    {"give_away_by_pid_while_cnode_holds_is_enotowner",
     CNODE_HEIR(S_),
     {STEP(GIVE(A1, B1, 1), ERR(HL_ENOTOWNER), CNODE_HEIR(S_))}},
    {"give_away_by_cnode_it_holds",
     CNODE_HEIR(S_),
     {STEP(GIVE(S_, B1, 1), XFER(B1, S_, GIFT), ADOPTED(B1, CNODE, S_, S_))}},
    {"give_away_to_cnode_is_badarg",
     CNODE_HEIR(A1),
     {STEP(GIVE(A1, S_, 1), ERR(HL_EBADARG), CNODE_HEIR(A1))}},
    /* B1 becomes owner and heir; its death leaves no live heir. */
    {"give_away_to_heir_then_death_cnode_holds",
     ST(A1, PID, B1, HD),
     {STEP(GIVE(A1, B1, 1), XFER(B1, A1, GIFT), ST(B1, PID, B1, HD)),
      STEP(PDOWN(B1), OK(1), CNODE_HEIR(S_))}},

    /* SET_HEIR */
    {"set_heir_pid_replaces_heir",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, PID, B2, HD2), OK(1), ST(A1, PID, B2, HD2))}},
    {"set_heir_same_data_new_pid_changes",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, PID, B2, HD), OK(1), ST(A1, PID, B2, HD))}},
    {"set_heir_same_pid_new_data_changes",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, PID, B1, HD2), OK(1), ST(A1, PID, B1, HD2))}},
    {"set_heir_same_value_is_unchanged",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, PID, B1c, HDc), OK(0), ST(A1, PID, EQ(B1), EQ(HD)))}},
    {"set_heir_same_value_is_unchanged (cnode)",
     CNODE_HEIR(A1),
     {STEP(SETH(A1, CNODE, S_, S_), OK(0), CNODE_HEIR(A1))}},
    /* Stray heir bytes in the event must not leak into the state. */
    {"set_heir_none_clears_heir",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, NONE, B2, HD2), OK(1), NO_HEIR(A1))}},
    {"set_heir_cnode_clears_heir",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, CNODE, B2, HD2), OK(1), CNODE_HEIR(A1))}},
    {"set_heir_by_non_owner_is_enotowner",
     ST(A1, PID, B1, HD),
     {STEP(SETH(B2, NONE, S_, S_), ERR(HL_ENOTOWNER), ST(A1, PID, B1, HD))}},
    {"set_heir_by_pid_while_cnode_holds_is_enotowner",
     CNODE_HEIR(S_),
     {STEP(SETH(A1, PID, A1, HD), ERR(HL_ENOTOWNER), CNODE_HEIR(S_))}},
    {"set_heir_by_cnode_while_it_holds",
     CNODE_HEIR(S_),
     {STEP(SETH(S_, PID, B1, HD), OK(1), ST(S_, PID, B1, HD))}},
    {"set_heir_to_caller_is_allowed",
     CNODE_HEIR(A1),
     {STEP(SETH(A1, PID, A1, HD2), OK(1), ST(A1, PID, A1, HD2))}},
    {"set_heir_pid_without_pid_or_data_is_badarg",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, PID, S_, HD2), ERR(HL_EBADARG), ST(A1, PID, B1, HD)),
      STEP(SETH(A1, PID, B2, S_), ERR(HL_EBADARG), ST(A1, PID, B1, HD))}},
    {"set_heir_unknown_kind_is_badarg",
     ST(A1, PID, B1, HD),
     {STEP(SETH_K(A1, (hl_heir_kind)7, B2, HD2), ERR(HL_EBADARG), ST(A1, PID, B1, HD))}},

    /* PID_DOWN: the transfer is from the dead owner as stored, with the
     * stored heir data, and the heir is kept (like ETS). */
    {"pid_down_owner_live_heir_inherits",
     ST(A1, PID, B1, HD),
     {STEP(PDOWN(A1c), XFER(B1, A1, HD), ST(B1, PID, B1, HD))}},
    /* Untouched: the table is going away. */
    {"pid_down_owner_heir_none_deletes", NO_HEIR(A1), {STEP(PDOWN(A1), DEL, NO_HEIR(A1))}},
    {"pid_down_owner_heir_cnode_cnode_holds",
     CNODE_HEIR(A1),
     {STEP(PDOWN(A1), OK(1), CNODE_HEIR(S_))}},
    /* The dead heir is dropped. */
    {"pid_down_owner_is_own_heir_cnode_holds",
     ST(A1, PID, A1, HD),
     {STEP(PDOWN(A1), OK(1), CNODE_HEIR(S_))}},
    {"pid_down_heir_first_then_owner_cnode_holds",
     ST(A1, PID, B1, HD),
     {STEP(PDOWN(B1), OK(1), CNODE_HEIR(A1)), STEP(PDOWN(A1), OK(1), CNODE_HEIR(S_))}},
    /* A corrupt stored heir (kind pid, no pid) must not become an empty
     * owner with a transfer to nobody. */
    {"pid_down_heir_pid_without_bytes_cnode_holds",
     ST(A1, PID, S_, S_),
     {STEP(PDOWN(A1), OK(1), CNODE_HEIR(S_))}},
    {"pid_down_unrelated_no_change",
     ST(A1, PID, B1, HD),
     {STEP(PDOWN(A2), OK(0), ST(A1, PID, B1, HD))}},
    {"pid_down_heir_while_cnode_holds",
     ST(S_, PID, B1, HD),
     {STEP(PDOWN(B1), OK(1), CNODE_HEIR(S_))}},
    /* The C node holds a {heir, none} table: an empty pid is not the C
     * node dying, and must not delete the table. */
    {"pid_down_empty_pid_never_matches_cnode", NO_HEIR(S_), {STEP(PDOWN(S_), OK(0), NO_HEIR(S_))}},
    /* ETS keeps the heir option after inheritance: the new owner is its own
     * heir, so when it dies too the C node holds the table. */
    {"pid_down_chain_of_heirs",
     ST(A1, PID, B1, HD),
     {STEP(PDOWN(A1), XFER(B1, A1, HD), ST(B1, PID, B1, HD)),
      STEP(PDOWN(B1), OK(1), CNODE_HEIR(S_))}},
    {"set_heir_none_then_owner_death_deletes",
     ST(A1, PID, B1, HD),
     {STEP(SETH(A1, NONE, S_, S_), OK(1), NO_HEIR(A1)), STEP(PDOWN(A1), DEL, NO_HEIR(A1))}},

    /* NODE_DOWN */
    {"node_down_owner_node_heir_elsewhere_inherits",
     ST(A1, PID, B1, HD),
     {STEP(NDOWN(NA), XFER(B1, A1, HD), ST(B1, PID, B1, HD))}},
    {"node_down_owner_and_heir_same_node_cnode_holds",
     ST(A1, PID, A2, HD),
     {STEP(NDOWN(NA), OK(1), CNODE_HEIR(S_))}},
    {"node_down_heir_node_only_heir_becomes_cnode",
     ST(A1, PID, B1, HD),
     {STEP(NDOWN(NB), OK(1), CNODE_HEIR(A1))}},
    {"node_down_unrelated_node_no_change",
     ST(A1, PID, B1, HD),
     {STEP(NDOWN(NC), OK(0), ST(A1, PID, B1, HD))}},
    {"node_down_owner_heir_none_deletes", NO_HEIR(A1), {STEP(NDOWN(NA), DEL, NO_HEIR(A1))}},
    {"node_down_owner_heir_cnode_cnode_holds",
     CNODE_HEIR(B1),
     {STEP(NDOWN(NB), OK(1), CNODE_HEIR(S_))}},
    {"node_down_while_cnode_holds_no_change",
     ST(S_, PID, B1, HD),
     {STEP(NDOWN(NA), OK(0), ST(S_, PID, B1, HD))}},
    {"node_down_empty_node_no_change", NO_HEIR(S_), {STEP(NDOWN(S_), OK(0), NO_HEIR(S_))}},
    {"node_down_empty_node_no_change (pid owner)",
     NO_HEIR(A1),
     {STEP(NDOWN(S_), OK(0), NO_HEIR(A1))}},
    {"node_down_malformed_owner_is_on_no_node",
     NO_HEIR(BAD),
     {STEP(NDOWN(NA), OK(0), NO_HEIR(BAD))}},

    /* RESTART: a restarted server claims the table back. {heir, none} does
     * not delete here. */
    {"restart_with_owner_cnode_holds_heir_kept",
     ST(A1, PID, B1, HD),
     {STEP(RESTART, OK(1), ST(S_, PID, B1, HD)), STEP(CLAIM(A2), OK(1), ADOPTED(A2, PID, B1, HD))}},
    {"restart_without_owner_is_unchanged", NO_HEIR(S_), {STEP(RESTART, OK(0), NO_HEIR(S_))}},

    /* Result hygiene: the same result reused without clearing between
     * events; unknown events. */
    {"result_reset_between_calls",
     ST(A1, PID, B1, HD),
     {STEP(CLAIM(B2), OWNED(A1), ST(A1, PID, B1, HD)),
      AGAIN(GIVE(A1, B2, 1), XFER(B2, A1, GIFT), ST(B2, PID, B1, HD)),
      AGAIN(PDOWN(A2), OK(0), ST(B2, PID, B1, HD))}},
    {"unknown_event_is_badarg",
     ST(A1, PID, B1, HD),
     {STEP(EV((hl_own_event_type)99, .caller = A1), ERR(HL_EBADARG), ST(A1, PID, B1, HD))}},
};

/* ---- running a case ---- */

/* For failure messages: which step of a case, or which row of a table. */
static const char *t_unit = "step";
static size_t t_step_no;

static void t_int(const char *what, int got, int want)
{
    if (got == want)
        return;
    print_error("%s %zu: %s is %d, want %d\n", t_unit, t_step_no, what, got, want);
    fail();
}

/* The view is the slot's term: same memory (EQ: same bytes), same length. */
static void t_view(const char *what, hl_bytes got, unsigned want)
{
    hl_bytes w = V(want);
    if (got.len == w.len &&
        ((want & 0x80) ? (!w.len || !memcmp(got.data, w.data, w.len)) : got.data == w.data))
        return;
    print_error("%s %zu: %s is %zu bytes at %p, want slot %u (%zu bytes at %p)\n", t_unit,
                t_step_no, what, got.len, (const void *)got.data, want & 0x7f, w.len,
                (const void *)w.data);
    fail();
}

static void t_check(const hl_own_result *res, const t_expect *w, const hl_own *s, const t_state *ws)
{
    t_int("err", res->err, w->err);
    t_int("changed", res->changed, w->changed);
    t_int("delete_table", res->delete_table, w->del);
    t_int("transfer", res->transfer, w->to != S_);
    t_view("owned_by", res->owned_by, w->owned_by);
    t_view("transfer_to", res->transfer_to, w->to);
    t_view("transfer_from", res->transfer_from, w->from);
    t_view("transfer_data", res->transfer_data, w->data);
    t_view("owner", s->owner, ws->owner);
    t_int("heir_kind", (int)s->heir_kind, (int)ws->kind);
    t_view("heir", s->heir, ws->heir);
    t_view("heir_data", s->heir_data, ws->data);
    t_int("adopted", s->adopted, ws->adopted);
}

static hl_own_event t_make_event(const t_event *e)
{
    return (hl_own_event){.type = e->type,
                          .caller = V(e->caller),
                          .target = V(e->target),
                          .target_alive = e->alive,
                          .gift = V(e->type == HL_OWN_GIVE_AWAY ? GIFT : S_),
                          .heir_kind = e->kind,
                          .heir = V(e->heir),
                          .heir_data = V(e->data),
                          .pid = V(e->pid),
                          .node = V(e->node)};
}

static void t_run_case(void **state)
{
    const t_case *c = *state;
    hl_own s = {V(c->start.owner), c->start.kind, V(c->start.heir), V(c->start.data),
                c->start.adopted};
    hl_own_result res;
    for (size_t i = 0; i < sizeof c->steps / sizeof c->steps[0] && c->steps[i].ev.on; i++) {
        const t_step *st = &c->steps[i];
        hl_own_event ev = t_make_event(&st->ev);
        t_unit = "step";
        t_step_no = i + 1;
        if (!st->reuse)
            memset(&res, 0xA5, sizeof res);
        hl_owner_apply(&s, &ev, &res);
        t_check(&res, &st->want, &s, &st->after);
    }
}

/* ---- access rules: who may read and write, by mode ---- */

typedef struct {
    const char *group;
    unsigned char owner, heir;
    hl_access access;
    unsigned char caller;
    int read, write;
} t_access;

static const t_access access_rows[] = {
    /* The heir is no owner; the C node (S_) may do anything; an unknown
     * mode is closed. */
    {"may_read_by_mode", A1, B1, HL_PRIVATE, A1c, 1, 1},
    {"may_read_by_mode", A1, B1, HL_PRIVATE, B1, 0, 0},
    {"may_read_by_mode", A1, B1, HL_PRIVATE, S_, 1, 1},
    {"may_read_by_mode", A1, B1, HL_PROTECTED, B2, 1, 0},
    {"may_read_by_mode", A1, B1, HL_PUBLIC, B2, 1, 1},
    {"may_read_by_mode", A1, B1, (hl_access)9, B2, 0, 0},
    {"may_write_by_mode", A1, B1, HL_PROTECTED, A1, 1, 1},
    {"may_write_by_mode", A1, B1, HL_PROTECTED, B1, 1, 0},
    {"may_write_by_mode", A1, B1, HL_PRIVATE, A1, 1, 1},
    {"may_write_by_mode", A1, B1, HL_PRIVATE, B2, 0, 0},
    {"may_write_by_mode", A1, B1, HL_PROTECTED, S_, 1, 1},
    {"access_while_cnode_holds", S_, B1, HL_PRIVATE, A1, 0, 0},
    {"access_while_cnode_holds", S_, B1, HL_PROTECTED, A1, 1, 0},
    {"access_while_cnode_holds", S_, B1, HL_PRIVATE, B1, 0, 0},
    {"access_while_cnode_holds", S_, B1, HL_PUBLIC, A1, 1, 1},
    {"access_while_cnode_holds", S_, B1, HL_PRIVATE, S_, 1, 1},
};

static void t_run_access(void **state)
{
    const char *group = *state;
    for (size_t i = 0; i < sizeof access_rows / sizeof access_rows[0]; i++) {
        const t_access *r = &access_rows[i];
        if (strcmp(r->group, group))
            continue;
        hl_own s = {V(r->owner), HL_HEIR_PID, V(r->heir), V(HD), 0};
        t_unit = "access_rows";
        t_step_no = i;
        t_int("may_read", hl_owner_may_read(&s, r->access, V(r->caller)), r->read);
        t_int("may_write", hl_owner_may_write(&s, r->access, V(r->caller)), r->write);
    }
}

#define NCASES (sizeof cases / sizeof cases[0])

int main(void)
{
    static const char *groups[] = {"may_read_by_mode", "may_write_by_mode",
                                   "access_while_cnode_holds"};
    static struct CMUnitTest tests[NCASES + sizeof groups / sizeof groups[0]];
    size_t n = 0;
    for (size_t i = 0; i < NCASES; i++)
        tests[n++] = (struct CMUnitTest){cases[i].name, t_run_case, NULL, NULL, (void *)&cases[i]};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        tests[n++] = (struct CMUnitTest){groups[i], t_run_access, NULL, NULL, (void *)groups[i]};
    if (getenv("HL_TEST_FILTER")) /* one case by name: HL_TEST_FILTER='new_*' */
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    return _cmocka_run_group_tests("test_owner", tests, n, t_setup, NULL);
}
