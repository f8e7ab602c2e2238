/* Unit tests of proto/channel.c over a socketpair and a private libevent
 * base: whole messages come out of any fragmentation, and every kind of bad
 * input ends that channel alone, with an Error frame sent to the peer and the
 * owner told the code and the reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proto/channel.h"

struct endpoint {
    struct tether_channel *ch;
    int raw_fd;                     /* the other end, driven by the test */
    int n_msgs;
    int last_type;
    char last_host[80];
    bool closed;
    int close_error;
    char close_reason[256];
    bool destroy_in_callback;
};

static struct event_base *base;

static void
message_cb(struct tether_channel *ch, const struct tether_msg *msg, void *ep_)
{
    struct endpoint *ep = ep_;
    ep->n_msgs++;
    ep->last_type = msg->type;
    if (msg->type == TETHER_MSG_HELLO) {
        const Tether__Hello *h = (const Tether__Hello *) msg->pb;
        snprintf(ep->last_host, sizeof ep->last_host, "%s", h->host_id);
    }
    if (ep->destroy_in_callback) {
        tether_channel_destroy(ch);
        ep->ch = NULL;
    }
}

static void
closed_cb(struct tether_channel *ch, int error, const char *reason,
          void *ep_)
{
    struct endpoint *ep = ep_;
    (void) ch;
    ep->closed = true;
    ep->close_error = error;
    snprintf(ep->close_reason, sizeof ep->close_reason, "%s", reason);
}

static const struct tether_channel_cbs cbs = {
    .message = message_cb,
    .closed = closed_cb,
};

/* A controller-side channel (its peer is an agent) on one end of a
 * socketpair; the test writes raw bytes into the other end. */
static void
endpoint_open(struct endpoint *ep)
{
    int fds[2];
    memset(ep, 0, sizeof *ep);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    evutil_make_socket_nonblocking(fds[0]);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0],
                                                     BEV_OPT_CLOSE_ON_FREE);
    assert_non_null(bev);
    ep->ch = tether_channel_create(bev, TETHER_ROLE_AGENT, "test-peer", &cbs,
                                   ep);
    assert_non_null(ep->ch);
    ep->raw_fd = fds[1];
}

static void
endpoint_close(struct endpoint *ep)
{
    tether_channel_destroy(ep->ch);
    if (ep->raw_fd >= 0) {
        close(ep->raw_fd);
    }
}

static void
timeout_cb(evutil_socket_t fd, short what, void *flag)
{
    (void) fd;
    (void) what;
    *(bool *) flag = true;
}

/* Runs the loop until '*cond' or 2 s pass. */
static void
run_until(const bool *cond)
{
    bool timed_out = false;
    struct timeval tv = { 2, 0 };
    struct event *t = evtimer_new(base, timeout_cb, &timed_out);
    evtimer_add(t, &tv);
    while (!*cond && !timed_out) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(t);
    assert_false(timed_out);
}

/* Runs the loop for a short while, for "nothing happens" checks. */
static void
run_briefly(void)
{
    for (int i = 0; i < 20; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
}

static void
raw_write(int fd, const void *p, size_t n)
{
    assert_int_equal(write(fd, p, n), (ssize_t) n);
}

static size_t
encode_hello(const char *host_id, uint8_t *buf, size_t size)
{
    Tether__Hello h = TETHER__HELLO__INIT;
    h.host_id = (char *) host_id;
    h.hypervisor = "generic";
    h.tunnel_ip = "192.0.2.1";
    h.tunnel_type = "geneve";
    h.bridge = "br-int";
    return tether_wire_encode(TETHER_MSG_HELLO, &h.base, buf, size);
}

/* Reads what the channel sent back before closing and checks that it is one
 * Error frame carrying 'code'. */
static void
expect_error_frame(int fd, int code)
{
    uint8_t buf[4096];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r <= 0) {
            break;
        }
        n += r;
    }
    struct tether_wire_header hdr;
    size_t frame_len;
    char err[TETHER_WIRE_ERRLEN];
    assert_int_equal(tether_wire_peek(buf, n, &hdr, &frame_len, err), 0);
    assert_int_equal(hdr.type, TETHER_MSG_ERROR);
    assert_true(frame_len <= n);

    struct tether_msg msg;
    assert_int_equal(tether_wire_decode(buf, frame_len, &msg, err), 0);
    const Tether__Error *e = (const Tether__Error *) msg.pb;
    assert_int_equal(e->code, code);
    assert_true(strlen(e->message) > 0);
    tether_msg_clear(&msg);
}

static int
setup(void **state)
{
    (void) state;
    base = event_base_new();
    return base ? 0 : -1;
}

static int
teardown(void **state)
{
    (void) state;
    event_base_free(base);
    return 0;
}

static void
test_message_delivered(void **state)
{
    struct endpoint ep;
    uint8_t buf[512];
    (void) state;

    endpoint_open(&ep);
    size_t n = encode_hello("hv1", buf, sizeof buf);
    assert_true(n > 0);
    raw_write(ep.raw_fd, buf, n);
    while (ep.n_msgs == 0) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    assert_int_equal(ep.last_type, TETHER_MSG_HELLO);
    assert_string_equal(ep.last_host, "hv1");
    assert_false(ep.closed);
    endpoint_close(&ep);
}

static void
test_fragmented_byte_by_byte(void **state)
{
    struct endpoint ep;
    uint8_t buf[1024];
    (void) state;

    endpoint_open(&ep);
    size_t n = encode_hello("hv-a", buf, sizeof buf);
    n += encode_hello("hv-b", buf + n, sizeof buf - n);
    for (size_t i = 0; i < n; i++) {
        raw_write(ep.raw_fd, &buf[i], 1);
        run_briefly();
    }
    assert_int_equal(ep.n_msgs, 2);
    assert_string_equal(ep.last_host, "hv-b");
    assert_false(ep.closed);
    endpoint_close(&ep);
}

/* Writes 'bytes' and expects the channel to fail with 'code'. */
static void
expect_failure(const void *bytes, size_t n, int code, const char *reason)
{
    struct endpoint ep;

    endpoint_open(&ep);
    raw_write(ep.raw_fd, bytes, n);
    run_until(&ep.closed);
    assert_int_equal(ep.close_error, code);
    if (!strstr(ep.close_reason, reason)) {
        fail_msg("reason \"%s\" lacks \"%s\"", ep.close_reason, reason);
    }
    assert_int_equal(ep.n_msgs, 0);
    expect_error_frame(ep.raw_fd, code);
    endpoint_close(&ep);
}

static void
test_garbage(void **state)
{
    (void) state;
    static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_failure(junk, sizeof junk - 1, TETHER_WIRE_EBADMAGIC, "magic");
}

static void
test_wrong_version(void **state)
{
    (void) state;
    uint8_t hdr[8] = { 0x54, 0x48, 2, TETHER_MSG_HELLO, 0, 0, 0, 0 };
    expect_failure(hdr, sizeof hdr, TETHER_WIRE_EVERSION, "version");
}

static void
test_unknown_type(void **state)
{
    (void) state;
    uint8_t hdr[8] = { 0x54, 0x48, TETHER_PROTO_VERSION, 77, 0, 0, 0, 0 };
    expect_failure(hdr, sizeof hdr, TETHER_WIRE_ETYPE, "77");
}

static void
test_oversize(void **state)
{
    (void) state;
    uint8_t hdr[8] = { 0x54, 0x48, TETHER_PROTO_VERSION, TETHER_MSG_RESYNC,
                       0x7f, 0xff, 0xff, 0xff };
    expect_failure(hdr, sizeof hdr, TETHER_WIRE_ETOOBIG, "maximum");
}

static void
test_garbage_payload(void **state)
{
    (void) state;
    uint8_t frame[8 + 6] = { 0x54, 0x48, TETHER_PROTO_VERSION,
                             TETHER_MSG_HELLO, 0, 0, 0, 6,
                             0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    expect_failure(frame, sizeof frame, TETHER_WIRE_EMALFORMED, "hello");
}

static void
test_invalid_field(void **state)
{
    uint8_t buf[512];
    (void) state;
    size_t n = encode_hello("not a host id!", buf, sizeof buf);
    /* tether_wire_encode() does not validate; the receiver must. */
    assert_true(n > 0);
    expect_failure(buf, n, TETHER_WIRE_EINVALID, "host_id");
}

static void
test_wrong_direction(void **state)
{
    uint8_t buf[512];
    (void) state;
    Tether__HelloReply r = TETHER__HELLO_REPLY__INIT;
    r.accepted = true;
    r.controller_id = "dc1";
    r.heartbeat_interval_ms = 1000;
    size_t n = tether_wire_encode(TETHER_MSG_HELLO_REPLY, &r.base, buf,
                                  sizeof buf);
    assert_true(n > 0);
    expect_failure(buf, n, TETHER_WIRE_EDIRECTION, "agent");
}

static void
test_truncated_at_eof(void **state)
{
    struct endpoint ep;
    uint8_t buf[512];
    (void) state;

    endpoint_open(&ep);
    size_t n = encode_hello("hv1", buf, sizeof buf);
    raw_write(ep.raw_fd, buf, n - 3);
    shutdown(ep.raw_fd, SHUT_WR);
    run_until(&ep.closed);
    assert_int_equal(ep.close_error, TETHER_WIRE_ETRUNCATED);
    assert_non_null(strstr(ep.close_reason, "truncated"));
    assert_int_equal(ep.n_msgs, 0);
    endpoint_close(&ep);
}

static void
test_clean_eof(void **state)
{
    struct endpoint ep;
    uint8_t buf[512];
    (void) state;

    endpoint_open(&ep);
    size_t n = encode_hello("hv1", buf, sizeof buf);
    raw_write(ep.raw_fd, buf, n);
    shutdown(ep.raw_fd, SHUT_WR);
    run_until(&ep.closed);
    assert_int_equal(ep.n_msgs, 1);
    assert_int_equal(ep.close_error, 0);
    endpoint_close(&ep);
}

/* A failing channel leaves its neighbour on the same loop alone. */
static void
test_failure_is_isolated(void **state)
{
    struct endpoint bad, good;
    uint8_t buf[512];
    (void) state;

    endpoint_open(&bad);
    endpoint_open(&good);
    raw_write(bad.raw_fd, "\0\0\0\0\0\0\0\0", 8);
    size_t n = encode_hello("hv2", buf, sizeof buf);
    raw_write(good.raw_fd, buf, n);
    run_until(&bad.closed);
    while (good.n_msgs == 0) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    assert_false(good.closed);
    assert_string_equal(good.last_host, "hv2");

    /* And the good one still works afterwards. */
    n = encode_hello("hv3", buf, sizeof buf);
    raw_write(good.raw_fd, buf, n);
    while (good.n_msgs < 2) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    assert_string_equal(good.last_host, "hv3");
    endpoint_close(&bad);
    endpoint_close(&good);
}

/* The owner may destroy the channel from its message callback, even with
 * more frames already buffered behind the one being handled. */
static void
test_destroy_in_callback(void **state)
{
    struct endpoint ep;
    uint8_t buf[1024];
    (void) state;

    endpoint_open(&ep);
    ep.destroy_in_callback = true;
    size_t n = encode_hello("hv1", buf, sizeof buf);
    n += encode_hello("hv2", buf + n, sizeof buf - n);
    raw_write(ep.raw_fd, buf, n);
    while (ep.n_msgs == 0) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    run_briefly();
    assert_int_equal(ep.n_msgs, 1);
    assert_null(ep.ch);
    assert_false(ep.closed);
    endpoint_close(&ep);
}

static void
test_send_and_fail(void **state)
{
    struct endpoint ep;
    (void) state;

    endpoint_open(&ep);
    Tether__Heartbeat hb = TETHER__HEARTBEAT__INIT;
    hb.seq = 42;
    assert_int_equal(tether_channel_send(ep.ch, TETHER_MSG_HEARTBEAT,
                                         &hb.base), 0);
    tether_channel_fail(ep.ch, TETHER_WIRE_EAUTH, "report for another host");
    assert_false(tether_channel_is_open(ep.ch));
    assert_int_equal(tether_channel_send(ep.ch, TETHER_MSG_HEARTBEAT,
                                         &hb.base), TETHER_WIRE_ESTATE);
    run_until(&ep.closed);
    assert_int_equal(ep.close_error, TETHER_WIRE_EAUTH);

    /* The peer gets the heartbeat, then the Error. */
    uint8_t buf[1024];
    size_t n = 0;
    ssize_t r;
    while ((r = read(ep.raw_fd, buf + n, sizeof buf - n)) > 0) {
        n += r;
    }
    struct tether_wire_header hdr;
    size_t len;
    char err[TETHER_WIRE_ERRLEN];
    assert_int_equal(tether_wire_peek(buf, n, &hdr, &len, err), 0);
    assert_int_equal(hdr.type, TETHER_MSG_HEARTBEAT);
    assert_int_equal(tether_wire_peek(buf + len, n - len, &hdr, &len, err), 0);
    assert_int_equal(hdr.type, TETHER_MSG_ERROR);
    endpoint_close(&ep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_delivered),
        cmocka_unit_test(test_fragmented_byte_by_byte),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_garbage_payload),
        cmocka_unit_test(test_invalid_field),
        cmocka_unit_test(test_wrong_direction),
        cmocka_unit_test(test_truncated_at_eof),
        cmocka_unit_test(test_clean_eof),
        cmocka_unit_test(test_failure_is_isolated),
        cmocka_unit_test(test_destroy_in_callback),
        cmocka_unit_test(test_send_and_fail),
    };
    return cmocka_run_group_tests_name("channel", tests, setup, teardown);
}
