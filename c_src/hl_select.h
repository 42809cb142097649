/*
 * hl_select.h: select and its kin (ets:select/2,3, select_count,
 * select_delete, select_replace, match, match_object, match_delete) over a
 * stored table, one chunk at a time: the one implementation behind both the
 * C node's requests and the NIF.
 *
 * A chunk compiles the match specification (hl_ms.h), plans which rows to
 * look at as ETS does (a set or bag whose heads all bind their key: those
 * keys' rows; an ordered_set whose heads bind their keys fully or partly:
 * the key range from the least to the most key pattern, hl_keyrange.h;
 * else the whole table; docs/architecture.md has the rules), walks them
 * from a position (hl_store_scan.h) for at most `budget` rows, and appends
 * {Acc, Next} to out: Acc is the list of results (select) or a count; Next
 * is a binary (the position to resume after) or '$end_of_table'. A caller
 * loops chunk after chunk to do a whole call: the C node answers other
 * requests between chunks when the client loops, so no call holds it for
 * more than one chunk. Each chunk is one transaction; a whole call is not
 * (as in ETS, a select sees concurrent writes made between its chunks,
 * according to where their keys sort).
 */
#ifndef HL_SELECT_H
#define HL_SELECT_H

#include "hl_store.h"

typedef enum {
    HL_SELECT_LIST = 0,   /* results of the bodies */
    HL_SELECT_COUNT = 1,  /* objects whose body gives true */
    HL_SELECT_DELETE = 2, /* delete those, count them */
    HL_SELECT_REPLACE = 3 /* replace each match by its body's value, count them */
} hl_select_op;

typedef struct {
    hl_select_op op;
    int reverse;    /* walk backwards (select_reverse) */
    size_t limit;   /* HL_SELECT_LIST: stop after this many results (0: no limit) */
    size_t budget;  /* stop after examining this many rows (0: no limit) */
    hl_bytes after; /* resume after this position (len 0: from the start) */
} hl_select_opts;

/*
 * One chunk on table tab for caller (canonical pid: the access rules, and
 * self() in the spec). spec is the match specification in canonical object
 * form. Returns HL_OK with {Acc, Next} appended to out, HL_ETABTYPE
 * (select_replace on a bag, refused first as ETS does), or HL_EBADARG (the
 * spec is refused; select_replace: a body changed an object's key or gave
 * no object, and nothing of this chunk is written),
 * HL_EUNSUPPORTED (hl_ms.h's bignum bound), or the store's errors;
 * out->len is then restored.
 */
int hl_select_chunk(hl_store *s, hl_bytes tab, hl_bytes caller, hl_bytes spec,
                    const hl_select_opts *o, hl_buf *out);

/* The spec [{Pattern, [], [Body]}] for match ("$$"), match_object ("$_")
 * and match_delete ("true"), pattern canonical, appended to out. */
int hl_select_match_spec(hl_bytes pattern, const char *body, hl_buf *out);

#endif
