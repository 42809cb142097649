/*
 * hl_proto_info.c: ets:info/1,2 replies (see hl_proto_info.h).
 *
 * Every item is produced by one function so that info/1 (all items) and
 * info/2 (one item) can never disagree.
 */
#include "hl_proto_info.h"

#include "hl_term.h"

#include <string.h>

typedef struct {
    hl_proto *p;
    hl_bytes tab;
    const hl_meta *m;
    const hl_table_stats *st;
} info_ctx;

static int atom(hl_buf *b, const char *s)
{
    return hl_term_put_atom(b, s, strlen(s));
}

static int pid_or_self(info_ctx *c, hl_buf *b, hl_bytes pid)
{
    if (!pid.len)
        pid = hl_dist_self_pid(c->p->dist);
    return hl_buf_append(b, pid.data, pid.len);
}

static int count_holder(void *ctx, hl_bytes pid, uint64_t count)
{
    (void)pid;
    (void)count;
    (*(size_t *)ctx)++;
    return 0;
}

static int fix_holder(void *ctx, hl_bytes pid, uint64_t count)
{
    hl_buf *b = ctx;
    int rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = hl_buf_append(b, pid.data, pid.len);
    return rc ? rc : hl_term_put_int(b, (int64_t)count);
}

/* ETS's safe_fixed: false, or {{MegaSecs, Secs, MicroSecs}, [{Pid, Count}]}
 * with the time of the first fixation (hl_fix.h). */
static int safe_fixed(info_ctx *c, hl_buf *b)
{
    const hl_fix *f = hl_dm_fixes(c->p->dm);
    uint64_t since = 0;
    size_t n = 0;
    if (!hl_fix_fixed(f, c->tab))
        return atom(b, "false");
    (void)hl_fix_each(f, c->tab, &since, count_holder, &n);
    int rc = hl_term_put_tuple_header(b, 2);
    if (!rc)
        rc = hl_term_put_tuple_header(b, 3);
    if (!rc)
        rc = hl_term_put_int(b, (int64_t)(since / 1000000000000u));
    if (!rc)
        rc = hl_term_put_int(b, (int64_t)(since / 1000000u % 1000000u));
    if (!rc)
        rc = hl_term_put_int(b, (int64_t)(since % 1000000u));
    if (!rc)
        rc = hl_term_put_list_header(b, n);
    if (!rc)
        rc = hl_fix_each(f, c->tab, &since, fix_holder, b);
    return rc ? rc : hl_term_put_nil(b);
}

static int item_value(info_ctx *c, const char *item, hl_buf *b)
{
    static const char *types[] = {"set", "ordered_set", "bag", "duplicate_bag"};
    static const char *access[] = {"protected", "public", "private"};
    const hl_meta *m = c->m;
    if (!strcmp(item, "id"))
        return hl_buf_append(b, c->tab.data, c->tab.len);
    if (!strcmp(item, "name")) {
        hl_bytes n = m->named || !m->name.len ? c->tab : m->name;
        return hl_buf_append(b, n.data, n.len);
    }
    if (!strcmp(item, "named_table"))
        return atom(b, m->named ? "true" : "false");
    if (!strcmp(item, "type"))
        return atom(b, types[m->type]);
    if (!strcmp(item, "keypos"))
        return hl_term_put_int(b, m->keypos);
    if (!strcmp(item, "protection"))
        return atom(b, access[m->access]);
    if (!strcmp(item, "owner"))
        return pid_or_self(c, b, m->own.owner);
    if (!strcmp(item, "heir")) {
        if (m->own.heir_kind == HL_HEIR_NONE)
            return atom(b, "none");
        return pid_or_self(c, b, m->own.heir_kind == HL_HEIR_PID ? m->own.heir : (hl_bytes){0});
    }
    if (!strcmp(item, "size"))
        return hl_term_put_int(b, (int64_t)c->st->size);
    if (!strcmp(item, "memory"))
        return hl_term_put_int(b, (int64_t)(c->st->memory_bytes / sizeof(void *)));
    if (!strcmp(item, "memory_bytes"))
        return hl_term_put_int(b, (int64_t)c->st->memory_bytes);
    if (!strcmp(item, "node"))
        return atom(b, c->p->node_name);
    if (!strcmp(item, "held_by_heirloom"))
        return atom(b, m->own.owner.len ? "false" : "true");
    if (!strcmp(item, "adopted")) /* see hl_own.adopted */
        return atom(b, m->own.adopted ? "true" : "false");
    if (!strcmp(item, "safe_fixed"))
        return safe_fixed(c, b);
    if (!strcmp(item, "compressed") || !strcmp(item, "read_concurrency") ||
        !strcmp(item, "write_concurrency") || !strcmp(item, "decentralized_counters"))
        return atom(b, "false");
    return HL_EBADARG;
}

static const char *all_items[] = {
    "id",
    "name",
    "named_table",
    "type",
    "keypos",
    "protection",
    "owner",
    "heir",
    "size",
    "memory",
    "node",
    "compressed",
    "read_concurrency",
    "write_concurrency",
    "decentralized_counters",
    "held_by_heirloom",
    "adopted",
    "memory_bytes",
};

/* ETS answers undefined for a deleted table and badarg for a reference that
 * never was one. Every unnamed table's reference was made by this node (under
 * this name, in this or an earlier run), so a reference from anywhere else
 * was never a table. */
static int never_a_table(hl_proto *p, hl_bytes tab)
{
    hl_bytes self = hl_dist_self_pid(p->dist), mine, its;
    return tab.data[0] == HL_TAG_NEWER_REFERENCE && !hl_term_node_of(self.data, self.len, &mine) &&
           !hl_term_node_of(tab.data, tab.len, &its) && !hl_bytes_eq(mine, its);
}

int hl_proto_info(hl_proto *p, hl_bytes tab, const char *item, hl_buf *out)
{
    hl_meta m = {0};
    hl_table_stats st = {0};
    int rc = hl_store_get_meta(p->store, tab, &m);
    if (!rc)
        rc = hl_store_stats(p->store, tab, &st);
    if (rc == HL_ENOTABLE)
        return never_a_table(p, tab) ? HL_EBADARG : atom(out, "undefined");
    info_ctx c = {p, tab, &m, &st};
    size_t n = sizeof all_items / sizeof all_items[0];
    if (!rc && item)
        rc = item_value(&c, item, out);
    if (!rc && !item)
        rc = hl_term_put_list_header(out, n);
    for (size_t i = 0; !rc && !item && i < n; i++) {
        rc = hl_term_put_tuple_header(out, 2);
        if (!rc)
            rc = atom(out, all_items[i]);
        if (!rc)
            rc = item_value(&c, all_items[i], out);
    }
    if (!rc && !item)
        rc = hl_term_put_nil(out);
    hl_meta_free(&m);
    return rc;
}
