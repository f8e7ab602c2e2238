/* libvirt's client event loop on the agent's poll loop (see
 * libvirt-loop.h). */
#include <config.h>

#include "hostagent/libvirt-loop.h"

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>

#include "openvswitch/poll-loop.h"
#include "timeval.h"
#include "util.h"

/* libvirt's client library calls these from the thread that uses the
 * connection, the agent's only one. */

struct lv_handle {
    int watch;
    int fd;
    int events;                 /* VIR_EVENT_HANDLE_* */
    virEventHandleCallback cb;
    void *opaque;
    virFreeCallback ff;
    bool deleted;
};

struct lv_timeout {
    int timer;
    int frequency;              /* ms; -1: disabled, 0: every iteration */
    long long int next;
    virEventTimeoutCallback cb;
    void *opaque;
    virFreeCallback ff;
    bool deleted;
};

static struct lv_handle *handles;
static size_t n_handles;
static struct lv_timeout *timeouts;
static size_t n_timeouts;
static int next_id = 1;

static int
add_handle__(int fd, int events, virEventHandleCallback cb, void *opaque,
             virFreeCallback ff)
{
    handles = xrealloc(handles, (n_handles + 1) * sizeof *handles);
    handles[n_handles] = (struct lv_handle) {
        .watch = next_id++, .fd = fd, .events = events, .cb = cb,
        .opaque = opaque, .ff = ff,
    };
    return handles[n_handles++].watch;
}

static struct lv_handle *
find_handle__(int watch)
{
    for (size_t i = 0; i < n_handles; i++) {
        if (handles[i].watch == watch && !handles[i].deleted) {
            return &handles[i];
        }
    }
    return NULL;
}

static void
update_handle__(int watch, int events)
{
    struct lv_handle *h = find_handle__(watch);
    if (h) {
        h->events = events;
    }
}

/* The free callback runs later, from libvirt_events_run(), never from
 * inside libvirt's call (libvirt asks for that). */
static int
remove_handle__(int watch)
{
    struct lv_handle *h = find_handle__(watch);
    if (!h) {
        return -1;
    }
    h->deleted = true;
    return 0;
}

static int
add_timeout__(int frequency, virEventTimeoutCallback cb, void *opaque,
              virFreeCallback ff)
{
    timeouts = xrealloc(timeouts, (n_timeouts + 1) * sizeof *timeouts);
    timeouts[n_timeouts] = (struct lv_timeout) {
        .timer = next_id++, .frequency = frequency,
        .next = frequency >= 0 ? time_msec() + frequency : LLONG_MAX,
        .cb = cb, .opaque = opaque, .ff = ff,
    };
    return timeouts[n_timeouts++].timer;
}

static struct lv_timeout *
find_timeout__(int timer)
{
    for (size_t i = 0; i < n_timeouts; i++) {
        if (timeouts[i].timer == timer && !timeouts[i].deleted) {
            return &timeouts[i];
        }
    }
    return NULL;
}

static void
update_timeout__(int timer, int frequency)
{
    struct lv_timeout *t = find_timeout__(timer);
    if (t) {
        t->frequency = frequency;
        t->next = frequency >= 0 ? time_msec() + frequency : LLONG_MAX;
    }
}

static int
remove_timeout__(int timer)
{
    struct lv_timeout *t = find_timeout__(timer);
    if (!t) {
        return -1;
    }
    t->deleted = true;
    return 0;
}

static short int
to_poll__(int events)
{
    return ((events & VIR_EVENT_HANDLE_READABLE ? POLLIN : 0)
            | (events & VIR_EVENT_HANDLE_WRITABLE ? POLLOUT : 0));
}

static int
from_poll__(short int revents)
{
    return ((revents & POLLIN ? VIR_EVENT_HANDLE_READABLE : 0)
            | (revents & POLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0)
            | (revents & POLLERR ? VIR_EVENT_HANDLE_ERROR : 0)
            | (revents & POLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0));
}

/* Callbacks may add and remove handles: indexes, not pointers, are kept
 * across them. */
void
libvirt_loop_run(void)
{
    size_t n = n_handles;
    struct pollfd *pfds = xcalloc(n ? n : 1, sizeof *pfds);
    for (size_t i = 0; i < n; i++) {
        pfds[i].fd = handles[i].deleted || !handles[i].events
                     ? -1 : handles[i].fd;
        pfds[i].events = to_poll__(handles[i].events);
    }
    if (n && poll(pfds, n, 0) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (pfds[i].revents && !handles[i].deleted) {
                handles[i].cb(handles[i].watch, handles[i].fd,
                              from_poll__(pfds[i].revents),
                              handles[i].opaque);
            }
        }
    }
    free(pfds);

    long long int now = time_msec();
    n = n_timeouts;
    for (size_t i = 0; i < n; i++) {
        struct lv_timeout *t = &timeouts[i];
        if (!t->deleted && t->frequency >= 0 && now >= t->next) {
            t->next = now + t->frequency;
            t->cb(t->timer, t->opaque);
        }
    }

    for (size_t i = 0; i < n_handles; ) {
        if (handles[i].deleted) {
            struct lv_handle h = handles[i];
            handles[i] = handles[--n_handles];
            if (h.ff) {
                h.ff(h.opaque);
            }
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < n_timeouts; ) {
        if (timeouts[i].deleted) {
            struct lv_timeout t = timeouts[i];
            timeouts[i] = timeouts[--n_timeouts];
            if (t.ff) {
                t.ff(t.opaque);
            }
        } else {
            i++;
        }
    }
}

void
libvirt_loop_wait(void)
{
    for (size_t i = 0; i < n_handles; i++) {
        const struct lv_handle *h = &handles[i];
        if (!h->deleted && to_poll__(h->events)) {
            poll_fd_wait(h->fd, to_poll__(h->events));
        }
    }
    for (size_t i = 0; i < n_timeouts; i++) {
        const struct lv_timeout *t = &timeouts[i];
        if (!t->deleted && t->frequency >= 0) {
            poll_timer_wait_until(t->next);
        }
    }
}

void
libvirt_loop_register(void)
{
    static bool registered;

    if (!registered) {
        virEventRegisterImpl(add_handle__, update_handle__, remove_handle__,
                             add_timeout__, update_timeout__,
                             remove_timeout__);
        registered = true;
    }
}
