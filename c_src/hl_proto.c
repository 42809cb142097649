/*
 * hl_proto.c: request dispatch (see hl_proto.h).
 *
 * A request {Verb, A1, ..., An} is looked up by (Verb, n) in one table of
 * handlers. A handler returns HL_OK with its reply appended, a negative
 * hl_err (turned into {error, Reason} here, in one place), or
 * PROBE (private: the pid to probe is in r->probe). Arguments are canonicalised into a per-request
 * arena.
 */
#include "hl_proto.h"

#include "hl_proto_args.h"
#include "hl_proto_info.h"
#include "hl_proto_rows.h"
#include "hl_proto_select.h"
#include "hl_table.h"
#include "hl_term.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A handler's answer "probe first": never leaves this file. */
#define PROBE 1

typedef struct {
    hl_proto *p;
    hl_bytes caller;
    hl_bytes args[4];
    size_t nargs;
    const hl_liveness *known;
    hl_buf *reply;
    hl_buf *probe;
    hl_args arena;
    hl_bytes owned_by; /* set with HL_EOWNED */
    hl_buf detail;     /* with HL_ETYPE, HL_EKEYPOS: the table's own value */
} req;

static int put_atom(hl_buf *b, const char *s)
{
    return hl_term_put_atom(b, s, strlen(s));
}

static int put_bool(hl_buf *b, int v)
{
    return put_atom(b, v ? "true" : "false");
}

static int put_bytes(hl_buf *b, hl_bytes t)
{
    return hl_buf_append(b, t.data, t.len);
}

static int h_ping(req *r)
{
    return put_atom(r->reply, "pong");
}

static int want_probe(req *r, hl_bytes pid);

/* A probe found pid dead before its monitor's message arrived: hand table
 * tab on now (the request cannot wait for the queue), and queue the rest of
 * the dead pid's tables. HL_OK or the store's error. */
static int apply_death(req *r, hl_bytes tab, hl_bytes pid)
{
    hl_buf dead = {0}; /* a copy: pid may view memory the event reuses */
    hl_own_result res;
    int rc = hl_buf_append(&dead, pid.data, pid.len);
    hl_own_event died = {.type = HL_OWN_PID_DOWN, .pid = hl_buf_view(&dead)};
    if (!rc)
        rc = hl_dm_event(r->p->dm, tab, &died, &res);
    if (!rc)
        hl_dm_pid_down(r->p->dm, hl_buf_view(&dead));
    hl_buf_free(&dead);
    return rc;
}

/*
 * new/2 on the name of an existing table: take it over if the C node holds
 * it (docs/ownership.md, "new"), else already_exists as in ETS. A pid owner
 * may have died with its monitor's message still on the way: it is probed
 * and its death applied first, as for claim. That may hand the table to an
 * heir that is dead too (probed in turn), or delete it ({heir, none}): then
 * it is created.
 */
static int new_take_over(req *r, hl_bytes tab, hl_meta *want)
{
    static const char *types[] = {"set", "ordered_set", "bag", "duplicate_bag"};
    hl_meta old = {0};
    int rc, downed = 0;
    while ((rc = hl_store_get_meta(r->p->store, tab, &old)) == HL_OK && old.own.owner.len &&
           !hl_bytes_eq(old.own.owner, r->caller)) {
        if (!r->known || !hl_bytes_eq(r->known->pid, old.own.owner))
            rc = want_probe(r, old.own.owner);
        else if (r->known->alive || downed++) /* alive, or its death changed nothing */
            rc = HL_EEXISTS;
        else
            rc = apply_death(r, tab, r->known->pid);
        hl_meta_free(&old);
        if (rc)
            return rc;
    }
    if (rc == HL_ENOTABLE && !(rc = hl_store_create(r->p->store, tab, want)))
        hl_dm_watch_table(r->p->dm, tab, &want->own);
    else if (!rc && old.own.owner.len)
        rc = HL_EEXISTS; /* the caller's own table */
    else if (!rc && old.type != want->type)
        rc = put_atom(&r->detail, types[old.type]) ? HL_ENOMEM : HL_ETYPE;
    else if (!rc && old.keypos != want->keypos)
        rc = hl_term_put_int(&r->detail, old.keypos) ? HL_ENOMEM : HL_EKEYPOS;
    else if (!rc) {
        hl_own_event ev = {.type = HL_OWN_NEW,
                           .caller = r->caller,
                           .heir_kind = want->own.heir_kind,
                           .heir = want->own.heir,
                           .heir_data = want->own.heir_data};
        hl_own_result res;
        /* Protection first: if the event fails, the C node still holds it. */
        if (old.access != want->access)
            rc = hl_store_set_access(r->p->store, tab, (hl_bytes){NULL, 0}, want->access);
        if (!rc)
            rc = hl_dm_event(r->p->dm, tab, &ev, &res);
        rc = rc ? rc : res.err;
    }
    hl_meta_free(&old);
    return rc;
}

static int h_new(req *r)
{
    char name[1024]; /* any atom: 255 characters of up to 4 UTF-8 bytes */
    hl_bytes tab;
    hl_buf ref = {0};
    hl_meta m;
    hl_table_meta_default(&m, r->caller);
    int rc = hl_term_get_atom(r->args[0].data, r->args[0].len, name, sizeof name);
    if (!rc)
        rc = hl_args_new_opts(&r->arena, r->args[1], &m);
    if (rc)
        return rc;
    if (m.named) {
        rc = hl_args_canon(&r->arena, r->args[0], &tab);
    } else {
        /* Unnamed tables are known by a reference, like ETS's tids; the
         * name is kept for info(T, name). */
        rc = hl_dist_make_ref(r->p->dist, &ref);
        tab = hl_buf_view(&ref);
        if (!rc)
            rc = hl_args_canon(&r->arena, r->args[0], &m.name);
    }
    if (!rc)
        rc = hl_store_create(r->p->store, tab, &m);
    if (rc == HL_EEXISTS && m.named)
        rc = new_take_over(r, tab, &m);
    else if (!rc)
        hl_dm_watch_table(r->p->dm, tab, &m.own);
    if (!rc)
        rc = put_bytes(r->reply, tab);
    hl_buf_free(&ref);
    return rc;
}

static int h_insert_any(req *r, int only_new)
{
    hl_bytes tab, *objs = NULL;
    size_t n = 0;
    int inserted = 0;
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_objects(&r->arena, r->args[1], &objs, &n);
    if (!rc)
        rc = hl_store_insert(r->p->store, tab, r->caller, objs, n, only_new, &inserted);
    if (rc)
        return rc;
    return put_bool(r->reply, only_new ? inserted : 1);
}

static int h_insert(req *r)
{
    return h_insert_any(r, 0);
}

static int h_insert_new(req *r)
{
    return h_insert_any(r, 1);
}

typedef struct {
    hl_buf objs;
    size_t n;
} gather;

static int gather_obj(void *ctx, hl_bytes obj)
{
    gather *g = ctx;
    g->n++;
    return hl_buf_append(&g->objs, obj.data + 1, obj.len - 1); /* drop the version byte */
}

static int put_gathered(req *r, gather *g)
{
    int rc = HL_OK;
    if (g->n)
        rc = hl_term_put_list_header(r->reply, g->n);
    if (!rc)
        rc = hl_buf_append(r->reply, g->objs.data, g->objs.len);
    if (!rc)
        rc = hl_term_put_nil(r->reply);
    return rc;
}

static int h_lookup(req *r)
{
    hl_bytes tab, key;
    gather g = {{0}, 0};
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_canon(&r->arena, r->args[1], &key);
    if (!rc)
        rc = hl_store_lookup(r->p->store, tab, r->caller, key, gather_obj, &g);
    if (!rc)
        rc = put_gathered(r, &g);
    hl_buf_free(&g.objs);
    return rc;
}

static int h_tab2list(req *r)
{
    hl_bytes tab;
    gather g = {{0}, 0};
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_store_each_object(r->p->store, tab, r->caller, gather_obj, &g);
    if (!rc)
        rc = put_gathered(r, &g);
    hl_buf_free(&g.objs);
    return rc;
}

static int h_member(req *r)
{
    hl_bytes tab, key;
    int found = 0;
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_canon(&r->arena, r->args[1], &key);
    if (!rc)
        rc = hl_store_member(r->p->store, tab, r->caller, key, &found);
    return rc ? rc : put_bool(r->reply, found);
}

static int h_delete_key(req *r)
{
    hl_bytes tab, key;
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_canon(&r->arena, r->args[1], &key);
    if (!rc)
        rc = hl_store_delete_key(r->p->store, tab, r->caller, key);
    return rc ? rc : put_bool(r->reply, 1);
}

static int h_delete(req *r)
{
    hl_bytes tab;
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_dm_drop(r->p->dm, tab, r->caller);
    return rc ? rc : put_bool(r->reply, 1);
}

static int h_delete_all(req *r)
{
    hl_bytes tab;
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_store_delete_all(r->p->store, tab, r->caller);
    return rc ? rc : put_bool(r->reply, 1);
}

static int collect_name(void *ctx, hl_bytes name, const hl_meta *meta)
{
    (void)meta;
    gather *g = ctx;
    g->n++;
    return hl_buf_append(&g->objs, name.data, name.len);
}

static int h_all(req *r)
{
    gather g = {{0}, 0};
    int rc = hl_store_each_table(r->p->store, collect_name, &g);
    if (!rc)
        rc = put_gathered(r, &g);
    hl_buf_free(&g.objs);
    return rc;
}

/* Ask the caller to find out whether pid is alive and run the request again. */
static int want_probe(req *r, hl_bytes pid)
{
    return hl_buf_append(r->probe, pid.data, pid.len) ? HL_ENOMEM : PROBE;
}

static int h_give_away(req *r)
{
    hl_bytes tab, target, gift;
    hl_meta m = {0};
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_pid(&r->arena, r->args[1], &target);
    if (!rc)
        rc = hl_args_value(&r->arena, r->args[2], &gift);
    if (!rc)
        rc = hl_store_get_meta(r->p->store, tab, &m);
    if (!rc && !hl_bytes_eq(m.own.owner, r->caller))
        rc = HL_ENOTOWNER; /* refuse before probing anything */
    hl_meta_free(&m);
    if (rc)
        return rc;
    if (!r->known || !hl_bytes_eq(r->known->pid, target))
        return want_probe(r, target);
    hl_own_event ev = {.type = HL_OWN_GIVE_AWAY,
                       .caller = r->caller,
                       .target = target,
                       .target_alive = r->known->alive,
                       .gift = gift};
    hl_own_result res;
    rc = hl_dm_event(r->p->dm, tab, &ev, &res);
    if (!rc)
        rc = res.err;
    return rc ? rc : put_bool(r->reply, 1);
}

/* Everything is checked before anything changes; then the heir (an
 * ownership event) and the protection (a meta write), each atomic. */
static int h_setopts(req *r)
{
    hl_bytes tab;
    hl_setopts o;
    hl_meta m = {0};
    int rc = hl_args_table(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_args_setopts(&r->arena, r->args[1], &o);
    if (!rc)
        rc = hl_store_get_meta(r->p->store, tab, &m);
    if (!rc && !hl_bytes_eq(m.own.owner, r->caller))
        rc = HL_ENOTOWNER;
    hl_meta_free(&m);
    if (!rc && o.set_heir) {
        hl_own_event ev = {.type = HL_OWN_SET_HEIR,
                           .caller = r->caller,
                           .heir_kind = o.heir_kind,
                           .heir = o.heir,
                           .heir_data = o.heir_data};
        hl_own_result res;
        rc = hl_dm_event(r->p->dm, tab, &ev, &res);
        if (!rc)
            rc = res.err;
    }
    if (!rc && o.set_access)
        rc = hl_store_set_access(r->p->store, tab, r->caller, o.access);
    return rc ? rc : put_bool(r->reply, 1);
}

static int h_claim(req *r)
{
    hl_bytes tab;
    char name[1024]; /* any atom: 255 characters of up to 4 UTF-8 bytes */
    hl_own_event ev = {.type = HL_OWN_CLAIM, .caller = r->caller};
    hl_own_result res;
    int rc = hl_term_get_atom(r->args[0].data, r->args[0].len, name, sizeof name);
    if (!rc)
        rc = hl_args_canon(&r->arena, r->args[0], &tab);
    if (!rc)
        rc = hl_dm_event(r->p->dm, tab, &ev, &res);
    if (!rc && res.err == HL_EOWNED && r->known && hl_bytes_eq(r->known->pid, res.owned_by) &&
        !r->known->alive) {
        /* The owner is dead; its monitor's message is still on its way. */
        rc = apply_death(r, tab, res.owned_by);
        if (!rc)
            rc = hl_dm_event(r->p->dm, tab, &ev, &res);
    } else if (!rc && res.err == HL_EOWNED && !r->known) {
        return want_probe(r, res.owned_by);
    }
    if (rc == HL_ENOTABLE) {
        hl_meta m;
        hl_table_meta_default(&m, r->caller);
        rc = hl_args_new_opts(&r->arena, r->args[1], &m);
        m.named = 1;
        if (!rc)
            rc = hl_store_create(r->p->store, tab, &m);
        if (!rc)
            hl_dm_watch_table(r->p->dm, tab, &m.own);
    } else if (!rc && res.err) {
        r->owned_by = res.owned_by;
        rc = res.err;
    }
    if (!rc)
        rc = hl_term_put_tuple_header(r->reply, 2);
    if (!rc)
        rc = put_atom(r->reply, "ok");
    return rc ? rc : put_bytes(r->reply, tab);
}

static int h_info(req *r)
{
    hl_bytes tab;
    char item[32];
    int rc = hl_args_table(&r->arena, r->args[0], &tab); /* ETS: badarg for a non-table */
    if (rc)
        return rc;
    if (r->nargs == 2 && hl_term_get_atom(r->args[1].data, r->args[1].len, item, sizeof item))
        return HL_EBADARG;
    return hl_proto_info(r->p, tab, r->nargs == 2 ? item : NULL, r->reply);
}

static int h_store_info(req *r)
{
    hl_buf *b = r->reply;
    int rc = hl_term_put_list_header(b, 3);
    if (!rc)
        rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = put_atom(b, "os_pid");
    if (!rc)
        rc = hl_term_put_int(b, (int64_t)getpid());
    if (!rc)
        rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = put_atom(b, "dir");
    if (!rc)
        rc = hl_term_put_string(b, hl_store_dir(r->p->store));
    if (!rc)
        rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = put_atom(b, "node_pid");
    if (!rc)
        rc = put_bytes(b, hl_dist_self_pid(r->p->dist));
    if (!rc)
        rc = hl_term_put_nil(b);
    return rc;
}

/* The select family (hl_proto_select.c), one wrapper per verb. */
static int h_sel(req *r, const char *verb)
{
    hl_proto_select_req q = {r->p->store, r->caller, r->args, r->nargs, &r->arena, r->reply};
    return hl_proto_select(verb, &q);
}
#define SELECT_VERB(f, verb)                                                                       \
    static int f(req *r)                                                                           \
    {                                                                                              \
        return h_sel(r, verb);                                                                     \
    }
SELECT_VERB(h_select, "select")
SELECT_VERB(h_select_reverse, "select_reverse")
SELECT_VERB(h_select_count, "select_count")
SELECT_VERB(h_select_delete, "select_delete")
SELECT_VERB(h_select_replace, "select_replace")
SELECT_VERB(h_match, "match")
SELECT_VERB(h_match_object, "match_object")
SELECT_VERB(h_match_delete, "match_delete")
SELECT_VERB(h_select_chunk, "$select")

static const struct {
    const char *verb;
    size_t nargs;
    int (*fn)(req *r);
} handlers[] = {
    {"ping", 0, h_ping},
    {"all", 0, h_all},
    {"store_info", 0, h_store_info},
    {"new", 2, h_new},
    {"insert", 2, h_insert},
    {"insert_new", 2, h_insert_new},
    {"lookup", 2, h_lookup},
    {"member", 2, h_member},
    {"delete", 2, h_delete_key},
    {"delete", 1, h_delete},
    {"delete_all_objects", 1, h_delete_all},
    {"tab2list", 1, h_tab2list},
    {"info", 1, h_info},
    {"info", 2, h_info},
    {"give_away", 3, h_give_away},
    {"setopts", 2, h_setopts},
    {"claim", 2, h_claim},
    /* the select family */
    {"select", 2, h_select},
    {"select_reverse", 2, h_select_reverse},
    {"select_count", 2, h_select_count},
    {"select_delete", 2, h_select_delete},
    {"select_replace", 2, h_select_replace},
    {"match", 2, h_match},
    {"match_object", 2, h_match_object},
    {"match_delete", 2, h_match_delete},
    {"$select", 4, h_select_chunk},
};

/* Split a request into verb and arguments: an atom, or {Verb, Args...}. */
static int split(hl_bytes t, char *verb, size_t cap, req *r)
{
    size_t arity;
    hl_bytes e[5];
    if (hl_term_get_atom(t.data, t.len, verb, cap) == HL_OK) {
        r->nargs = 0;
        return HL_OK;
    }
    if (hl_term_tuple_elements(t.data, t.len, e, 5, &arity) || arity < 1 || arity > 5 ||
        hl_term_get_atom(e[0].data, e[0].len, verb, cap))
        return HL_EBADARG;
    r->nargs = arity - 1;
    for (size_t i = 0; i < r->nargs; i++)
        r->args[i] = e[i + 1];
    return HL_OK;
}

static int put_error(req *r, int err)
{
    hl_buf *b = r->reply;
    int rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = put_atom(b, "error");
    if (rc)
        return rc;
    hl_bytes detail = err == HL_EOWNED ? r->owned_by : hl_buf_view(&r->detail);
    if (detail.len) { /* {Reason, Detail} */
        rc = hl_term_put_tuple_header(b, 2);
        if (!rc)
            rc = put_atom(b, hl_err_reason(err));
        if (!rc)
            rc = put_bytes(b, detail);
        return rc;
    }
    return put_atom(b, hl_err_reason(err));
}

int hl_proto_handle(hl_proto *p, hl_bytes caller, hl_bytes t, const hl_liveness *known,
                    hl_buf *reply, hl_buf *probe)
{
    char verb[64];
    req r = {.p = p, .caller = caller, .known = known, .reply = reply, .probe = probe};
    size_t mark = reply->len;
    int rc = split(t, verb, sizeof verb, &r);
    if (!rc) {
        rc = HL_EUNKNOWN;
        for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
            if (handlers[i].nargs == r.nargs && !strcmp(handlers[i].verb, verb)) {
                rc = handlers[i].fn(&r);
                break;
            }
        }
    }
    if (rc == HL_EUNKNOWN) /* the key-based requests (hl_proto_rows.h) */
        rc = hl_proto_rows(p, verb, caller, &r.arena, r.args, r.nargs, reply);
    if (rc < 0) {
        reply->len = mark;
        if (p->verbose)
            fprintf(stderr, "heirloom_node: request refused: %s\n", hl_err_reason(rc));
        rc = rc == HL_ENOMEM ? HL_ENOMEM : put_error(&r, rc);
    }
    hl_dm_release(p->dm);
    hl_args_free(&r.arena);
    hl_buf_free(&r.detail);
    return rc == PROBE ? HL_OK : rc;
}
