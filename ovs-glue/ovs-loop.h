/* One event loop for libopenvswitch and libevent.
 *
 * libopenvswitch's machinery (ovsdb-idl, rconn, vconn, jsonrpc, unixctl) is
 * written for Open vSwitch's poll-loop: each module's *_wait() registers
 * file descriptors and timers with poll_fd_wait()/poll_timer_wait(), and
 * poll_block() sleeps until one is ready.  tether's daemons also use
 * libevent (bufferevents, evhttp, signals).  ovs-loop.c provides Open
 * vSwitch's poll-loop API itself (the library's poll-loop.o is then never
 * linked in), implemented on a libevent event_base: poll_block() turns the
 * registered waits into one-shot libevent events and runs the base once, so
 * a ready OVSDB socket and a ready agent connection wake the same loop and
 * nothing is polled on a timer.
 *
 * The main loop of a daemon is therefore the usual Open vSwitch one:
 *
 *     for (;;) { foo_run(); bar_run(); foo_wait(); bar_wait(); poll_block(); }
 *
 * with libevent callbacks running inside poll_block().  A callback that
 * changes state which a *_run() function must see calls
 * poll_immediate_wake(), exactly as Open vSwitch code does.
 *
 * Single-threaded: the base belongs to the thread that first asks for it. */
#ifndef OVS_GLUE_OVS_LOOP_H
#define OVS_GLUE_OVS_LOOP_H 1

#include <stdbool.h>

struct event_base;

/* Returns the loop's libevent base, creating it on first use. */
struct event_base *ovs_loop_base(void);

/* Before the base is created: have it use poll() rather than epoll.
 * poll_block() adds an event for every fd waited for and deletes it again,
 * each round; with epoll that is two epoll_ctl() system calls per fd per
 * round, with poll() an array entry and one poll() call per round.  tetherd
 * asks for it (each bridge's connection is waited for every round: 1,000
 * fds at 1,000 hosts); the host agent, with a handful, keeps libevent's
 * default. */
void ovs_loop_avoid_epoll(void);

/* Frees the base and any pending waits (for clean shutdown and tests). */
void ovs_loop_destroy(void);

/* Counters, for tests and benchmarks. */
struct ovs_loop_stats {
    unsigned long long blocks;      /* poll_block() calls */
    unsigned long long fd_wakeups;  /* OVS fds found ready */
    unsigned long long timeouts;    /* blocks ended by the timer */
};
void ovs_loop_get_stats(struct ovs_loop_stats *);

/* Which fds the last poll_block() found ready, so that a caller with many
 * connections can leave alone the ones that have nothing to read (tetherd:
 * 1,000 bridge connections, a recv() on each every round otherwise).
 *
 * ovs_loop_wait_calls() counts poll_fd_wait() calls and
 * ovs_loop_last_wait_fd() is the fd of the last one: a caller compares the
 * count before and after one module's *_wait() to learn which fd (if any)
 * that module registered.  ovs_loop_round() is the number of poll_block()
 * calls so far; waits registered now are for round ovs_loop_round() + 1.
 * ovs_loop_fd_ready(fd, round) is true if 'round' is the last round and
 * 'fd' was found ready in it (for anything it was waited for), or if the
 * answer is not known (any other round): so "not ready" is only ever said
 * of an fd that the last round waited for and found idle. */
unsigned long long ovs_loop_wait_calls(void);
int ovs_loop_last_wait_fd(void);
unsigned long long ovs_loop_round(void);
bool ovs_loop_fd_ready(int fd, unsigned long long round);

#endif /* ovs-glue/ovs-loop.h */
