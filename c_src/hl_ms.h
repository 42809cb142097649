/*
 * hl_ms.h: match specifications, compiled once and run on canonical objects.
 *
 * A match specification [{Head, Guards, Body}, ...] (ets:select/2) is
 * compiled into a program: heads become pattern nodes ('$N' variables, '_',
 * nested tuples, lists and maps, constants compared whole), guards and
 * bodies become expression nodes (the guard BIFs and operators ETS allows,
 * {const, T}, {{...}} tuple construction, lists and maps). Running the
 * program on an object tries the clauses in order: the first whose head
 * matches and whose guards all evaluate to `true` gives the value of its
 * body's last expression. As in ETS, a guard that raises fails its clause,
 * and in a body a call that raises gives the atom 'EXIT' in its place
 * (evaluation goes on: [{hd, 1}, 5] gives 5, {{{hd, 1}}} gives {'EXIT'}).
 *
 * What is refused (HL_EBADARG at compile time, as ets:select raises badarg):
 * anything ets:test_ms/2 reports as an error (not a proper list of
 * 3-tuples, guards or body not a list, an empty body, an unknown function or
 * arity, an unbound variable in a guard or body, a variable or '_' in a map
 * pattern's key, tracing-only functions), and, Heirloom's own bound, a
 * pattern or expression nesting deeper than HL_MS_MAX_DEPTH levels around a
 * variable or call (constant parts may nest to any depth).
 *
 * Integers: arithmetic (+ - * div rem band bor bxor bnot bsl bsr abs,
 * unary -, float, /, round, trunc) is exact for operands and results in
 * int64. An operation whose operand or result needs a bignum makes the run
 * fail with HL_EUNSUPPORTED (the whole call answers {error, unsupported}),
 * never a wrong answer. Comparisons and matching of bignums are exact.
 *
 * Values are ETF bytes (no version byte). Objects and the spec are expected
 * canonical (hl_term.h; the object form keeps -0.0); results are well-formed
 * ETF but not necessarily canonical (binary_to_term reads them; canonicalise
 * them before storing).
 *
 * Pure: no I/O, no globals. A program is not thread-safe (it holds its run
 * scratch); compile one per call. No C recursion deeper than
 * HL_MS_MAX_DEPTH.
 */
#ifndef HL_MS_H
#define HL_MS_H

#include "hl_common.h"

#define HL_MS_MAX_DEPTH 100

typedef struct hl_ms hl_ms;

/*
 * Compile the match specification at spec[0..len) (one whole term).
 * HL_OK with *out set (free with hl_ms_free), HL_EBADARG (refused, see
 * above; *out NULL) or HL_ENOMEM.
 */
int hl_ms_compile(const unsigned char *spec, size_t len, hl_ms **out);
/* Free a program; safe with NULL. */
void hl_ms_free(hl_ms *ms);

/* The number of clauses. */
size_t hl_ms_nclauses(const hl_ms *ms);

/*
 * How clause i's head constrains an object's key (element keypos, 1-based),
 * as ETS's select sees it: HL_MS_KEY_NONE when the head can match no object
 * (neither '_', a variable, nor a tuple of arity >= keypos), else the
 * hl_key_kind (hl_keyrange.h) of its key pattern, *key viewing that pattern
 * in the program's memory (a head that is '_' or a variable is
 * HL_KEY_UNBOUND, *key the head itself).
 */
#define HL_MS_KEY_NONE 3
int hl_ms_head_key(const hl_ms *ms, size_t i, unsigned keypos, hl_bytes *key);

/*
 * The rule of ETS's hash tables (set, bag, duplicate_bag) for keypos: when
 * every clause's head binds its key fully (HL_KEY_BOUND) or can match
 * nothing, ETS looks those keys up instead of scanning, and only an object
 * whose key is =:= one of them is a candidate (so a map there equals a key
 * rather than matching larger maps). After this call, runs follow that rule
 * when it applies; hl_ms_keyed says whether it does, and the caller then
 * needs to visit only the rows of the bound keys. Not for ordered_set,
 * where ETS narrows to a key range instead (hl_keyrange.h) and matches
 * every row in it. Without this call, no such rule applies.
 */
void hl_ms_set_keypos(hl_ms *ms, unsigned keypos);
int hl_ms_keyed(const hl_ms *ms);

/*
 * Run the program on obj (one whole object term). self is the caller's
 * canonical pid, for self() and node(). On a match, *matched = 1 and the
 * result term is appended to out; else *matched = 0 and out is unchanged.
 * Returns HL_OK, HL_ENOMEM or HL_EUNSUPPORTED (bignum arithmetic); on an
 * error out->len is restored.
 */
int hl_ms_run(hl_ms *ms, hl_bytes obj, hl_bytes self, hl_buf *out, int *matched);

/*
 * The result of a run as a boolean, for select_count and select_delete:
 * like hl_ms_run, but *matched is 1 only when a clause matches and its body
 * gives `true`; nothing is appended.
 */
int hl_ms_run_true(hl_ms *ms, hl_bytes obj, hl_bytes self, int *matched);

#endif
