/*
 * hl_test_vectors.h: reading the text vector files written by
 * test/vectors/gen_vectors.escript (format described at the top of that
 * script): one case per line, space-separated fields, '#' comments, terms in
 * hex. Files are looked up in $HL_VECTORS (default test/vectors).
 *
 * Header-only, static functions: each test binary includes it once.
 */
#ifndef HL_TEST_VECTORS_H
#define HL_TEST_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HL_VEC_MAXF 8

typedef struct {
    FILE *f;
    char *line;
    size_t cap;
    char *field[HL_VEC_MAXF];
    size_t nf;
    size_t lineno;
} hl_vec;

/* Open a vector file; NULL (with a message) if it is missing. */
static FILE *hl_vec_fopen(const char *name)
{
    const char *dir = getenv("HL_VECTORS");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "test/vectors", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "cannot open vector file %s\n", path);
    return f;
}

static int hl_vec_open(hl_vec *v, const char *name)
{
    memset(v, 0, sizeof *v);
    v->f = hl_vec_fopen(name);
    return v->f != NULL;
}

/* Next case: 1 with v->field[0..nf) set, 0 at the end of the file. */
static int hl_vec_next(hl_vec *v)
{
    ssize_t n;
    while ((n = getline(&v->line, &v->cap, v->f)) >= 0) {
        v->lineno++;
        while (n > 0 && (v->line[n - 1] == '\n' || v->line[n - 1] == '\r'))
            v->line[--n] = 0;
        if (n == 0 || v->line[0] == '#')
            continue;
        v->nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(v->line, " ", &save); t && v->nf < HL_VEC_MAXF;
             t = strtok_r(NULL, " ", &save))
            v->field[v->nf++] = t;
        return 1;
    }
    return 0;
}

static void hl_vec_close(hl_vec *v)
{
    if (v->f)
        fclose(v->f);
    free(v->line);
    memset(v, 0, sizeof *v);
}

static int hl_vec_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex into a malloc'd buffer (caller frees); NULL if not hex. An
 * empty string gives a 1-byte allocation and *len 0. */
static unsigned char *hl_vec_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    unsigned char *b = malloc(n / 2 + 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hl_vec_nibble(hex[2 * i]), lo = hl_vec_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return NULL;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return b;
}

#endif
