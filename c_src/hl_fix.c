/*
 * hl_fix.c: safe_fixtable's bookkeeping (see hl_fix.h), a flat list of
 * (table, pid, count, since) entries.
 */
#include "hl_fix.h"

#include "hl_term.h"

#include <stdlib.h>

typedef struct {
    hl_buf tab, pid;
    uint64_t count, since;
} entry;

struct hl_fix {
    entry *e;
    size_t n, cap;
};

hl_fix *hl_fix_new(void)
{
    return calloc(1, sizeof(hl_fix));
}

static void drop_at(hl_fix *f, size_t i)
{
    hl_buf_free(&f->e[i].tab);
    hl_buf_free(&f->e[i].pid);
    /* Keep the order: info lists holders in the order they came. */
    for (size_t j = i + 1; j < f->n; j++)
        f->e[j - 1] = f->e[j];
    f->n--;
}

void hl_fix_free(hl_fix *f)
{
    if (!f)
        return;
    while (f->n)
        drop_at(f, f->n - 1);
    free(f->e);
    free(f);
}

int hl_fix_set(hl_fix *f, hl_bytes tab, hl_bytes pid, int on, uint64_t now_us, int *first_of_pid)
{
    size_t i, mine = f->n;
    uint64_t since = 0;
    int pid_known = 0;
    for (i = 0; i < f->n; i++) {
        int same_tab = hl_bytes_eq(hl_buf_view(&f->e[i].tab), tab);
        int same_pid = hl_bytes_eq(hl_buf_view(&f->e[i].pid), pid);
        pid_known |= same_pid;
        if (same_tab)
            since = f->e[i].since;
        if (same_tab && same_pid)
            mine = i;
    }
    if (first_of_pid)
        *first_of_pid = 0;
    if (!on) {
        if (mine < f->n && --f->e[mine].count == 0)
            drop_at(f, mine);
        return HL_OK;
    }
    if (mine < f->n) {
        f->e[mine].count++;
        return HL_OK;
    }
    if (hl_grow((void **)&f->e, &f->cap, f->n + 1, sizeof *f->e, 8))
        return HL_ENOMEM;
    entry x = {{0}, {0}, 1, since ? since : now_us};
    if (hl_buf_append(&x.tab, tab.data, tab.len) || hl_buf_append(&x.pid, pid.data, pid.len)) {
        hl_buf_free(&x.tab);
        hl_buf_free(&x.pid);
        return HL_ENOMEM;
    }
    f->e[f->n++] = x;
    if (first_of_pid)
        *first_of_pid = !pid_known;
    return HL_OK;
}

int hl_fix_fixed(const hl_fix *f, hl_bytes tab)
{
    for (size_t i = 0; i < f->n; i++)
        if (hl_bytes_eq(hl_buf_view(&f->e[i].tab), tab))
            return 1;
    return 0;
}

int hl_fix_each(const hl_fix *f, hl_bytes tab, uint64_t *since_us, hl_fix_fn fn, void *ctx)
{
    *since_us = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!hl_bytes_eq(hl_buf_view(&f->e[i].tab), tab))
            continue;
        *since_us = f->e[i].since;
        int rc = fn(ctx, hl_buf_view(&f->e[i].pid), f->e[i].count);
        if (rc)
            return rc;
    }
    return HL_OK;
}

void hl_fix_pid_down(hl_fix *f, hl_bytes pid)
{
    for (size_t i = f->n; i-- > 0;)
        if (hl_bytes_eq(hl_buf_view(&f->e[i].pid), pid))
            drop_at(f, i);
}

void hl_fix_node_down(hl_fix *f, hl_bytes node)
{
    for (size_t i = f->n; i-- > 0;) {
        hl_bytes n;
        if (hl_term_node_of(f->e[i].pid.data, f->e[i].pid.len, &n) == HL_OK && hl_bytes_eq(n, node))
            drop_at(f, i);
    }
}

void hl_fix_forget(hl_fix *f, hl_bytes tab)
{
    for (size_t i = f->n; i-- > 0;)
        if (hl_bytes_eq(hl_buf_view(&f->e[i].tab), tab))
            drop_at(f, i);
}

int hl_fix_rename(hl_fix *f, hl_bytes tab, hl_bytes new_tab)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!hl_bytes_eq(hl_buf_view(&f->e[i].tab), tab))
            continue;
        hl_buf b = {0};
        if (hl_buf_append(&b, new_tab.data, new_tab.len))
            return HL_ENOMEM;
        hl_buf_free(&f->e[i].tab);
        f->e[i].tab = b;
    }
    return HL_OK;
}
