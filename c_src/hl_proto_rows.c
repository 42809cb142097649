/*
 * hl_proto_rows.c: the key-based requests (see hl_proto_rows.h), each a
 * decode of its arguments into the request's arena and one store call.
 */
#include "hl_proto_rows.h"

#include "hl_term.h"

#include <string.h>

#define FOLD_MAX 10000

typedef struct {
    hl_proto *p;
    hl_bytes caller;
    hl_args *a;
    const hl_bytes *args;
    hl_buf *reply;
} rq;

static int put_atom(hl_buf *b, const char *s)
{
    return hl_term_put_atom(b, s, strlen(s));
}

/* Objects or elements gathered for a list reply (version byte dropped). */
typedef struct {
    hl_buf items;
    size_t n;
    int versioned; /* items come with the 131 byte */
} gather;

static int gather_cb(void *ctx, hl_bytes t)
{
    gather *g = ctx;
    g->n++;
    return g->versioned ? hl_buf_append(&g->items, t.data + 1, t.len - 1)
                        : hl_buf_append(&g->items, t.data, t.len);
}

static int put_list(hl_buf *b, const gather *g)
{
    int rc = g->n ? hl_term_put_list_header(b, g->n) : HL_OK;
    if (!rc)
        rc = hl_buf_append(b, g->items.data, g->items.len);
    return rc ? rc : hl_term_put_nil(b);
}

static int table_and_key(rq *r, hl_bytes *tab, hl_bytes *key)
{
    int rc = hl_args_table(r->a, r->args[0], tab);
    return rc ? rc : hl_args_canon(r->a, r->args[1], key);
}

/* first/next/last/prev: the key, or '$end_of_table'. */
static int put_key(void *ctx, hl_bytes key)
{
    return hl_buf_append(ctx, key.data, key.len);
}

static int step(rq *r, hl_step how, int with_key)
{
    hl_bytes tab, key = {NULL, 0};
    size_t mark = r->reply->len;
    int rc = with_key ? table_and_key(r, &tab, &key) : hl_args_table(r->a, r->args[0], &tab);
    /* In a fixed table the walk goes on from a key deleted meanwhile, as
     * in ETS (hl_store_step's *_FIXED steps). */
    if (!rc && with_key && hl_fix_fixed(hl_dm_fixes(r->p->dm), tab))
        how = how == HL_STEP_NEXT ? HL_STEP_NEXT_FIXED : HL_STEP_PREV_FIXED;
    if (!rc)
        rc = hl_store_step(r->p->store, tab, r->caller, how, key, put_key, r->reply);
    if (!rc && r->reply->len == mark)
        rc = put_atom(r->reply, "$end_of_table");
    return rc;
}

static int lookup_element(rq *r)
{
    hl_bytes tab, key;
    int64_t pos;
    int many = 0;
    gather g = {{0}, 0, 0};
    int rc = table_and_key(r, &tab, &key);
    if (!rc && (hl_term_get_int(r->args[2].data, r->args[2].len, &pos) || pos < 1))
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_store_lookup_element(r->p->store, tab, r->caller, key, (size_t)pos, gather_cb, &g,
                                     &many);
    /* A set's element alone; a bag's as a list, as ETS. */
    if (!rc && many)
        rc = put_list(r->reply, &g);
    else if (!rc)
        rc = hl_buf_append(r->reply, g.items.data, g.items.len);
    hl_buf_free(&g.items);
    return rc;
}

static int update_counter(rq *r, size_t nargs)
{
    hl_bytes tab, key, ops, dflt = {NULL, 0};
    int rc = table_and_key(r, &tab, &key);
    if (!rc)
        rc = hl_args_value(r->a, r->args[2], &ops);
    if (!rc && nargs == 4)
        rc = hl_args_value(r->a, r->args[3], &dflt);
    return rc ? rc : hl_store_update_counter(r->p->store, tab, r->caller, key, ops, dflt, r->reply);
}

static int update_element(rq *r)
{
    hl_bytes tab, key, spec;
    int updated = 0;
    int rc = table_and_key(r, &tab, &key);
    if (!rc)
        rc = hl_args_value(r->a, r->args[2], &spec);
    if (!rc)
        rc = hl_store_update_element(r->p->store, tab, r->caller, key, spec, &updated);
    return rc ? rc : put_atom(r->reply, updated ? "true" : "false");
}

static int take(rq *r)
{
    hl_bytes tab, key;
    gather g = {{0}, 0, 1};
    int rc = table_and_key(r, &tab, &key);
    if (!rc)
        rc = hl_store_take(r->p->store, tab, r->caller, key, gather_cb, &g);
    if (!rc)
        rc = put_list(r->reply, &g);
    hl_buf_free(&g.items);
    return rc;
}

static int delete_object(rq *r)
{
    hl_bytes tab, obj;
    size_t arity;
    int rc = hl_args_table(r->a, r->args[0], &tab);
    if (!rc)
        rc = hl_args_value(r->a, r->args[1], &obj);
    if (!rc && hl_term_tuple_arity(obj.data, obj.len, &arity))
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_store_delete_object(r->p->store, tab, r->caller, obj);
    return rc ? rc : put_atom(r->reply, "true");
}

/* A named table is known by its name, so whereis answers the name. */
static int whereis(rq *r)
{
    char name[1024];
    hl_bytes tab;
    hl_meta m = {0};
    int rc = hl_term_get_atom(r->args[0].data, r->args[0].len, name, sizeof name);
    if (!rc)
        rc = hl_args_canon(r->a, r->args[0], &tab);
    if (rc)
        return rc;
    rc = hl_store_get_meta(r->p->store, tab, &m);
    int named = rc == HL_OK && m.named;
    hl_meta_free(&m);
    if (rc && rc != HL_ENOTABLE)
        return rc;
    return named ? hl_buf_append(r->reply, tab.data, tab.len) : put_atom(r->reply, "undefined");
}

typedef struct {
    gather g;
    hl_buf last; /* the key element of the last object */
    unsigned keypos;
} chunk_ctx;

static int chunk_cb(void *ctx, hl_bytes obj)
{
    chunk_ctx *c = ctx;
    hl_bytes key;
    int rc = hl_term_tuple_element(obj.data + 1, obj.len - 1, c->keypos, &key);
    if (!rc) {
        c->last.len = 0;
        rc = hl_buf_append(&c->last, key.data, key.len);
    }
    return rc ? rc : gather_cb(&c->g, obj);
}

static int fold_chunk(rq *r)
{
    char dir[8], from[8];
    hl_bytes tab, after = {NULL, 0}, e;
    int64_t max;
    size_t arity;
    int more = 0;
    hl_meta m = {0};
    chunk_ctx c = {{{0}, 0, 1}, {0}, 0};
    int rc = hl_args_table(r->a, r->args[0], &tab);
    if (!rc && (hl_term_get_atom(r->args[1].data, r->args[1].len, dir, sizeof dir) ||
                (strcmp(dir, "foldl") && strcmp(dir, "foldr"))))
        rc = HL_EBADARG;
    if (!rc && hl_term_get_atom(r->args[2].data, r->args[2].len, from, sizeof from) == HL_OK) {
        rc = strcmp(from, "start") ? HL_EBADARG : HL_OK;
    } else if (!rc) {
        if (hl_term_tuple_arity(r->args[2].data, r->args[2].len, &arity) || arity != 2 ||
            hl_term_tuple_element(r->args[2].data, r->args[2].len, 2, &e))
            rc = HL_EBADARG;
        else
            rc = hl_args_value(r->a, e, &after);
    }
    if (!rc && (hl_term_get_int(r->args[3].data, r->args[3].len, &max) || max < 1))
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_store_get_meta(r->p->store, tab, &m);
    c.keypos = m.keypos;
    hl_meta_free(&m);
    if (!rc)
        rc = hl_store_chunk(r->p->store, tab, r->caller, dir[4] == 'r', after,
                            (size_t)(max > FOLD_MAX ? FOLD_MAX : max), chunk_cb, &c, &more);
    if (!rc)
        rc = hl_term_put_tuple_header(r->reply, 2);
    if (!rc)
        rc = put_list(r->reply, &c.g);
    if (!rc && !more)
        rc = put_atom(r->reply, "done");
    else if (!rc && !(rc = hl_term_put_tuple_header(r->reply, 2)) &&
             !(rc = put_atom(r->reply, "after")))
        rc = hl_buf_append(r->reply, c.last.data, c.last.len);
    hl_buf_free(&c.g.items);
    hl_buf_free(&c.last);
    return rc;
}

/* rename: the new name for a named table, the table id for an unnamed
 * one, as ETS answers. */
static int rename_table(rq *r)
{
    char name[1024];
    hl_bytes tab, new_name;
    hl_meta m = {0};
    int rc = hl_args_table(r->a, r->args[0], &tab);
    if (!rc)
        rc = hl_term_get_atom(r->args[1].data, r->args[1].len, name, sizeof name);
    if (!rc)
        rc = hl_args_canon(r->a, r->args[1], &new_name);
    if (!rc)
        rc = hl_store_get_meta(r->p->store, tab, &m);
    int named = m.named;
    hl_meta_free(&m);
    if (!rc)
        rc = hl_dm_rename(r->p->dm, tab, r->caller, new_name);
    if (rc)
        return rc;
    return named ? hl_buf_append(r->reply, new_name.data, new_name.len)
                 : hl_buf_append(r->reply, tab.data, tab.len);
}

static int safe_fixtable(rq *r)
{
    char on[8];
    hl_bytes tab;
    int rc = hl_args_table(r->a, r->args[0], &tab);
    if (!rc && (hl_term_get_atom(r->args[1].data, r->args[1].len, on, sizeof on) ||
                (strcmp(on, "true") && strcmp(on, "false"))))
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_dm_fix(r->p->dm, tab, r->caller, on[0] == 't');
    return rc ? rc : put_atom(r->reply, "true");
}

int hl_proto_rows(hl_proto *p, const char *verb, hl_bytes caller, hl_args *arena,
                  const hl_bytes *args, size_t nargs, hl_buf *reply)
{
    rq r = {p, caller, arena, args, reply};
    if (nargs == 1 && !strcmp(verb, "first"))
        return step(&r, HL_STEP_FIRST, 0);
    if (nargs == 1 && !strcmp(verb, "last"))
        return step(&r, HL_STEP_LAST, 0);
    if (nargs == 2 && !strcmp(verb, "next"))
        return step(&r, HL_STEP_NEXT, 1);
    if (nargs == 2 && !strcmp(verb, "prev"))
        return step(&r, HL_STEP_PREV, 1);
    if (nargs == 3 && !strcmp(verb, "lookup_element"))
        return lookup_element(&r);
    if ((nargs == 3 || nargs == 4) && !strcmp(verb, "update_counter"))
        return update_counter(&r, nargs);
    if (nargs == 3 && !strcmp(verb, "update_element"))
        return update_element(&r);
    if (nargs == 2 && !strcmp(verb, "take"))
        return take(&r);
    if (nargs == 2 && !strcmp(verb, "delete_object"))
        return delete_object(&r);
    if (nargs == 1 && !strcmp(verb, "whereis"))
        return whereis(&r);
    if (nargs == 2 && !strcmp(verb, "safe_fixtable"))
        return safe_fixtable(&r);
    if (nargs == 2 && !strcmp(verb, "rename"))
        return rename_table(&r);
    if (nargs == 4 && !strcmp(verb, "fold_chunk"))
        return fold_chunk(&r);
    return HL_EUNKNOWN;
}
