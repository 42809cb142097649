/*
 * hl_watch.c: process monitors and liveness probes over raw distribution
 * control messages (see hl_watch.h for the idea).
 *
 * Watches live in an array indexed two ways (by pid and by the monitor's
 * reference, hl_bmap): tens of thousands of owners may die at once, and each
 * death must cost O(1) here. Probes are few (one per parked request) and
 * searched linearly. Callbacks run after the entry is removed, so they may
 * start new watches.
 */
#include "hl_watch.h"

#include "hl_bmap.h"
#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

#define HL_PROBE_NAME "$heirloom_probe_never_registered"
#define HL_DOP_MONITOR_P 19

typedef struct {
    hl_buf pid, ref;
} watch_entry;

typedef struct {
    uint64_t id;
    hl_buf pid, ref;
} probe_entry;

struct hl_watch {
    hl_dist *d;
    hl_watch_handlers h;
    watch_entry *w;
    size_t nw, capw;
    hl_bmap by_pid, by_ref; /* -> index into w */
    probe_entry *p;
    size_t np, capp;
};

hl_watch *hl_watch_new(hl_dist *d, hl_watch_handlers h)
{
    hl_watch *w = calloc(1, sizeof *w);
    if (w) {
        w->d = d;
        w->h = h;
    }
    return w;
}

void hl_watch_free(hl_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nw; i++) {
        hl_buf_free(&w->w[i].pid);
        hl_buf_free(&w->w[i].ref);
    }
    for (size_t i = 0; i < w->np; i++) {
        hl_buf_free(&w->p[i].pid);
        hl_buf_free(&w->p[i].ref);
    }
    free(w->w);
    free(w->p);
    hl_bmap_free(&w->by_pid);
    hl_bmap_free(&w->by_ref);
    free(w);
}

static long find_pid(const hl_watch *w, hl_bytes pid)
{
    uint64_t i;
    return hl_bmap_get(&w->by_pid, pid, &i) ? (long)i : -1;
}

int hl_watch_is_watched(const hl_watch *w, hl_bytes pid)
{
    return find_pid(w, pid) >= 0;
}

/* Send MONITOR_P {19, Self, Target, Ref} to the connection of `node`. */
static int send_monitor(hl_watch *w, hl_bytes node, hl_bytes target, hl_bytes ref)
{
    hl_conn *c = hl_dist_reach(w->d, node);
    if (!c)
        return HL_ENOPROC;
    hl_buf ctl = {0};
    hl_bytes self = hl_dist_self_pid(w->d);
    int rc = hl_term_put_tuple_header(&ctl, 4);
    if (!rc)
        rc = hl_term_put_int(&ctl, HL_DOP_MONITOR_P);
    if (!rc)
        rc = hl_buf_append(&ctl, self.data, self.len);
    if (!rc)
        rc = hl_buf_append(&ctl, target.data, target.len);
    if (!rc)
        rc = hl_buf_append(&ctl, ref.data, ref.len);
    if (!rc)
        rc = hl_dist_send(w->d, c, hl_buf_view(&ctl), (hl_bytes){NULL, 0});
    hl_buf_free(&ctl);
    return rc;
}

int hl_watch_pid(hl_watch *w, hl_bytes pid)
{
    hl_bytes node;
    if (!hl_term_is_pid(pid.data, pid.len) || hl_term_node_of(pid.data, pid.len, &node))
        return HL_EBADARG;
    if (find_pid(w, pid) >= 0)
        return HL_OK;
    if (!hl_dist_reach(w->d, node))
        return HL_ENOPROC;
    if (hl_grow(&w->w, &w->capw, w->nw + 1, sizeof *w->w, 16))
        return HL_ENOMEM;
    watch_entry e = {{0}, {0}};
    int rc = hl_buf_append(&e.pid, pid.data, pid.len);
    if (!rc)
        rc = hl_dist_make_ref(w->d, &e.ref);
    if (!rc)
        rc = hl_bmap_put(&w->by_pid, pid, w->nw);
    if (!rc && (rc = hl_bmap_put(&w->by_ref, hl_buf_view(&e.ref), w->nw)) != HL_OK)
        (void)hl_bmap_del(&w->by_pid, pid, NULL);
    /* Indexed first: a monitor sent but not recorded would be lost. */
    if (!rc && (rc = send_monitor(w, node, pid, hl_buf_view(&e.ref))) != HL_OK) {
        (void)hl_bmap_del(&w->by_pid, pid, NULL);
        (void)hl_bmap_del(&w->by_ref, hl_buf_view(&e.ref), NULL);
    }
    if (rc) {
        hl_buf_free(&e.pid);
        hl_buf_free(&e.ref);
        return rc;
    }
    w->w[w->nw++] = e;
    return HL_OK;
}

int hl_watch_probe(hl_watch *w, hl_bytes pid, uint64_t id)
{
    hl_bytes node;
    int rc = hl_watch_pid(w, pid);
    if (rc)
        return rc;
    (void)hl_term_node_of(pid.data, pid.len, &node);
    if (hl_grow(&w->p, &w->capp, w->np + 1, sizeof *w->p, 8))
        return HL_ENOMEM;
    probe_entry e = {id, {0}, {0}};
    hl_buf name = {0};
    rc = hl_buf_append(&e.pid, pid.data, pid.len);
    if (!rc)
        rc = hl_dist_make_ref(w->d, &e.ref);
    if (!rc)
        rc = hl_term_put_atom(&name, HL_PROBE_NAME, strlen(HL_PROBE_NAME));
    if (!rc)
        rc = send_monitor(w, node, hl_buf_view(&name), hl_buf_view(&e.ref));
    hl_buf_free(&name);
    if (rc) {
        hl_buf_free(&e.pid);
        hl_buf_free(&e.ref);
        return rc;
    }
    w->p[w->np++] = e;
    return HL_OK;
}

/* Drop entry i, moving the last entry into its place (and its index). */
static void remove_watch(hl_watch *w, size_t i)
{
    (void)hl_bmap_del(&w->by_pid, hl_buf_view(&w->w[i].pid), NULL);
    (void)hl_bmap_del(&w->by_ref, hl_buf_view(&w->w[i].ref), NULL);
    hl_buf_free(&w->w[i].ref);
    hl_buf_free(&w->w[i].pid);
    w->w[i] = w->w[--w->nw];
    if (i < w->nw) {
        /* Re-pointing an existing key replaces in place: cannot fail. */
        (void)hl_bmap_put(&w->by_pid, hl_buf_view(&w->w[i].pid), i);
        (void)hl_bmap_put(&w->by_ref, hl_buf_view(&w->w[i].ref), i);
    }
}

static void answer_probe(hl_watch *w, size_t i, int alive)
{
    probe_entry e = w->p[i];
    w->p[i] = w->p[--w->np];
    if (alive)
        alive = find_pid(w, hl_buf_view(&e.pid)) >= 0;
    w->h.on_probe(w->h.ctx, e.id, hl_buf_view(&e.pid), alive);
    hl_buf_free(&e.pid);
    hl_buf_free(&e.ref);
}

void hl_watch_handle_exit(hl_watch *w, hl_bytes control)
{
    hl_bytes ref;
    hl_buf canon = {0};
    size_t pos = 0;
    if (hl_term_tuple_element(control.data, control.len, 4, &ref) ||
        hl_term_canon(ref.data, ref.len, &pos, &canon))
        goto done;
    hl_bytes r = hl_buf_view(&canon);
    for (size_t i = 0; i < w->np; i++) {
        if (hl_bytes_eq(hl_buf_view(&w->p[i].ref), r)) {
            answer_probe(w, i, 1);
            goto done;
        }
    }
    uint64_t i;
    if (hl_bmap_get(&w->by_ref, r, &i)) {
        hl_buf pid = {0};
        if (hl_buf_append(&pid, w->w[i].pid.data, w->w[i].pid.len) == HL_OK) {
            remove_watch(w, (size_t)i);
            w->h.on_down(w->h.ctx, hl_buf_view(&pid));
        }
        hl_buf_free(&pid);
    }
done:
    hl_buf_free(&canon);
}

void hl_watch_node_down(hl_watch *w, hl_bytes node)
{
    hl_bytes n;
    for (size_t i = 0; i < w->np;) {
        hl_bytes pid = hl_buf_view(&w->p[i].pid);
        if (!hl_term_node_of(pid.data, pid.len, &n) && hl_bytes_eq(n, node))
            answer_probe(w, i, 0);
        else
            i++;
    }
    for (size_t i = 0; i < w->nw;) {
        hl_bytes pid = hl_buf_view(&w->w[i].pid);
        if (!hl_term_node_of(pid.data, pid.len, &n) && hl_bytes_eq(n, node))
            remove_watch(w, i); /* the caller handles the node's tables as a whole */
        else
            i++;
    }
}
