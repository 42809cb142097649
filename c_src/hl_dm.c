/*
 * hl_dm.c: ownership events carried out on the store (see hl_dm.h).
 *
 * A death touches the tables the dead pid owned or inherited: hl_pidx
 * finds them in O(their number), and each is queued and later handled in its
 * own write transaction, a bounded number per round of the event loop
 * (hl_dm_work), so a mass death never stalls other callers. The index is
 * kept in step with every ownership change made here; it may list a table a
 * pid no longer holds (the event then changes nothing), never miss one.
 * A restart walks every table once, in one read snapshot, before serving.
 */
#include "hl_dm.h"

#include "hl_pidx.h"
#include "hl_term.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A death to apply to one table, queued. `who` is the pid or the node. */
typedef struct {
    hl_buf tab, who;
    hl_own_event_type type;
} pending;

struct hl_dm {
    hl_store *store;
    hl_dist *dist;
    hl_watch *watch;
    hl_meta last; /* keeps the last result's views (owned_by) alive */
    hl_pidx *idx;
    pending *q; /* a FIFO: q[head..n) are waiting */
    size_t head, n, cap;
    hl_fix *fix; /* safe_fixtable's fixations */
};

hl_dm *hl_dm_new(hl_store *store)
{
    hl_dm *dm = calloc(1, sizeof *dm);
    if (dm && (!(dm->idx = hl_pidx_new()) || !(dm->fix = hl_fix_new()))) {
        hl_pidx_free(dm->idx);
        free(dm);
        return NULL;
    }
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
    hl_pidx_free(dm->idx);
    hl_fix_free(dm->fix);
    for (size_t i = dm->head; i < dm->n; i++) {
        hl_buf_free(&dm->q[i].tab);
        hl_buf_free(&dm->q[i].who);
    }
    free(dm->q);
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

static hl_bytes heir_pid(const hl_own *own)
{
    return own->heir_kind == HL_HEIR_PID ? own->heir : (hl_bytes){NULL, 0};
}

/* After tab's state went from old to now (NULL: dropped), forget the pids
 * of old that are neither owner nor heir any more. New ones are linked by
 * hl_dm_watch_table. */
static void unindex(hl_dm *dm, hl_bytes tab, const hl_own *old, const hl_own *now)
{
    hl_bytes was[2] = {old->owner, heir_pid(old)};
    for (int i = 0; i < 2; i++) {
        if (!was[i].len ||
            (now && (hl_bytes_eq(was[i], now->owner) || hl_bytes_eq(was[i], heir_pid(now)))))
            continue;
        hl_pidx_unlink(dm->idx, was[i], tab);
    }
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
    if (res->delete_table) {
        rc = hl_store_drop(dm->store, tab, (hl_bytes){NULL, 0});
        if (!rc)
            unindex(dm, tab, &dm->last.own, NULL);
        if (!rc)
            hl_fix_forget(dm->fix, tab);
        return rc;
    }
    if (res->changed && (rc = hl_store_set_own(dm->store, tab, &state)) != HL_OK)
        return rc;
    if (res->changed)
        unindex(dm, tab, &dm->last.own, &state);
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
    /* Copies: handling a death below rewrites the meta these views live in. */
    hl_buf owner = {0}, heir = {0};
    if (hl_buf_append(&owner, own->owner.data, own->owner.len) ||
        (own->heir_kind == HL_HEIR_PID && hl_buf_append(&heir, own->heir.data, own->heir.len)))
        goto done;
    /* Linked before watching: a pid found dead at once is then taken out of
     * the index with this table. Out of memory here loses only the link;
     * the death is still seen, and the C node holds what it cannot hand on. */
    if (owner.len)
        (void)hl_pidx_link(dm->idx, hl_buf_view(&owner), tab);
    if (heir.len)
        (void)hl_pidx_link(dm->idx, hl_buf_view(&heir), tab);
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
    int failed;
} collect_ctx;

static int collect(void *ctx, hl_bytes name, const hl_meta *meta)
{
    collect_ctx *c = ctx;
    (void)meta;
    if (hl_grow(&c->names, &c->cap, c->n + 1, sizeof *c->names, 16)) {
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

static int enqueue(void *ctx, hl_bytes who, hl_bytes tab, hl_own_event_type type)
{
    hl_dm *dm = ctx;
    if (dm->head == dm->n)
        dm->head = dm->n = 0; /* drained: start again at the front */
    if (hl_grow(&dm->q, &dm->cap, dm->n + 1, sizeof *dm->q, 64))
        return HL_ENOMEM;
    pending p = {{0}, {0}, type};
    if (hl_buf_append(&p.tab, tab.data, tab.len) || hl_buf_append(&p.who, who.data, who.len)) {
        hl_buf_free(&p.tab);
        hl_buf_free(&p.who);
        return HL_ENOMEM;
    }
    dm->q[dm->n++] = p;
    return HL_OK;
}

static int queue_pid_down(void *ctx, hl_bytes pid, hl_bytes tab)
{
    /* Out of memory: the table stays with the dead pid until a claim,
     * which probes the owner, finds it dead and moves it on. */
    (void)enqueue(ctx, pid, tab, HL_OWN_PID_DOWN);
    return 0;
}

typedef struct {
    hl_dm *dm;
    hl_bytes node;
} node_ctx;

static int queue_node_down(void *ctx, hl_bytes pid, hl_bytes tab)
{
    node_ctx *c = ctx;
    (void)pid;
    (void)enqueue(c->dm, c->node, tab, HL_OWN_NODE_DOWN);
    return 0;
}

void hl_dm_pid_down(hl_dm *dm, hl_bytes pid)
{
    hl_fix_pid_down(dm->fix, pid);
    hl_pidx_take(dm->idx, pid, queue_pid_down, dm);
}

void hl_dm_node_down(hl_dm *dm, hl_bytes node)
{
    node_ctx c = {dm, node};
    hl_fix_node_down(dm->fix, node);
    hl_pidx_take_node(dm->idx, node, queue_node_down, &c);
}

int hl_dm_queued(const hl_dm *dm)
{
    return dm->head < dm->n;
}

int hl_dm_work(hl_dm *dm, size_t budget)
{
    for (; budget && dm->head < dm->n; budget--) {
        pending p = dm->q[dm->head++];
        hl_own_event ev = {.type = p.type};
        if (p.type == HL_OWN_PID_DOWN)
            ev.pid = hl_buf_view(&p.who);
        else
            ev.node = hl_buf_view(&p.who);
        hl_own_result res;
        (void)hl_dm_event(dm, hl_buf_view(&p.tab), &ev, &res);
        hl_buf_free(&p.tab);
        hl_buf_free(&p.who);
    }
    hl_dm_release(dm);
    return dm->head < dm->n;
}

int hl_dm_drop(hl_dm *dm, hl_bytes tab, hl_bytes caller)
{
    hl_meta m = {0};
    int rc = hl_store_get_meta(dm->store, tab, &m);
    if (!rc)
        rc = hl_store_drop(dm->store, tab, caller);
    if (!rc)
        unindex(dm, tab, &m.own, NULL);
    if (!rc)
        hl_fix_forget(dm->fix, tab);
    hl_meta_free(&m);
    return rc;
}

int hl_dm_rename(hl_dm *dm, hl_bytes tab, hl_bytes caller, hl_bytes new_name)
{
    hl_meta m = {0};
    int rc = hl_store_get_meta(dm->store, tab, &m);
    if (!rc)
        rc = hl_store_rename(dm->store, tab, caller, new_name);
    if (!rc && m.named && !hl_bytes_eq(tab, new_name)) {
        /* The owner's and heir's deaths must now find the new name. */
        unindex(dm, tab, &m.own, NULL);
        hl_dm_watch_table(dm, new_name, &m.own);
        (void)hl_fix_rename(dm->fix, tab, new_name); /* out of memory: unfixed */
    }
    hl_meta_free(&m);
    return rc;
}

int hl_dm_fix(hl_dm *dm, hl_bytes tab, hl_bytes caller, int on)
{
    hl_meta m = {0};
    struct timespec ts;
    int first = 0;
    int rc = hl_store_get_meta(dm->store, tab, &m);
    if (!rc && !hl_owner_may_read(&m.own, m.access, caller))
        rc = HL_EACCESS;
    hl_meta_free(&m);
    if (!rc && caller.len) {
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        rc = hl_fix_set(dm->fix, tab, caller, on, now, &first);
    }
    /* ETS releases a process's fixations when it dies: watch it. */
    if (!rc && first && hl_watch_pid(dm->watch, caller) == HL_ENOPROC)
        hl_fix_pid_down(dm->fix, caller);
    return rc;
}

const hl_fix *hl_dm_fixes(const hl_dm *dm)
{
    return dm->fix;
}

/* Every table, once, before the C node serves: collect the names in one
 * read snapshot, then one write transaction each. */
void hl_dm_restart(hl_dm *dm)
{
    hl_own_event ev = {.type = HL_OWN_RESTART};
    collect_ctx c = {NULL, 0, 0, 0};
    (void)hl_store_each_table(dm->store, collect, &c);
    for (size_t i = 0; i < c.n; i++) {
        hl_own_result res;
        (void)hl_dm_event(dm, hl_buf_view(&c.names[i]), &ev, &res);
        hl_buf_free(&c.names[i]);
    }
    free(c.names);
    hl_dm_release(dm);
}
