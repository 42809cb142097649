/*
 * hl_proto_select.c: decoding the select-family requests into hl_select
 * chunks (see hl_proto_select.h).
 */
#include "hl_proto_select.h"
#include "hl_select.h"
#include "hl_term.h"

#include <string.h>

/* The verbs that answer for the whole table in one go. */
static const struct {
    const char *verb;
    hl_select_op op;
    int reverse;
    const char *match_body; /* match*: the spec is made from a pattern */
} whole[] = {
    {"select", HL_SELECT_LIST, 0, NULL},
    {"select_reverse", HL_SELECT_LIST, 1, NULL},
    {"select_count", HL_SELECT_COUNT, 0, NULL},
    {"select_delete", HL_SELECT_DELETE, 0, NULL},
    {"select_replace", HL_SELECT_REPLACE, 0, NULL},
    {"match", HL_SELECT_LIST, 0, "$$"},
    {"match_object", HL_SELECT_LIST, 0, "$_"},
    {"match_delete", HL_SELECT_DELETE, 0, "true"},
};

/* {Op, Reverse, Limit, Budget} */
static int chunk_opts(hl_bytes t, hl_select_opts *o)
{
    size_t arity;
    hl_bytes e[4];
    int64_t v[4];
    char rev[8];
    if (hl_term_tuple_arity(t.data, t.len, &arity) || arity != 4)
        return HL_EBADARG;
    for (size_t i = 0; i < 4; i++)
        if (hl_term_tuple_element(t.data, t.len, i + 1, &e[i]))
            return HL_EBADARG;
    if (hl_term_get_int(e[0].data, e[0].len, &v[0]) || v[0] < 0 || v[0] > HL_SELECT_REPLACE ||
        hl_term_get_atom(e[1].data, e[1].len, rev, sizeof rev) ||
        (strcmp(rev, "true") && strcmp(rev, "false")) ||
        hl_term_get_int(e[2].data, e[2].len, &v[2]) || v[2] < 0 ||
        hl_term_get_int(e[3].data, e[3].len, &v[3]) || v[3] < 0)
        return HL_EBADARG;
    o->op = (hl_select_op)v[0];
    o->reverse = !strcmp(rev, "true");
    o->limit = (size_t)v[2];
    o->budget = (size_t)v[3];
    return HL_OK;
}

static int binary_view(hl_bytes t, hl_bytes *out)
{
    if (t.len < 5 || t.data[0] != HL_TAG_BINARY || hl_get_u32(t.data + 1) != t.len - 5)
        return HL_EBADARG;
    *out = (hl_bytes){t.data + 5, t.len - 5};
    return HL_OK;
}

static int chunk(const hl_proto_select_req *q)
{
    hl_bytes tab, spec;
    hl_select_opts o = {0};
    int rc = q->nargs == 4 ? HL_OK : HL_EUNKNOWN;
    if (!rc)
        rc = hl_args_table(q->arena, q->args[0], &tab);
    if (!rc)
        rc = hl_args_value(q->arena, q->args[1], &spec);
    if (!rc)
        rc = chunk_opts(q->args[2], &o);
    if (!rc)
        rc = binary_view(q->args[3], &o.after);
    if (!rc)
        rc = hl_select_chunk(q->store, tab, q->caller, spec, &o, q->reply);
    return rc;
}

int hl_proto_select(const char *verb, const hl_proto_select_req *q)
{
    if (!strcmp(verb, "$select"))
        return chunk(q);
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        if (strcmp(verb, whole[i].verb) || q->nargs != 2)
            continue;
        hl_bytes tab, spec, acc;
        hl_buf made = {0}, out = {0};
        hl_select_opts o = {whole[i].op, whole[i].reverse, 0, 0, {NULL, 0}};
        int rc = hl_args_table(q->arena, q->args[0], &tab);
        if (!rc)
            rc = hl_args_value(q->arena, q->args[1], &spec);
        if (!rc && whole[i].match_body) {
            rc = hl_select_match_spec(spec, whole[i].match_body, &made);
            spec = hl_buf_view(&made);
        }
        if (!rc)
            rc = hl_select_chunk(q->store, tab, q->caller, spec, &o, &out);
        if (!rc) /* {Acc, '$end_of_table'}: the reply is Acc */
            rc = hl_term_tuple_element(out.data, out.len, 1, &acc);
        if (!rc)
            rc = hl_buf_append(q->reply, acc.data, acc.len);
        hl_buf_free(&made);
        hl_buf_free(&out);
        return rc;
    }
    return HL_EUNKNOWN;
}
