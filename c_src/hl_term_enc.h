/*
 * hl_term_enc.h: encoders that append one canonical term (the forms listed
 * in hl_term.h) to an owned buffer, for building replies and keys.
 *
 * Every function appends to out (growing it; the caller owns and frees out)
 * and returns HL_OK or HL_ENOMEM unless it says otherwise; on an error out
 * may hold a partial term, so a caller that goes on must restore out->len.
 * A leaf: it reads no terms. Pure: no I/O, no globals.
 */
#ifndef HL_TERM_ENC_H
#define HL_TERM_ENC_H

#include "hl_common.h"

/*
 * A canonical atom for the UTF-8 name (len bytes).
 * HL_OK, HL_EBADARG (not UTF-8, or longer than 255 characters) or HL_ENOMEM.
 */
int hl_term_put_atom(hl_buf *out, const char *name, size_t len);

/* A tuple header; the arity elements follow. */
int hl_term_put_tuple_header(hl_buf *out, size_t arity);

/* A list header for n elements, then the n elements, then a tail. For
 * n == 0 nothing is written: the tail is then the whole term. */
int hl_term_put_list_header(hl_buf *out, size_t n);

int hl_term_put_nil(hl_buf *out);
int hl_term_put_int(hl_buf *out, int64_t v);

/* A binary of len bytes copied from data; HL_ENOMEM also above 4 GB. */
int hl_term_put_binary(hl_buf *out, const void *data, size_t len);

/* The NUL-terminated UTF-8 string s as a canonical charlist (its code
 * points; bytes that are not valid UTF-8 become one element each). On an
 * error out->len is restored. */
int hl_term_put_string(hl_buf *out, const char *s);

#endif
