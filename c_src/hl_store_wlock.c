/*
 * hl_store_wlock.c: the store's write lock, taken by every writer of the
 * store in every process before LMDB's own writer lock (contract in
 * hl_store_int.h).
 *
 * Why a lock in front of LMDB's: LMDB's writer lock can only be waited for.
 * A NIF write on a normal scheduler must not wait (the C node may be in the
 * middle of a large transaction), so it tries this lock first; holding it,
 * mdb_txn_begin(write) finds LMDB's lock free, because every other writer
 * takes this one first too. Failing, the write is redone on a dirty
 * scheduler, which waits.
 *
 * What it is: a process-shared, robust pthread mutex in write.lock (one
 * page, mapped by every process on the directory), the kind of lock LMDB
 * keeps in lock.mdb for its writers. Process-shared, so it keeps threads of
 * one process apart as well as processes; robust, so a holder that dies
 * (kill -9 of the C node or a VM mid-write) hands it to the next taker with
 * EOWNERDEAD, and that writer goes on (LMDB recovers its own lock and drops
 * the dead writer's transaction the same way). Uncontended, taking and
 * giving it back are atomic operations in user space: an flock costs two
 * system calls per write, measured at about 15% of a small NIF insert.
 * The first opener makes the mutex, under an flock of the file, so that two
 * openers never both make it.
 *
 * The C node waits for it: the only holders are other writers, each holding
 * it for one transaction, so it waits no longer than it would have waited
 * for LMDB's writer lock anyway. NIF writes on normal schedulers hold it
 * only for a bounded write (hl_store_no_wait).
 */
#include "hl_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WLOCK_MAGIC 0x484c574cu /* "HLWL" */
#define WLOCK_SIZE 4096

struct hl_store_wshared {
    uint32_t magic;   /* set, last, once the mutex is made */
    uint32_t version; /* sizeof(pthread_mutex_t) of the maker */
    pthread_mutex_t mutex;
    uint64_t meta_gen; /* hl_store_meta_gen; zero in a new file */
    uint32_t sync;     /* hl_store_sync_said; zero in a new file */
};

/* Make the mutex in a new file (the file's flock held). 0 or an errno. */
static int wlock_make(struct hl_store_wshared *w)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc)
        return rc;
    if (!(rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) &&
        !(rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) &&
        !(rc = pthread_mutex_init(&w->mutex, &a))) {
        w->version = (uint32_t)sizeof(pthread_mutex_t);
        __atomic_store_n(&w->magic, WLOCK_MAGIC, __ATOMIC_RELEASE);
    }
    (void)pthread_mutexattr_destroy(&a);
    return rc;
}

/* Size, map and (if new) make the lock; the file's flock held. */
static int wlock_map(hl_store *s)
{
    struct stat st;
    int rc = 0;
    if (fstat(s->wfd, &st))
        return errno;
    /* Allocated, not ftruncated: a full tmpfs is ENOSPC here, not SIGBUS. */
    if (st.st_size < WLOCK_SIZE)
        while ((rc = posix_fallocate(s->wfd, 0, WLOCK_SIZE)) == EINTR)
            ;
    if (rc)
        return rc;
    void *p = mmap(NULL, WLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->wfd, 0);
    if (p == MAP_FAILED)
        return errno;
    s->wlock = p;
    if (__atomic_load_n(&s->wlock->magic, __ATOMIC_ACQUIRE) != WLOCK_MAGIC)
        return wlock_make(s->wlock);
    return s->wlock->version == sizeof(pthread_mutex_t) ? 0 : EPROTO;
}

int hl_store_wlock_open(hl_store *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/write.lock", s->dir);
    s->wfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->wfd < 0)
        return errno;
    int rc;
    while ((rc = flock(s->wfd, LOCK_EX)) && errno == EINTR)
        ;
    if (rc)
        return errno;
    rc = wlock_map(s);
    (void)flock(s->wfd, LOCK_UN);
    return rc;
}

void hl_store_wlock_close(hl_store *s)
{
    if (s->wlock)
        (void)munmap(s->wlock, WLOCK_SIZE);
    s->wlock = NULL;
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = -1;
}

int hl_store_wlock(hl_store *s, int wait)
{
    pthread_mutex_t *m = &s->wlock->mutex;
    int rc = wait ? pthread_mutex_lock(m) : pthread_mutex_trylock(m);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(m); /* its holder died: ours now */
    if (rc == 0)
        return HL_OK;
    return rc == EBUSY ? HL_EWOULDBLOCK : rc;
}

void hl_store_wunlock(hl_store *s)
{
    (void)pthread_mutex_unlock(&s->wlock->mutex);
}

uint64_t hl_store_meta_gen(const hl_store *s)
{
    return __atomic_load_n(&s->wlock->meta_gen, __ATOMIC_ACQUIRE);
}

/* Odd before the commit's stores, which a full fence keeps after it: a
 * reader whose snapshot has the commit sees the generation moved. An odd
 * generation left by a writer that died stays odd (| 1) until the next
 * change ends. */
void hl_store_meta_changing(hl_store *s)
{
    uint64_t g = __atomic_load_n(&s->wlock->meta_gen, __ATOMIC_RELAXED);
    __atomic_store_n(&s->wlock->meta_gen, g | 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Even and new after the commit's stores (release). */
void hl_store_meta_changed(hl_store *s)
{
    uint64_t g = __atomic_load_n(&s->wlock->meta_gen, __ATOMIC_RELAXED);
    __atomic_store_n(&s->wlock->meta_gen, (g | 1) + 1, __ATOMIC_RELEASE);
}

void hl_store_sync_say(hl_store *s, int on)
{
    __atomic_store_n(&s->wlock->sync, on ? 1u : 0u, __ATOMIC_RELEASE);
}

int hl_store_sync_said(const hl_store *s)
{
    return __atomic_load_n(&s->wlock->sync, __ATOMIC_ACQUIRE) != 0;
}
