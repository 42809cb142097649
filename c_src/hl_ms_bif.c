/*
 * hl_ms_bif.c: the guard functions of match specifications (the E_CALL
 * ids), on values that are views of ETF bytes.
 *
 * Erlang's rules: a function applied to the wrong types raises
 * (HL_MS_RAISE: the guard fails, the body gives 'EXIT'). The arithmetic
 * functions are in hl_ms_arith.c.
 */
#include "hl_ms_int.h"
#include "hl_order.h"
#include "hl_term.h"
#include "hl_term_int.h"

#include <math.h>
#include <stdint.h>

#define MANY UINT32_MAX
const hl_ms_fn hl_ms_fns[] = {
    {"andalso", 1, MANY},
    {"orelse", 1, MANY},
    {"self", 0, 0},
    {"is_atom", 1, 1},
    {"is_float", 1, 1},
    {"is_integer", 1, 1},
    {"is_list", 1, 1},
    {"is_number", 1, 1},
    {"is_pid", 1, 1},
    {"is_port", 1, 1},
    {"is_reference", 1, 1},
    {"is_tuple", 1, 1},
    {"is_map", 1, 1},
    {"is_binary", 1, 1},

    {"is_function", 1, 1},
    {"is_record", 3, 3},
    {"is_map_key", 2, 2},
    {"map_get", 2, 2},
    {"map_size", 1, 1},
    {"abs", 1, 1},
    {"element", 2, 2},
    {"hd", 1, 1},
    {"tl", 1, 1},
    {"length", 1, 1},
    {"node", 0, 1},
    {"round", 1, 1},
    {"trunc", 1, 1},
    {"float", 1, 1},
    {"size", 1, 1},
    {"bit_size", 1, 1},
    {"byte_size", 1, 1},

    {"binary_part", 2, 3},
    {"+", 1, 2},
    {"-", 1, 2},
    {"*", 2, 2},
    {"/", 2, 2},
    {"div", 2, 2},
    {"rem", 2, 2},
    {"band", 2, 2},
    {"bor", 2, 2},
    {"bxor", 2, 2},
    {"bnot", 1, 1},
    {"bsl", 2, 2},
    {"bsr", 2, 2},
    {">", 2, 2},
    {">=", 2, 2},
    {"<", 2, 2},
    {"=<", 2, 2},
    {"=:=", 2, 2},
    {"==", 2, 2},
    {"=/=", 2, 2},
    {"/=", 2, 2},
    {"not", 1, 1},
    {"and", 1, MANY},
    {"or", 1, MANY},
    {"xor", 2, 2},
};
const size_t hl_ms_nfns = sizeof hl_ms_fns / sizeof hl_ms_fns[0];

static int put_int(hl_ms *ms, int64_t i, hl_bytes *out)
{
    return hl_ms_put_int(ms, i, out);
}

static int put_bool(int v, hl_bytes *out)
{
    *out = v ? hl_ms_true : hl_ms_false;
    return HL_OK;
}

static int bool_of(hl_bytes v)
{
    return hl_ms_is_atom(v, "true") ? 1 : hl_ms_is_atom(v, "false") ? 0 : -1;
}

/* The number of elements of a proper list, or -1. */
static int64_t list_length(hl_bytes l)
{
    int64_t n = 0;
    size_t pos = 0;
    for (;;) {
        unsigned char tag = l.data[pos];
        if (tag == HL_TAG_NIL)
            return n;
        if (tag == HL_TAG_STRING)
            return n + hl_get_u16(l.data + pos + 1);
        if (tag != HL_TAG_LIST)
            return -1;
        uint32_t m = hl_get_u32(l.data + pos + 1);
        pos += 5;
        for (uint32_t i = 0; i < m; i++)
            if (hl_term_skip(l.data, l.len, &pos))
                return -1;
        n += m;
    }
}

static int binary_part(hl_ms *ms, hl_bytes b, hl_ms_num s, hl_ms_num l, hl_bytes *out)
{
    if (b.data[0] != HL_TAG_BINARY || s.k != N_INT || l.k != N_INT)
        return HL_MS_RAISE;
    int64_t size = hl_get_u32(b.data + 1), start = s.i, len = l.i;
    if (len < 0) {
        start += len;
        len = -len;
    }
    if (start < 0 || start > size || len > size - start)
        return HL_MS_RAISE;
    ms->tmp.len = 0;
    if (hl_term_put_binary(&ms->tmp, b.data + 5 + start, (size_t)len))
        return HL_ENOMEM;
    return hl_ms_keep_tmp(ms, out);
}

static int sizes(hl_ms *ms, uint32_t f, hl_bytes v, hl_bytes *out)
{
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    size_t arity;
    if (k == HL_KIND_TUPLE && f == F_SIZE && !hl_term_tuple_arity(v.data, v.len, &arity))
        return put_int(ms, (int64_t)arity, out);
    if (k != HL_KIND_BINARY && k != HL_KIND_BITS)
        return HL_MS_RAISE;
    int64_t bytes = hl_get_u32(v.data + 1);
    int bits = k == HL_KIND_BITS ? v.data[5] : 8; /* bits used in the last byte */
    if (f == F_BIT_SIZE)
        return put_int(ms, bytes ? (bytes - 1) * 8 + bits : 0, out);
    return put_int(ms, f == F_SIZE && bits < 8 ? bytes - 1 : bytes, out);
}

static int type_test(uint32_t f, hl_bytes v, hl_bytes *out)
{
    hl_term_kind k = hl_term_kind_of(v.data[0]);
    int r;
    switch (f) {
    case F_IS_ATOM:
        r = k == HL_KIND_ATOM;
        break;
    case F_IS_FLOAT:
        r = k == HL_KIND_FLOAT;
        break;
    case F_IS_INTEGER:
        r = k == HL_KIND_INT;
        break;
    case F_IS_LIST:
        r = k == HL_KIND_NIL || k == HL_KIND_STRING || k == HL_KIND_LIST;
        break;
    case F_IS_NUMBER:
        r = k == HL_KIND_INT || k == HL_KIND_FLOAT;
        break;
    case F_IS_PID:
        r = k == HL_KIND_PID;
        break;
    case F_IS_PORT:
        r = k == HL_KIND_PORT;
        break;
    case F_IS_REFERENCE:
        r = k == HL_KIND_REF;
        break;
    case F_IS_TUPLE:
        r = k == HL_KIND_TUPLE;
        break;
    case F_IS_MAP:
        r = k == HL_KIND_MAP;
        break;
    case F_IS_BINARY:
        r = k == HL_KIND_BINARY;
        break;
    default:
        r = k == HL_KIND_FUN || k == HL_KIND_EXPORT;
        break;
    }
    return put_bool(r, out);
}

static int compare(uint32_t f, hl_bytes a, hl_bytes b, hl_bytes *out)
{
    int exact = f == F_EXACT_EQ || f == F_EXACT_NE;
    int c = hl_order_compare(a.data, a.len, b.data, b.len, exact ? HL_CMP_EXACT : HL_CMP_EQ);
    switch (f) {
    case F_GT:
        return put_bool(c > 0, out);
    case F_GE:
        return put_bool(c >= 0, out);
    case F_LT:
        return put_bool(c < 0, out);
    case F_LE:
        return put_bool(c <= 0, out);
    case F_EXACT_EQ:
    case F_EQ:
        return put_bool(c == 0, out);
    default:
        return put_bool(c != 0, out);
    }
}

static int logic(uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out)
{
    int acc = f == F_AND;
    for (uint32_t i = 0; i < n; i++) {
        int b = bool_of(a[i]);
        if (b < 0)
            return HL_MS_RAISE;
        acc = f == F_AND ? acc && b : f == F_OR ? acc || b : f == F_XOR ? (i ? acc != b : b) : !b;
    }
    return put_bool(acc, out);
}

int hl_ms_bif(hl_ms *ms, uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out)
{
    hl_ms_num x;
    hl_bytes h, t;
    size_t arity;
    int rc;
    if (f >= F_IS_ATOM && f <= F_IS_FUNCTION)
        return type_test(f, a[0], out);
    if (f >= F_GT && f <= F_NE)
        return compare(f, a[0], a[1], out);
    if (f >= F_NOT)
        return logic(f, a, n, out);
    switch (f) {
    case F_IS_RECORD:
        x = hl_ms_num_of(a[2]);
        /* erts wants a small integer (60 bits on a 64-bit VM) as the size */
        if (hl_term_kind_of(a[1].data[0]) != HL_KIND_ATOM || x.k != N_INT ||
            x.i < -((int64_t)1 << 59) || x.i >= ((int64_t)1 << 59))
            return HL_MS_RAISE;
        if (hl_term_tuple_arity(a[0].data, a[0].len, &arity) || (int64_t)arity != x.i || !arity ||
            hl_term_tuple_element(a[0].data, a[0].len, 1, &h))
            return put_bool(0, out);
        return put_bool(hl_ms_exact_eq(h, a[1]), out);
    case F_IS_MAP_KEY:
    case F_MAP_GET:
        if (a[1].data[0] != HL_TAG_MAP)
            return HL_MS_RAISE;
        rc = hl_ms_map_get(a[1], a[0], &h);
        if (f == F_IS_MAP_KEY)
            return put_bool(rc, out);
        *out = h;
        return rc ? HL_OK : HL_MS_RAISE;
    case F_MAP_SIZE:
        return a[0].data[0] == HL_TAG_MAP ? put_int(ms, hl_get_u32(a[0].data + 1), out)
                                          : HL_MS_RAISE;
    case F_ELEMENT:
        x = hl_ms_num_of(a[0]);
        if (x.k != N_INT || x.i < 1 || hl_term_tuple_arity(a[1].data, a[1].len, &arity) ||
            (uint64_t)x.i > arity || hl_term_tuple_element(a[1].data, a[1].len, (size_t)x.i, out))
            return HL_MS_RAISE;
        return HL_OK;
    case F_HD:
    case F_TL:
        rc = hl_ms_list_split(ms, a[0], &h, &t);
        *out = f == F_HD ? h : t;
        return rc;
    case F_LENGTH:
        x.i = list_length(a[0]);
        return x.i < 0 ? HL_MS_RAISE : put_int(ms, x.i, out);
    case F_NODE:
        if (hl_term_node_of(n ? a[0].data : ms->self.data, n ? a[0].len : ms->self.len, out))
            return HL_MS_RAISE;
        return HL_OK;
    case F_SIZE:
    case F_BIT_SIZE:
    case F_BYTE_SIZE:
        return sizes(ms, f, a[0], out);
    case F_BINARY_PART:
        if (n == 3)
            return binary_part(ms, a[0], hl_ms_num_of(a[1]), hl_ms_num_of(a[2]), out);
        if (hl_term_tuple_arity(a[1].data, a[1].len, &arity) || arity != 2 ||
            hl_term_tuple_element(a[1].data, a[1].len, 1, &h) ||
            hl_term_tuple_element(a[1].data, a[1].len, 2, &t))
            return HL_MS_RAISE;
        return binary_part(ms, a[0], hl_ms_num_of(h), hl_ms_num_of(t), out);
    default: /* the arithmetic functions: hl_ms_arith.c */
        return hl_ms_arith(ms, f, a, n, out);
    }
}
