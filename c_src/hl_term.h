/*
 * hl_term.h: the canonical external term format (ETF) codec.
 *
 * The same Erlang term can arrive encoded in several ways (ATOM_EXT or
 * SMALL_ATOM_UTF8_EXT, STRING_EXT or a LIST_EXT of small integers, PID_EXT or
 * NEW_PID_EXT, FLOAT_EXT or NEW_FLOAT_EXT, maps with keys in any order, ...).
 * Heirloom stores and compares keys and objects as bytes, so every term is
 * first re-encoded into exactly one canonical form; two terms are =:= exactly
 * when their canonical encodings are byte-equal.
 *
 * The canonical form (no version byte unless stated):
 *   integers  SMALL_INTEGER_EXT for 0..255, INTEGER_EXT for other values that
 *             fit in 32 signed bits, else SMALL_BIG_EXT / LARGE_BIG_EXT with
 *             no leading zero bytes in the magnitude (0 is never a big)
 *   floats    NEW_FLOAT_EXT
 *   atoms     SMALL_ATOM_UTF8_EXT (<= 255 bytes) else ATOM_UTF8_EXT, latin-1
 *             atoms converted to UTF-8
 *   lists     NIL_EXT for []; STRING_EXT for a proper list of 1..65535
 *             integers in 0..255 (what term_to_binary does); else LIST_EXT
 *             with canonical elements and tail
 *   tuples    SMALL_TUPLE_EXT for arity <= 255, else LARGE_TUPLE_EXT
 *   maps      MAP_EXT with pairs sorted by key in exact term order
 *             (hl_order_compare with HL_CMP_EXACT)
 *   binaries  BINARY_EXT; a bitstring that is not whole bytes is BIT_BINARY_EXT
 *             with its unused trailing bits zeroed
 *   pids      NEW_PID_EXT; ports NEW_PORT_EXT (V4_PORT_EXT if the id needs
 *             more than 32 bits); refs NEWER_REFERENCE_EXT; node names inside
 *             them are canonical atoms
 *   funs      EXPORT_EXT and NEW_FUN_EXT are copied with their embedded
 *             terms canonicalised
 * Not accepted (HL_EBADARG): compressed terms, ATOM_CACHE_REF, anything
 * truncated or malformed.
 *
 * This module is pure: no I/O, no globals. It does not depend on ei, so the
 * NIF can link it too.
 */
#ifndef HL_TERM_H
#define HL_TERM_H

#include "hl_common.h"

/* External term format tags used across the code base. */
enum {
    HL_TAG_VERSION = 131,
    HL_TAG_NEW_FLOAT = 70,
    HL_TAG_BIT_BINARY = 77,
    HL_TAG_NEW_PID = 88,
    HL_TAG_NEW_PORT = 89,
    HL_TAG_NEWER_REFERENCE = 90,
    HL_TAG_SMALL_INTEGER = 97,
    HL_TAG_INTEGER = 98,
    HL_TAG_FLOAT = 99,
    HL_TAG_ATOM = 100,
    HL_TAG_REFERENCE = 101,
    HL_TAG_PORT = 102,
    HL_TAG_PID = 103,
    HL_TAG_SMALL_TUPLE = 104,
    HL_TAG_LARGE_TUPLE = 105,
    HL_TAG_NIL = 106,
    HL_TAG_STRING = 107,
    HL_TAG_LIST = 108,
    HL_TAG_BINARY = 109,
    HL_TAG_SMALL_BIG = 110,
    HL_TAG_LARGE_BIG = 111,
    HL_TAG_NEW_FUN = 112,
    HL_TAG_EXPORT = 113,
    HL_TAG_NEW_REFERENCE = 114,
    HL_TAG_SMALL_ATOM = 115,
    HL_TAG_MAP = 116,
    HL_TAG_FUN = 117,
    HL_TAG_ATOM_UTF8 = 118,
    HL_TAG_SMALL_ATOM_UTF8 = 119,
    HL_TAG_V4_PORT = 120
};

/*
 * Check that one well-formed term starts at buf[*pos] and advance *pos past
 * it. Bounds-checked against len; never reads outside buf.
 * Returns HL_OK or HL_EBADARG.
 */
int hl_term_skip(const unsigned char *buf, size_t len, size_t *pos);

/*
 * Re-encode the term at buf[*pos] canonically, appending to out (no version
 * byte), and advance *pos past the input term. On error out->len is restored
 * to its value on entry.
 * Returns HL_OK, HL_EBADARG (malformed or unsupported) or HL_ENOMEM.
 */
int hl_term_canon(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out);

/*
 * Canonicalise a whole binary as produced by term_to_binary/1 (starting with
 * the version byte 131) into out, which receives the version byte too.
 * Returns HL_OK, HL_EBADARG (also for trailing bytes) or HL_ENOMEM.
 */
int hl_term_canon_binary(const unsigned char *buf, size_t len, hl_buf *out);

/*
 * For a term (canonical or not) at t: if it is a tuple, set *arity and
 * return HL_OK, else HL_EBADARG.
 */
int hl_term_tuple_arity(const unsigned char *t, size_t len, size_t *arity);

/*
 * The n-th element (1-based) of the tuple at t, as a view into t.
 * HL_EBADARG if t is not a tuple or n is out of range.
 */
int hl_term_tuple_element(const unsigned char *t, size_t len, size_t n, hl_bytes *elem);

/*
 * The node name of a pid, port or reference term at t, as a view of the
 * canonical atom bytes inside it (so it compares byte-equal with a canonical
 * atom term). HL_EBADARG for other terms.
 */
int hl_term_node_of(const unsigned char *t, size_t len, hl_bytes *node_atom);

/* 1 when t is a (canonical or not) pid term. */
int hl_term_is_pid(const unsigned char *t, size_t len);

/*
 * Append a canonical atom for the UTF-8 name (len bytes) to out.
 * HL_OK, HL_EBADARG (name longer than 255 characters) or HL_ENOMEM.
 */
int hl_term_put_atom(hl_buf *out, const char *name, size_t len);

/*
 * If t is an atom, copy its UTF-8 name NUL-terminated into name (size cap)
 * and return HL_OK; HL_EBADARG if not an atom or it does not fit.
 */
int hl_term_get_atom(const unsigned char *t, size_t len, char *name, size_t cap);

/* If t is an integer that fits in int64, store it in *v: HL_OK, else HL_EBADARG. */
int hl_term_get_int(const unsigned char *t, size_t len, int64_t *v);

/*
 * Call fn for each element of the proper list at t (NIL_EXT, STRING_EXT or
 * LIST_EXT ending in NIL). Element views are valid only during the call
 * (STRING_EXT elements are presented as SMALL_INTEGER_EXT terms in a
 * temporary buffer). HL_EBADARG if t is not a proper list; a non-zero return
 * from fn stops the walk and is returned.
 */
typedef int (*hl_term_elem_fn)(void *ctx, hl_bytes elem);
int hl_term_list_each(const unsigned char *t, size_t len, hl_term_elem_fn fn, void *ctx);

/* Encoders for building replies, all canonical, all appending to out and
 * returning HL_OK or HL_ENOMEM. */
int hl_term_put_tuple_header(hl_buf *out, size_t arity);
int hl_term_put_list_header(hl_buf *out, size_t n); /* then n elements, then a tail */
int hl_term_put_nil(hl_buf *out);
int hl_term_put_int(hl_buf *out, int64_t v);
int hl_term_put_binary(hl_buf *out, const void *data, size_t len);
int hl_term_put_string(hl_buf *out, const char *s); /* a canonical charlist */

#endif
