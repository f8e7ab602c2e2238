/* Unit tests of the migration relay (hostagent/relay.c) against real
 * interfaces: which frames it sends on when a VM pauses, whichever of a
 * frame's two copies comes first.
 *
 * As in bench/relay.c, a network namespace of the test's own holds two veth
 * pairs.  The relay port is "rly": a tagged frame (VLAN 7, the VIF's
 * ofport) the test sends out of its peer "rlyp" is the relay's copy of a
 * frame, as br-int tees it, and what the relay sends on comes back on
 * "rlyp".  The VIF is "vif" (relay_set_vif(7, "vif")): an untagged frame the
 * test sends out of it with an AF_PACKET socket is an "outgoing" frame of
 * "vif", the VIF's copy, as br-int hands a VM's tap.  Every frame is unique
 * (a sequence number in its payload), so the test counts how many times
 * each came back; a case expects an exact count of every frame it sent:
 *
 *   a. Relay copy first, VIF copy later, the pause between the two: the VM
 *      never read the frame, so the relay sends it on, whether its VIF copy
 *      came before relay_start() or after it.
 *   b. VIF copy first, relay copy later, the pause between the two: the VM
 *      had it, so the relay does not.
 *   c. Both copies before the pause, in either order: not sent on.  Both
 *      after relay_start(), in either order: sent on exactly once.
 *   d. A relay copy whose VIF copy never comes, from before the pause: not
 *      sent on, and the frames after it are judged as ever.
 *   e. The same frame in two migrations, the first failed (relay_stop()):
 *      the VIF copy of a frame sent on before it came is not left behind
 *      for the identical frame of the second to take.
 *
 * The relay's thread and the test's run at once, but the order of what
 * reaches the relay is the test's: it sends everything from one thread and,
 * where a case needs the relay to have read a relay copy before its VIF
 * copy comes, it waits for the relay's frame count.  Every case ends with a
 * marker frame (both copies after relay_start()): once it came back, the
 * relay has judged everything sent before it, and the test reads what else
 * comes in a short grace period.
 *
 * Needs root (it creates a network namespace): otherwise it reports a
 * skipped plan to the TAP driver.  An exit status of 77 would not do: the
 * TAP driver (build-aux/tap-driver.sh) reads any nonzero status as an
 * error. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostagent/relay.h"
#include "openvswitch/vlog.h"
#include "tests/netns.h"
#include "util.h"

#define VID 7                           /* the VIF's ofport */
#define ETHERTYPE 0x88b5                /* local experimental */
#define FRAME_LEN 60                    /* untagged */
#define MAX_FRAMES 128                  /* per case */
#define WAIT_NS (INT64_C(1000) * 1000000)   /* for what must happen */
#define GRACE_NS (INT64_C(50) * 1000000)    /* for what must not */
#define GAP_NS 2500000                  /* each side of a pause */

static const unsigned char dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const unsigned char src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const unsigned char magic[8] = "relayord";

/* The test's sockets, for every case. */
static int vif_tx, rlyp_tx, rlyp_rx;

/* Sequence numbers are never reused, so a frame a previous case's relay
 * sent late cannot count for the next. */
static uint32_t next_seq = 1;

struct order {
    struct relay *relay;
    uint32_t first;                     /* this case's first frame */
    uint32_t n;                         /* frames sent so far */
    uint64_t relay_sent;                /* relay copies sent */
    int expect[MAX_FRAMES];             /* times each must come back */
    int got[MAX_FRAMES];                /* times each came back */
    const char *what[MAX_FRAMES];
    unsigned int untagged;              /* ours, without VLAN VID */
    unsigned int stray;                 /* ours, of no frame of the case */
    struct relay_stats base;            /* after the warm-up */
};

static int64_t
clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

static void
sleep_ns(long ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000,
                           .tv_nsec = ns % 1000000000 };
    nanosleep(&ts, NULL);
}

/* --- Frames ------------------------------------------------------------- */

/* A new frame that must come back 'expect' times. */
static uint32_t
new_frame(struct order *o, const char *what, int expect)
{
    assert_true(o->n < MAX_FRAMES);
    o->what[o->n] = what;
    o->expect[o->n] = expect;
    o->got[o->n] = 0;
    o->n++;
    return next_seq++;
}

/* Frame 'seq' into 'buf', untagged or with VLAN VID; returns its length.
 * Both copies of a frame are the same but for the tag. */
static size_t
make_frame(unsigned char *buf, uint32_t seq, bool tagged)
{
    unsigned char *f = tagged ? buf + 4 : buf;
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = ETHERTYPE >> 8;
    f[13] = ETHERTYPE & 0xff;
    memcpy(f + 14, magic, sizeof magic);
    uint32_t nseq = htonl(seq);
    memcpy(f + 14 + sizeof magic, &nseq, sizeof nseq);
    for (size_t i = 14 + sizeof magic + sizeof nseq; i < FRAME_LEN; i++) {
        f[i] = seq * 7 + i;
    }
    if (!tagged) {
        return FRAME_LEN;
    }
    memmove(buf, f, 12);
    buf[12] = 0x81;
    buf[13] = 0x00;
    buf[14] = VID >> 8;
    buf[15] = VID & 0xff;
    return FRAME_LEN + 4;
}

/* The VIF's copy of frame 'seq': the VIF got it now. */
static void
send_vif(uint32_t seq)
{
    unsigned char buf[FRAME_LEN + 4];
    size_t len = make_frame(buf, seq, false);
    assert_int_equal(send(vif_tx, buf, len, 0), (ssize_t) len);
}

/* The relay's copy of frame 'seq', as br-int tees it. */
static void
send_relay(struct order *o, uint32_t seq)
{
    unsigned char buf[FRAME_LEN + 4];
    size_t len = make_frame(buf, seq, true);
    assert_int_equal(send(rlyp_tx, buf, len, 0), (ssize_t) len);
    o->relay_sent++;
}

/* Reads what the relay sent on so far, without blocking. */
static void
read_back(struct order *o)
{
    for (;;) {
        unsigned char buf[2048];
        int vid;
        ssize_t n = packet_recv(rlyp_rx, buf, sizeof buf, &vid);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            return;
        }
        uint32_t seq;
        if (n < 14 + (ssize_t) sizeof magic + (ssize_t) sizeof seq
            || buf[12] != ETHERTYPE >> 8 || buf[13] != (ETHERTYPE & 0xff)
            || memcmp(buf + 14, magic, sizeof magic)) {
            continue;                   /* not the test's */
        }
        memcpy(&seq, buf + 14 + sizeof magic, sizeof seq);
        seq = ntohl(seq);
        if (vid != VID) {
            o->untagged++;
        } else if (seq < o->first || seq - o->first >= o->n) {
            o->stray++;
        } else {
            o->got[seq - o->first]++;
        }
    }
}

/* --- The relay ---------------------------------------------------------- */

static struct relay_stats
stats(const struct order *o)
{
    struct relay_stats s;
    relay_get_stats(o->relay, &s);
    return s;
}

/* Waits until the relay has read every relay copy sent to it: a VIF copy
 * sent afterwards comes after it. */
static void
wait_read(const struct order *o)
{
    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_NS;
    while (stats(o).frames < o->relay_sent) {
        assert_true(clock_ns(CLOCK_MONOTONIC) < deadline);
        sleep_ns(200000);
    }
}

/* Waits until frame 'seq' came back. */
static void
wait_back(struct order *o, uint32_t seq)
{
    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_NS;
    while (!o->got[seq - o->first]) {
        assert_true(clock_ns(CLOCK_MONOTONIC) < deadline);
        sleep_ns(500000);
        read_back(o);
    }
}

/* Since the warm-up, the relay judged 'n' frames by their VIF's stamp and
 * sent none on before its VIF copy was seen. */
static void
assert_stamped_by_vif(const struct order *o, uint64_t n)
{
    struct relay_stats s = stats(o);
    assert_int_equal(s.vif_stamped - o->base.vif_stamped, n);
    assert_int_equal(s.vif_unstamped - o->base.vif_unstamped, 0);
}

/* The time of a pause between what was sent before and what is sent
 * after: a few ms from either. */
static int64_t
pause_now(void)
{
    sleep_ns(GAP_NS);
    int64_t since = clock_ns(CLOCK_REALTIME);
    sleep_ns(GAP_NS);
    return since;
}

/* A relay on "rly" that captures "vif" as port VID's VIF. */
static int
setup(void **state)
{
    struct order *o = xzalloc(sizeof *o);
    o->first = next_seq;
    o->relay = relay_create("rly", NULL);
    if (!o->relay) {
        free(o);
        return -1;
    }
    *state = o;
    return 0;
}

/* Waits until the relay is connected and stamps by the VIF.  The relay
 * opens the VIF's socket at the first frame of its port, which it
 * therefore cannot stamp by the VIF: frames are sent until one is, and
 * none of them may come back (they are all before the pause).  (Not in
 * setup(): cmocka does not tear down after a failed setup.) */
static void
warm_up(struct order *o)
{
    relay_set_vif(o->relay, VID, "vif");

    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_NS;
    while (!stats(o).connected) {
        assert_true(clock_ns(CLOCK_MONOTONIC) < deadline);
        sleep_ns(1000000);
    }
    read_back(o);                       /* a previous case's late frames */
    o->stray = o->untagged = 0;

    for (int i = 0; !stats(o).vif_stamped; i++) {
        assert_true(i < 16);
        uint32_t seq = new_frame(o, "warm-up", 0);
        send_vif(seq);
        send_relay(o, seq);
        wait_read(o);
    }
    o->base = stats(o);
}

static int
teardown(void **state)
{
    struct order *o = *state;
    if (o) {
        relay_destroy(o->relay);
        free(o);
    }
    return 0;
}

/* Sends a marker frame, both copies after the pause, waits until every
 * frame that must come back did, then reads for GRACE_NS more, and checks
 * that every frame of the case came back exactly as often as it must. */
static void
check(struct order *o)
{
    uint32_t marker = new_frame(o, "marker (after relay_start)", 1);
    send_vif(marker);
    send_relay(o, marker);

    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_NS;
    for (;;) {
        read_back(o);
        bool missing = false;
        for (uint32_t i = 0; i < o->n; i++) {
            missing |= o->got[i] < o->expect[i];
        }
        if (!missing || clock_ns(CLOCK_MONOTONIC) > deadline) {
            break;
        }
        sleep_ns(500000);
    }
    int64_t grace_end = clock_ns(CLOCK_MONOTONIC) + GRACE_NS;
    while (clock_ns(CLOCK_MONOTONIC) < grace_end) {
        sleep_ns(1000000);
        read_back(o);
    }

    for (uint32_t i = 0; i < o->n; i++) {
        if (o->got[i] != o->expect[i]) {
            print_message("# frame %"PRIu32" (%s): came back %d time(s), "
                          "expected %d\n", o->first + i, o->what[i],
                          o->got[i], o->expect[i]);
        }
    }
    for (uint32_t i = 0; i < o->n; i++) {
        assert_int_equal(o->got[i], o->expect[i]);
    }
    assert_int_equal(o->untagged, 0);
    assert_int_equal(o->stray, 0);
    relay_stop(o->relay, VID);
}

/* --- Cases -------------------------------------------------------------- */

/* a. The userspace datapath wrote the relay's copy, then, after conntrack,
 * the VIF's, and the VM paused in between: the VM never got it. */
static void
test_relay_copy_first(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t a = new_frame(o, "a: relay copy, pause, VIF copy", 1);
    send_relay(o, a);
    wait_read(o);                       /* pending: no VIF copy yet */
    int64_t since = pause_now();
    send_vif(a);
    relay_start(o->relay, VID, since);
    check(o);

    /* Judged by the VIF's stamp, not sent before it was seen. */
    assert_stamped_by_vif(o, 2);
}

/* a, where the VIF's copy comes after relay_start() replayed the ring (the
 * relay copy was pending then, with a stamp before the pause). */
static void
test_relay_copy_first_vif_after_start(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t a = new_frame(o, "a: relay copy, pause, start, VIF copy", 1);
    send_relay(o, a);
    wait_read(o);
    int64_t since = pause_now();
    relay_start(o->relay, VID, since);

    /* Once this came back, the relay has replayed its ring. */
    uint32_t m = new_frame(o, "first marker (after relay_start)", 1);
    send_vif(m);
    send_relay(o, m);
    wait_back(o, m);
    assert_int_equal(o->got[a - o->first], 0);

    send_vif(a);
    check(o);
}

/* b. br-int wrote the VIF's copy, then the relay's, and the VM paused in
 * between: the VM had it. */
static void
test_vif_copy_first(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t b = new_frame(o, "b: VIF copy, pause, relay copy", 0);
    send_vif(b);
    int64_t since = pause_now();
    send_relay(o, b);
    relay_start(o->relay, VID, since);
    check(o);

    assert_stamped_by_vif(o, 2);
}

/* c. Both copies on the same side of the pause, in either order. */
static void
test_both_copies_same_side(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t c1 = new_frame(o, "c: VIF copy, relay copy, pause", 0);
    send_vif(c1);
    send_relay(o, c1);
    uint32_t c2 = new_frame(o, "c: relay copy, VIF copy, pause", 0);
    send_relay(o, c2);
    wait_read(o);
    send_vif(c2);

    int64_t since = pause_now();
    relay_start(o->relay, VID, since);

    uint32_t c3 = new_frame(o, "c: pause, start, VIF copy, relay copy", 1);
    send_vif(c3);
    send_relay(o, c3);
    uint32_t c4 = new_frame(o, "c: pause, start, relay copy, VIF copy", 1);
    send_relay(o, c4);
    wait_read(o);
    send_vif(c4);
    check(o);
}

/* d. A relay copy whose VIF copy never comes (the relay's socket on the VIF
 * dropped it, say), before the pause; then frames of both orders. */
static void
test_vif_copy_never_comes(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t d1 = new_frame(o, "d: relay copy only, pause", 0);
    send_relay(o, d1);
    wait_read(o);

    uint32_t d2 = new_frame(o, "d: VIF copy, relay copy, pause", 0);
    send_vif(d2);
    send_relay(o, d2);
    uint32_t d3 = new_frame(o, "d: relay copy, pause, VIF copy", 1);
    send_relay(o, d3);
    wait_read(o);
    int64_t since = pause_now();
    send_vif(d3);
    relay_start(o->relay, VID, since);

    /* After the pause, a relay copy is sent on without waiting for its VIF
     * copy: that can only come later still. */
    uint32_t d4 = new_frame(o, "d: pause, start, relay copy only", 1);
    send_relay(o, d4);
    check(o);
}

/* e. A frame sent on after the pause before its VIF copy came; the
 * migration fails; the identical frame comes again, relay copy first, and
 * the VM pauses again between its two copies. */
static void
test_same_frame_again(void **state)
{
    struct order *o = *state;

    warm_up(o);
    uint32_t e = new_frame(o, "e: after the first pause, relay copy, VIF "
                           "copy; after the second, VIF copy only", 2);
    relay_start(o->relay, VID, pause_now());
    send_relay(o, e);
    wait_read(o);
    send_vif(e);
    wait_back(o, e);
    /* The relay has read the VIF copy once it judged a later frame by it. */
    uint32_t m = new_frame(o, "e: marker of the first migration", 1);
    send_vif(m);
    send_relay(o, m);
    wait_read(o);
    relay_stop(o->relay, VID);          /* the source resumes */

    send_relay(o, e);
    wait_read(o);
    int64_t since = pause_now();
    send_vif(e);
    relay_start(o->relay, VID, since);
    check(o);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);

    if (!netns_enter_private()) {
        printf("1..0 # SKIP needs root and a network namespace (%s)\n",
               strerror(errno));
        return 0;
    }
    if (veth_create("rly", "rlyp") || veth_create("vif", "vifp")) {
        fprintf(stderr, "test-relay-order: cannot create the veth pairs\n");
        return 1;
    }
    vif_tx = packet_socket_on("vif", 0);
    rlyp_tx = packet_socket_on("rlyp", 0);
    rlyp_rx = packet_socket_rx_on("rlyp", 1 << 20);
    if (vif_tx < 0 || rlyp_tx < 0 || rlyp_rx < 0) {
        fprintf(stderr, "test-relay-order: AF_PACKET sockets: %s\n",
                strerror(errno));
        return 1;
    }

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relay_copy_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_relay_copy_first_vif_after_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vif_copy_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_copies_same_side,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_vif_copy_never_comes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_frame_again,
                                        setup, teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    close(vif_tx);
    close(rlyp_tx);
    close(rlyp_rx);
    veth_delete("rly");
    veth_delete("vif");
    return ret;
}
