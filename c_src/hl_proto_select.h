/*
 * hl_proto_select.h: the C node's select-family requests (ets:select/2,
 * select_reverse/2, select_count/2, select_delete/2, select_replace/2,
 * match/2, match_object/2, match_delete/2), and '$select', one chunk of
 * any of them, which the heirloom module loops over (hl_select.h).
 *
 * The whole-table verbs run in one transaction, so a wire client gets one
 * consistent answer, and the C node answers nobody else meanwhile (about a
 * microsecond per row scanned). heirloom's own calls use '$select' with a
 * budget of rows per chunk, so the C node answers other requests between
 * chunks:
 *   {'$select', Tab, Spec, {Op, Reverse, Limit, Budget}, After}
 *     Op 0 select, 1 count, 2 delete, 3 replace; Reverse a boolean;
 *     Limit, Budget >= 0 (0: none); After a binary (<<>>: from the start)
 *   -> {Acc, Next}: see hl_select.h.
 */
#ifndef HL_PROTO_SELECT_H
#define HL_PROTO_SELECT_H

#include "hl_proto_args.h"

typedef struct {
    hl_store *store;
    hl_bytes caller;
    const hl_bytes *args;
    size_t nargs;
    hl_args *arena;
    hl_buf *reply;
} hl_proto_select_req;

/*
 * Handle request verb (one of the above) with its arguments; the reply term
 * is appended to q->reply. Returns HL_OK or a negative hl_err for the
 * protocol to turn into {error, Reason}; HL_EUNKNOWN for another verb.
 */
int hl_proto_select(const char *verb, const hl_proto_select_req *q);

#endif
