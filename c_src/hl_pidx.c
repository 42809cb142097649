/*
 * hl_pidx.c: the pid -> tables index (see hl_pidx.h).
 *
 * Each pid has a list of its tables. Two hash maps make every change O(1):
 * `pids` maps a pid to its list's slot, and `links` maps pid ++ table (a pid
 * term is self-delimiting, so the concatenation is unambiguous) to the
 * table's position in that list. Removal swaps the last element into the
 * hole and re-points its entry, so lists never keep dead entries.
 */
#include "hl_pidx.h"

#include "hl_bmap.h"
#include "hl_term.h"

#include <stdlib.h>

typedef struct {
    hl_buf pid;
    hl_buf *tabs;
    size_t n, cap;
} plist;

struct hl_pidx {
    plist *lists;
    size_t n, cap;
    hl_bmap pids;  /* pid -> index into lists */
    hl_bmap links; /* pid ++ tab -> index into that list's tabs */
    hl_buf scratch;
};

hl_pidx *hl_pidx_new(void)
{
    return calloc(1, sizeof(hl_pidx));
}

static void plist_free(plist *p)
{
    for (size_t i = 0; i < p->n; i++)
        hl_buf_free(&p->tabs[i]);
    free(p->tabs);
    hl_buf_free(&p->pid);
}

void hl_pidx_free(hl_pidx *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        plist_free(&x->lists[i]);
    free(x->lists);
    hl_bmap_free(&x->pids);
    hl_bmap_free(&x->links);
    hl_buf_free(&x->scratch);
    free(x);
}

/* pid ++ tab in x->scratch. */
static int link_key(hl_pidx *x, hl_bytes pid, hl_bytes tab, hl_bytes *key)
{
    x->scratch.len = 0;
    int rc = hl_buf_append(&x->scratch, pid.data, pid.len);
    if (!rc)
        rc = hl_buf_append(&x->scratch, tab.data, tab.len);
    *key = hl_buf_view(&x->scratch);
    return rc;
}

int hl_pidx_link(hl_pidx *x, hl_bytes pid, hl_bytes tab)
{
    hl_bytes key;
    uint64_t li, ti;
    if (link_key(x, pid, tab, &key))
        return HL_ENOMEM;
    if (hl_bmap_get(&x->links, key, &ti))
        return HL_OK;
    int fresh = !hl_bmap_get(&x->pids, pid, &li);
    if (fresh) {
        if (hl_grow(&x->lists, &x->cap, x->n + 1, sizeof *x->lists, 16))
            return HL_ENOMEM;
        plist p = {{0}, NULL, 0, 0};
        if (hl_buf_append(&p.pid, pid.data, pid.len))
            return HL_ENOMEM;
        if (hl_bmap_put(&x->pids, pid, x->n)) {
            hl_buf_free(&p.pid);
            return HL_ENOMEM;
        }
        li = x->n;
        x->lists[x->n++] = p;
    }
    plist *p = &x->lists[li];
    hl_buf t = {0};
    int rc = hl_grow(&p->tabs, &p->cap, p->n + 1, sizeof *p->tabs, 4);
    if (!rc)
        rc = hl_buf_append(&t, tab.data, tab.len);
    if (!rc)
        rc = hl_bmap_put(&x->links, key, p->n);
    if (rc) {
        hl_buf_free(&t);
        if (fresh) { /* leave no empty list behind */
            (void)hl_bmap_del(&x->pids, pid, NULL);
            plist_free(&x->lists[--x->n]);
        }
        return HL_ENOMEM;
    }
    p->tabs[p->n++] = t;
    return HL_OK;
}

/* Remove list li (already emptied of links), moving the last into its slot. */
static void drop_list(hl_pidx *x, size_t li)
{
    (void)hl_bmap_del(&x->pids, hl_buf_view(&x->lists[li].pid), NULL);
    plist_free(&x->lists[li]);
    x->lists[li] = x->lists[--x->n];
    if (li < x->n)
        (void)hl_bmap_put(&x->pids, hl_buf_view(&x->lists[li].pid), li);
}

void hl_pidx_unlink(hl_pidx *x, hl_bytes pid, hl_bytes tab)
{
    hl_bytes key;
    uint64_t li, ti;
    if (link_key(x, pid, tab, &key) || !hl_bmap_del(&x->links, key, &ti) ||
        !hl_bmap_get(&x->pids, pid, &li))
        return;
    plist *p = &x->lists[li];
    hl_buf_free(&p->tabs[ti]);
    p->tabs[ti] = p->tabs[--p->n];
    if (ti < p->n && !link_key(x, pid, hl_buf_view(&p->tabs[ti]), &key))
        (void)hl_bmap_put(&x->links, key, ti); /* re-point: cannot fail */
    if (p->n == 0)
        drop_list(x, (size_t)li);
}

/* Empty list li into fn, then drop it. */
static void take_list(hl_pidx *x, size_t li, hl_pidx_fn fn, void *ctx)
{
    plist p = x->lists[li];
    hl_bytes key;
    int stop = 0;
    for (size_t i = 0; i < p.n; i++) {
        hl_bytes tab = hl_buf_view(&p.tabs[i]);
        if (!link_key(x, hl_buf_view(&p.pid), tab, &key))
            (void)hl_bmap_del(&x->links, key, NULL);
        if (!stop && fn)
            stop = fn(ctx, hl_buf_view(&p.pid), tab);
    }
    drop_list(x, li);
}

void hl_pidx_take(hl_pidx *x, hl_bytes pid, hl_pidx_fn fn, void *ctx)
{
    uint64_t li;
    if (hl_bmap_get(&x->pids, pid, &li))
        take_list(x, (size_t)li, fn, ctx);
}

void hl_pidx_take_node(hl_pidx *x, hl_bytes node, hl_pidx_fn fn, void *ctx)
{
    hl_bytes n;
    for (size_t i = 0; i < x->n;) {
        hl_bytes pid = hl_buf_view(&x->lists[i].pid);
        if (!hl_term_node_of(pid.data, pid.len, &n) && hl_bytes_eq(n, node))
            take_list(x, i, fn, ctx); /* the last list moved into slot i */
        else
            i++;
    }
}

size_t hl_pidx_links(const hl_pidx *x)
{
    return x->links.n;
}

size_t hl_pidx_pids(const hl_pidx *x)
{
    return x->n;
}
