/*
 * hl_term_read.h: reading external-term-format (ETF) terms in place: the tag
 * table, validation (hl_term_skip) and accessors that hand back views.
 *
 * This is the bottom of the term layer: it calls only the scalar readers
 * (hl_term_int.h) and hl_common, never the term order (hl_order.h) or the
 * canonicaliser (hl_term.h), which both build on it. Inputs may be canonical
 * or not; everything is bounds-checked against the length given.
 *
 * Views: an hl_bytes handed back points into the caller's bytes (never a
 * copy) and lives as long as they do, unless a function says otherwise.
 *
 * Pure: no I/O, no globals, no ei.
 */
#ifndef HL_TERM_READ_H
#define HL_TERM_READ_H

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
 * What a tag encodes: the one classification of tags that the skipper, the
 * canonicaliser and the term order all switch on. Listed in Erlang term
 * order (number < atom < reference < fun < port < pid < tuple < map < [] <
 * list < bitstring), so a kind's position says its class, except that an
 * empty STRING_EXT is [] and a LIST_EXT of no elements is its tail.
 */
typedef enum {
    HL_KIND_BAD = 0, /* not accepted: compressed terms, atom cache refs, FUN_EXT, unknown */
    HL_KIND_INT,     /* SMALL_INTEGER, INTEGER, SMALL_BIG, LARGE_BIG */
    HL_KIND_FLOAT,   /* NEW_FLOAT, FLOAT */
    HL_KIND_ATOM,    /* ATOM, SMALL_ATOM, ATOM_UTF8, SMALL_ATOM_UTF8 */
    HL_KIND_REF,     /* REFERENCE, NEW_REFERENCE, NEWER_REFERENCE */
    HL_KIND_FUN,     /* NEW_FUN */
    HL_KIND_EXPORT,  /* EXPORT */
    HL_KIND_PORT,    /* PORT, NEW_PORT, V4_PORT */
    HL_KIND_PID,     /* PID, NEW_PID */
    HL_KIND_TUPLE,   /* SMALL_TUPLE, LARGE_TUPLE */
    HL_KIND_MAP,     /* MAP */
    HL_KIND_NIL,     /* NIL */
    HL_KIND_STRING,  /* STRING (a list of bytes) */
    HL_KIND_LIST,    /* LIST */
    HL_KIND_BINARY,  /* BINARY */
    HL_KIND_BITS,    /* BIT_BINARY */
    HL_KIND_COUNT
} hl_term_kind;

/* The kind of a tag byte; HL_KIND_BAD for tags no function here accepts. */
hl_term_kind hl_term_kind_of(unsigned char tag);

/*
 * Check that one well-formed term starts at buf[*pos] and advance *pos past
 * it. Bounds-checked against len; never reads outside buf. No recursion:
 * nesting depth is bounded only by len.
 * Returns HL_OK or HL_EBADARG (*pos unchanged).
 */
int hl_term_skip(const unsigned char *buf, size_t len, size_t *pos);

/*
 * hl_term_skip, also reporting in *neg_zero (1 or 0) whether any float in
 * the term is -0.0 (which =:= 0.0 on OTP 25, but is another encoding).
 * Returns HL_OK or HL_EBADARG (*pos and *neg_zero unchanged).
 */
int hl_term_skip_scan(const unsigned char *buf, size_t len, size_t *pos, int *neg_zero);

/*
 * For a term (canonical or not) at t: if it is a tuple, set *arity and
 * return HL_OK, else HL_EBADARG. Reads only the tuple's header.
 */
int hl_term_tuple_arity(const unsigned char *t, size_t len, size_t *arity);

/*
 * The n-th element (1-based) of the tuple at t, as a view into t.
 * HL_EBADARG if t is not a tuple, n is out of range, or an element up to
 * the n-th is malformed (later ones are not looked at).
 */
int hl_term_tuple_element(const unsigned char *t, size_t len, size_t n, hl_bytes *elem);

/*
 * The elements of the tuple at t in one pass (hl_term_tuple_element walks
 * from the start for each): *arity gets its arity, elems[i] views element
 * i + 1 for i < min(arity, cap). HL_EBADARG if t is not a tuple or one of
 * those first cap elements is malformed (later ones are not looked at);
 * *arity and elems are then unspecified.
 */
int hl_term_tuple_elements(const unsigned char *t, size_t len, hl_bytes *elems, size_t cap,
                           size_t *arity);

/*
 * The node name of a pid, port or reference term at t, as a view of the
 * atom bytes inside it (byte-equal to a canonical atom term when t is
 * canonical). HL_EBADARG for other terms.
 */
int hl_term_node_of(const unsigned char *t, size_t len, hl_bytes *node_atom);

/* 1 when t is a (canonical or not) pid term, else 0. */
int hl_term_is_pid(const unsigned char *t, size_t len);

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
 * temporary buffer). HL_EBADARG if t is not a proper list (found before fn
 * is called at all); a non-zero return from fn stops the walk and is
 * returned.
 */
typedef int (*hl_term_elem_fn)(void *ctx, hl_bytes elem);
int hl_term_list_each(const unsigned char *t, size_t len, hl_term_elem_fn fn, void *ctx);

#endif
