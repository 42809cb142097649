/*
 * hl_nif_int.h: what hl_nif.c shares with the other files of the NIF
 * library (hl_nif_rows.c): the common prologue of a call (store handle,
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
} call_args;

/* argv[0] the store handle, argv[1] the table, argv[2] the key when
 * with_key. HL_EHANDLE for a handle of an unloaded library. Always call
 * hl_nif_epilogue after. */
int hl_nif_prologue(ErlNifEnv *env, const ERL_NIF_TERM argv[], int with_key, call_args *a);
void hl_nif_epilogue(call_args *a);
/* The store of a's handle. */
hl_store *hl_nif_store(const call_args *a);
/* Fill a->caller with the calling process's canonical pid (every write). */
int hl_nif_set_caller(ErlNifEnv *env, call_args *a);
/* The reader a read goes as: anonymous until a private table refuses it. */
hl_bytes hl_nif_reader(const call_args *a);
/* After a read: 1 when it must be redone as the caller (*rc reset). */
int hl_nif_redo_as_caller(ErlNifEnv *env, call_args *a, int *rc);
/* Canonical external format of t: key form (0) or object form (1). */
int hl_nif_canon(ErlNifEnv *env, ERL_NIF_TERM t, int object_form, hl_buf *out);
ERL_NIF_TERM hl_nif_error(ErlNifEnv *env, int err);
/* Atoms made at load: ok, error, true, false, dirty. */
ERL_NIF_TERM hl_nif_atom(const char *name);

/* The NIFs of hl_nif_rows.c, in hl_nif.c's function table. */
#define HL_NIF_FN(name) ERL_NIF_TERM name(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
HL_NIF_FN(hl_nif_step);
HL_NIF_FN(hl_nif_step_dirty);
HL_NIF_FN(hl_nif_lookup_element);
HL_NIF_FN(hl_nif_lookup_element_dirty);
HL_NIF_FN(hl_nif_fold_chunk);
HL_NIF_FN(hl_nif_update_counter);
HL_NIF_FN(hl_nif_update_element);
HL_NIF_FN(hl_nif_take);
HL_NIF_FN(hl_nif_delete_object);

#endif
