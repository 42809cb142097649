/*
 * hl_test_terms.h: terms written in a small Erlang-like notation for the
 * C tests (ints, floats, atoms, 'quoted atoms', "binaries", tuples, lists
 * with tails, #{maps}), parsed and canonicalised (object form) by T().
 * Test-only: no error handling beyond cmocka's assertions. Include after
 * <cmocka.h>.
 */
#ifndef HL_TEST_TERMS_H
#define HL_TEST_TERMS_H

#include "hl_term.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* --- a tiny term parser, for the tests only -------------------------- */

static void skip_ws(const char **s)
{
    while (isspace((unsigned char)**s))
        (*s)++;
}

static void parse(const char **s, hl_buf *out);

static size_t parse_seq(const char **s, char close, hl_buf *tmp, int *tail)
{
    size_t n = 0;
    *tail = 0;
    skip_ws(s);
    while (**s != close) {
        if (**s == '|') {
            (*s)++;
            *tail = 1;
            parse(s, tmp);
            skip_ws(s);
            continue;
        }
        parse(s, tmp);
        n++;
        skip_ws(s);
        if (**s == ',')
            (*s)++;
        skip_ws(s);
    }
    (*s)++;
    return n;
}

static void parse(const char **s, hl_buf *out)
{
    hl_buf tmp = {0};
    int tail;
    skip_ws(s);
    char c = **s;
    if (c == '{' || c == '[') {
        (*s)++;
        size_t n = parse_seq(s, c == '{' ? '}' : ']', &tmp, &tail);
        if (c == '{') {
            assert_int_equal(hl_term_put_tuple_header(out, n), HL_OK);
        } else {
            assert_int_equal(hl_term_put_list_header(out, n), HL_OK);
        }
        hl_buf_append(out, tmp.data, tmp.len);
        if (c == '[' && !tail && n)
            hl_term_put_nil(out);
        if (c == '[' && !tail && !n)
            hl_term_put_nil(out);
    } else if (c == '#') { /* #{K => V, ...} */
        size_t n = 0;
        *s += 2;
        skip_ws(s);
        while (**s != '}') {
            parse(s, &tmp);
            skip_ws(s);
            *s += 2; /* => */
            parse(s, &tmp);
            n++;
            skip_ws(s);
            if (**s == ',')
                (*s)++;
            skip_ws(s);
        }
        (*s)++;
        unsigned char h[5] = {HL_TAG_MAP};
        hl_put_u32(h + 1, (uint32_t)n);
        hl_buf_append(out, h, 5);
        hl_buf_append(out, tmp.data, tmp.len);
    } else if (c == '"') {
        const char *e = strchr(*s + 1, '"');
        hl_term_put_binary(out, *s + 1, (size_t)(e - *s - 1));
        *s = e + 1;
    } else if (c == '\'') {
        const char *e = strchr(*s + 1, '\'');
        hl_term_put_atom(out, *s + 1, (size_t)(e - *s - 1));
        *s = e + 1;
    } else if (isdigit((unsigned char)c) || c == '-') {
        char *end;
        double d = strtod(*s, &end);
        const char *dot = memchr(*s, '.', (size_t)(end - *s));
        if (dot) {
            unsigned char b[9] = {HL_TAG_NEW_FLOAT};
            uint64_t u;
            memcpy(&u, &d, 8);
            for (int i = 0; i < 8; i++)
                b[1 + i] = (unsigned char)(u >> (56 - 8 * i));
            hl_buf_append(out, b, 9);
        } else {
            hl_term_put_int(out, strtoll(*s, &end, 10));
        }
        *s = end;
    } else {
        const char *b = *s;
        while (isalnum((unsigned char)**s) || **s == '_' || **s == '$')
            (*s)++;
        hl_term_put_atom(out, b, (size_t)(*s - b));
    }
    hl_buf_free(&tmp);
}

/* The canonical term (object form) written as text; the caller frees it. */
static hl_buf T(const char *text)
{
    hl_buf raw = {0}, out = {0};
    size_t pos = 0;
    parse(&text, &raw);
    assert_int_equal(hl_term_canon_form(raw.data, raw.len, &pos, &out, HL_FORM_OBJECT), HL_OK);
    hl_buf_free(&raw);
    return out;
}

#endif
