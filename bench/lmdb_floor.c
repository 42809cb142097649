/*
 * bench/lmdb_floor.c: how much of a NIF lookup is LMDB's own work, for
 * `make bench` (bench/run.exs runs it inside each latency round).
 *
 *   lmdb_floor DIR TABLE ROWS N OFFSET
 *
 * Opens the store in DIR as another reader process (the NIF's settings)
 * and looks up integer keys of a set table named by the atom TABLE, the
 * bench's keys rem(i * 7919, ROWS) + 1, three ways, each call timed on its
 * own as Bench.latencies times the BEAM's calls, each way with N keys of
 * its own (i in OFFSET+1..OFFSET+N, then the next N, then the next), which
 * the bench's other lookups do not use: every lookup finds its row cold in
 * the CPU's caches, as the bench's ETS and NIF lookups do. (A first version
 * looked up the lookups' own keys four times over: the later passes found
 * them in the caches, and the floor came out under a cold lookup's.)
 *
 *   mdb_get  - LMDB's B-tree search alone, in one read transaction kept
 *              open: the floor no change above LMDB can go under;
 *   txn_get  - a read transaction per lookup (hl_store_op_begin/op_end
 *              around mdb_get: LMDB's renew and reset, its search of its
 *              main tree for the table's record, which a named database
 *              needs once per transaction, and the search): what a lookup
 *              that must see every write committed before it costs;
 *   store    - hl_store_lookup: the store layer the NIF and the C node
 *              call (access check, meta cache, the row handed over).
 *
 * Prints one line: `mdb_get=M txn_get=T store=S` (medians, microseconds).
 */
#include "hl_store_int.h"
#include "hl_term_enc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A key the bench loaded was not found: the wrong table or directory. */
#define MISSING HL_EBADARG

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *xs, size_t n)
{
    qsort(xs, n, sizeof *xs, cmp_double);
    return xs[n / 2];
}

static int count_row(void *ctx, hl_bytes obj)
{
    (void)obj;
    ++*(size_t *)ctx;
    return 0;
}

/* The canonical key of the i-th lookup, into k (reused). */
static int key_of(hl_buf *k, long long i, long long rows)
{
    k->len = 0;
    return hl_term_put_int(k, (i * 7919) % rows + 1);
}

/* Walk every row of the table in one read transaction: every page of it
 * is then in this process's page tables. HL_OK or an hl_err. */
static int touch_table(hl_store *s, hl_bytes tab)
{
    hl_store_op op;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = hl_store_op_begin(&op, s, HL_OP_READ, tab, HL_OPF_META | HL_OPF_DBI);
    if (rc)
        return rc;
    if (mdb_cursor_open(op.txn, op.dbi, &cur))
        return hl_store_op_end(&op, HL_ESTORE);
    unsigned sum = 0;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
        sum += ((const volatile unsigned char *)v.mv_data)[v.mv_size - 1];
    (void)sum;
    mdb_cursor_close(cur);
    return hl_store_op_end(&op, rc == MDB_NOTFOUND ? HL_OK : HL_ESTORE);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: lmdb_floor DIR TABLE ROWS N OFFSET\n");
        return 2;
    }
    long long rows = atoll(argv[3]), n = atoll(argv[4]), off = atoll(argv[5]);
    char err[256];
    hl_store *s = NULL;
    hl_store_opts o = {argv[1], 0, HL_STORE_SYNC_FOLLOW, 1, NULL, NULL}; /* as the NIF */
    hl_buf tab = {0}, k = {0};
    double *lat = malloc((size_t)(n > 0 ? n : 1) * sizeof *lat);
    double m_get = 0, m_txn = 0, m_store = 0;
    static const unsigned char anonymous = 0;
    hl_bytes reader = {&anonymous, 1};
    int rc = rows > 0 && n > 0 && lat ? HL_OK : HL_EBADARG;
    if (!rc && (rc = hl_store_open(&o, &s, err, sizeof err)))
        fprintf(stderr, "lmdb_floor: %s\n", err);
    if (!rc)
        rc = hl_term_put_atom(&tab, argv[2], strlen(argv[2]));
    /* Untimed: read every row once, so that no timed call pays for this
     * process's page tables (the VM's are made as it loads the table);
     * reading the whole table also leaves the CPU's caches holding none of
     * the rows looked up below. */
    if (!rc)
        rc = touch_table(s, hl_buf_view(&tab));
    /* mdb_get in one snapshot. */
    hl_store_op op;
    if (!rc && !(rc = hl_store_op_begin(&op, s, HL_OP_READ, hl_buf_view(&tab),
                                        HL_OPF_META | HL_OPF_DBI))) {
        for (long long i = 0; i < n && !rc; i++) {
            MDB_val key, val;
            rc = key_of(&k, off + i + 1, rows);
            key = (MDB_val){k.len, k.data};
            double t = now_us();
            int mrc = mdb_get(op.txn, op.dbi, &key, &val);
            lat[i] = now_us() - t;
            if (mrc)
                rc = MISSING;
        }
        rc = hl_store_op_end(&op, rc);
        if (!rc)
            m_get = median(lat, (size_t)n);
    }
    /* A read transaction per lookup. */
    off += n;
    for (long long i = 0; i < n && !rc; i++) {
        MDB_val key, val;
        rc = key_of(&k, off + i + 1, rows);
        key = (MDB_val){k.len, k.data};
        double t = now_us();
        if (!rc && !(rc = hl_store_op_begin(&op, s, HL_OP_READ, hl_buf_view(&tab),
                                            HL_OPF_META | HL_OPF_DBI))) {
            int mrc = mdb_get(op.txn, op.dbi, &key, &val);
            rc = hl_store_op_end(&op, mrc ? MISSING : HL_OK);
        }
        lat[i] = now_us() - t;
    }
    if (!rc)
        m_txn = median(lat, (size_t)n);
    /* The store layer. */
    off += n;
    for (long long i = 0; i < n && !rc; i++) {
        size_t found = 0;
        rc = key_of(&k, off + i + 1, rows);
        double t = now_us();
        if (!rc)
            rc = hl_store_lookup(s, hl_buf_view(&tab), reader, hl_buf_view(&k), count_row, &found);
        lat[i] = now_us() - t;
        if (!rc && found != 1)
            rc = MISSING;
    }
    if (!rc)
        m_store = median(lat, (size_t)n);
    hl_store_close(s);
    hl_buf_free(&tab);
    hl_buf_free(&k);
    free(lat);
    if (rc) {
        fprintf(stderr, "lmdb_floor: failed (%d)\n", rc);
        return 1;
    }
    printf("mdb_get=%.3f txn_get=%.3f store=%.3f\n", m_get, m_txn, m_store);
    return 0;
}
