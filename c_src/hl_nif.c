/*
 * hl_nif.c: heirloom_nif, the same-host fast path into the C node's store.
 *
 * The NIF opens the C node's LMDB environment inside the BEAM and serves
 * lookups and writes with no network hop. It goes through hl_store, so the
 * owner and access rules are checked against the table's meta inside the
 * very LMDB transaction that does the work; the C node changes ownership in
 * write transactions of its own, and LMDB serialises writers across
 * processes, so a racing give_away can never let a non-owner write.
 *
 * LMDB forbids opening one environment twice in a process, so environments
 * are shared through a small registry keyed by directory, and a resource
 * (one per open/1 call) holds a reference to its entry.
 *
 * Scheduling: reads of small objects run on normal schedulers (a lookup is
 * a B-tree walk in mapped memory and a decode, about a microsecond). A read
 * returns `dirty`, and the Erlang side repeats it on the dirty variant, when
 * it finds objects over HL_NIF_DIRTY_BYTES in all (a normal scheduler never
 * decodes megabytes) or when it would have to wait for one of the store's
 * locks (hl_store_no_wait): the first read of a table takes a lock that a
 * write opening the same table holds for its whole transaction. Row writes
 * (hl_nif_write.c) do the same: a normal scheduler when small and the
 * store's write lock is free, else `dirty`.
 */
#include "hl_nif_int.h"
#include "hl_select.h"
#include "hl_table.h"
#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

struct env_entry {
    struct env_entry *next;
    char *dir;
    hl_store *store;
    int refs;
};

typedef struct {
    env_entry *e;
} env_res;

static ErlNifResourceType *env_type;
static ErlNifMutex *registry_lock;
static env_entry *registry;
/* Module instances using this copy of the library (an upgrade loads a second
 * one over the first; each is unloaded when purged). erts serialises load,
 * upgrade and unload, so no lock. */
static int instances;

static ERL_NIF_TERM am_ok, am_error, am_true, am_false, am_dirty;

static ERL_NIF_TERM error_term(ErlNifEnv *env, int err)
{
    return enif_make_tuple2(env, am_error, enif_make_atom(env, hl_err_reason(err)));
}

static void env_release(env_entry *e)
{
    enif_mutex_lock(registry_lock);
    if (--e->refs == 0) {
        env_entry **pp = &registry;
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        hl_store_close(e->store);
        free(e->dir);
        free(e);
    }
    enif_mutex_unlock(registry_lock);
}

static void env_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    env_res *r = obj;
    if (r->e)
        env_release(r->e);
    r->e = NULL;
}

static int env_acquire(const char *dir, env_entry **out, char *err, size_t errlen)
{
    int rc = HL_OK;
    enif_mutex_lock(registry_lock);
    env_entry *e = registry;
    while (e && strcmp(e->dir, dir))
        e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (e)
            e->dir = strdup(dir);
        if (!e || !e->dir) {
            rc = HL_ENOMEM;
        } else {
            hl_store_opts o = {dir, 0, HL_STORE_SYNC_FOLLOW, 1, NULL, NULL};
            rc = hl_store_open(&o, &e->store, err, errlen);
        }
        if (rc) {
            if (e)
                free(e->dir);
            free(e);
            e = NULL;
        } else {
            e->next = registry;
            registry = e;
        }
    }
    if (e)
        e->refs++;
    enif_mutex_unlock(registry_lock);
    *out = e;
    return rc;
}

/* Canonical encodings of the ASCII atoms a scheduler thread met last, by
 * the atom's term (the same for the VM's whole life: atoms are never
 * collected): a table's name is encoded on every call. A few entries, so
 * that a name and an atom key do not evict each other. */
#define ATOM_CACHE 4
#define ATOM_CACHE_BYTES 64
static _Thread_local struct {
    ERL_NIF_TERM atom; /* 0: empty (no atom's term is 0) */
    unsigned char len;
    unsigned char bytes[ATOM_CACHE_BYTES];
} atom_cache[ATOM_CACHE];

/* An ASCII atom's canonical form appended to out: 0 done, 1 not an ASCII
 * atom (nothing appended; Latin-1 here is UTF-8 in the store, which the
 * canonicaliser converts), or HL_ENOMEM. */
static int atom_direct(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *out)
{
    char name[256];
    if (!enif_is_atom(env, t))
        return 1;
    size_t slot = (size_t)(t >> 6) % ATOM_CACHE; /* by the atom's index, roughly */
    if (atom_cache[slot].atom == t)
        return hl_buf_append(out, atom_cache[slot].bytes, atom_cache[slot].len);
    int n = enif_get_atom(env, t, name, sizeof name, ERL_NIF_LATIN1);
    if (n <= 0)
        return 1;
    for (int k = 0; k < n - 1; k++)
        if ((unsigned char)name[k] >= 0x80)
            return 1;
    size_t start = out->len;
    int rc = hl_term_put_atom(out, name, (size_t)n - 1);
    if (!rc && out->len - start <= ATOM_CACHE_BYTES) {
        atom_cache[slot].atom = t;
        atom_cache[slot].len = (unsigned char)(out->len - start);
        memcpy(atom_cache[slot].bytes, out->data + start, out->len - start);
    }
    return rc;
}

/* ASCII atoms and int64 integers, the usual table names and keys, encoded
 * directly: term_to_binary plus canonicalising costs more than a lookup. */
static int canon_direct(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *out)
{
    ErlNifSInt64 i;
    if (enif_get_int64(env, t, &i))
        return hl_term_put_int(out, i);
    return atom_direct(env, t, out);
}

/* Canonical external format of a term in the given form (hl_term.h): the
 * key form for tables, keys and callers, the object form for objects. */
static int canon_as(ErlNifEnv *env, ERL_NIF_TERM t, hl_term_form form, hl_buf *out)
{
    int rc = canon_direct(env, t, out);
    if (rc <= 0)
        return rc;
    ErlNifBinary bin;
    if (!enif_term_to_binary(env, t, &bin))
        return HL_ENOMEM;
    size_t pos = 1;
    rc = bin.size > 1 ? hl_term_canon_form(bin.data, bin.size, &pos, out, form) : HL_EBADARG;
    enif_release_binary(&bin);
    return rc;
}

static int canon(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *out)
{
    return canon_as(env, t, HL_FORM_KEY, out);
}

static env_entry *get_env(ErlNifEnv *env, ERL_NIF_TERM t)
{
    env_res *r;
    if (!enif_get_resource(env, t, env_type, (void **)&r))
        return NULL;
    return r->e;
}

static ERL_NIF_TERM nif_open(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    char dir[4096], err[512];
    env_entry *e;
    if (enif_get_string(env, argv[0], dir, sizeof dir, ERL_NIF_LATIN1) <= 0)
        return enif_make_badarg(env);
    /* err's sentence is for a person; callers match on the reason atom. */
    int rc = env_acquire(dir, &e, err, sizeof err);
    if (rc)
        return error_term(env, rc);
    env_res *r = enif_alloc_resource(env_type, sizeof *r);
    if (!r) {
        env_release(e);
        return error_term(env, HL_ENOMEM);
    }
    r->e = e;
    ERL_NIF_TERM t = enif_make_resource(env, r);
    enif_release_resource(r);
    return enif_make_tuple2(env, am_ok, t);
}

/* Common prologue: env, canonical table and (with_key) key. */
static int prologue(ErlNifEnv *env, const ERL_NIF_TERM argv[], int with_key, call_args *a)
{
    a->e = NULL;
    a->caller = (hl_buf){0};
    hl_buf_on(&a->tab, a->tab_mem, sizeof a->tab_mem);
    hl_buf_on(&a->key, a->key_mem, sizeof a->key_mem);
    /* Not a handle of this library's resource type: made by an instance of
     * the library that was deleted since (heirloom then opens a new one). */
    if (!(a->e = get_env(env, argv[0])))
        return HL_EHANDLE;
    int rc = canon(env, argv[1], &a->tab);
    if (!rc)
        rc = hl_table_id_check(hl_buf_view(&a->tab));
    if (!rc && with_key)
        rc = canon(env, argv[2], &a->key);
    return rc;
}

/* The calling process's canonical pid, needed by every write. */
static int set_caller(ErlNifEnv *env, call_args *a)
{
    ErlNifPid self;
    if (!enif_self(env, &self))
        return HL_EBADARG;
    return canon(env, enif_make_pid(env, &self), &a->caller);
}

/*
 * Reads go first as an anonymous reader, a one-byte view no canonical pid
 * equals: public and protected tables let it read, a private one answers
 * HL_EACCESS and the read is redone as the caller. Encoding the caller's pid
 * (term_to_binary with its node name) costs more than the lookup itself.
 */
static const unsigned char anonymous_byte = 0;

static hl_bytes reader(const call_args *a)
{
    return a->caller.len ? hl_buf_view(&a->caller) : (hl_bytes){&anonymous_byte, 1};
}

/* After a read: 1 when it must be redone as the caller (*rc then reset). */
static int redo_as_caller(ErlNifEnv *env, call_args *a, int *rc)
{
    if (*rc != HL_EACCESS || a->caller.len)
        return 0;
    *rc = set_caller(env, a);
    return *rc == HL_OK;
}

static void epilogue(call_args *a)
{
    hl_buf_free(&a->tab);
    hl_buf_free(&a->caller);
    hl_buf_free(&a->key);
}

static ERL_NIF_TERM lookup_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty_ok)
{
    call_args a;
    hl_nif_terms c = {env, enif_make_list(env, 0), 0, dirty_ok, 0, 0};
    int rc = prologue(env, argv, 1, &a);
    if (!rc) {
        hl_store_no_wait(!dirty_ok);
        do
            rc = hl_store_lookup(a.e->store, hl_buf_view(&a.tab), reader(&a), hl_buf_view(&a.key),
                                 hl_nif_add_term, &c);
        while (redo_as_caller(env, &a, &rc));
        hl_store_no_wait(0);
    }
    epilogue(&a);
    if (c.too_big || rc == HL_EWOULDBLOCK)
        return am_dirty;
    return rc ? error_term(env, rc) : hl_nif_in_order(&c);
}

static ERL_NIF_TERM nif_lookup(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return lookup_any(env, argv, 0);
}

static ERL_NIF_TERM nif_lookup_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return lookup_any(env, argv, 1);
}

static ERL_NIF_TERM member_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty_ok)
{
    call_args a;
    int found = 0;
    int rc = prologue(env, argv, 1, &a);
    if (!rc) {
        hl_store_no_wait(!dirty_ok);
        do
            rc = hl_store_member(a.e->store, hl_buf_view(&a.tab), reader(&a), hl_buf_view(&a.key),
                                 &found);
        while (redo_as_caller(env, &a, &rc));
        hl_store_no_wait(0);
    }
    epilogue(&a);
    if (rc == HL_EWOULDBLOCK)
        return am_dirty;
    return rc ? error_term(env, rc) : (found ? am_true : am_false);
}

static ERL_NIF_TERM nif_member(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return member_any(env, argv, 0);
}

static ERL_NIF_TERM nif_member_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return member_any(env, argv, 1);
}

static ERL_NIF_TERM size_any(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty_ok)
{
    call_args a;
    hl_table_stats st;
    int rc = prologue(env, argv, 0, &a);
    if (!rc) {
        hl_store_no_wait(!dirty_ok);
        rc = hl_store_stats(a.e->store, hl_buf_view(&a.tab), &st);
        hl_store_no_wait(0);
    }
    epilogue(&a);
    if (rc == HL_EWOULDBLOCK)
        return am_dirty;
    return rc ? error_term(env, rc) : enif_make_uint64(env, st.size);
}

static ERL_NIF_TERM nif_size(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return size_any(env, argv, 0);
}

static ERL_NIF_TERM nif_size_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return size_any(env, argv, 1);
}

/* --- handed to hl_nif_rows.c (hl_nif_int.h) ----------------------------- */

static hl_store *call_store(const call_args *a)
{
    return a->e->store;
}

static int call_canon(ErlNifEnv *env, ERL_NIF_TERM t, int object_form, hl_buf *out)
{
    return canon_as(env, t, object_form ? HL_FORM_OBJECT : HL_FORM_KEY, out);
}

static ERL_NIF_TERM call_atom(const char *name)
{
    return !strcmp(name, "ok")      ? am_ok
           : !strcmp(name, "error") ? am_error
           : !strcmp(name, "true")  ? am_true
           : !strcmp(name, "false") ? am_false
                                    : am_dirty;
}

static const hl_nif_calls calls = {prologue,       epilogue,   call_store,  set_caller, reader,
                                   redo_as_caller, call_canon, atom_direct, error_term, call_atom};

/*
 * One chunk of a select-family call (hl_select.h), on a dirty I/O
 * scheduler: select(Env, Tab, Spec, {Op, Reverse, Limit, Budget}, After)
 * -> {Acc, Next} | {error, Reason}. heirloom bounds each chunk's rows.
 */
static ERL_NIF_TERM nif_select(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    call_args a;
    hl_buf spec = {0}, out = {0};
    hl_select_opts o = {0};
    const ERL_NIF_TERM *opt;
    int arity, rev_len, op;
    char rev[8];
    ErlNifUInt64 limit, budget;
    ErlNifBinary after;
    ERL_NIF_TERM t = 0;
    int rc = prologue(env, argv, 0, &a);
    if (!rc && (!enif_get_tuple(env, argv[3], &arity, &opt) || arity != 4 ||
                !enif_get_int(env, opt[0], &op) || op < 0 || op > HL_SELECT_REPLACE ||
                (rev_len = enif_get_atom(env, opt[1], rev, sizeof rev, ERL_NIF_LATIN1)) <= 0 ||
                !enif_get_uint64(env, opt[2], &limit) || !enif_get_uint64(env, opt[3], &budget) ||
                !enif_inspect_binary(env, argv[4], &after)))
        rc = HL_EBADARG;
    if (!rc) {
        o.op = (hl_select_op)op;
        o.reverse = !strcmp(rev, "true");
        o.limit = (size_t)limit;
        o.budget = (size_t)budget;
        o.after = (hl_bytes){after.data, after.size};
        rc = set_caller(env, &a);
    }
    if (!rc)
        rc = canon_as(env, argv[2], HL_FORM_OBJECT, &spec);
    if (!rc)
        rc = hl_buf_append_byte(&out, HL_TAG_VERSION);
    if (!rc)
        rc = hl_select_chunk(a.e->store, hl_buf_view(&a.tab), hl_buf_view(&a.caller),
                             hl_buf_view(&spec), &o, &out);
    if (!rc && !enif_binary_to_term(env, out.data, out.len, &t, 0))
        rc = HL_ENOMEM;
    epilogue(&a);
    hl_buf_free(&spec);
    hl_buf_free(&out);
    return rc ? error_term(env, rc) : t;
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    am_ok = enif_make_atom(env, "ok");
    am_error = enif_make_atom(env, "error");
    am_true = enif_make_atom(env, "true");
    am_false = enif_make_atom(env, "false");
    am_dirty = enif_make_atom(env, "dirty");
    env_type = enif_open_resource_type(env, NULL, "heirloom_env", env_dtor,
                                       ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, NULL);
    if (!env_type)
        return 1;
    if (!registry_lock && !(registry_lock = enif_mutex_create("heirloom_nif_registry")))
        return 1;
    hl_nif_rows_bind(&calls);
    hl_nif_write_bind(&calls);
    instances++;
    return 0;
}

static int upgrade(ErlNifEnv *env, void **priv, void **old_priv, ERL_NIF_TERM info)
{
    (void)old_priv;
    return load(env, priv, info);
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    (void)priv;
    /* erts unloads an instance once no resource of its types lives (types
     * taken over on upgrade belong to the new one). While another instance
     * remains, the registry and its lock are its; after the last one no
     * store is open and the library is about to be closed. */
    if (--instances == 0) {
        enif_mutex_destroy(registry_lock);
        registry_lock = NULL;
    }
}

/* Normal schedulers only for calls that stay short: reads, and writes that
 * answer `dirty` when they might not (see the file comment). */
static ErlNifFunc funcs[] = {
    {"open", 1, nif_open, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"lookup", 3, nif_lookup, 0},
    {"lookup_dirty", 3, nif_lookup_dirty, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"member", 3, nif_member, 0},
    {"member_dirty", 3, nif_member_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"size", 2, nif_size, 0},
    {"size_dirty", 2, nif_size_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    /* Row writes (hl_nif_write.c): short ones on normal schedulers. */
    {"insert", 3, hl_nif_insert, 0},
    {"insert_dirty", 3, hl_nif_insert_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"insert_new", 3, hl_nif_insert_new, 0},
    {"insert_new_dirty", 3, hl_nif_insert_new_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"delete", 3, hl_nif_delete, 0},
    {"delete_dirty", 3, hl_nif_delete_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"update_counter", 5, hl_nif_update_counter, 0},
    {"update_counter_dirty", 5, hl_nif_update_counter_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"update_element", 4, hl_nif_update_element, 0},
    {"update_element_dirty", 4, hl_nif_update_element_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"take", 3, hl_nif_take, 0},
    {"take_dirty", 3, hl_nif_take_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"delete_object", 3, hl_nif_delete_object, 0},
    {"delete_object_dirty", 3, hl_nif_delete_object_dirty, ERL_NIF_DIRTY_JOB_IO_BOUND},
    /* Key-based reads (hl_nif_rows.c). */
    {"step", 4, hl_nif_step, 0},
    {"step_dirty", 4, hl_nif_step_dirty, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"lookup_element", 4, hl_nif_lookup_element, 0},
    {"lookup_element_dirty", 4, hl_nif_lookup_element_dirty, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"fold_chunk", 5, hl_nif_fold_chunk, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"select", 5, nif_select, ERL_NIF_DIRTY_JOB_IO_BOUND},
};

ERL_NIF_INIT(heirloom_nif, funcs, load, NULL, upgrade, unload)
