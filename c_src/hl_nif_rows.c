/*
 * hl_nif_rows.c: the key-based reads of heirloom_nif (step, lookup_element,
 * fold_chunk), with the same store calls, results and errors as the C
 * node's hl_proto_rows.c, and the decoding helpers the row writes
 * (hl_nif_write.c) share.
 *
 * Scheduling as in hl_nif.c: step and lookup_element run on normal
 * schedulers and answer `dirty` (repeated on a dirty scheduler by heirloom)
 * for a busy lock or a term over HL_NIF_DIRTY_BYTES; fold_chunk always runs
 * on a dirty CPU scheduler (a chunk decodes many objects), and heirloom
 * asks for bounded chunks, so a fold of a million rows never holds a normal
 * scheduler.
 */
#include "hl_nif_int.h"

#include "hl_term.h"

#include <math.h>
#include <string.h>

static const hl_nif_calls *H; /* hl_nif.c's helpers, bound at load */

void hl_nif_rows_bind(const hl_nif_calls *calls)
{
    H = calls;
}

/*
 * Plain terms built directly: int64 integers, floats, ASCII atoms,
 * binaries, [] and tuples and proper lists of those, up to PLAIN_DEPTH
 * levels of PLAIN_ARITY elements. enif_binary_to_term (a size pass, then a
 * decode through a term factory) cost about as much as a cached lookup
 * around it; this walks the term once, integers and atoms read by the
 * term layer's own readers. 0 built (*pos past the term), 1 something
 * else or malformed: the caller decodes with enif_binary_to_term, which
 * gives the same term (or the error). The mirror of hl_nif_write.c's
 * direct_term.
 */
#define PLAIN_DEPTH 4
#define PLAIN_ARITY 16

static int plain(ErlNifEnv *env, const unsigned char *p, size_t len, size_t *pos, int depth,
                 ERL_NIF_TERM *out)
{
    size_t i = *pos, n, end = *pos;
    int64_t v;
    char name[256];
    if (i >= len)
        return 1;
    unsigned char tag = p[i++];
    switch (tag) {
    case HL_TAG_SMALL_INTEGER:
    case HL_TAG_INTEGER:
    case HL_TAG_SMALL_BIG: /* the term layer's readers: one rule for int64 */
        if (hl_term_skip(p, len, &end) || hl_term_get_int(p + *pos, end - *pos, &v))
            return 1;
        *out = enif_make_int64(env, v);
        i = end;
        break;
    case HL_TAG_NEW_FLOAT: {
        uint64_t b = 0;
        double d;
        if (len - i < 8)
            return 1;
        for (int k = 0; k < 8; k++)
            b = b << 8 | p[i + k];
        memcpy(&d, &b, sizeof d);
        if (!isfinite(d))
            return 1;
        *out = enif_make_double(env, d);
        i += 8;
        break;
    }
    case HL_TAG_SMALL_ATOM_UTF8:
    case HL_TAG_ATOM_UTF8:
        if (hl_term_skip(p, len, &end) || hl_term_get_atom(p + *pos, end - *pos, name, sizeof name))
            return 1;
        n = strlen(name);
        for (size_t k = 0; k < n; k++)
            if ((unsigned char)name[k] >= 0x80)
                return 1; /* enif_make_atom_len is Latin-1 */
        *out = enif_make_atom_len(env, name, n);
        i = end;
        break;
    case HL_TAG_BINARY: {
        if (len - i < 4 || len - i - 4 < (n = hl_get_u32(p + i)))
            return 1;
        unsigned char *d = enif_make_new_binary(env, n, out);
        if (!d)
            return 1;
        memcpy(d, p + i + 4, n);
        i += 4 + n;
        break;
    }
    case HL_TAG_NIL:
        *out = enif_make_list(env, 0);
        break;
    case HL_TAG_SMALL_TUPLE:
    case HL_TAG_LIST: {
        ERL_NIF_TERM el[PLAIN_ARITY];
        size_t h = tag == HL_TAG_SMALL_TUPLE ? 1 : 4;
        if (depth == 0 || len - i < h)
            return 1;
        n = h == 1 ? p[i] : hl_get_u32(p + i);
        if (n > PLAIN_ARITY)
            return 1;
        i += h;
        for (size_t k = 0; k < n; k++)
            if (plain(env, p, len, &i, depth - 1, &el[k]))
                return 1;
        if (tag == HL_TAG_LIST) {
            if (i >= len || p[i++] != HL_TAG_NIL)
                return 1; /* improper: binary_to_term */
            *out = enif_make_list_from_array(env, el, (unsigned)n);
        } else {
            *out = enif_make_tuple_from_array(env, el, (unsigned)n);
        }
        break;
    }
    default:
        return 1;
    }
    *pos = i;
    return 0;
}

int hl_nif_decode(ErlNifEnv *env, hl_bytes t, ERL_NIF_TERM *out)
{
    size_t pos = 1;
    if (t.len && t.data[0] == HL_TAG_VERSION) {
        if (!plain(env, t.data, t.len, &pos, PLAIN_DEPTH, out) && pos == t.len)
            return HL_OK;
        return enif_binary_to_term(env, t.data, t.len, out, 0) ? HL_OK : HL_EBADARG;
    }
    hl_buf b = {0};
    int rc = hl_buf_append_byte(&b, HL_TAG_VERSION);
    if (!rc)
        rc = hl_buf_append(&b, t.data, t.len);
    if (!rc && !enif_binary_to_term(env, b.data, b.len, out, 0))
        rc = HL_EBADARG;
    hl_buf_free(&b);
    return rc;
}

int hl_nif_add_term(void *ctx, hl_bytes t)
{
    hl_nif_terms *c = ctx;
    ERL_NIF_TERM x;
    c->bytes += t.len;
    if (!c->dirty_ok && c->bytes > HL_NIF_DIRTY_BYTES) {
        c->too_big = 1;
        return 1;
    }
    int rc = hl_nif_decode(c->env, t, &x);
    if (!rc) {
        c->list = enif_make_list_cell(c->env, x, c->list);
        c->n++;
    }
    return rc;
}

ERL_NIF_TERM hl_nif_in_order(hl_nif_terms *c)
{
    ERL_NIF_TERM out;
    return enif_make_reverse_list(c->env, c->list, &out) ? out : c->list;
}

static ERL_NIF_TERM reply(ErlNifEnv *env, int rc, int dirty, ERL_NIF_TERM ok)
{
    if (dirty || rc == HL_EWOULDBLOCK)
        return H->atom("dirty");
    return rc ? H->error(env, rc) : ok;
}

static ERL_NIF_TERM step_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty_ok)
{
    call_args a;
    char how[8];
    hl_step st;
    hl_nif_terms c = {env, enif_make_list(env, 0), 0, dirty_ok, 0, 0};
    int rc = H->prologue(env, argv, 0, &a);
    if (!rc && enif_get_atom(env, argv[2], how, sizeof how, ERL_NIF_LATIN1) <= 0)
        rc = HL_EBADARG;
    if (!rc) {
        st = !strcmp(how, "first")  ? HL_STEP_FIRST
             : !strcmp(how, "last") ? HL_STEP_LAST
             : !strcmp(how, "next") ? HL_STEP_NEXT
                                    : HL_STEP_PREV;
        if (st == HL_STEP_NEXT || st == HL_STEP_PREV)
            rc = H->canon(env, argv[3], 0, &a.key);
    }
    if (!rc) {
        hl_store_no_wait(!dirty_ok);
        do
            rc = hl_store_step(H->store(&a), hl_buf_view(&a.tab), H->reader(&a), st,
                               hl_buf_view(&a.key), hl_nif_add_term, &c);
        while (H->redo_as_caller(env, &a, &rc));
        hl_store_no_wait(0);
    }
    H->epilogue(&a);
    ERL_NIF_TERM key;
    if (!c.n || !enif_get_list_cell(env, c.list, &key, &c.list))
        key = enif_make_atom(env, "$end_of_table");
    return reply(env, rc == 1 ? HL_OK : rc, c.too_big, key);
}

HL_NIF_FN(hl_nif_step)
{
    (void)argc;
    return step_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_step_dirty)
{
    (void)argc;
    return step_any(env, argv, 1);
}

static ERL_NIF_TERM lookup_element_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty_ok)
{
    call_args a;
    ErlNifSInt64 pos;
    int many = 0;
    hl_nif_terms c = {env, enif_make_list(env, 0), 0, dirty_ok, 0, 0};
    int rc = H->prologue(env, argv, 1, &a);
    if (!rc && (!enif_get_int64(env, argv[3], &pos) || pos < 1))
        rc = HL_EBADARG;
    if (!rc) {
        hl_store_no_wait(!dirty_ok);
        do
            rc = hl_store_lookup_element(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                                         hl_buf_view(&a.key), (size_t)pos, hl_nif_add_term, &c,
                                         &many);
        while (H->redo_as_caller(env, &a, &rc));
        hl_store_no_wait(0);
    }
    H->epilogue(&a);
    ERL_NIF_TERM out = hl_nif_in_order(&c), one;
    if (!many && !rc && !c.too_big && enif_get_list_cell(env, out, &one, &out))
        out = one;
    return reply(env, rc == 1 ? HL_OK : rc, c.too_big, out);
}

HL_NIF_FN(hl_nif_lookup_element)
{
    (void)argc;
    return lookup_element_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_lookup_element_dirty)
{
    (void)argc;
    return lookup_element_any(env, argv, 1);
}

/* fold_chunk(Env, Tab, foldl | foldr, start | {after, K}, Max). */
typedef struct {
    hl_nif_terms t;
    ERL_NIF_TERM last; /* the key of the last object */
    unsigned keypos;
} chunk_ctx;

static int chunk_cb(void *ctx, hl_bytes obj)
{
    chunk_ctx *c = ctx;
    int rc = hl_nif_add_term(&c->t, obj);
    const ERL_NIF_TERM *els;
    int arity;
    ERL_NIF_TERM head;
    if (!rc && enif_get_list_cell(c->t.env, c->t.list, &head, &(ERL_NIF_TERM){0}) &&
        enif_get_tuple(c->t.env, head, &arity, &els) && (unsigned)arity >= c->keypos)
        c->last = els[c->keypos - 1];
    return rc;
}

HL_NIF_FN(hl_nif_fold_chunk)
{
    (void)argc;
    call_args a;
    char dir[8];
    ErlNifSInt64 max;
    const ERL_NIF_TERM *from;
    int arity, more = 0;
    hl_buf after = {0};
    hl_meta m = {0};
    chunk_ctx c = {{env, enif_make_list(env, 0), 0, 1, 0, 0}, 0, 1};
    int rc = H->prologue(env, argv, 0, &a);
    if (!rc && (enif_get_atom(env, argv[2], dir, sizeof dir, ERL_NIF_LATIN1) <= 0 ||
                (strcmp(dir, "foldl") && strcmp(dir, "foldr"))))
        rc = HL_EBADARG;
    if (!rc && enif_get_tuple(env, argv[3], &arity, &from) && arity == 2)
        rc = H->canon(env, from[1], 1, &after);
    else if (!rc && !enif_is_identical(argv[3], enif_make_atom(env, "start")))
        rc = HL_EBADARG;
    if (!rc && (!enif_get_int64(env, argv[4], &max) || max < 1))
        rc = HL_EBADARG;
    if (!rc)
        rc = hl_store_get_meta(H->store(&a), hl_buf_view(&a.tab), &m);
    c.keypos = m.keypos;
    hl_meta_free(&m);
    if (!rc) {
        do
            rc = hl_store_chunk(H->store(&a), hl_buf_view(&a.tab), H->reader(&a), dir[4] == 'r',
                                hl_buf_view(&after), (size_t)(max > 10000 ? 10000 : max), chunk_cb,
                                &c, &more);
        while (H->redo_as_caller(env, &a, &rc));
    }
    H->epilogue(&a);
    hl_buf_free(&after);
    if (rc)
        return H->error(env, rc);
    ERL_NIF_TERM next = more ? enif_make_tuple2(env, enif_make_atom(env, "after"), c.last)
                             : enif_make_atom(env, "done");
    return enif_make_tuple2(env, hl_nif_in_order(&c.t), next);
}
