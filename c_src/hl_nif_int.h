/*
 * hl_nif_int.h: what hl_nif.c shares with the other files of the NIF
 * library (hl_nif_rows.c, hl_nif_write.c): the common prologue of a call (store handle,
 * canonical table, key, caller), error terms and atoms. Not a contract
 * outside the library.
 */
#ifndef HL_NIF_INT_H
#define HL_NIF_INT_H

#include <erl_nif.h>

#include "hl_store.h"

/* Objects over this many bytes are never decoded on a normal scheduler. */
#define HL_NIF_DIRTY_BYTES 65536

typedef struct env_entry env_entry;
typedef struct {
    env_entry *e;
    hl_buf tab, caller, key;
    /* Where tab and key start (hl_buf_on): most names and keys fit. */
    unsigned char tab_mem[96], key_mem[96];
} call_args;

/*
 * The call helpers of hl_nif.c, handed to hl_nif_rows.c at load
 * (hl_nif_rows_bind): hl_nif.c's function table names the NIFs of
 * hl_nif_rows.c, so hl_nif_rows.c must not call into hl_nif.c by name
 * (files depend one way, scripts/check_deps.sh).
 */
typedef struct {
    /* argv[0] the store handle, argv[1] the table, argv[2] the key when
     * with_key. HL_EHANDLE for a handle of an unloaded library. Always
     * call epilogue after. */
    int (*prologue)(ErlNifEnv *env, const ERL_NIF_TERM argv[], int with_key, call_args *a);
    void (*epilogue)(call_args *a);
    /* The store of a's handle. */
    hl_store *(*store)(const call_args *a);
    /* Fill a->caller with the calling process's canonical pid (writes). */
    int (*set_caller)(ErlNifEnv *env, call_args *a);
    /* Who a read or write goes as: anonymous until the table refuses. */
    hl_bytes (*reader)(const call_args *a);
    /* After a read or write: 1 when it must be redone as the caller (*rc reset). */
    int (*redo_as_caller)(ErlNifEnv *env, call_args *a, int *rc);
    /* Canonical external format of t: key form (0) or object form (1). */
    int (*canon)(ErlNifEnv *env, ERL_NIF_TERM t, int object_form, hl_buf *out);
    /* An ASCII atom's canonical form appended to out (cached per scheduler
     * thread): 0 done, 1 not an ASCII atom (nothing appended), HL_ENOMEM. */
    int (*atom_direct)(ErlNifEnv *env, ERL_NIF_TERM t, hl_buf *out);
    ERL_NIF_TERM (*error)(ErlNifEnv *env, int err);
    /* ok, error, true, false or dirty, made at load. */
    ERL_NIF_TERM (*atom)(const char *name);
} hl_nif_calls;

/* Called by hl_nif.c's load and upgrade, before any NIF runs; calls must
 * live as long as the library. */
void hl_nif_rows_bind(const hl_nif_calls *calls);
void hl_nif_write_bind(const hl_nif_calls *calls);

/* --- shared by hl_nif_rows.c (which defines them) and hl_nif_write.c --- */

/* Decode canonical bytes (with or without the 131 version byte) into *out:
 * HL_OK or HL_EBADARG. */
int hl_nif_decode(ErlNifEnv *env, hl_bytes t, ERL_NIF_TERM *out);
/* Terms gathered in order: an hl_store_row_fn (hl_nif_add_term) prepends
 * each decoded term to list; hl_nif_in_order reverses it at the end. With
 * dirty_ok 0, terms over HL_NIF_DIRTY_BYTES in all stop the walk (too_big):
 * one large term, or a bag key's many small ones. */
typedef struct {
    ErlNifEnv *env;
    ERL_NIF_TERM list;
    size_t n;
    int dirty_ok, too_big;
    size_t bytes;
} hl_nif_terms;
int hl_nif_add_term(void *ctx, hl_bytes t);
ERL_NIF_TERM hl_nif_in_order(hl_nif_terms *c);

/* The NIFs of hl_nif_rows.c and hl_nif_write.c, in hl_nif.c's function
 * table. A write's `_dirty` twin runs on a dirty I/O scheduler; the plain
 * one on a normal scheduler, answering `dirty` when it might take long. */
#define HL_NIF_FN(name) ERL_NIF_TERM name(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
HL_NIF_FN(hl_nif_step);
HL_NIF_FN(hl_nif_step_dirty);
HL_NIF_FN(hl_nif_lookup_element);
HL_NIF_FN(hl_nif_lookup_element_dirty);
HL_NIF_FN(hl_nif_fold_chunk);
HL_NIF_FN(hl_nif_insert);
HL_NIF_FN(hl_nif_insert_dirty);
HL_NIF_FN(hl_nif_insert_new);
HL_NIF_FN(hl_nif_insert_new_dirty);
HL_NIF_FN(hl_nif_delete);
HL_NIF_FN(hl_nif_delete_dirty);
HL_NIF_FN(hl_nif_update_counter);
HL_NIF_FN(hl_nif_update_counter_dirty);
HL_NIF_FN(hl_nif_update_element);
HL_NIF_FN(hl_nif_update_element_dirty);
HL_NIF_FN(hl_nif_take);
HL_NIF_FN(hl_nif_take_dirty);
HL_NIF_FN(hl_nif_delete_object);
HL_NIF_FN(hl_nif_delete_object_dirty);

#endif
