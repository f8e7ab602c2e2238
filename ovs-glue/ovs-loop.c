/* Open vSwitch's poll-loop API (openvswitch/poll-loop.h) on libevent.  See
 * ovs-loop.h for why; this file defines every public function of the
 * library's lib/poll-loop.c, so the static link takes these instead. */
#include <config.h>

#include "ovs-glue/ovs-loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "coverage.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "seq.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ovs_loop);

COVERAGE_DEFINE(ovs_loop_block);
COVERAGE_DEFINE(ovs_loop_zero_timeout);

/* One fd registered by poll_fd_wait() for the next poll_block(). */
struct ovs_loop_wait {
    int fd;
    short int events;           /* POLLIN | POLLOUT */
    bool ready;
    const char *where;
    struct event *ev;
};

static struct event_base *base;
static bool avoid_epoll;
static struct ovs_loop_wait *waits;
static size_t n_waits, allocated_waits;

/* Where an fd is in 'waits': 'wait_index[fd]' is its position plus one, if
 * 'waits' has it at that position (entries from earlier rounds are stale,
 * and checked against 'waits' rather than cleared).  tetherd waits on each
 * bridge's connection (1,000 at full size), twice a round (rconn's run and
 * receive waits): a search of 'waits' for each would be quadratic in the
 * hosts. */
static size_t *wait_index;
static size_t n_wait_index;
static long long int timeout_when = LLONG_MAX;

/* ovs_loop_fd_ready(): the fds the last round waited for, by fd: the
 * round's number if found ready, the round's number with READY_IDLE set if
 * waited for and found idle, anything else if not waited for then. */
#define READY_IDLE (1ULL << 63)
static unsigned long long *fd_round;
static size_t n_fd_round;
static unsigned long long wait_calls;
static int last_wait_fd = -1;
static const char *timeout_where;
static struct ovs_loop_stats stats;

struct event_base *
ovs_loop_base(void)
{
    if (!base) {
        struct event_config *cfg = avoid_epoll ? event_config_new() : NULL;
        if (cfg) {
            event_config_avoid_method(cfg, "epoll");
            base = event_base_new_with_config(cfg);
            event_config_free(cfg);
        }
        if (!base) {
            base = event_base_new();
        }
        if (!base) {
            ovs_fatal(0, "event_base_new failed");
        }
        VLOG_DBG("libevent method: %s", event_base_get_method(base));
    }
    return base;
}

void
ovs_loop_avoid_epoll(void)
{
    ovs_assert(!base);
    avoid_epoll = true;
}

void
ovs_loop_destroy(void)
{
    free(waits);
    waits = NULL;
    n_waits = allocated_waits = 0;
    free(wait_index);
    wait_index = NULL;
    n_wait_index = 0;
    free(fd_round);
    fd_round = NULL;
    n_fd_round = 0;
    timeout_when = LLONG_MAX;
    if (base) {
        event_base_free(base);
        base = NULL;
    }
}

void
ovs_loop_get_stats(struct ovs_loop_stats *s)
{
    *s = stats;
}

unsigned long long
ovs_loop_wait_calls(void)
{
    return wait_calls;
}

int
ovs_loop_last_wait_fd(void)
{
    return last_wait_fd;
}

unsigned long long
ovs_loop_round(void)
{
    return stats.blocks;
}

bool
ovs_loop_fd_ready(int fd, unsigned long long round)
{
    if (round != stats.blocks || fd < 0 || (size_t) fd >= n_fd_round) {
        return true;
    }
    return fd_round[fd] != (round | READY_IDLE);
}

void
poll_fd_wait_at(int fd, short int events, const char *where)
{
    wait_calls++;
    last_wait_fd = fd;
    if (fd >= 0 && (size_t) fd < n_wait_index) {
        size_t i = wait_index[fd];
        if (i && i <= n_waits && waits[i - 1].fd == fd) {
            waits[i - 1].events |= events;
            return;
        }
    } else if (fd < 0) {
        for (size_t i = 0; i < n_waits; i++) {
            if (waits[i].fd == fd) {
                waits[i].events |= events;
                return;
            }
        }
    }
    if (n_waits >= allocated_waits) {
        waits = x2nrealloc(waits, &allocated_waits, sizeof *waits);
    }
    waits[n_waits++] = (struct ovs_loop_wait) {
        .fd = fd, .events = events, .where = where,
    };
    if (fd >= 0) {
        if ((size_t) fd >= n_wait_index) {
            size_t n = MAX(64, MAX(2 * n_wait_index, (size_t) fd + 1));
            wait_index = xrealloc(wait_index, n * sizeof *wait_index);
            memset(&wait_index[n_wait_index], 0,
                   (n - n_wait_index) * sizeof *wait_index);
            n_wait_index = n;
        }
        wait_index[fd] = n_waits;
    }
}

void
poll_timer_wait_at(long long int msec, const char *where)
{
    long long int now = time_msec();
    long long int when;

    if (msec <= 0) {
        when = LLONG_MIN;
    } else if ((unsigned long long int) now + msec <= LLONG_MAX) {
        when = now + msec;
    } else {
        when = LLONG_MAX;
    }
    poll_timer_wait_until_at(when, where);
}

void
poll_timer_wait_until_at(long long int when, const char *where)
{
    if (when < timeout_when) {
        timeout_when = when;
        timeout_where = where;
    }
}

void
poll_immediate_wake_at(const char *where)
{
    poll_timer_wait_until_at(LLONG_MIN, where);
}

static void
fd_ready_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *w_)
{
    struct ovs_loop_wait *w = w_;
    w->ready = true;
}

static void
timer_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED,
         void *aux OVS_UNUSED)
{
}

/* Blocks until one of the fds registered with poll_fd_wait() is ready, the
 * earliest poll_timer_wait() deadline passes, or a libevent event of the
 * base fires; returns at once if poll_immediate_wake() was called.  Runs the
 * callbacks of the libevent events that became active. */
void
poll_block(void)
{
    struct event_base *b = ovs_loop_base();
    struct ovs_loop_wait *cur;
    size_t n_cur;
    long long int when;
    int flags = EVLOOP_ONCE;
    struct event *timer = NULL;

    /* Wake up for fatal signals (and run their hooks below), as
     * Open vSwitch's own poll_block() does. */
    fatal_signal_wait();
    timewarp_run();
    COVERAGE_INC(ovs_loop_block);
    stats.blocks++;

    /* Take this round's waits, so that callbacks run by the dispatch below
     * register for the next round rather than this one. */
    cur = waits;
    n_cur = n_waits;
    when = timeout_when;
    waits = NULL;
    n_waits = allocated_waits = 0;
    timeout_when = LLONG_MAX;
    timeout_where = NULL;

    for (size_t i = 0; i < n_cur; i++) {
        struct ovs_loop_wait *w = &cur[i];
        short what = ((w->events & POLLIN ? EV_READ : 0)
                      | (w->events & POLLOUT ? EV_WRITE : 0));
        if (!what) {
            /* POLLERR/POLLHUP only: poll() reports those for any fd. */
            what = EV_READ;
        }
        w->ev = event_new(b, w->fd, what, fd_ready_cb, w);
        if (!w->ev || event_add(w->ev, NULL)) {
            VLOG_ERR("cannot watch fd %d (registered at %s)",
                     w->fd, w->where);
            flags = EVLOOP_NONBLOCK;
        }
    }

    coverage_clear();
    coverage_run();

    long long int now = time_msec();
    if (when <= now) {
        COVERAGE_INC(ovs_loop_zero_timeout);
        flags = EVLOOP_NONBLOCK;
    } else if (when != LLONG_MAX) {
        long long int ms = when - now;
        struct timeval tv = {
            .tv_sec = ms / 1000,
            .tv_usec = (ms % 1000) * 1000,
        };
        timer = evtimer_new(b, timer_cb, NULL);
        evtimer_add(timer, &tv);
    }

    bool quiescent = ovsrcu_is_quiescent();
    if (!quiescent) {
        if (flags == EVLOOP_NONBLOCK) {
            ovsrcu_quiesce();
        } else {
            ovsrcu_quiesce_start();
        }
    }
    if (event_base_loop(b, flags) < 0) {
        VLOG_ERR("event_base_loop failed");
    }
    if (!quiescent && flags != EVLOOP_NONBLOCK) {
        ovsrcu_quiesce_end();
    }

    if (timer) {
        if (!evtimer_pending(timer, NULL)) {
            stats.timeouts++;
        }
        event_free(timer);
    }
    for (size_t i = 0; i < n_cur; i++) {
        int fd = cur[i].fd;
        if (cur[i].ev) {
            event_free(cur[i].ev);
        } else {
            cur[i].ready = true;    /* not watched: not known to be idle */
        }
        if (cur[i].ready) {
            stats.fd_wakeups++;
        }
        if (fd >= 0) {
            if ((size_t) fd >= n_fd_round) {
                size_t n = MAX(64, MAX(2 * n_fd_round, (size_t) fd + 1));
                fd_round = xrealloc(fd_round, n * sizeof *fd_round);
                memset(&fd_round[n_fd_round], 0,
                       (n - n_fd_round) * sizeof *fd_round);
                n_fd_round = n;
            }
            fd_round[fd] = stats.blocks | (cur[i].ready ? 0 : READY_IDLE);
        }
    }
    free(cur);

    fatal_signal_run();
    seq_woke();
}
