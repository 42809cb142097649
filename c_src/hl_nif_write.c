/*
 * hl_nif_write.c: the row writes of heirloom_nif (insert, insert_new,
 * delete, delete_object, take, update_counter, update_element), with the
 * same store calls, results and errors as the C node's.
 *
 * Scheduling, the one idea here: a write runs on a normal scheduler, as
 * ETS's do, whenever it cannot take long, and answers `dirty` (having
 * written nothing) when it might; heirloom then repeats it on the `_dirty`
 * twin, on a dirty I/O scheduler, which may wait. On a normal scheduler:
 *  - the arguments must be small (small_term: a walk bounded by a node
 *    count, so even the check is cheap), checked before anything is
 *    encoded;
 *  - the store runs with hl_store_no_wait: the store's write lock is only
 *    tried (the C node or another thread may be in a long transaction;
 *    every writer takes that lock before LMDB's, so holding it LMDB never
 *    makes us wait), and a write that would grow the data file, fsync, or
 *    read more than HL_STORE_NO_WAIT_BYTES of existing rows gives up.
 * Either way the write is one committed LMDB transaction when it returns:
 * acknowledged is stored, for the C node and every other process.
 *
 * Writes go first as an anonymous writer, as reads do (hl_nif.c): a public
 * table lets anyone write, and encoding the caller's pid costs about as much
 * as the write; a protected or private table answers HL_EACCESS, checked
 * before anything is written, and the write is redone as the caller.
 */
#include "hl_nif_int.h"

#include "hl_table.h"
#include "hl_term.h"

#include <stdlib.h>

static const hl_nif_calls *H; /* hl_nif.c's helpers, bound at load */

void hl_nif_write_bind(const hl_nif_calls *calls)
{
    H = calls;
}

/* Terms a small_term walk visits at most (its stack is this deep). */
#define WALK_NODES 512

/* Is t small enough to encode and write on a normal scheduler: at most
 * WALK_NODES terms and about HL_STORE_NO_WAIT_BYTES of external format?
 * Bignums, funs and odd bitstrings count as large (rare in rows; they go
 * dirty). The walk gives up as soon as either bound is passed. */
static int small_term(ErlNifEnv *env, ERL_NIF_TERM t, size_t *bytes, size_t *seen)
{
    ERL_NIF_TERM stack[WALK_NODES], head;
    const ERL_NIF_TERM *els;
    size_t n = 0;
    stack[n++] = t;
    while (n) {
        ERL_NIF_TERM x = stack[--n];
        ErlNifSInt64 i;
        ErlNifUInt64 u;
        ErlNifBinary b;
        unsigned len;
        int arity;
        size_t pairs;
        if (++*seen > WALK_NODES)
            return 0;
        switch (enif_term_type(env, x)) {
        case ERL_NIF_TERM_TYPE_ATOM:
            *bytes += 3 + (enif_get_atom_length(env, x, &len, ERL_NIF_LATIN1) ? 2 * len : 255);
            break;
        case ERL_NIF_TERM_TYPE_BITSTRING:
            if (!enif_inspect_binary(env, x, &b))
                return 0;
            *bytes += 5 + b.size;
            break;
        case ERL_NIF_TERM_TYPE_FLOAT:
            *bytes += 9;
            break;
        case ERL_NIF_TERM_TYPE_INTEGER:
            if (!enif_get_int64(env, x, &i) && !enif_get_uint64(env, x, &u))
                return 0;
            *bytes += 11;
            break;
        case ERL_NIF_TERM_TYPE_PID:
        case ERL_NIF_TERM_TYPE_PORT:
        case ERL_NIF_TERM_TYPE_REFERENCE:
            *bytes += 16 + 2 * 255; /* with the node's name, at worst */
            break;
        case ERL_NIF_TERM_TYPE_TUPLE:
            if (!enif_get_tuple(env, x, &arity, &els) || n + (size_t)arity > WALK_NODES)
                return 0;
            for (int k = arity - 1; k >= 0; k--)
                stack[n++] = els[k];
            *bytes += 5;
            break;
        case ERL_NIF_TERM_TYPE_LIST:
            *bytes += 5;
            /* The cells count as terms too, so a long list stops the walk. */
            while (enif_get_list_cell(env, x, &head, &x)) {
                if (n == WALK_NODES || ++*seen > WALK_NODES)
                    return 0;
                stack[n++] = head;
                *bytes += 1;
            }
            if (!enif_is_empty_list(env, x)) {
                if (n == WALK_NODES)
                    return 0;
                stack[n++] = x; /* an improper tail */
            }
            break;
        case ERL_NIF_TERM_TYPE_MAP: {
            ErlNifMapIterator it;
            ERL_NIF_TERM k, v;
            if (!enif_get_map_size(env, x, &pairs) || n + 2 * pairs > WALK_NODES ||
                !enif_map_iterator_create(env, x, &it, ERL_NIF_MAP_ITERATOR_FIRST))
                return 0;
            while (enif_map_iterator_get_pair(env, &it, &k, &v)) {
                stack[n++] = k;
                stack[n++] = v;
                enif_map_iterator_next(env, &it);
            }
            enif_map_iterator_destroy(env, &it);
            *bytes += 5;
            break;
        }
        default: /* funs, and whatever a later OTP adds */
            return 0;
        }
        if (*bytes > HL_STORE_NO_WAIT_BYTES)
            return 0;
    }
    return 1;
}

/* The arguments argv[from..to) of a call on a normal scheduler: all small
 * together? */
static int small_args(ErlNifEnv *env, const ERL_NIF_TERM argv[], int from, int to)
{
    size_t bytes = 0, seen = 0;
    for (int i = from; i < to; i++)
        if (!small_term(env, argv[i], &bytes, &seen))
            return 0;
    return 1;
}

/* Around the store call of a write: no waiting on a normal scheduler. */
static void store_begin(int dirty)
{
    hl_store_no_wait(!dirty);
}

static ERL_NIF_TERM finish(ErlNifEnv *env, int rc, ERL_NIF_TERM ok)
{
    hl_store_no_wait(0);
    if (rc == HL_EWOULDBLOCK)
        return H->atom("dirty");
    return rc ? H->error(env, rc) : ok;
}

/* The objects argument: read by the same code as the C node's, from its
 * external format (one term_to_binary for the whole list). */
static int objects(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *all, hl_bytes **views, size_t *n)
{
    ErlNifBinary bin;
    if (!enif_term_to_binary(env, t, &bin))
        return HL_ENOMEM;
    int rc =
        bin.size > 1 ? hl_table_objects(bin.data + 1, bin.size - 1, all, views, n) : HL_EBADARG;
    enif_release_binary(&bin);
    return rc;
}

/* Objects objects_direct keeps the views of on the stack; tuple levels
 * within one it encodes. */
#define DIRECT_OBJECTS 64
#define DIRECT_DEPTH 4

/* Append the canonical form of t when it is plain: an int64 integer, an
 * ASCII atom, a binary, or a tuple of those (up to depth levels). 0 done,
 * 1 something else (nothing usable appended), or HL_ENOMEM. The encoders
 * (hl_term_enc.h) write canonical terms, so the bytes are those the
 * canonicaliser would make from term_to_binary's. */
static int direct_term(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *out, int depth)
{
    ErlNifSInt64 i;
    ErlNifBinary b;
    const ERL_NIF_TERM *els;
    int arity;
    if (enif_get_int64(env, t, &i))
        return hl_term_put_int(out, i);
    if (enif_is_binary(env, t) && enif_inspect_binary(env, t, &b))
        return hl_term_put_binary(out, b.data, b.size);
    if (enif_is_atom(env, t))
        return H->atom_direct(env, t, out);
    if (depth == 0 || !enif_get_tuple(env, t, &arity, &els))
        return 1; /* lists, floats, maps, pids, ...: the canonicaliser */
    int rc = hl_term_put_tuple_header(out, (size_t)arity);
    for (int k = 0; k < arity && !rc; k++)
        rc = direct_term(env, els[k], out, depth - 1);
    return rc;
}

/* The objects argument without term_to_binary and the canonicaliser, when
 * it is a tuple or a proper non-empty list of non-empty tuples that
 * direct_term encodes: *views is `local` (room for DIRECT_OBJECTS) or, for
 * more objects, a malloc'ed array the caller frees. 0 done, 1 not such
 * (all emptied: take the general path, which also answers the errors),
 * HL_ENOMEM. */
static int objects_direct(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *all, hl_bytes *local,
                          hl_bytes **views, size_t *n)
{
    unsigned len = 1;
    int one = enif_is_tuple(env, t), rc = 0, arity;
    if (!one && (!enif_get_list_length(env, t, &len) || len == 0))
        return 1;
    hl_bytes *v = len <= DIRECT_OBJECTS ? local : malloc(len * sizeof *v);
    if (!v)
        return HL_ENOMEM;
    ERL_NIF_TERM obj = t, rest = t;
    const ERL_NIF_TERM *els;
    /* Each view's len holds its object's offset in all until all is done
     * (all moves as it grows). */
    for (unsigned k = 0; k < len && !rc; k++) {
        if (!one)
            (void)enif_get_list_cell(env, rest, &obj, &rest);
        v[k] = (hl_bytes){NULL, all->len};
        rc = enif_get_tuple(env, obj, &arity, &els) && arity > 0
                 ? direct_term(env, obj, all, DIRECT_DEPTH)
                 : 1;
    }
    if (rc) {
        if (v != local)
            free(v);
        all->len = 0;
        return rc;
    }
    for (unsigned k = 0; k < len; k++) {
        size_t start = v[k].len, end = k + 1 < len ? v[k + 1].len : all->len;
        v[k] = (hl_bytes){all->data + start, end - start};
    }
    *views = v;
    *n = len;
    return HL_OK;
}

/* insert(Env, Tab, Objects) and insert_new. */
static ERL_NIF_TERM insert_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int only_new, int dirty)
{
    call_args a;
    hl_buf all;
    unsigned char all_mem[512]; /* one small object, or a few: no malloc */
    hl_bytes direct[DIRECT_OBJECTS], *views = NULL;
    size_t n = 0;
    int inserted = 0;
    if (!dirty && !small_args(env, argv, 2, 3))
        return H->atom("dirty");
    hl_buf_on(&all, all_mem, sizeof all_mem);
    int rc = H->prologue(env, argv, 0, &a);
    if (!rc && (rc = objects_direct(env, argv[2], &all, direct, &views, &n)) == 1)
        rc = objects(env, argv[2], &all, &views, &n);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_insert(H->store(&a), hl_buf_view(&a.tab), H->reader(&a), views, n,
                                 only_new, &inserted);
        while (H->redo_as_caller(env, &a, &rc));
    H->epilogue(&a);
    hl_buf_free(&all);
    if (views != direct)
        free(views);
    return finish(env, rc, only_new && !inserted ? H->atom("false") : H->atom("true"));
}

HL_NIF_FN(hl_nif_insert)
{
    (void)argc;
    return insert_any(env, argv, 0, 0);
}

HL_NIF_FN(hl_nif_insert_dirty)
{
    (void)argc;
    return insert_any(env, argv, 0, 1);
}

HL_NIF_FN(hl_nif_insert_new)
{
    (void)argc;
    return insert_any(env, argv, 1, 0);
}

HL_NIF_FN(hl_nif_insert_new_dirty)
{
    (void)argc;
    return insert_any(env, argv, 1, 1);
}

/* delete(Env, Tab, Key). */
static ERL_NIF_TERM delete_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty)
{
    call_args a;
    if (!dirty && !small_args(env, argv, 2, 3))
        return H->atom("dirty");
    int rc = H->prologue(env, argv, 1, &a);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_delete_key(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                                     hl_buf_view(&a.key));
        while (H->redo_as_caller(env, &a, &rc));
    H->epilogue(&a);
    return finish(env, rc, H->atom("true"));
}

HL_NIF_FN(hl_nif_delete)
{
    (void)argc;
    return delete_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_delete_dirty)
{
    (void)argc;
    return delete_any(env, argv, 1);
}

/* update_counter(Env, Tab, Key, Op, {default, D} | nodefault). */
static ERL_NIF_TERM update_counter_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty)
{
    call_args a;
    hl_buf ops = {0}, dflt = {0}, res = {0};
    const ERL_NIF_TERM *d;
    int arity;
    ERL_NIF_TERM out = 0;
    if (!dirty && !small_args(env, argv, 2, 5))
        return H->atom("dirty");
    int rc = H->prologue(env, argv, 1, &a);
    if (!rc)
        rc = H->canon(env, argv[3], 1, &ops);
    if (!rc && enif_get_tuple(env, argv[4], &arity, &d) && arity == 2)
        rc = H->canon(env, d[1], 1, &dflt);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_update_counter(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                                         hl_buf_view(&a.key), hl_buf_view(&ops), hl_buf_view(&dflt),
                                         &res);
        while (H->redo_as_caller(env, &a, &rc));
    if (!rc)
        rc = hl_nif_decode(env, hl_buf_view(&res), &out);
    H->epilogue(&a);
    hl_buf_free(&ops);
    hl_buf_free(&dflt);
    hl_buf_free(&res);
    return finish(env, rc, out);
}

HL_NIF_FN(hl_nif_update_counter)
{
    (void)argc;
    return update_counter_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_update_counter_dirty)
{
    (void)argc;
    return update_counter_any(env, argv, 1);
}

/* update_element(Env, Tab, Key, Spec). */
static ERL_NIF_TERM update_element_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty)
{
    call_args a;
    hl_buf spec = {0};
    int updated = 0;
    if (!dirty && !small_args(env, argv, 2, 4))
        return H->atom("dirty");
    int rc = H->prologue(env, argv, 1, &a);
    if (!rc)
        rc = H->canon(env, argv[3], 1, &spec);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_update_element(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                                         hl_buf_view(&a.key), hl_buf_view(&spec), &updated);
        while (H->redo_as_caller(env, &a, &rc));
    H->epilogue(&a);
    hl_buf_free(&spec);
    return finish(env, rc, H->atom(updated ? "true" : "false"));
}

HL_NIF_FN(hl_nif_update_element)
{
    (void)argc;
    return update_element_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_update_element_dirty)
{
    (void)argc;
    return update_element_any(env, argv, 1);
}

/* take(Env, Tab, Key): what it removed. The store hands the objects over
 * after the commit, and within the no_wait bounds on a normal scheduler, so
 * decoding them here is bounded too. */
static ERL_NIF_TERM take_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty)
{
    call_args a;
    hl_nif_terms c = {env, enif_make_list(env, 0), 0, 1, 0, 0};
    if (!dirty && !small_args(env, argv, 2, 3))
        return H->atom("dirty");
    int rc = H->prologue(env, argv, 1, &a);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_take(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                               hl_buf_view(&a.key), hl_nif_add_term, &c);
        while (H->redo_as_caller(env, &a, &rc));
    H->epilogue(&a);
    return finish(env, rc, rc ? 0 : hl_nif_in_order(&c));
}

HL_NIF_FN(hl_nif_take)
{
    (void)argc;
    return take_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_take_dirty)
{
    (void)argc;
    return take_any(env, argv, 1);
}

/* delete_object(Env, Tab, Object). */
static ERL_NIF_TERM delete_object_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty)
{
    call_args a;
    hl_buf obj = {0};
    if (!dirty && !small_args(env, argv, 2, 3))
        return H->atom("dirty");
    int rc = H->prologue(env, argv, 0, &a);
    if (!rc && !enif_is_tuple(env, argv[2]))
        rc = HL_EBADARG;
    if (!rc)
        rc = H->canon(env, argv[2], 1, &obj);
    store_begin(dirty);
    if (!rc)
        do
            rc = hl_store_delete_object(H->store(&a), hl_buf_view(&a.tab), H->reader(&a),
                                        hl_buf_view(&obj));
        while (H->redo_as_caller(env, &a, &rc));
    H->epilogue(&a);
    hl_buf_free(&obj);
    return finish(env, rc, H->atom("true"));
}

HL_NIF_FN(hl_nif_delete_object)
{
    (void)argc;
    return delete_object_any(env, argv, 0);
}

HL_NIF_FN(hl_nif_delete_object_dirty)
{
    (void)argc;
    return delete_object_any(env, argv, 1);
}
