/*
 * hl_loop.h: a small poll() event loop.
 *
 * It knows nothing of the protocol: code registers a file descriptor with a
 * callback, and the loop calls it when poll() reports events. A periodic
 * callback runs about every tick_ms for timers (ticks, liveness checks).
 * Callbacks may add and remove descriptors (their own included) while the
 * loop is dispatching.
 */
#ifndef HL_LOOP_H
#define HL_LOOP_H

#include <poll.h>
#include <signal.h>

typedef struct hl_loop hl_loop;
typedef void (*hl_loop_fn)(void *ctx, int fd, short revents);

/* NULL on allocation failure. */
hl_loop *hl_loop_new(void);
/* Safe with NULL; does not close the registered descriptors. */
void hl_loop_free(hl_loop *l);
/* Register fd; 0 or -1 (no memory, or fd already registered). */
int hl_loop_add(hl_loop *l, int fd, short events, hl_loop_fn fn, void *ctx);
/* Change the events watched for fd (e.g. add POLLOUT while output is queued). */
void hl_loop_set_events(hl_loop *l, int fd, short events);
/* Unregister fd; no-op if it is not registered. */
void hl_loop_del(hl_loop *l, int fd);
/*
 * Work to do between rounds of poll(): fn(ctx) is called once per round,
 * after the ready descriptors are served, and returns non-zero while work
 * remains (poll() then does not wait). fn should do a bounded slice, so that
 * other descriptors are served between slices. NULL fn: none.
 */
void hl_loop_set_work(hl_loop *l, int (*fn)(void *ctx), void *ctx);
/*
 * Make the next wait for events last at most usec microseconds (instead of
 * until the next tick): for a caller that asked the kernel to hold back
 * wake-ups (SO_RCVLOWAT) and must look again soon even if none comes. It
 * applies to one round; ask again each round. The work function is called
 * after every round, including one that ended by this timeout.
 */
void hl_loop_timeout(hl_loop *l, long usec);
/*
 * After poll() reports events, keep polling without sleeping for up to usec
 * microseconds before the next sleeping wait (0, the default: never). A
 * sleep in poll() and the wake-up after it cost 10-30 us of CPU and latency
 * each on a VM, more than serving a call, while a client calling in a loop
 * sends its next request within tens of microseconds; BEAM schedulers spin
 * the same way before they sleep. Rounds that asked for hl_loop_timeout (a
 * caller holding wake-ups back) or hl_loop_no_busy_wait do not spin. Costs
 * at most usec of CPU per burst of events; an idle loop sleeps.
 */
void hl_loop_busy_wait(hl_loop *l, long usec);
/* Do not spin before the next wait (this round only; ask again each
 * round): for a caller that would rather gather what comes (hl_dist with
 * many callers in a call, whose gathering needs calls to pile up). */
void hl_loop_no_busy_wait(hl_loop *l);
/*
 * Run until *stop becomes non-zero (a signal handler sets it). on_tick is
 * called about every tick_ms. Returns 0, or -1 if poll() failed for a reason
 * other than EINTR.
 */
int hl_loop_run(hl_loop *l, volatile sig_atomic_t *stop, int tick_ms, void (*on_tick)(void *ctx),
                void *tick_ctx);

#endif
