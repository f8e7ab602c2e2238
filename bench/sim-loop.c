/* The simulators' event loop (bench/sim.h): epoll with persistent
 * registrations, non-blocking TCP connections with output queues, and an
 * account of the loop's own busy time. */
#include <config.h>

#include "bench/sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/util.h"
#include "util.h"

static int epfd = -1;
static long long busy_us, busy_since;

long long
sim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long
sim_busy_us(void)
{
    return busy_us + (busy_since ? sim_now_us() - busy_since : 0);
}

void
sim_loop_init(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        ovs_fatal(errno, "epoll_create1");
    }
    busy_since = sim_now_us();
}

static void
sim_conn_update(struct sim_conn *c, int op)
{
    struct epoll_event ev = {
        .events = EPOLLIN | (c->want_out || c->connecting ? EPOLLOUT : 0),
        .data.ptr = c,
    };
    epoll_ctl(epfd, op, c->fd, &ev);
}

int
sim_conn_open(struct sim_conn *c, int port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        return errno;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->rx_len = c->tx_len = c->tx_ofs = 0;
    c->want_out = false;
    c->connecting = false;
    if (connect(c->fd, (struct sockaddr *) &sin, sizeof sin)) {
        if (errno != EINPROGRESS) {
            int error = errno;
            close(c->fd);
            c->fd = -1;
            return error;
        }
        c->connecting = true;
    }
    sim_conn_update(c, EPOLL_CTL_ADD);
    return 0;
}

void
sim_conn_close(struct sim_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        c->rx_len = c->tx_len = c->tx_ofs = 0;
        c->want_out = c->connecting = false;
    }
}

static void
sim_conn_fail(struct sim_conn *c)
{
    sim_conn_close(c);
    if (c->closed) {
        c->closed(c, c->aux);
    }
}

static void
sim_conn_flush(struct sim_conn *c)
{
    while (c->tx_len > c->tx_ofs) {
        ssize_t n = write(c->fd, c->tx + c->tx_ofs, c->tx_len - c->tx_ofs);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                break;
            }
            sim_conn_fail(c);
            return;
        }
        c->tx_ofs += n;
    }
    if (c->tx_ofs == c->tx_len) {
        c->tx_ofs = c->tx_len = 0;
    }
    bool want = c->tx_len > 0;
    if (want != c->want_out) {
        c->want_out = want;
        sim_conn_update(c, EPOLL_CTL_MOD);
    }
}

void
sim_conn_send(struct sim_conn *c, const void *data, size_t len)
{
    if (c->fd < 0) {
        return;
    }
    if (c->tx_ofs && c->tx_len + len > c->tx_alloc) {
        memmove(c->tx, c->tx + c->tx_ofs, c->tx_len - c->tx_ofs);
        c->tx_len -= c->tx_ofs;
        c->tx_ofs = 0;
    }
    if (c->tx_len + len > c->tx_alloc) {
        c->tx_alloc = MAX(2 * c->tx_alloc, c->tx_len + len);
        c->tx = xrealloc(c->tx, c->tx_alloc);
    }
    memcpy(c->tx + c->tx_len, data, len);
    c->tx_len += len;
    if (!c->connecting) {
        sim_conn_flush(c);
    }
}

void
sim_conn_consume(struct sim_conn *c, size_t n)
{
    memmove(c->rx, c->rx + n, c->rx_len - n);
    c->rx_len -= n;
}

static void
sim_conn_readable(struct sim_conn *c)
{
    for (;;) {
        if (c->rx_alloc - c->rx_len < 65536) {
            c->rx_alloc = MAX(2 * c->rx_alloc, c->rx_len + 65536);
            c->rx = xrealloc(c->rx, c->rx_alloc);
        }
        ssize_t n = read(c->fd, c->rx + c->rx_len, c->rx_alloc - c->rx_len);
        if (n > 0) {
            c->rx_len += n;
            if (c->input) {
                c->input(c, c->aux);
            }
            if (c->fd < 0) {
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        sim_conn_fail(c);       /* EOF or error */
        return;
    }
}

void
sim_loop_once(int timeout_ms)
{
    struct epoll_event evs[256];

    busy_us += sim_now_us() - busy_since;
    int n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), timeout_ms);
    busy_since = sim_now_us();
    for (int i = 0; i < n; i++) {
        struct sim_conn *c = evs[i].data.ptr;
        if (c->fd < 0) {
            continue;
        }
        if (c->connecting && evs[i].events & (EPOLLOUT | EPOLLERR
                                              | EPOLLHUP)) {
            int error = 0;
            socklen_t len = sizeof error;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
            if (error) {
                sim_conn_fail(c);
                continue;
            }
            c->connecting = false;
            sim_conn_flush(c);
            sim_conn_update(c, EPOLL_CTL_MOD);
        }
        if (c->fd >= 0 && evs[i].events & EPOLLOUT) {
            sim_conn_flush(c);
        }
        if (c->fd >= 0 && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            sim_conn_readable(c);
        }
    }
}
