/*
 * hl_term_int.h: the scalar readers and writers (hl_term_util.c), private to
 * the term layer: the skipper and accessors (hl_term_read.c), the encoders
 * (hl_term_enc.c), the term order (hl_order.c), the canonicaliser
 * (hl_term.c), and the exact integers (hl_bigint.c, hl_ms_arith.c), which
 * read and write integer terms through the same functions. Not a public contract: other modules use
 * hl_term.h and hl_order.h. hl_term_util.c is a leaf: it calls nothing of the term layer.
 *
 * The one idea: every scalar (integer, float, atom, pid, port, reference) has
 * several wire encodings, and each has exactly one reader here that accepts
 * all of them, validates them, and hands back the decoded fields. The skipper,
 * the canonicaliser and the comparator all go through these readers, so they
 * can never disagree about what a term is.
 */
#ifndef HL_TERM_INT_H
#define HL_TERM_INT_H

#include "hl_term_read.h"

/* An integer of any encoding: sign plus magnitude as little-endian bytes
 * without high zero bytes (n == 0 means zero, and then neg is 0). A big
 * magnitude points into the term; a small one lives in `small`. */
typedef struct {
    int neg;
    size_t n;
    const unsigned char *big; /* NULL when the magnitude is `small` */
    uint32_t small;
} hl_int;

static inline unsigned hl_int_byte(const hl_int *v, size_t i)
{
    return v->big ? v->big[i] : (unsigned)((v->small >> (8 * i)) & 0xff);
}

/* An atom's name as it sits in the term: latin-1 or UTF-8 bytes. `enc` is
 * the whole atom term (tag included), for callers that want a view of it. */
typedef struct {
    const unsigned char *p;
    size_t n;
    int latin1;
    hl_bytes enc;
} hl_atom;

/* A pid, port or reference, whatever its encoding. */
typedef struct {
    unsigned char kind; /* HL_TAG_NEW_PID, HL_TAG_NEW_PORT or HL_TAG_NEWER_REFERENCE */
    hl_atom node;
    uint32_t creation;
    uint64_t id;                /* pid number or port id */
    uint32_t serial;            /* pid serial */
    const unsigned char *words; /* reference: nwords big-endian u32, least significant first */
    size_t nwords;
} hl_ident;

/* Readers: parse the term at t[*pos] (bounds-checked against len), advance
 * *pos past it on success. HL_EBADARG if the term is not of that kind or is
 * malformed; *pos is then unspecified. */
int hl_term_read_int(const unsigned char *t, size_t len, size_t *pos, hl_int *v);
int hl_term_read_float(const unsigned char *t, size_t len, size_t *pos, double *d);
int hl_term_read_atom(const unsigned char *t, size_t len, size_t *pos, hl_atom *a);
int hl_term_read_ident(const unsigned char *t, size_t len, size_t *pos, hl_ident *id);

/* Canonical writers for decoded scalars (see hl_term.h for the forms). */
int hl_term_put_canon_int(hl_buf *out, const hl_int *v);
int hl_term_put_canon_atom(hl_buf *out, const hl_atom *a);
int hl_term_put_canon_ident(hl_buf *out, const hl_ident *id);

/* Length of the atom's name in UTF-8 bytes. */
size_t hl_term_atom_utf8_len(const hl_atom *a);
/* 1 if p[0..n) is valid UTF-8 of at most 255 code points. */
int hl_term_utf8_ok(const unsigned char *p, size_t n);

/* Orders, returning <0, 0, >0. Atoms by code points, as erts does. */
int hl_term_atom_cmp(const hl_atom *a, const hl_atom *b);
int hl_term_int_cmp(const hl_int *a, const hl_int *b);
/* Mathematically exact: 2^53 + 1 is greater than 2^53 as a float. */
int hl_term_int_cmp_double(const hl_int *a, double d);

/*
 * Stable merge sort of idx[0..n) with cmp(ctx, x, y). HL_OK or HL_ENOMEM
 * (idx unchanged).
 */
typedef int (*hl_term_cmp_fn)(void *ctx, size_t x, size_t y);
int hl_term_sort(size_t *idx, size_t n, hl_term_cmp_fn cmp, void *ctx);

#endif
