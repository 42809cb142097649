/*
 * hl_term.h: the canonical external term format (ETF) codec.
 *
 * The same Erlang term can arrive encoded in several ways (ATOM_EXT or
 * SMALL_ATOM_UTF8_EXT, STRING_EXT or a LIST_EXT of small integers, PID_EXT or
 * NEW_PID_EXT, FLOAT_EXT or NEW_FLOAT_EXT, maps with keys in any order, ...).
 * Heirloom stores and compares keys and objects as bytes, so every term is
 * first re-encoded into exactly one canonical form.
 *
 * The canonical form (no version byte unless stated):
 *   integers  SMALL_INTEGER_EXT for 0..255, INTEGER_EXT for other values that
 *             fit in 32 signed bits, else SMALL_BIG_EXT / LARGE_BIG_EXT with
 *             no leading zero bytes in the magnitude (0 is never a big)
 *   floats    NEW_FLOAT_EXT; in the key form -0.0 is written as 0.0
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
 * truncated or malformed, a map with two keys that are =:=.
 *
 * Two forms, because OTP 25 has 0.0 =:= -0.0 but keeps the sign:
 *   key form     (HL_FORM_KEY) -0.0 becomes 0.0, so two terms are =:=
 *                exactly when their key forms are byte-equal. For table
 *                keys, table names, pids: anything compared or looked up.
 *   object form  (HL_FORM_OBJECT) floats keep their sign bit, so decoding
 *                gives back a term term_to_binary-equal to the input. For
 *                stored objects and other values handed back as given. It
 *                differs from the key form only where a -0.0 is.
 *
 * Layers (scripts/check_deps.sh checks them): hl_term_util.c (scalar readers
 * and writers, hl_term_int.h), hl_term_enc.c (encoders) and
 * hl_term_mapord.c (map pair orders kept aside) are leaves; hl_term_read.c
 * (tags, skip, accessors) builds on the readers; hl_order.c on that; the
 * canonicaliser (hl_term.c) on top. This header includes the
 * two lower public headers, so callers need only hl_term.h.
 *
 * Pure: no I/O, no globals. It does not depend on ei, so the NIF links it
 * too.
 */
#ifndef HL_TERM_H
#define HL_TERM_H

#include "hl_common.h"
#include "hl_term_enc.h"
#include "hl_term_read.h"

typedef enum { HL_FORM_KEY = 0, HL_FORM_OBJECT = 1 } hl_term_form;

/*
 * Re-encode the term at buf[*pos] canonically in the given form, appending
 * to out (no version byte; out grows, the caller owns it), and advance *pos
 * past the input term. Time and extra memory are linear in the input (plus
 * the sorting of map keys); no C recursion at any depth. On error out->len is
 * restored to its value on entry and *pos is unchanged.
 * Returns HL_OK, HL_EBADARG (malformed, unsupported, or a map with =:= keys)
 * or HL_ENOMEM.
 */
int hl_term_canon_form(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out,
                       hl_term_form form);

/* hl_term_canon_form in the key form. */
int hl_term_canon(const unsigned char *buf, size_t len, size_t *pos, hl_buf *out);

/*
 * Canonicalise a whole binary as produced by term_to_binary/1 (starting with
 * the version byte 131) into out, in the key form; out receives the version
 * byte too. Returns HL_OK, HL_EBADARG (also for trailing bytes) or HL_ENOMEM;
 * on error out->len is restored.
 */
int hl_term_canon_binary(const unsigned char *buf, size_t len, hl_buf *out);

/*
 * The key form of t, a whole canonical term in either form (the key element
 * of a stored object, say). When t holds no -0.0, the usual case, *key is t
 * itself (a view: no copy, nothing written). Otherwise the key form is
 * written over scratch (its old contents are dropped; the caller owns and
 * frees it) and *key views scratch, valid until scratch is next changed.
 * Returns HL_OK, HL_EBADARG (t is not one whole well-formed term) or
 * HL_ENOMEM.
 */
int hl_term_key_form(hl_bytes t, hl_buf *scratch, hl_bytes *key);

#endif
