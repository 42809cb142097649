/*
 * hl_dm.c: ownership events carried out on the store (see hl_dm.h).
 *
 * Events that touch many tables (a pid or a node going down, a restart)
 * first collect the names of the affected tables in one read snapshot and
 * then handle each table in its own write transaction, so no read snapshot
 * is held across the writes.
 */
#include "hl_dm.h"

#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

struct hl_dm {
    hl_store *store;
    hl_dist *dist;
    hl_watch *watch;
    hl_meta last; /* keeps the last result's views (owned_by) alive */
};

hl_dm *hl_dm_new(hl_store *store)
{
    hl_dm *dm = calloc(1, sizeof *dm);
    if (dm)
        dm->store = store;
    return dm;
}

void hl_dm_attach(hl_dm *dm, hl_dist *dist, hl_watch *watch)
{
    dm->dist = dist;
    dm->watch = watch;
}

void hl_dm_free(hl_dm *dm)
{
    if (!dm)
        return;
    hl_meta_free(&dm->last);
    free(dm);
}

void hl_dm_release(hl_dm *dm)
{
    hl_meta_free(&dm->last);
}

int hl_dm_transfer_msg(hl_dm *dm, hl_bytes tab, hl_bytes from, hl_bytes data, hl_buf *out)
{
    static const char tag[] = "ETS-TRANSFER";
    if (from.len == 0)
        from = hl_dist_self_pid(dm->dist);
    int rc = hl_term_put_tuple_header(out, 4);
    if (!rc)
        rc = hl_term_put_atom(out, tag, sizeof tag - 1);
    if (!rc)
        rc = hl_buf_append(out, tab.data, tab.len);
    if (!rc)
        rc = hl_buf_append(out, from.data, from.len);
    if (!rc)
        rc = hl_buf_append(out, data.data, data.len);
    return rc;
}

static void send_transfer(hl_dm *dm, hl_bytes tab, const hl_own_result *res)
{
    hl_buf msg = {0};
    if (!hl_dm_transfer_msg(dm, tab, res->transfer_from, res->transfer_data, &msg))
        (void)hl_dist_send_to_pid(dm->dist, res->transfer_to, hl_buf_view(&msg));
    hl_buf_free(&msg);
}

int hl_dm_event(hl_dm *dm, hl_bytes tab, const hl_own_event *ev, hl_own_result *res)
{
    hl_meta_free(&dm->last);
    memset(res, 0, sizeof *res);
    int rc = hl_store_get_meta(dm->store, tab, &dm->last);
    if (rc)
        return rc;
    hl_own state = dm->last.own;
    hl_owner_apply(&state, ev, res);
    if (res->err)
        return HL_OK;
    if (res->delete_table)
        return hl_store_drop(dm->store, tab, (hl_bytes){NULL, 0});
    if (res->changed && (rc = hl_store_set_own(dm->store, tab, &state)) != HL_OK)
        return rc;
    if (res->transfer)
        send_transfer(dm, tab, res);
    /* After a restart no connection exists yet: watching now would declare
     * every heir dead. Heirs are watched again when their table changes. */
    if (res->changed && ev->type != HL_OWN_RESTART)
        hl_dm_watch_table(dm, tab, &state);
    return HL_OK;
}

void hl_dm_watch_table(hl_dm *dm, hl_bytes tab, const hl_own *own)
{
    (void)tab;
    /* Copies: handling a death below rewrites the meta these views live in. */
    hl_buf owner = {0}, heir = {0};
    if (hl_buf_append(&owner, own->owner.data, own->owner.len) ||
        (own->heir_kind == HL_HEIR_PID && hl_buf_append(&heir, own->heir.data, own->heir.len)))
        goto done;
    if (owner.len && hl_watch_pid(dm->watch, hl_buf_view(&owner)) == HL_ENOPROC)
        hl_dm_pid_down(dm, hl_buf_view(&owner));
    if (heir.len && hl_watch_pid(dm->watch, hl_buf_view(&heir)) == HL_ENOPROC)
        hl_dm_pid_down(dm, hl_buf_view(&heir));
done:
    hl_buf_free(&owner);
    hl_buf_free(&heir);
}

typedef struct {
    hl_buf *names;
    size_t n, cap;
    int (*match)(const hl_own *own, hl_bytes who);
    hl_bytes who;
    int failed;
} collect_ctx;

static int collect(void *ctx, hl_bytes name, const hl_meta *meta)
{
    collect_ctx *c = ctx;
    if (c->match && !c->match(&meta->own, c->who))
        return 0;
    if (hl_grow((void **)&c->names, &c->cap, c->n + 1, sizeof *c->names, 16)) {
        c->failed = 1;
        return HL_ENOMEM;
    }
    c->names[c->n] = (hl_buf){0};
    if (hl_buf_append(&c->names[c->n], name.data, name.len)) {
        c->failed = 1;
        return HL_ENOMEM;
    }
    c->n++;
    return 0;
}

static int match_pid(const hl_own *own, hl_bytes pid)
{
    return hl_bytes_eq(own->owner, pid) ||
           (own->heir_kind == HL_HEIR_PID && hl_bytes_eq(own->heir, pid));
}

static int on_node(hl_bytes pid, hl_bytes node)
{
    hl_bytes n;
    return pid.len && !hl_term_node_of(pid.data, pid.len, &n) && hl_bytes_eq(n, node);
}

static int match_node(const hl_own *own, hl_bytes node)
{
    return on_node(own->owner, node) || (own->heir_kind == HL_HEIR_PID && on_node(own->heir, node));
}

static void for_matching(hl_dm *dm, int (*match)(const hl_own *, hl_bytes), hl_bytes who,
                         const hl_own_event *ev)
{
    collect_ctx c = {NULL, 0, 0, match, who, 0};
    (void)hl_store_each_table(dm->store, collect, &c);
    for (size_t i = 0; i < c.n; i++) {
        hl_own_result res;
        (void)hl_dm_event(dm, hl_buf_view(&c.names[i]), ev, &res);
        hl_buf_free(&c.names[i]);
    }
    free(c.names);
}

void hl_dm_pid_down(hl_dm *dm, hl_bytes pid)
{
    hl_buf copy = {0};
    if (hl_buf_append(&copy, pid.data, pid.len))
        return;
    hl_own_event ev = {.type = HL_OWN_PID_DOWN, .pid = hl_buf_view(&copy)};
    for_matching(dm, match_pid, hl_buf_view(&copy), &ev);
    hl_buf_free(&copy);
}

void hl_dm_node_down(hl_dm *dm, hl_bytes node)
{
    hl_own_event ev = {.type = HL_OWN_NODE_DOWN, .node = node};
    for_matching(dm, match_node, node, &ev);
}

void hl_dm_restart(hl_dm *dm)
{
    hl_own_event ev = {.type = HL_OWN_RESTART};
    for_matching(dm, NULL, (hl_bytes){NULL, 0}, &ev);
}
