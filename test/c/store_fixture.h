/*
 * store_fixture.h: what every test/c/test_store*.c shares: a fresh store in
 * its own mkdtemp directory, removed in teardown, and term builders whose
 * buffers the fixture keeps, so tests never free by hand. Everything here is
 * static inline: each test binary uses a different part of it.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_store_int.h"
#include "hl_term.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Term buffers a test may hand out; a file that builds many defines more
 * before including this. */
#ifndef MAX_BUFS
#define MAX_BUFS 256
#endif
/* Not the 64 GiB default: valgrind cannot map that much. */
#define TEST_MAP ((size_t)1 << 30)

typedef struct {
    char dir[64];
    hl_store *s;
    hl_buf bufs[MAX_BUFS];
    size_t nbufs;
    int logged;
} fixture;

static const hl_bytes cnode = {NULL, 0};

static inline void count_log(void *ctx, const char *msg)
{
    (void)msg;
    ((fixture *)ctx)->logged++;
}

static inline void open_store(fixture *f, size_t map_size, int mt)
{
    char err[256] = "";
    hl_store_opts o = {f->dir, map_size ? map_size : TEST_MAP, 0, mt, count_log, f};
    int rc = hl_store_open(&o, &f->s, err, sizeof err);
    if (rc)
        fail_msg("open: %s", err);
}

static inline int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/hl_store_test_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    open_store(f, 0, 0);
    *state = f;
    return 0;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    hl_store_close(f->s);
    for (size_t i = 0; i < f->nbufs; i++)
        hl_buf_free(&f->bufs[i]);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static inline void reopen(fixture *f)
{
    hl_store_close(f->s);
    f->s = NULL;
    open_store(f, 0, 0);
}

/* --- term builders: each returns a view of a buffer the fixture owns ---- */

static inline hl_buf *new_buf(fixture *f)
{
    assert_true(f->nbufs < MAX_BUFS);
    return &f->bufs[f->nbufs++];
}

static inline hl_bytes atom(fixture *f, const char *name)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_term_put_atom(b, name, strlen(name)), HL_OK);
    return hl_buf_view(b);
}

static inline hl_bytes integer(fixture *f, int64_t v)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_term_put_int(b, v), HL_OK);
    return hl_buf_view(b);
}

static inline hl_bytes binary(fixture *f, size_t len, unsigned char fill)
{
    hl_buf *b = new_buf(f);
    unsigned char *p = malloc(len ? len : 1);
    assert_non_null(p);
    memset(p, fill, len);
    assert_int_equal(hl_term_put_binary(b, p, len), HL_OK);
    free(p);
    return hl_buf_view(b);
}

/* A tuple of n elements given as hl_bytes. */
static inline hl_bytes tuple(fixture *f, size_t n, ...)
{
    hl_buf *b = new_buf(f);
    va_list ap;
    assert_int_equal(hl_term_put_tuple_header(b, n), HL_OK);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hl_bytes e = va_arg(ap, hl_bytes);
        assert_int_equal(hl_buf_append(b, e.data, e.len), HL_OK);
    }
    va_end(ap);
    return hl_buf_view(b);
}

/* A canonical pid (NEW_PID_EXT) on node a@h. */
static inline hl_bytes pid(fixture *f, uint32_t id)
{
    hl_buf *b = new_buf(f);
    assert_int_equal(hl_buf_append_byte(b, HL_TAG_NEW_PID), HL_OK);
    assert_int_equal(hl_term_put_atom(b, "a@h", 3), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, id), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 0), HL_OK);
    assert_int_equal(hl_buf_append_u32(b, 1), HL_OK);
    return hl_buf_view(b);
}

static inline hl_meta meta_of(hl_access access, unsigned keypos, hl_bytes owner)
{
    hl_meta m = {0};
    m.type = HL_SET;
    m.keypos = keypos;
    m.access = access;
    m.named = 1;
    m.own.owner = owner;
    m.own.heir_kind = HL_HEIR_CNODE;
    return m;
}

static inline void create(fixture *f, hl_bytes name, hl_access access, unsigned keypos,
                          hl_bytes owner)
{
    hl_meta m = meta_of(access, keypos, owner);
    assert_int_equal(hl_store_create(f->s, name, &m), HL_OK);
    assert_true(m.dbid > 0);
}

static inline int insert1(fixture *f, hl_bytes tab, hl_bytes caller, hl_bytes obj)
{
    return hl_store_insert(f->s, tab, caller, &obj, 1, 0, NULL);
}

/* Row callback: count the rows and keep a copy of the last one. */
typedef struct {
    int n;
    hl_buf last;
    int stop_after; /* 0: never */
} rows;

static inline int on_row(void *ctx, hl_bytes obj)
{
    rows *r = ctx;
    r->n++;
    r->last.len = 0;
    assert_int_equal(hl_buf_append(&r->last, obj.data, obj.len), HL_OK);
    return r->stop_after && r->n == r->stop_after ? 42 : 0;
}

/* Lookup key: the number of rows found (0 or 1); the row must be 131 + obj. */
static inline int lookup(fixture *f, hl_bytes tab, hl_bytes caller, hl_bytes key, hl_bytes want)
{
    rows r = {0};
    int rc = hl_store_lookup(f->s, tab, caller, key, on_row, &r);
    assert_int_equal(rc, HL_OK);
    if (r.n) {
        assert_int_equal(r.last.len, want.len + 1);
        assert_int_equal(r.last.data[0], 131);
        assert_memory_equal(r.last.data + 1, want.data, want.len);
    }
    hl_buf_free(&r.last);
    return r.n;
}

static inline uint64_t size_of(fixture *f, hl_bytes tab)
{
    hl_table_stats st;
    assert_int_equal(hl_store_stats(f->s, tab, &st), HL_OK);
    return st.size;
}

/* --- tests ---------------------------------------------------------------- */

typedef struct {
    int n;
    int stop_after;
    hl_buf first; /* a copy: views die with the walk */
} tables;

static inline int on_table(void *ctx, hl_bytes name, const hl_meta *m)
{
    tables *t = ctx;
    assert_int_equal(m->type, HL_SET);
    if (t->n++ == 0)
        assert_int_equal(hl_buf_append(&t->first, name.data, name.len), HL_OK);
    return t->stop_after && t->n == t->stop_after ? 7 : 0;
}

static inline void wait_child(pid_t child)
{
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

#endif
