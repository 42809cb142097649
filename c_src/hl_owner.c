/*
 * hl_owner.c: the ownership state machine and access rules (see hl_owner.h).
 *
 * The one idea: every event reduces to "who is the owner now, who inherits,
 * and who must be told". Owner death (a pid, or a whole node) always goes
 * through hl_owner_inherit(), so PID_DOWN and NODE_DOWN cannot drift apart;
 * they differ only in how they decide which pids are dead.
 *
 * Nothing is copied: new state fields are views into the old state or the
 * event, exactly as the header promises, and *res is zeroed before anything
 * else so a caller never sees a field left over from a previous event.
 *
 * Decisions the header leaves open, taken here (docs/ownership.md lists them):
 *  - A pid heir known to be dead when it should inherit (it is the dying
 *    owner itself, or it sits on the node that went down) is dropped: the
 *    heir becomes the C node. Keeping it would promise the table, after the
 *    next claim, to a pid we already know is gone.
 *  - On a live-heir transfer the heir fields stay as they were (like ETS:
 *    the new owner is its own heir, so its own death leaves the C node
 *    holding the table).
 *  - {heir, none} deletion leaves the state untouched (changed == 0): the
 *    table, state included, is going away.
 *  - The C node (len 0) never dies: PID_DOWN or NODE_DOWN with an empty
 *    pid or node changes nothing, whoever holds the table.
 *  - GIVE_AWAY to the C node (empty target) is HL_EBADARG: ETS's give_away
 *    takes a pid, and a table reaches the C node only through death or
 *    restart. The C node may give away a table it holds (transfer_from is
 *    then empty, which hl_dm replaces with the C node's own pid).
 *  - SET_HEIR with heir == caller is allowed (ETS allows it). A pid heir
 *    with an empty pid or empty heir data, or an unknown heir kind, is
 *    HL_EBADARG: it could never produce a valid 'ETS-TRANSFER'.
 *  - CLAIM by the C node: ok when it already holds the table, HL_EOWNED
 *    when a pid owns it (the C node only takes tables through death).
 *  - An unknown event type is HL_EBADARG with the state untouched.
 *  - NEW takes over only what the C node holds: a live owner, even the
 *    caller itself, keeps ETS's already_exists. The call's heir option
 *    replaces the old heir (the caller asked for it, as ETS's new/2 would
 *    give it); a bad heir is refused before anything changes.
 *  - adopted is set in one place, hl_owner_apply, for every path from the
 *    C node's hold to a pid (CLAIM, NEW, the C node's own GIVE_AWAY), so no
 *    future event can take a held table without marking it.
 */
#include "hl_owner.h"

#include "hl_term.h"

#include <string.h>

static const hl_bytes hl_owner_none = {NULL, 0};

static int hl_owner_is_owner(const hl_own *s, hl_bytes who)
{
    /* hl_bytes_eq makes an empty caller the owner of a C-node-held table,
     * and a BEAM caller never the owner of it. */
    return hl_bytes_eq(s->owner, who);
}

static int hl_owner_heir_is(const hl_own *s, hl_bytes pid)
{
    return s->heir_kind == HL_HEIR_PID && hl_bytes_eq(s->heir, pid);
}

/* 1 when pid lives on node. A pid that does not parse is on no node: a
 * corrupt owner must not be inherited on someone else's node going down. */
static int hl_owner_on_node(hl_bytes pid, hl_bytes node)
{
    hl_bytes n;
    if (!pid.len || !node.len || hl_term_node_of(pid.data, pid.len, &n) != HL_OK)
        return 0;
    return hl_bytes_eq(n, node);
}

static void hl_owner_heir_to_cnode(hl_own *s)
{
    s->heir_kind = HL_HEIR_CNODE;
    s->heir = hl_owner_none;
    s->heir_data = hl_owner_none;
}

/* The owner is dead; heir_dead says whether a pid heir is dead too. */
static void hl_owner_inherit(hl_own *s, int heir_dead, hl_own_result *res)
{
    switch (s->heir_kind) {
    case HL_HEIR_PID:
        if (!heir_dead && s->heir.len) {
            res->transfer = 1;
            res->transfer_to = s->heir;
            res->transfer_from = s->owner;
            res->transfer_data = s->heir_data;
            s->owner = s->heir;
            break;
        }
        hl_owner_heir_to_cnode(s);
        s->owner = hl_owner_none;
        break;
    case HL_HEIR_CNODE:
        s->owner = hl_owner_none;
        break;
    default: /* HL_HEIR_NONE, and anything unknown: ETS deletes */
        res->delete_table = 1;
        return;
    }
    res->changed = 1;
}

static void hl_owner_claim(hl_own *s, hl_bytes caller, hl_own_result *res)
{
    if (hl_owner_is_owner(s, caller))
        return;
    if (s->owner.len) {
        res->err = HL_EOWNED;
        res->owned_by = s->owner;
        return;
    }
    s->owner = caller;
    res->changed = 1;
}

static void hl_owner_set_heir(hl_own *s, const hl_own_event *ev, hl_own_result *res);

static void hl_owner_new(hl_own *s, const hl_own_event *ev, hl_own_result *res)
{
    if (s->owner.len || !ev->caller.len) {
        res->err = HL_EEXISTS;
        res->owned_by = s->owner;
        return;
    }
    /* As the owner, the caller sets the heir exactly as setopts would. */
    hl_own next = *s;
    next.owner = ev->caller;
    hl_owner_set_heir(&next, ev, res);
    if (res->err)
        return;
    *s = next;
    res->changed = 1;
}

static void hl_owner_give_away(hl_own *s, const hl_own_event *ev, hl_own_result *res)
{
    if (!hl_owner_is_owner(s, ev->caller)) {
        res->err = HL_ENOTOWNER;
        return;
    }
    if (!ev->target.len || hl_bytes_eq(ev->target, s->owner) || !ev->target_alive) {
        res->err = HL_EBADARG;
        return;
    }
    res->transfer = 1;
    res->transfer_to = ev->target;
    res->transfer_from = ev->caller;
    res->transfer_data = ev->gift;
    s->owner = ev->target;
    res->changed = 1;
}

static void hl_owner_set_heir(hl_own *s, const hl_own_event *ev, hl_own_result *res)
{
    if (!hl_owner_is_owner(s, ev->caller)) {
        res->err = HL_ENOTOWNER;
        return;
    }
    switch (ev->heir_kind) {
    case HL_HEIR_NONE:
    case HL_HEIR_CNODE:
        res->changed = s->heir_kind != ev->heir_kind;
        s->heir_kind = ev->heir_kind;
        s->heir = hl_owner_none;
        s->heir_data = hl_owner_none;
        return;
    case HL_HEIR_PID:
        if (!ev->heir.len || !ev->heir_data.len)
            break;
        res->changed = s->heir_kind != HL_HEIR_PID || !hl_bytes_eq(s->heir, ev->heir) ||
                       !hl_bytes_eq(s->heir_data, ev->heir_data);
        s->heir_kind = HL_HEIR_PID;
        s->heir = ev->heir;
        s->heir_data = ev->heir_data;
        return;
    }
    res->err = HL_EBADARG;
}

static void hl_owner_pid_down(hl_own *s, hl_bytes pid, hl_own_result *res)
{
    if (!pid.len) /* also keeps an empty heir from matching */
        return;
    if (hl_owner_is_owner(s, pid)) {
        hl_owner_inherit(s, hl_owner_heir_is(s, pid), res);
    } else if (hl_owner_heir_is(s, pid)) {
        hl_owner_heir_to_cnode(s);
        res->changed = 1;
    }
}

static void hl_owner_node_down(hl_own *s, hl_bytes node, hl_own_result *res)
{
    int heir_dead = s->heir_kind == HL_HEIR_PID && hl_owner_on_node(s->heir, node);
    if (hl_owner_on_node(s->owner, node)) {
        hl_owner_inherit(s, heir_dead, res);
    } else if (heir_dead) {
        hl_owner_heir_to_cnode(s);
        res->changed = 1;
    }
}

static void hl_owner_restart(hl_own *s, hl_own_result *res)
{
    /* Pids from before the restart may be dead or reused; the heir is kept
     * because hl_dm re-checks it when the table next changes hands. */
    res->changed = s->owner.len != 0;
    s->owner = hl_owner_none;
}

void hl_owner_apply(hl_own *state, const hl_own_event *ev, hl_own_result *res)
{
    int was_held = state->owner.len == 0;
    memset(res, 0, sizeof *res);
    switch (ev->type) {
    case HL_OWN_CLAIM:
        hl_owner_claim(state, ev->caller, res);
        break;
    case HL_OWN_NEW:
        hl_owner_new(state, ev, res);
        break;
    case HL_OWN_GIVE_AWAY:
        hl_owner_give_away(state, ev, res);
        break;
    case HL_OWN_SET_HEIR:
        hl_owner_set_heir(state, ev, res);
        break;
    case HL_OWN_PID_DOWN:
        hl_owner_pid_down(state, ev->pid, res);
        break;
    case HL_OWN_NODE_DOWN:
        hl_owner_node_down(state, ev->node, res);
        break;
    case HL_OWN_RESTART:
        hl_owner_restart(state, res);
        break;
    default:
        res->err = HL_EBADARG;
        return;
    }
    if (was_held && state->owner.len) /* always with res->changed set */
        state->adopted = 1;
}

int hl_owner_may_read(const hl_own *state, hl_access access, hl_bytes caller)
{
    if (!caller.len)
        return 1;
    switch (access) {
    case HL_PUBLIC:
    case HL_PROTECTED:
        return 1;
    default: /* private, and any unknown mode: fail closed */
        return hl_owner_is_owner(state, caller);
    }
}

int hl_owner_may_write(const hl_own *state, hl_access access, hl_bytes caller)
{
    if (!caller.len || access == HL_PUBLIC)
        return 1;
    return hl_owner_is_owner(state, caller);
}
