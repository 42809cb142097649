/*
 * hl_loop.c: the poll() event loop (see hl_loop.h).
 *
 * Entries live in a dense array parallel to the pollfd array. Removal during
 * dispatch only marks an entry dead (fd = -1, which poll() ignores); dead
 * entries are compacted away before the next poll, so indices stay valid
 * while callbacks run.
 */
#include "hl_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    hl_loop_fn fn;
    void *ctx;
} hl_loop_entry;

struct hl_loop {
    struct pollfd *pfds;
    hl_loop_entry *entries;
    size_t n, cap;
    int (*work)(void *ctx);
    void *work_ctx;
    int more;                /* the last work slice left some */
    long timeout_us;         /* the next poll waits at most this (0: until the tick) */
    long busy_us;            /* hl_loop_busy_wait */
    int no_spin;             /* hl_loop_no_busy_wait: this round only */
    long long last_event_ns; /* when the last round with events was served (0: never) */
};

void hl_loop_set_work(hl_loop *l, int (*fn)(void *ctx), void *ctx)
{
    l->work = fn;
    l->work_ctx = ctx;
    l->more = fn != NULL;
}

hl_loop *hl_loop_new(void)
{
    return calloc(1, sizeof(hl_loop));
}

void hl_loop_free(hl_loop *l)
{
    if (!l)
        return;
    free(l->pfds);
    free(l->entries);
    free(l);
}

void hl_loop_timeout(hl_loop *l, long usec)
{
    l->timeout_us = usec;
}

void hl_loop_busy_wait(hl_loop *l, long usec)
{
    l->busy_us = usec > 0 ? usec : 0;
}

void hl_loop_no_busy_wait(hl_loop *l)
{
    l->no_spin = 1;
}

static long find(const hl_loop *l, int fd)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->pfds[i].fd == fd)
            return (long)i;
    return -1;
}

int hl_loop_add(hl_loop *l, int fd, short events, hl_loop_fn fn, void *ctx)
{
    if (fd < 0 || find(l, fd) >= 0)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct pollfd *p = realloc(l->pfds, cap * sizeof *p);
        if (!p)
            return -1;
        l->pfds = p;
        hl_loop_entry *e = realloc(l->entries, cap * sizeof *e);
        if (!e)
            return -1;
        l->entries = e;
        l->cap = cap;
    }
    l->pfds[l->n] = (struct pollfd){.fd = fd, .events = events};
    l->entries[l->n] = (hl_loop_entry){fn, ctx};
    l->n++;
    return 0;
}

void hl_loop_set_events(hl_loop *l, int fd, short events)
{
    long i = find(l, fd);
    if (i >= 0)
        l->pfds[i].events = events;
}

void hl_loop_del(hl_loop *l, int fd)
{
    long i = find(l, fd);
    if (i >= 0) {
        l->pfds[i].fd = -1;
        l->pfds[i].revents = 0;
    }
}

static void compact(hl_loop *l)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->pfds[i].fd < 0)
            continue;
        l->pfds[j] = l->pfds[i];
        l->entries[j] = l->entries[i];
        j++;
    }
    l->n = j;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long long now_ms(void)
{
    return now_ns() / 1000000;
}

/*
 * Poll without sleeping until events come or busy_us have passed since the
 * last events: a sleep in poll() and the wake-up after it cost more than a
 * call (hl_loop.h). Not when the round asked for no spinning (`held`:
 * hl_loop_timeout or hl_loop_no_busy_wait) nor when the wait would not
 * sleep anyway. Returns poll()'s answer, 0 when
 * the time ran out.
 */
static int busy_poll(hl_loop *l, volatile sig_atomic_t *stop, long long wait_us, int held)
{
    if (!l->busy_us || !l->last_event_ns || held || wait_us == 0)
        return 0;
    long long until = l->last_event_ns + (long long)l->busy_us * 1000;
    long long tick = now_ns() + wait_us * 1000; /* a long --busy-wait never delays the tick */
    if (until > tick)
        until = tick;
    struct timespec zero = {0, 0};
    int rc = 0;
    while (!*stop && (rc = ppoll(l->pfds, l->n, &zero, NULL)) == 0 && now_ns() < until)
        ;
    return rc;
}

int hl_loop_run(hl_loop *l, volatile sig_atomic_t *stop, int tick_ms, void (*on_tick)(void *ctx),
                void *tick_ctx)
{
    long long next_tick = now_ms() + tick_ms;
    while (!*stop) {
        compact(l);
        long long wait = l->more ? 0 : next_tick - now_ms();
        long long wait_us = wait < 0 ? 0 : wait * 1000;
        if (l->timeout_us > 0 && l->timeout_us < wait_us)
            wait_us = l->timeout_us;
        int held = l->timeout_us > 0 || l->no_spin;
        l->timeout_us = 0;
        l->no_spin = 0;
        struct timespec ts = {(time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000};
        int rc = busy_poll(l, stop, wait_us, held);
        if (rc == 0 && !*stop)
            rc = ppoll(l->pfds, l->n, &ts, NULL);
        if (rc < 0 && errno != EINTR)
            return -1;
        /* Entries added by callbacks land past `n` and are polled next round. */
        size_t n = l->n;
        for (size_t i = 0; rc > 0 && i < n && !*stop; i++) {
            short rev = l->pfds[i].revents;
            if (l->pfds[i].fd < 0 || rev == 0)
                continue;
            l->pfds[i].revents = 0;
            l->entries[i].fn(l->entries[i].ctx, l->pfds[i].fd, rev);
        }
        if (l->work && !*stop)
            l->more = l->work(l->work_ctx);
        if (rc > 0) /* the busy wait counts from the end of serving */
            l->last_event_ns = now_ns();
        if (now_ms() >= next_tick) {
            next_tick = now_ms() + tick_ms;
            if (on_tick)
                on_tick(tick_ctx);
        }
    }
    return 0;
}
