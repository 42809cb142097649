/*
 * hl_proto_rows.h: the key-based requests of every table type, beside the
 * dispatch table of hl_proto.c (which asks here for any verb it does not
 * know). Replies are ETS's; errors are negative hl_err codes that
 * hl_proto.c turns into {error, Reason}.
 *
 *   {first, T} {last, T} {next, T, K} {prev, T, K}   a key or '$end_of_table'
 *   {lookup_element, T, K, Pos}                      an element or a list
 *   {update_counter, T, K, Op} {.., Op, Default}     an integer or a list
 *   {update_element, T, K, Spec}                     true | false
 *   {take, T, K}                                     the objects
 *   {delete_object, T, Obj}                          true
 *   {whereis, Name}                                  Name | undefined
 *   {rename, T, Name}                                Name (T when unnamed)
 *   {fold_chunk, T, foldl | foldr, From, Max}        {Objects, Next}
 *     From is start or {after, K}; Next is done or {after, K} (the last key
 *     of this chunk); Max (1..10000) objects or a little more: a chunk ends
 *     on a key's last object. heirloom:foldl/foldr run the fun on the
 *     caller's side over these chunks.
 */
#ifndef HL_PROTO_ROWS_H
#define HL_PROTO_ROWS_H

#include "hl_proto.h"
#include "hl_proto_args.h"

/* HL_OK with the reply appended to reply; HL_EUNKNOWN for a verb and arity
 * not handled here (reply untouched); another hl_err otherwise. */
int hl_proto_rows(hl_proto *p, const char *verb, hl_bytes caller, hl_args *arena,
                  const hl_bytes *args, size_t nargs, hl_buf *reply);

#endif
