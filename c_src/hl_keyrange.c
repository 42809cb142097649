/*
 * hl_keyrange.c: key patterns against keys and against each other, in term
 * order, as erts's ordered_set select does (contract in hl_keyrange.h).
 *
 * The one idea: a pattern and a key (or two patterns) are walked in
 * lockstep only through the tuples and lists both have; anywhere else the
 * two sub-terms are compared whole by hl_order_compare (the term order with
 * ==), and a wildcard ends the walk. Lists may be LIST_EXT or STRING_EXT on
 * either side, so a list is walked element by element through `lside`,
 * which presents a STRING_EXT's bytes as small integers. A list's remainder
 * that is not a term of its own (the rest of a string, or of a LIST_EXT
 * segment) is only ever compared with a non-list, where its class decides:
 * it stands as the one-element list `rep_list`.
 */
#include "hl_keyrange.h"
#include "hl_order.h"
#include "hl_term_int.h"

enum { M_CMP, M_LESSER, M_GREATER };

static const unsigned char nil_term[1] = {HL_TAG_NIL};
static const unsigned char rep_list[4] = {HL_TAG_STRING, 0, 1, 0};

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

static int order(hl_bytes a, hl_bytes b)
{
    return sgn(hl_order_compare(a.data, a.len, b.data, b.len, HL_CMP_EQ));
}

int hl_keyrange_is_wild(hl_bytes t)
{
    hl_atom a;
    size_t pos = 0;
    if (!t.len || hl_term_kind_of(t.data[0]) != HL_KIND_ATOM ||
        hl_term_read_atom(t.data, t.len, &pos, &a))
        return 0;
    if (a.n == 1 && a.p[0] == '_')
        return 1;
    if (a.n < 2 || a.n > 11 || a.p[0] != '$' || (a.p[1] == '0' && a.n > 2))
        return 0;
    long v = 0;
    for (size_t i = 1; i < a.n; i++) {
        if (a.p[i] < '0' || a.p[i] > '9')
            return 0;
        v = v * 10 + (a.p[i] - '0');
    }
    return v < 0x7fffffffL;
}

static int is_list(hl_bytes t)
{
    return t.data[0] == HL_TAG_LIST || t.data[0] == HL_TAG_STRING;
}

/* A flat walk over t: does it hold a wildcard (want_map 0) or a map
 * (want_map 1)? A count of terms still to read replaces recursion. */
static int holds(hl_bytes t, int want_map)
{
    size_t pos = 0, todo = 1;
    while (todo--) {
        hl_bytes sub = {t.data + pos, t.len - pos};
        size_t p = pos;
        if (pos >= t.len)
            return 0;
        switch (hl_term_kind_of(t.data[pos])) {
        case HL_KIND_TUPLE:
            if (t.data[pos] == HL_TAG_SMALL_TUPLE) {
                todo += pos + 1 < t.len ? t.data[pos + 1] : 0;
                pos += 2;
            } else {
                todo += pos + 5 <= t.len ? hl_get_u32(t.data + pos + 1) : 0;
                pos += 5;
            }
            break;
        case HL_KIND_MAP:
            if (want_map)
                return 1;
            todo += pos + 5 <= t.len ? 2 * (size_t)hl_get_u32(t.data + pos + 1) : 0;
            pos += 5;
            break;
        case HL_KIND_LIST:
            todo += pos + 5 <= t.len ? (size_t)hl_get_u32(t.data + pos + 1) + 1 : 0;
            pos += 5;
            break;
        default:
            if (!want_map && hl_keyrange_is_wild(sub))
                return 1;
            if (hl_term_skip(t.data, t.len, &p))
                return 0;
            pos = p;
        }
    }
    return 0;
}

hl_key_kind hl_keyrange_kind(hl_bytes p)
{
    if (!holds(p, 0))
        return HL_KEY_BOUND;
    if (!hl_keyrange_is_wild(p) && !holds(p, 1))
        return HL_KEY_PARTIAL;
    return HL_KEY_UNBOUND;
}

/* erts's tag classes (tag_val_def), which can_match_lesser/greater look at:
 * integers split into fixnums (60 bits on 64-bit machines) and bignums. */
enum { C_SMALL, C_BIG, C_FLOAT, C_LIST, C_OTHER };

static int tag_class(hl_bytes t, int *kind)
{
    hl_term_kind k = hl_term_kind_of(t.data[0]);
    *kind = k == HL_KIND_STRING ? HL_KIND_LIST : k == HL_KIND_BITS ? HL_KIND_BINARY : (int)k;
    if (k == HL_KIND_FLOAT)
        return C_FLOAT;
    if (k == HL_KIND_LIST || k == HL_KIND_STRING)
        return C_LIST;
    if (k != HL_KIND_INT)
        return C_OTHER;
    hl_int v;
    size_t pos = 0;
    if (hl_term_read_int(t.data, t.len, &pos, &v) || v.n < 8)
        return C_SMALL;
    if (v.n > 8)
        return C_BIG;
    unsigned top = hl_int_byte(&v, 7);
    if (top < 0x08)
        return C_SMALL;
    if (v.neg && top == 0x08) { /* -2^59 is the least fixnum */
        for (size_t i = 0; i < 7; i++)
            if (hl_int_byte(&v, i))
                return C_BIG;
        return C_SMALL;
    }
    return C_BIG;
}

static int same_tag(hl_bytes a, hl_bytes b)
{
    int ka, kb;
    int ca = tag_class(a, &ka), cb = tag_class(b, &kb);
    return ka == kb && ca == cb;
}

/* One side of a list walk. */
typedef struct {
    const unsigned char *t;
    size_t len, pos, left;
    int str;
    unsigned char ch[2];
} lside;

static void lside_at(lside *s, const unsigned char *t, size_t len)
{
    s->t = t;
    s->len = len;
    s->str = t[0] == HL_TAG_STRING;
    s->left = s->str ? hl_get_u16(t + 1) : hl_get_u32(t + 1);
    s->pos = s->str ? 3 : 5;
}

/* The next element (a view valid until the next call). */
static hl_bytes lside_next(lside *s)
{
    hl_bytes e;
    s->left--;
    if (s->str) {
        s->ch[0] = HL_TAG_SMALL_INTEGER;
        s->ch[1] = s->t[s->pos++];
        return (hl_bytes){s->ch, 2};
    }
    size_t start = s->pos;
    if (hl_term_skip(s->t, s->len, &s->pos))
        s->pos = s->len; /* malformed: cannot happen after hl_term_skip of the whole */
    e = (hl_bytes){s->t + start, s->pos - start};
    return e;
}

/* After an element: 1 if more elements follow (moving into a tail that is
 * itself a list), else 0 with *tail the rest as a term. */
static int lside_more(lside *s, hl_bytes *tail)
{
    if (s->left)
        return 1;
    if (s->str) {
        *tail = (hl_bytes){nil_term, 1};
        return 0;
    }
    *tail = (hl_bytes){s->t + s->pos, s->len - s->pos};
    if (is_list(*tail)) {
        lside_at(s, tail->data, tail->len);
        return 1;
    }
    return 0;
}

static int walk(int mode, hl_bytes a, hl_bytes b, int *done, int depth);

/* A leaf comparison in mode: a and b compared whole (c: their order). */
static int leaf(int mode, int c, int *done)
{
    if (mode == M_CMP)
        return c;
    if (c)
        *done = 1;
    return mode == M_LESSER ? c < 0 : c > 0;
}

/* A list's remainder (more elements) against a term x that is not a list;
 * list_first: the remainder is on the left (a), x on the right (b). */
static int rest_vs_term(int mode, hl_bytes x, int list_first, int *done)
{
    if (hl_keyrange_is_wild(x) && (mode != M_CMP || !list_first)) {
        *done = 1; /* only the left side's wildcards count in M_CMP */
        return mode != M_CMP && !list_first;
    }
    int c = order(x, (hl_bytes){rep_list, sizeof rep_list});
    if (list_first)
        c = -c;
    if (mode != M_CMP)
        *done = 1; /* a list and a non-list: different tags */
    return leaf(mode, c, done);
}

static int walk_lists(int mode, hl_bytes a, hl_bytes b, int *done, int depth)
{
    lside la, lb;
    hl_bytes ta = {0}, tb = {0};
    lside_at(&la, a.data, a.len);
    lside_at(&lb, b.data, b.len);
    for (;;) {
        hl_bytes ea = lside_next(&la), eb = lside_next(&lb);
        int j = walk(mode, ea, eb, done, depth + 1);
        if (j || *done)
            return j;
        int ma = lside_more(&la, &ta), mb = lside_more(&lb, &tb);
        if (ma && mb)
            continue;
        if (!ma && !mb)
            return walk(mode, ta, tb, done, depth + 1);
        return ma ? rest_vs_term(mode, tb, 1, done) : rest_vs_term(mode, ta, 0, done);
    }
}

static int walk_tuples(int mode, hl_bytes a, hl_bytes b, int *done, int depth)
{
    size_t na, nb, pa, pb;
    hl_term_tuple_arity(a.data, a.len, &na);
    hl_term_tuple_arity(b.data, b.len, &nb);
    if (na != nb) {
        if (mode == M_CMP)
            return na < nb ? -1 : 1;
        return mode == M_LESSER ? na < nb : na > nb;
    }
    pa = a.data[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
    pb = b.data[0] == HL_TAG_SMALL_TUPLE ? 2 : 5;
    for (size_t i = 0; i < na; i++) {
        size_t sa = pa, sb = pb;
        if (hl_term_skip(a.data, a.len, &pa) || hl_term_skip(b.data, b.len, &pb))
            return 0;
        int j = walk(mode, (hl_bytes){a.data + sa, pa - sa}, (hl_bytes){b.data + sb, pb - sb}, done,
                     depth + 1);
        if (j || *done)
            return j;
    }
    return 0;
}

static int walk(int mode, hl_bytes a, hl_bytes b, int *done, int depth)
{
    int wa = hl_keyrange_is_wild(a);
    if (depth > HL_KEYRANGE_MAX_DEPTH || (mode == M_CMP && wa)) {
        *done = 1;
        return 0;
    }
    if (mode != M_CMP && (wa || hl_keyrange_is_wild(b))) {
        *done = 1;
        return wa && !hl_keyrange_is_wild(b);
    }
    hl_term_kind ka = hl_term_kind_of(a.data[0]), kb = hl_term_kind_of(b.data[0]);
    if (mode != M_CMP && !same_tag(a, b)) {
        *done = 1; /* erts: different tags end the walk, even when == (1, 1.0) */
        return leaf(mode, order(a, b), done);
    }
    if (ka == HL_KIND_TUPLE && kb == HL_KIND_TUPLE)
        return walk_tuples(mode, a, b, done, depth);
    if (is_list(a) && is_list(b))
        return walk_lists(mode, a, b, done, depth);
    return leaf(mode, order(a, b), done);
}

int hl_keyrange_cmp(hl_bytes p, hl_bytes k)
{
    int done = 0;
    return walk(M_CMP, p, k, &done, 0);
}

int hl_keyrange_lesser(hl_bytes a, hl_bytes b)
{
    int done = 0;
    return walk(M_LESSER, a, b, &done, 0);
}

int hl_keyrange_greater(hl_bytes a, hl_bytes b)
{
    int done = 0;
    return walk(M_GREATER, a, b, &done, 0);
}

int hl_keyrange_probe(hl_bytes p, int high, hl_buf *out)
{
    if (hl_buf_reserve(out, p.len + 2))
        return HL_ENOMEM;
    hl_buf_append_byte(out, HL_KEYRANGE_PROBE);
    hl_buf_append_byte(out, high ? 1 : 0);
    return hl_buf_append(out, p.data, p.len);
}

int hl_keyrange_probe_cmp(const unsigned char *probe, size_t plen, const unsigned char *k,
                          size_t klen)
{
    hl_bytes p = {probe + 2, plen - 2};
    int high = probe[1];
    if (hl_keyrange_is_probe(k, klen)) { /* two probes: any fixed order */
        int c = order(p, (hl_bytes){k + 2, klen - 2});
        return c ? c : high - k[1];
    }
    int c = hl_keyrange_cmp(p, (hl_bytes){k, klen});
    /* low: before every key the pattern reaches; high: after them */
    if (high)
        return c >= 0 ? 1 : -1;
    return c > 0 ? 1 : -1;
}
