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

/* An fd that poll_fd_wait() registered, in 'fds' indexed by the fd.  The
 * libevent event is kept (EV_PERSIST) from one poll_block() to the next as
 * long as the fd is waited for with the same events, and changed or deleted
 * only when that changes: a daemon with 1,000 bridges and 1,000 agents waits
 * on the same 2,000 fds every round, and creating, adding, deleting and
 * freeing an event for each of them every round was a fixed cost of every
 * change, however small.
 *
 * That is safe only because the base does not use epoll (see
 * ovs_loop_base()): an fd closed and reopened under the same number between
 * two rounds would silently drop out of an epoll set while libevent believed
 * it registered; poll() is handed the fds afresh at every call. */
struct ovs_loop_fd {
    struct event *ev;           /* NULL until first waited for */
    short int added;            /* EV_READ|EV_WRITE the event has, 0: none */
    short int next;             /* EV_* wanted in the next poll_block() */
    bool wanted;                /* poll_fd_wait() called since the last one */
    bool ready;
    const char *where;
};

static struct event_base *base;
static struct ovs_loop_fd *fds;
static size_t n_fds;            /* 'fds' has entries 0..n_fds-1 */
static int *wanted;             /* the fds with 'wanted' set, in order */
static size_t n_wanted, allocated_wanted;
static int *added;              /* the fds with 'added' nonzero */
static size_t n_added, allocated_added;
static struct event *timer;
static long long int timeout_when = LLONG_MAX;
static const char *timeout_where;
static struct ovs_loop_stats stats;

struct event_base *
ovs_loop_base(void)
{
    if (!base) {
        /* Not epoll: see struct ovs_loop_fd. */
        struct event_config *cfg = event_config_new();
        event_config_avoid_method(cfg, "epoll");
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (!base) {
            ovs_fatal(0, "event_base_new failed");
        }
    }
    return base;
}

void
ovs_loop_destroy(void)
{
    for (size_t i = 0; i < n_fds; i++) {
        if (fds[i].ev) {
            event_free(fds[i].ev);
        }
    }
    free(fds);
    fds = NULL;
    n_fds = 0;
    free(wanted);
    wanted = NULL;
    n_wanted = allocated_wanted = 0;
    free(added);
    added = NULL;
    n_added = allocated_added = 0;
    if (timer) {
        event_free(timer);
        timer = NULL;
    }
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

void
poll_fd_wait_at(int fd, short int events, const char *where)
{
    if (fd < 0) {
        return;
    }
    if (fd >= n_fds) {
        size_t n = MAX(fd + 1, n_fds * 2);
        fds = xrealloc(fds, n * sizeof *fds);
        memset(&fds[n_fds], 0, (n - n_fds) * sizeof *fds);
        n_fds = n;
    }

    struct ovs_loop_fd *f = &fds[fd];
    if (!f->wanted) {
        f->wanted = true;
        f->next = 0;
        f->where = where;
        if (n_wanted >= allocated_wanted) {
            wanted = x2nrealloc(wanted, &allocated_wanted, sizeof *wanted);
        }
        wanted[n_wanted++] = fd;
    }
    f->next |= ((events & POLLIN ? EV_READ : 0)
                | (events & POLLOUT ? EV_WRITE : 0));
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
fd_ready_cb(evutil_socket_t fd, short what OVS_UNUSED, void *aux OVS_UNUSED)
{
    if (fd >= 0 && fd < n_fds) {
        fds[fd].ready = true;
    }
}

/* Makes the events of the fds match this round's waits: only the fds whose
 * wanted events changed are touched. */
static void
ovs_loop_sync_fds__(struct event_base *b, int *flags)
{
    /* Fds no longer waited for. */
    size_t n = 0;
    for (size_t i = 0; i < n_added; i++) {
        struct ovs_loop_fd *f = &fds[added[i]];
        if (f->wanted) {
            added[n++] = added[i];
        } else {
            event_del(f->ev);
            f->added = 0;
        }
    }
    n_added = n;

    for (size_t i = 0; i < n_wanted; i++) {
        int fd = wanted[i];
        struct ovs_loop_fd *f = &fds[fd];
        /* POLLERR/POLLHUP only: poll() reports those for any fd. */
        short what = f->next ? f->next : EV_READ;

        f->wanted = false;
        f->ready = false;
        if (f->added == what) {
            continue;
        }
        if (f->added) {
            event_del(f->ev);
        } else {
            if (n_added >= allocated_added) {
                added = x2nrealloc(added, &allocated_added, sizeof *added);
            }
            added[n_added++] = fd;
        }
        if (!f->ev) {
            f->ev = event_new(b, fd, what | EV_PERSIST, fd_ready_cb, NULL);
        } else {
            event_assign(f->ev, b, fd, what | EV_PERSIST, fd_ready_cb, NULL);
        }
        f->added = what;
        if (!f->ev || event_add(f->ev, NULL)) {
            VLOG_ERR("cannot watch fd %d (registered at %s)", fd, f->where);
            *flags |= EVLOOP_NONBLOCK;
        }
    }
    n_wanted = 0;
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
    long long int when;
    /* EVLOOP_ONCE also without blocking: a persistent event whose fd stays
     * ready is active again at every pass, so EVLOOP_NONBLOCK alone would
     * never return. */
    int flags = EVLOOP_ONCE;
    bool timer_added = false;

    /* Wake up for fatal signals (and run their hooks below), as
     * Open vSwitch's own poll_block() does. */
    fatal_signal_wait();
    timewarp_run();
    COVERAGE_INC(ovs_loop_block);
    stats.blocks++;

    /* Take this round's waits, so that callbacks run by the dispatch below
     * register for the next round rather than this one. */
    ovs_loop_sync_fds__(b, &flags);
    when = timeout_when;
    timeout_when = LLONG_MAX;
    timeout_where = NULL;

    coverage_clear();
    coverage_run();

    long long int now = time_msec();
    if (when <= now) {
        COVERAGE_INC(ovs_loop_zero_timeout);
        flags |= EVLOOP_NONBLOCK;
    } else if (when != LLONG_MAX) {
        long long int ms = when - now;
        struct timeval tv = {
            .tv_sec = ms / 1000,
            .tv_usec = (ms % 1000) * 1000,
        };
        if (!timer) {
            timer = evtimer_new(b, timer_cb, NULL);
        }
        evtimer_add(timer, &tv);
        timer_added = true;
    }

    bool quiescent = ovsrcu_is_quiescent();
    if (!quiescent) {
        if (flags & EVLOOP_NONBLOCK) {
            ovsrcu_quiesce();
        } else {
            ovsrcu_quiesce_start();
        }
    }
    if (event_base_loop(b, flags) < 0) {
        VLOG_ERR("event_base_loop failed");
    }
    if (!quiescent && !(flags & EVLOOP_NONBLOCK)) {
        ovsrcu_quiesce_end();
    }

    if (timer_added) {
        if (!evtimer_pending(timer, NULL)) {
            stats.timeouts++;
        }
        evtimer_del(timer);
    }
    for (size_t i = 0; i < n_added; i++) {
        struct ovs_loop_fd *f = &fds[added[i]];
        if (f->ready) {
            stats.fd_wakeups++;
            f->ready = false;
        }
    }

    fatal_signal_run();
    seq_woke();
}
