/*
 * hl_store_env.c: the store's LMDB environment: open and close, private
 * files, and the reserved data file.
 *
 * The one idea: LMDB never touches a page past its map size, so the map
 * size is made to be exactly the part of data.mdb whose pages the filesystem
 * has already given us (posix_fallocate). A write that needs more gets
 * MDB_MAP_FULL from LMDB; the store then reserves more of the file and maps
 * it (hl_store_reserve), or answers HL_EFULL when the filesystem has no room.
 * So a full filesystem is an error on every path, never a SIGBUS: with
 * MDB_WRITEMAP (LMDB writes through the map) a page of a sparse file that
 * tmpfs cannot back kills the process on first touch, and without it a
 * pwrite past the end of the file may fail half-way.
 *
 * Every Heirloom process on the directory keeps the same rules, under an
 * flock of data.mdb (our own descriptor; LMDB's locks are fcntl locks on
 * lock.mdb, so they do not interfere):
 *  - the file is allocated from 0 to its size: it grows only by
 *    posix_fallocate, which extends it fully backed;
 *  - nobody shrinks it (LMDB's WRITEMAP mapping ftruncates the file to the
 *    map size, so a map is never smaller than the file), except a data file
 *    left sparse by an older version, trimmed when it is opened;
 *  - a process maps at most the file's size, and when another process has
 *    used pages past its map (MDB_MAP_RESIZED) it maps the file's size, never
 *    LMDB's recorded map size (which may be a sparse 64 GiB).
 * The cap (opts->map_size) limits how far this process grows the file; what
 * others reserved it uses whatever its cap.
 */
#include "hl_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)64 << 30)
/* Reservations are whole MiB: a multiple of any page size. The first is
 * small (tmpfs pages are RAM); each growth adds half the map, at least
 * GROW_MIN, halving towards GROW_FLOOR when the filesystem has less. */
#define UNIT ((size_t)1 << 20)
#define FIRST_RESERVE (4 * UNIT)
#define GROW_MIN (4 * UNIT)
#define GROW_FLOOR ((size_t)64 << 10)
#define MAX_READERS 1024

/* Here, at the bottom of the store's files, so every file above may log. */
void hl_store_log(hl_store *s, const char *what, int rc)
{
    if (s->log) {
        char msg[256];
        snprintf(msg, sizeof msg, "hl_store %s: %s: %s", s->dir, what, mdb_strerror(rc));
        s->log(s->log_ctx, msg);
    }
}

static size_t round_up(size_t n, size_t unit)
{
    return (n + unit - 1) / unit * unit;
}

static void file_lock(hl_store *s)
{
    while (flock(s->fd, LOCK_EX) && errno == EINTR)
        ;
}

static void file_unlock(hl_store *s)
{
    (void)flock(s->fd, LOCK_UN);
}

/* Bytes of the file LMDB uses (up to its last committed page). */
static size_t used_bytes(hl_store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st))
        return 0;
    return (size_t)(info.me_last_pgno + 1) * st.ms_psize;
}

/* Map `size` bytes (LMDB rounds up to the used size). */
static int map_to(hl_store *s, size_t size)
{
    MDB_envinfo info;
    int rc = mdb_env_set_mapsize(s->env, size);
    if (rc == 0 && (rc = mdb_env_info(s->env, &info)) == 0)
        s->mapped = info.me_mapsize;
    if (rc)
        hl_store_log(s, "map data file", rc);
    return rc ? HL_ESTORE : HL_OK;
}

/* Reserve [from, to) of data.mdb: 0 or an errno (ENOSPC: no room). */
static int allocate(hl_store *s, size_t from, size_t to)
{
    if (to <= from)
        return 0;
    int rc;
    while ((rc = posix_fallocate(s->fd, (off_t)from, (off_t)(to - from))) == EINTR)
        ;
    return rc;
}

/* Grow the reservation past the map; the file lock is held, file size fsize.
 * HL_OK (s->mapped grew) or HL_EFULL. */
static int grow(hl_store *s, size_t fsize)
{
    size_t cur = s->mapped, limit = s->cap > fsize ? s->cap : fsize;
    size_t inc = round_up(cur / 2 > GROW_MIN ? cur / 2 : GROW_MIN, UNIT);
    for (; inc >= GROW_FLOOR; inc /= 2) {
        size_t target = cur + inc > limit ? limit : cur + inc;
        if (target <= cur)
            break; /* the cap */
        if (target <= fsize)
            return map_to(s, fsize); /* reserved already, by another process */
        int rc = allocate(s, fsize, target);
        if (rc == 0)
            return map_to(s, target);
        if (rc != ENOSPC && rc != EFBIG) {
            hl_store_log(s, "reserve data file", rc);
            break;
        }
    }
    /* No more room: still map what others reserved meanwhile. */
    if (fsize > cur && map_to(s, fsize) == HL_OK)
        return HL_OK;
    return HL_EFULL;
}

int hl_store_reserve(hl_store *s, int why)
{
    struct stat st;
    int rc = HL_OK;
    file_lock(s);
    if (fstat(s->fd, &st)) {
        hl_store_log(s, "stat data file", errno);
        rc = HL_ESTORE;
    } else if (why == RETRY_GROW) {
        rc = grow(s, (size_t)st.st_size);
    } else if ((size_t)st.st_size > s->mapped) {
        rc = map_to(s, (size_t)st.st_size); /* RETRY_MAP: adopt the file */
    } else {
        rc = map_to(s, s->mapped); /* pages past the file: LMDB maps them */
    }
    file_unlock(s);
    return rc;
}

int hl_store_near_full(hl_store *s)
{
    size_t used = used_bytes(s), margin = s->mapped / 16;
    if (margin < UNIT)
        margin = UNIT;
    return used + margin > s->mapped;
}

/* At open, the file lock held and LMDB open with map `mapped`: make the
 * reservation true. A fresh file gets FIRST_RESERVE; a file an older version
 * left sparse is trimmed to what it uses; else the file as it is. */
static int reserve_at_open(hl_store *s, const struct stat *before, int writemap)
{
    size_t used = used_bytes(s), size = (size_t)before->st_size;
    size_t target = s->mapped;
    if (size && (size_t)before->st_blocks * 512 + UNIT < size) {
        target = round_up(used, UNIT) + GROW_MIN;
        if (target < size) {
            /* WRITEMAP: LMDB's remap ftruncates the file to the map. */
            if (!writemap && ftruncate(s->fd, (off_t)target))
                return errno;
            if (map_to(s, target))
                return MDB_PANIC;
        }
    }
    int rc = allocate(s, 0, s->mapped);
    if (rc == ENOSPC || rc == EFBIG) {
        /* Too little room even to start: map only what is used (a file we
         * just made, so no one else maps it); writes will say full. */
        rc = allocate(s, 0, used);
        if (!rc && s->mapped > size && map_to(s, used > size ? used : size))
            rc = MDB_PANIC;
    }
    return rc;
}

/* Rows are the application's data: only this user may read them. The
 * directory is created 0700 (or narrowed to it); one that other users may
 * write is refused (EPERM) rather than narrowed, since someone else may have
 * planted files in it. Returns 0 or an errno, with *what saying which step. */
static int private_dir(const char *dir, const char **what)
{
    struct stat st;
    *what = "mkdir";
    if (mkdir(dir, 0700) && errno != EEXIST)
        return errno;
    *what = "stat";
    if (stat(dir, &st))
        return errno;
    *what = "check directory";
    if (!S_ISDIR(st.st_mode))
        return ENOTDIR;
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return EPERM;
    *what = "chmod directory";
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700))
        return errno;
    return 0;
}

/* data.mdb and lock.mdb 0600, whatever umask or an older version made. */
static int private_files(const char *dir)
{
    static const char *const names[] = {"data.mdb", "lock.mdb"};
    char path[4096];
    struct stat st;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st))
            return errno == ENOENT ? 0 : errno;
        if ((st.st_mode & 07777) != 0600 && chmod(path, 0600))
            return errno;
    }
    return 0;
}

/* Open data.mdb ourselves (for the file lock; an empty file is a new
 * environment to LMDB), then LMDB, then the reservation, under the lock. */
static int open_file(hl_store *s, const hl_store_opts *o, struct stat *st, const char **what)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    *what = "open data file";
    s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return errno;
    file_lock(s);
    *what = "stat data file";
    if (fstat(s->fd, st))
        return errno;
    s->cap = o->map_size ? round_up(o->map_size, UNIT) : DEFAULT_MAP_SIZE;
    s->mapped = st->st_size ? (size_t)st->st_size : FIRST_RESERVE;
    if (s->mapped > s->cap && !st->st_size)
        s->mapped = s->cap;
    return 0;
}

/* MDB_WRITEMAP makes commits several times faster on tmpfs (no malloc and
 * pwrite per dirty page, no pwrite of the meta page); the reservation keeps
 * it from faulting on a full filesystem. Every store that does not fsync
 * uses it, the C node's and the NIF's alike. LMDB allows processes with and
 * without it on one environment (a --sync commit C node and the NIF):
 * writers without it pwrite through the same page cache the map shows, the
 * flag is not recorded in the files, and the one thing it changes for
 * others, the ftruncate of data.mdb to the map when mapping, is why no
 * process ever maps less than the file (see the top of this file). */
static int open_env(hl_store *s, const hl_store_opts *o, const char **what)
{
    /* A follower (the NIF) starts as no-sync and WRITEMAP; hl_store.c turns
     * LMDB's sync on for its writes while its C node says so (WRITEMAP
     * with sync is LMDB's ordered msync: data pages, then the meta page). */
    int writemap = o->sync != 1;
    unsigned flags = MDB_NOTLS | (o->sync == 1 ? 0 : MDB_NOSYNC | MDB_NOMETASYNC) |
                     (writemap ? MDB_WRITEMAP : 0);
    struct stat st;
    int dead = 0, rc;
    MDB_txn *txn = NULL;
    if ((rc = open_file(s, o, &st, what)))
        return rc;
    if ((*what = "env_create", rc = mdb_env_create(&s->env)))
        return rc;
    if ((*what = "set_mapsize", rc = mdb_env_set_mapsize(s->env, s->mapped)))
        return rc;
    if ((*what = "set_maxdbs", rc = mdb_env_set_maxdbs(s->env, HL_STORE_MAX_HANDLES + 1)))
        return rc;
    /* Every VM on the host pools reads; the first opener sizes the table. */
    if ((*what = "set_maxreaders", rc = mdb_env_set_maxreaders(s->env, MAX_READERS)))
        return rc;
    if ((*what = "env_open", rc = mdb_env_open(s->env, s->dir, flags, 0600)))
        return rc;
    if ((*what = "reserve data file", rc = reserve_at_open(s, &st, writemap)))
        return rc;
    file_unlock(s);
    /* Files made before this rule (or by a looser umask) are narrowed too. */
    if ((*what = "chmod store files", rc = private_files(s->dir)))
        return rc;
    /* Free reader slots left by processes that crashed mid-read. */
    if ((*what = "reader_check", rc = mdb_reader_check(s->env, &dead)))
        return rc;
    /* A writer like any other: the write lock first (hl_store_wlock.c). */
    if ((*what = "open write lock", rc = hl_store_wlock_open(s)))
        return rc;
    if ((*what = "write lock", rc = hl_store_wlock(s, 1)))
        return rc;
    *what = "txn_begin";
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) == 0) {
        *what = "open meta db";
        if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta))) {
            mdb_txn_abort(txn);
        } else {
            *what = "commit";
            rc = mdb_txn_commit(txn);
        }
    }
    hl_store_wunlock(s);
    return rc == MDB_MAP_FULL ? ENOSPC : rc;
}

static int init_locks(hl_store *s)
{
    pthread_rwlockattr_t a;
    if (pthread_rwlockattr_init(&a))
        return -1;
    /* Writers first: a drop must not starve behind a stream of readers. */
    (void)pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&s->use, &a);
    (void)pthread_rwlockattr_destroy(&a);
    if (rc)
        return -1;
    if (pthread_mutex_init(&s->open, NULL)) {
        pthread_rwlock_destroy(&s->use);
        return -1;
    }
    if (pthread_mutex_init(&s->cache_lock, NULL)) {
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
        return -1;
    }
    if (pthread_mutex_init(&s->pool_lock, NULL)) {
        pthread_mutex_destroy(&s->cache_lock);
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
        return -1;
    }

    s->mt = 1;
    return 0;
}

int hl_store_open(const hl_store_opts *opts, hl_store **out, char *err, size_t errlen)
{
    int rc = HL_ENOMEM;
    const char *what = "allocate";
    int mrc = ENOMEM;
    *out = NULL;
    hl_store *s = calloc(1, sizeof *s);
    static uint64_t serials;
    if (s) {
        s->fd = s->wfd = -1; /* before any goto fail: it closes them */
        s->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    }
    if (!s || !(s->dir = strdup(opts->dir)))
        goto fail;
    s->sync = opts->sync;
    s->env_syncs = opts->sync == 1;
    s->log = opts->log;
    s->log_ctx = opts->log_ctx;
    if ((mrc = private_dir(s->dir, &what)) != 0) {
        rc = HL_ESTORE;
        goto fail;
    }
    if ((mrc = open_env(s, opts, &what)) != 0) {
        rc = mrc == ENOMEM ? HL_ENOMEM : mrc == ENOSPC ? HL_EFULL : HL_ESTORE;
        goto fail;
    }
    if (opts->multi_thread && init_locks(s)) {
        what = "init locks";
        goto fail;
    }
    *out = s;
    return HL_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "cannot open store %s: %s: %s", opts->dir, what,
                 mrc == EPERM ? "writable by other users" : mdb_strerror(mrc));
    if (s && s->env)
        mdb_env_close(s->env);
    if (s && s->fd >= 0)
        close(s->fd); /* also drops the file lock if a step failed under it */
    if (s)
        hl_store_wlock_close(s);
    if (s)
        free(s->dir);
    free(s);
    return rc;
}

void hl_store_close(hl_store *s)
{
    if (!s)
        return;
    while (s->pooled > 0)
        mdb_txn_abort(s->pool[--s->pooled]);
    mdb_env_close(s->env); /* also closes every handle */
    hl_store_dbis_free(&s->dbis);
    if (s->fd >= 0)
        close(s->fd);
    hl_store_wlock_close(s);
    if (s->mt) {
        pthread_mutex_destroy(&s->pool_lock);
        pthread_mutex_destroy(&s->cache_lock);
        pthread_mutex_destroy(&s->open);
        pthread_rwlock_destroy(&s->use);
    }
    free(s->dir);
    free(s);
}

const char *hl_store_dir(const hl_store *s)
{
    return s->dir;
}

void hl_meta_free(hl_meta *m)
{
    free(m->blob_);
    memset(m, 0, sizeof *m);
}

int hl_store_syncs(const hl_store *s)
{
    return s->sync == 1 || (s->sync == HL_STORE_SYNC_FOLLOW && s->wlock && hl_store_sync_said(s));
}

void hl_store_sync_announce(hl_store *s)
{
    if (s->sync != HL_STORE_SYNC_FOLLOW)
        hl_store_sync_say(s, s->sync == 1);
}
