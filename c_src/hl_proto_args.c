/*
 * hl_proto_args.c: decoding request arguments (see hl_proto_args.h).
 *
 * Option lists are walked with hl_term_list_each; each element is
 * classified by its atom or its {Atom, ...} shape, as ets:new/2 does.
 */
#include "hl_proto_args.h"

#include "hl_table.h"

#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

void hl_args_free(hl_args *a)
{
    for (size_t i = 0; i < a->n; i++)
        hl_buf_free(&a->bufs[i]);
    free(a->bufs);
    a->bufs = NULL;
    a->n = a->cap = 0;
}

static hl_buf *arena_new(hl_args *a)
{
    if (hl_grow(&a->bufs, &a->cap, a->n + 1, sizeof *a->bufs, 8))
        return NULL;
    a->bufs[a->n] = (hl_buf){0};
    return &a->bufs[a->n++];
}

static int canon_in(hl_args *a, hl_bytes t, hl_term_form form, hl_bytes *out)
{
    hl_buf *b = arena_new(a);
    size_t pos = 0;
    if (!b)
        return HL_ENOMEM;
    int rc = hl_term_canon_form(t.data, t.len, &pos, b, form);
    if (rc)
        return rc;
    if (pos != t.len)
        return HL_EBADARG;
    *out = hl_buf_view(b);
    return HL_OK;
}

int hl_args_canon(hl_args *a, hl_bytes t, hl_bytes *out)
{
    return canon_in(a, t, HL_FORM_KEY, out);
}

int hl_args_value(hl_args *a, hl_bytes t, hl_bytes *out)
{
    return canon_in(a, t, HL_FORM_OBJECT, out);
}

int hl_args_table(hl_args *a, hl_bytes t, hl_bytes *out)
{
    int rc = hl_args_canon(a, t, out);
    return rc ? rc : hl_table_id_check(*out);
}

int hl_args_pid(hl_args *a, hl_bytes t, hl_bytes *out)
{
    int rc = hl_args_canon(a, t, out);
    if (rc)
        return rc;
    return hl_term_is_pid(out->data, out->len) ? HL_OK : HL_EBADARG;
}

int hl_args_objects(hl_args *a, hl_bytes t, hl_bytes **objs, size_t *n)
{
    hl_buf *all = arena_new(a);
    hl_bytes *v = NULL;
    if (!all)
        return HL_ENOMEM;
    int rc = hl_table_objects(t.data, t.len, all, &v, n);
    /* The view array moves into the arena, which frees it with the request. */
    hl_buf *views = rc ? NULL : arena_new(a);
    if (!rc && !views)
        rc = HL_ENOMEM;
    if (!rc && *n && hl_buf_append(views, v, *n * sizeof *v))
        rc = HL_ENOMEM;
    free(v);
    if (!rc)
        *objs = (hl_bytes *)(void *)views->data;
    return rc;
}

/* {heir, none} | {heir, Pid, Data} */
static int heir_opt(hl_args *a, hl_bytes opt, hl_heir_kind *kind, hl_bytes *heir, hl_bytes *data)
{
    size_t arity;
    hl_bytes e;
    char name[32];
    if (hl_term_tuple_arity(opt.data, opt.len, &arity) || arity < 2 || arity > 3 ||
        hl_term_tuple_element(opt.data, opt.len, 1, &e) ||
        hl_term_get_atom(e.data, e.len, name, sizeof name) || strcmp(name, "heir"))
        return HL_EBADARG;
    (void)hl_term_tuple_element(opt.data, opt.len, 2, &e);
    if (arity == 2) {
        if (hl_term_get_atom(e.data, e.len, name, sizeof name) || strcmp(name, "none"))
            return HL_EBADARG;
        *kind = HL_HEIR_NONE;
        *heir = *data = (hl_bytes){NULL, 0};
        return HL_OK;
    }
    int rc = hl_args_pid(a, e, heir);
    if (rc)
        return rc;
    (void)hl_term_tuple_element(opt.data, opt.len, 3, &e);
    rc = hl_args_value(a, e, data);
    if (rc)
        return rc;
    *kind = HL_HEIR_PID;
    return HL_OK;
}

typedef struct {
    hl_args *a;
    hl_meta *m;
} new_ctx;

static int new_atom_opt(hl_meta *m, const char *name)
{
    static const struct {
        const char *name;
        int type, access;
    } table[] = {
        {"set", HL_SET, -1},         {"ordered_set", HL_ORDERED_SET, -1},
        {"bag", HL_BAG, -1},         {"duplicate_bag", HL_DUPLICATE_BAG, -1},
        {"public", -1, HL_PUBLIC},   {"protected", -1, HL_PROTECTED},
        {"private", -1, HL_PRIVATE},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name))
            continue;
        if (table[i].type >= 0)
            m->type = (hl_table_type)table[i].type;
        else
            m->access = (hl_access)table[i].access;
        return HL_OK;
    }
    if (!strcmp(name, "named_table"))
        m->named = 1;
    else if (strcmp(name, "compressed")) /* compression is LMDB's business: accepted */
        return HL_EBADARG;
    return HL_OK;
}

static int new_opt(void *ctx, hl_bytes opt)
{
    new_ctx *c = ctx;
    char name[32];
    size_t arity;
    hl_bytes e;
    int64_t k;
    if (hl_term_get_atom(opt.data, opt.len, name, sizeof name) == HL_OK)
        return new_atom_opt(c->m, name);
    if (hl_term_tuple_arity(opt.data, opt.len, &arity) || arity < 2 ||
        hl_term_tuple_element(opt.data, opt.len, 1, &e) ||
        hl_term_get_atom(e.data, e.len, name, sizeof name))
        return HL_EBADARG;
    if (!strcmp(name, "heir"))
        return heir_opt(c->a, opt, &c->m->own.heir_kind, &c->m->own.heir, &c->m->own.heir_data);
    (void)hl_term_tuple_element(opt.data, opt.len, 2, &e);
    if (!strcmp(name, "keypos") && arity == 2) {
        if (hl_term_get_int(e.data, e.len, &k) || k < 1 || k > 0xffffff)
            return HL_EBADARG;
        c->m->keypos = (unsigned)k;
        return HL_OK;
    }
    /* Tuning hints for ETS's own locks: meaningless here, accepted. */
    if (arity == 2 && (!strcmp(name, "read_concurrency") || !strcmp(name, "write_concurrency") ||
                       !strcmp(name, "decentralized_counters")))
        return HL_OK;
    return HL_EBADARG;
}

int hl_args_new_opts(hl_args *a, hl_bytes opts, hl_meta *meta)
{
    new_ctx c = {a, meta};
    return hl_term_list_each(opts.data, opts.len, new_opt, &c);
}

/* {protection, public | protected | private} */
static int protection_opt(hl_bytes opt, hl_access *access)
{
    static const char *const names[] = {"protected", "public", "private"}; /* hl_access order */
    size_t arity;
    hl_bytes e;
    char name[32];
    if (hl_term_tuple_arity(opt.data, opt.len, &arity) || arity != 2 ||
        hl_term_tuple_element(opt.data, opt.len, 1, &e) ||
        hl_term_get_atom(e.data, e.len, name, sizeof name) || strcmp(name, "protection"))
        return HL_EBADARG;
    (void)hl_term_tuple_element(opt.data, opt.len, 2, &e);
    if (hl_term_get_atom(e.data, e.len, name, sizeof name))
        return HL_EBADARG;
    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(name, names[i])) {
            *access = (hl_access)i;
            return HL_OK;
        }
    }
    return HL_EBADARG;
}

typedef struct {
    hl_args *a;
    hl_setopts *o;
} setopts_ctx;

static int setopt(void *ctx, hl_bytes opt)
{
    setopts_ctx *c = ctx;
    if (protection_opt(opt, &c->o->access) == HL_OK) {
        c->o->set_access = 1;
        return HL_OK;
    }
    int rc = heir_opt(c->a, opt, &c->o->heir_kind, &c->o->heir, &c->o->heir_data);
    if (!rc)
        c->o->set_heir = 1;
    return rc;
}

int hl_args_setopts(hl_args *a, hl_bytes opts, hl_setopts *out)
{
    size_t arity;
    setopts_ctx c = {a, out};
    memset(out, 0, sizeof *out);
    if (hl_term_tuple_arity(opts.data, opts.len, &arity) == HL_OK)
        return setopt(&c, opts);
    return hl_term_list_each(opts.data, opts.len, setopt, &c);
}
