/*
 * hl_owner.h: the ownership state machine (the DataMaster role) and access
 * rules. Pure: no I/O, no globals, no allocation.
 *
 * Every table has an owner (a BEAM pid, or the C node itself when owner.len
 * is 0), an heir (none, the C node, or a pid with heir data), an access
 * mode and an `adopted` mark. Events come in (claim, new on an existing
 * name, give_away, set heir, a pid or a whole node going down, C node
 * restart); the new state and the actions to take come out (reply error,
 * send 'ETS-TRANSFER', delete the table). The caller carries the actions out
 * and persists the new state.
 *
 * Pids are canonical pid terms (hl_term.h), compared as bytes. Views in the
 * resulting state point into the previous state or into the event, so the
 * caller must persist (copy) the state before releasing either.
 *
 * Differences from ETS, on purpose:
 *  - the C node is the default heir: when an owner dies and no live pid heir
 *    takes over, the C node holds the table until a process claims it;
 *  - a pid heir that is dead when it should inherit does not cause deletion:
 *    the C node holds the table instead. Only {heir, none} deletes;
 *  - new/2 on the name of a table the C node holds takes it over, rows and
 *    all, instead of failing with already_exists (NEW below).
 */
#ifndef HL_OWNER_H
#define HL_OWNER_H

#include "hl_common.h"

typedef enum { HL_HEIR_NONE = 0, HL_HEIR_CNODE = 1, HL_HEIR_PID = 2 } hl_heir_kind;
typedef enum { HL_PROTECTED = 0, HL_PUBLIC = 1, HL_PRIVATE = 2 } hl_access;

typedef struct {
    hl_bytes owner; /* canonical pid; len 0: held by the C node */
    hl_heir_kind heir_kind;
    hl_bytes heir;      /* canonical pid when heir_kind == HL_HEIR_PID */
    hl_bytes heir_data; /* canonical term when heir_kind == HL_HEIR_PID */
    /* 1 once a process took the table from the C node's hold (claim, new,
     * or a give_away by the C node): its rows outlived a previous owner.
     * 0 for a table as created; passing between processes (give_away,
     * inheritance) keeps it. */
    int adopted;
} hl_own;

typedef enum {
    HL_OWN_CLAIM,     /* caller wants to own an existing table */
    HL_OWN_NEW,       /* caller ran new/2 with the name of an existing table */
    HL_OWN_GIVE_AWAY, /* caller gives the table to target (with gift) */
    HL_OWN_SET_HEIR,  /* caller sets heir_kind/heir/heir_data */
    HL_OWN_PID_DOWN,  /* pid is dead */
    HL_OWN_NODE_DOWN, /* every pid on node is dead */
    HL_OWN_RESTART    /* the C node restarted: old owner pids are not trusted */
} hl_own_event_type;

typedef struct {
    hl_own_event_type type;
    hl_bytes caller;        /* CLAIM, NEW, GIVE_AWAY, SET_HEIR */
    hl_bytes target;        /* GIVE_AWAY */
    int target_alive;       /* GIVE_AWAY: the target was probed alive */
    hl_bytes gift;          /* GIVE_AWAY */
    hl_heir_kind heir_kind; /* SET_HEIR, NEW (the heir option of the call) */
    hl_bytes heir;          /* SET_HEIR, NEW */
    hl_bytes heir_data;     /* SET_HEIR, NEW */
    hl_bytes pid;           /* PID_DOWN */
    hl_bytes node;          /* NODE_DOWN: the node's canonical atom term */
} hl_own_event;

typedef struct {
    int err;           /* HL_OK, or the reason to reply to the caller */
    hl_bytes owned_by; /* with HL_EOWNED, and HL_EEXISTS from NEW: the owner */
    int changed;       /* the state was changed and must be persisted */
    int delete_table;  /* the table must be deleted ({heir, none}) */
    int transfer;      /* send {'ETS-TRANSFER', Tab, from, data} to `to` */
    hl_bytes transfer_to;
    hl_bytes transfer_from; /* len 0: the C node's own pid */
    hl_bytes transfer_data;
} hl_own_result;

/*
 * Apply one event to state (updated in place) and describe the actions in
 * *res (fully overwritten). Never fails by itself: refusals are res->err.
 *
 *  CLAIM      owner empty -> caller owns (changed); caller already owner -> ok;
 *             other owner -> HL_EOWNED with owned_by.
 *  NEW        owner empty and caller a pid -> caller owns, heir fields set
 *             from the event as SET_HEIR would (HL_EBADARG, state untouched,
 *             for a heir SET_HEIR refuses); any owner, the caller included,
 *             or the C node calling -> HL_EEXISTS with owned_by = owner (ETS's
 *             already_exists; the caller may probe a pid owner that might
 *             have died a moment ago). Type, keypos and access are not
 *             ownership: the caller checks and applies them.
 *  GIVE_AWAY  caller not owner -> HL_ENOTOWNER; target == owner or not alive
 *             -> HL_EBADARG; else owner = target, transfer to target from
 *             caller with gift.
 *  SET_HEIR   caller not owner -> HL_ENOTOWNER; else heir fields replaced.
 *  PID_DOWN   pid is owner -> inherit (below); pid is (only) heir -> heir
 *             becomes the C node.
 *  NODE_DOWN  as PID_DOWN for the owner and heir pids on that node.
 *  RESTART    owner becomes empty (the C node holds).
 * Any event that moves the owner from empty to a pid sets adopted.
 * Inherit: heir none -> delete_table; heir C node, or a pid heir that is the
 * dead owner or also dead -> owner empty; live pid heir -> owner = heir and
 * transfer to heir from the dead owner with heir_data.
 */
void hl_owner_apply(hl_own *state, const hl_own_event *ev, hl_own_result *res);

/* Access rules on rows. caller.len == 0 is the C node itself (always allowed).
 * Reads: private tables only for the owner. Writes: public for everyone,
 * protected and private only for the owner. */
int hl_owner_may_read(const hl_own *state, hl_access access, hl_bytes caller);
int hl_owner_may_write(const hl_own *state, hl_access access, hl_bytes caller);

#endif
