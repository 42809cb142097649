/*
 * hl_proto_args.h: turning request arguments into store inputs: table ids,
 * keys, object lists and the option lists of new/setopts/claim.
 *
 * Everything canonicalised lands in a per-request scratch arena (hl_args)
 * that owns the memory, so views handed to the store stay valid until the
 * request is done.
 */
#ifndef HL_PROTO_ARGS_H
#define HL_PROTO_ARGS_H

#include "hl_store.h"

typedef struct {
    hl_buf *bufs;
    size_t n, cap;
} hl_args;

/* Free everything the arena holds; leaves it empty and reusable. */
void hl_args_free(hl_args *a);
/* Canonicalise term t into the arena; *out views it. */
int hl_args_canon(hl_args *a, hl_bytes t, hl_bytes *out);
/* A table id: an atom (named table) or a reference (unnamed). */
int hl_args_table(hl_args *a, hl_bytes t, hl_bytes *out);
/* A pid. */
int hl_args_pid(hl_args *a, hl_bytes t, hl_bytes *out);
/* One object (a tuple) or a list of them, canonical, as views in *objs
 * (an arena-owned array) with *n entries. */
int hl_args_objects(hl_args *a, hl_bytes t, hl_bytes **objs, size_t *n);
/* The options of ets:new/2 into meta (type, keypos, access, named, heir);
 * meta's defaults must be set by the caller. HL_EBADARG for an unknown or
 * malformed option. */
int hl_args_new_opts(hl_args *a, hl_bytes opts, hl_meta *meta);
/* The options of ets:setopts/2: heir and protection, as in ETS. */
typedef struct {
    int set_heir; /* an heir option was given: heir_kind, heir, heir_data */
    hl_heir_kind heir_kind;
    hl_bytes heir, heir_data; /* views into the arena */
    int set_access;           /* a protection option was given: access */
    hl_access access;
} hl_setopts;
/* A single option or a list (possibly empty, as ETS allows), into out; the
 * last of each kind wins. HL_OK, HL_EBADARG for anything else, HL_ENOMEM. */
int hl_args_setopts(hl_args *a, hl_bytes opts, hl_setopts *out);

#endif
