/*
 * hl_table.c: rules about tables shared by the C node and the NIF (see
 * hl_table.h).
 *
 * The objects of an insert are canonicalised one after another into a single
 * buffer, and only then cut into views: the buffer may move while it grows,
 * so offsets are kept until the end.
 */
#include "hl_table.h"

#include "hl_term.h"

#include <stdlib.h>

int hl_table_id_check(hl_bytes tab)
{
    if (tab.len == 0)
        return HL_EBADARG;
    unsigned char tag = tab.data[0];
    return tag == HL_TAG_SMALL_ATOM_UTF8 || tag == HL_TAG_ATOM_UTF8 || tag == HL_TAG_NEWER_REFERENCE
               ? HL_OK
               : HL_EBADARG;
}

void hl_table_meta_default(hl_meta *m, hl_bytes owner)
{
    *m = (hl_meta){.type = HL_SET, .keypos = 1, .access = HL_PROTECTED};
    m->own.owner = owner;
    m->own.heir_kind = HL_HEIR_CNODE;
}

typedef struct {
    hl_buf *all;
    size_t *ends; /* end offset in `all` of each object */
    size_t n, cap;
} objs_ctx;

static int add_object(void *ctx, hl_bytes elem)
{
    objs_ctx *c = ctx;
    size_t pos = 0, arity;
    if (hl_grow(&c->ends, &c->cap, c->n + 1, sizeof *c->ends, 16))
        return HL_ENOMEM;
    size_t start = c->all->len;
    /* The object form: the object is stored as given (-0.0 kept). */
    int rc = hl_term_canon_form(elem.data, elem.len, &pos, c->all, HL_FORM_OBJECT);
    if (rc)
        return rc;
    if (pos != elem.len || hl_term_tuple_arity(c->all->data + start, c->all->len - start, &arity) ||
        arity == 0)
        return HL_EBADARG;
    c->ends[c->n++] = c->all->len;
    return HL_OK;
}

int hl_table_objects(const unsigned char *t, size_t len, hl_buf *all, hl_bytes **objs, size_t *n)
{
    size_t arity;
    objs_ctx c = {all, NULL, 0, 0};
    int rc;
    *objs = NULL;
    *n = 0;
    if (hl_term_tuple_arity(t, len, &arity) == HL_OK)
        rc = add_object(&c, (hl_bytes){t, len});
    else
        rc = hl_term_list_each(t, len, add_object, &c);
    hl_bytes *v = NULL;
    if (!rc && c.n && !(v = malloc(c.n * sizeof *v)))
        rc = HL_ENOMEM;
    if (!rc) {
        size_t start = 0;
        for (size_t i = 0; i < c.n; i++) {
            v[i] = (hl_bytes){all->data + start, c.ends[i] - start};
            start = c.ends[i];
        }
        *objs = v;
        *n = c.n;
    }
    free(c.ends);
    return rc;
}
