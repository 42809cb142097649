/*
 * hl_bigint.h: exact integers beyond int64 for match-spec arithmetic
 * (hl_ms_bif.c), so a spec computes what ETS computes instead of refusing.
 *
 * Sign and magnitude, the magnitude in 64-bit limbs, least significant
 * first, without high zero limbs (n == 0 is zero, and then neg is 0). The
 * limbs are as wide as erts's digits on a 64-bit host, so hl_big_to_double
 * rounds exactly as erts's big_to_double does.
 *
 * Size: the operations that cost more than the size of their operands are
 * bounded by HL_BIG_MAX_LIMBS (16,384 bits): a product or a left shift
 * larger than that, and a division of a larger dividend, answer
 * HL_EUNSUPPORTED (the README says so), so one operation costs at most a
 * few tens of microseconds however a match spec nests them. Addition,
 * subtraction, bit operations and right shifts are linear and unbounded
 * (update_counter adds to counters of any size, as ETS does).
 *
 * Ownership: an hl_big owns its limbs (malloc). hl_big_init makes a zero
 * that owns nothing; hl_big_free releases and leaves a zero. Results go to
 * `r`, which must not be an operand; on an error r is left a valid number
 * (its value unspecified). Pure: no I/O, no globals.
 */
#ifndef HL_BIGINT_H
#define HL_BIGINT_H

#include "hl_common.h"

#include <stdint.h>

#define HL_BIG_MAX_LIMBS 256

typedef struct {
    int neg;
    size_t n;
    size_t cap;
    uint64_t *d;
} hl_big;

void hl_big_init(hl_big *b);
void hl_big_free(hl_big *b);

/* From an integer term of any encoding (t is exactly one term): HL_OK,
 * HL_EBADARG (not an integer), HL_ENOMEM. */
int hl_big_from_term(hl_big *b, hl_bytes t);
int hl_big_from_i64(hl_big *b, int64_t v);
/* The integer part of a finite double (truncated toward zero): HL_OK,
 * HL_EBADARG (not finite), HL_ENOMEM. */
int hl_big_from_double(hl_big *b, double d);

/* Appends the canonical integer term (hl_term.h's form). HL_OK or HL_ENOMEM. */
int hl_big_to_term(const hl_big *b, hl_buf *out);
/* As erts's big_to_double: HL_OK, or HL_EBADARG when it is not finite. */
int hl_big_to_double(const hl_big *b, double *d);

/* r = a + b, a - b, a * b. HL_OK, HL_ENOMEM, or for a product past the
 * bound HL_EUNSUPPORTED. */
int hl_big_add(hl_big *r, const hl_big *a, const hl_big *b);
int hl_big_sub(hl_big *r, const hl_big *a, const hl_big *b);
int hl_big_mul(hl_big *r, const hl_big *a, const hl_big *b);
/* Erlang's div and rem (truncating; rem takes the dividend's sign): q or
 * rm may be NULL. HL_EBADARG when b is zero, HL_EUNSUPPORTED for a
 * dividend past the bound, HL_ENOMEM. */
int hl_big_divrem(hl_big *q, hl_big *rm, const hl_big *a, const hl_big *b);
/* Compares values: < 0, 0, > 0. */
int hl_big_cmp(const hl_big *a, const hl_big *b);

/* band, bor, bxor on two's complement of unbounded width; bnot is -a - 1. */
enum { HL_BIG_BAND, HL_BIG_BOR, HL_BIG_BXOR };
int hl_big_bitop(hl_big *r, int op, const hl_big *a, const hl_big *b);
int hl_big_bnot(hl_big *r, const hl_big *a);
/* a bsl s (s < 0 shifts right, rounding toward minus infinity as bsr does).
 * HL_EUNSUPPORTED when the result would pass the bound. */
int hl_big_shift(hl_big *r, const hl_big *a, int64_t s);

/* 1 if b fits an int64 (then *v is it), else 0. */
int hl_big_get_i64(const hl_big *b, int64_t *v);

#endif
