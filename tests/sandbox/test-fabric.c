/* Sandbox tests of the fabric harness itself, without tetherd: three
 * dummy-datapath hypervisors on one underlay, a Geneve overlay wired by hand
 * with OpenFlow 1.3 flows, frames injected into VMs and read back from
 * their pcaps, an underlay link cut and restored; plus the frame builders'
 * checksums and clean tear-down. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/sandbox/fabric.h"
#include "tests/sandbox/pcap.h"
#include "tests/sandbox/sandbox.h"

#define VNI 100

/* VM i (1..3) runs on hv i. */
#define VM_MAC(i) ("02:00:00:00:00:0" #i)
#define VM_IP(i) ("10.0.0." #i)

static struct fabric *fab;      /* fresh for every test */
static int tun_ofport[4];       /* [hv] */
static int vm_ofport[4];        /* [hv] */

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Runs a command on hypervisor 'hv' (0: the underlay) and returns its
 * stdout, failing the test if it exits nonzero. */
static char * __attribute__((format(printf, 2, 3)))
run(int hv, const char *fmt, ...)
{
    struct sandbox *sb = hv ? fabric_hv(fab, hv) : fabric_underlay(fab);
    va_list args;
    char *cmd, *out = NULL;

    va_start(args, fmt);
    assert_true(vasprintf(&cmd, fmt, args) >= 0);
    va_end(args);
    int status = sandbox_run(sb, &out, "%s", cmd);
    if (status) {
        fprintf(stderr, "# '%s' failed: %d\n", cmd, status);
    }
    free(cmd);
    assert_int_equal(status, 0);
    return out;
}

/* Like run() for commands whose output does not matter. */
#define RUN(...) free(run(__VA_ARGS__))

/* The rx packet counter of 'port' on 'bridge' of hypervisor 'hv'. */
static long long
port_rx_packets(int hv, const char *bridge, const char *port)
{
    char *out = run(hv, "ovs-ofctl dump-ports %s %s", bridge, port);
    char *p = strstr(out, "rx pkts=");
    long long n = p ? atoll(p + 8) : -1;
    free(out);
    return n;
}

static long long
wait_port_rx_packets(int hv, const char *bridge, const char *port,
                     long long n, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    long long count;

    while ((count = port_rx_packets(hv, bridge, port)) < n
           && now_ms() < deadline) {
        sleep_ms(5);
    }
    return count;
}

static int
setup(void **state)
{
    (void) state;
    fab = fabric_create("fab", 3);
    return fab ? 0 : -1;
}

static int
teardown(void **state)
{
    (void) state;
    fabric_destroy(fab);
    fab = NULL;
    return 0;
}

/* Plugs vm<i> into hv<i> and gives every br-int a tunnel port of 'type'. */
static void
plug_vms_tunnel(const char *type)
{
    for (int i = 1; i <= 3; i++) {
        char vm[8], eni[16], uuid[40];

        snprintf(vm, sizeof vm, "vm%d", i);
        snprintf(eni, sizeof eni, "eni-%d", i);
        snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-00000000000%d",
                 i);
        static const char *macs[] = { NULL, VM_MAC(1), VM_MAC(2),
                                      VM_MAC(3) };
        vm_ofport[i] = fabric_add_vif(fab, i, vm, eni, macs[i], uuid);
        assert_true(vm_ofport[i] > 0);
        tun_ofport[i] = fabric_add_tunnel(fab, i, NULL, type);
        assert_true(tun_ofport[i] > 0);
    }
}

static void
plug_vms(void)
{
    plug_vms_tunnel("geneve");
}

/* The hand-written overlay: vm1's frames go to hv2 in VNI 100; hv2 delivers
 * VNI 100 frames for vm2's MAC to vm2; hv3 would deliver anything in VNI
 * 100 to vm3, so a frame that went to the wrong hypervisor shows up. */
static void
install_overlay_flows(void)
{
    RUN(1, "ovs-ofctl -O OpenFlow13 add-flow br-int 'priority=100,"
        "in_port=%d,actions=set_field:%d->tun_id,"
        "set_field:%s->tun_dst,output:%d'",
        vm_ofport[1], VNI, fabric_hv_ip(fab, 2), tun_ofport[1]);
    RUN(2, "ovs-ofctl -O OpenFlow13 add-flow br-int 'priority=100,"
        "in_port=%d,tun_id=%d,dl_dst=%s,actions=output:%d'",
        tun_ofport[2], VNI, VM_MAC(2), vm_ofport[2]);
    RUN(3, "ovs-ofctl -O OpenFlow13 add-flow br-int 'priority=100,"
        "in_port=%d,tun_id=%d,actions=output:%d'",
        tun_ofport[3], VNI, vm_ofport[3]);
}

static void
udp_1_to_2(struct frame *f, const char *payload)
{
    assert_int_equal(frame_udp4(f, VM_MAC(1), VM_MAC(2), VM_IP(1), VM_IP(2),
                                5000, 6000, payload, strlen(payload)), 0);
}

/* Creating a 3-hypervisor fabric works (how long it took is printed, not
 * judged: this machine is shared), and destroying it stops every daemon it
 * started (by pid) and removes every directory. */
static void
test_create_destroy(void **state)
{
    (void) state;
    fabric_destroy(NULL);
    assert_null(fabric_create("bad", 0));

    long long start = now_ms();
    struct fabric *f = fabric_create("cd", 3);
    long long elapsed = now_ms() - start;
    assert_non_null(f);
    printf("# fabric_create(3 hypervisors): %lld ms\n", elapsed);

    /* Every daemon's pid, from its pidfile. */
    pid_t pids[8];
    char *dirs[4];
    int n = 0;
    for (int i = 0; i <= 3; i++) {
        struct sandbox *sb = i ? fabric_hv(f, i) : fabric_underlay(f);
        dirs[i] = strdup(sandbox_dir(sb));
        for (int d = 0; d < 2; d++) {
            char *out = NULL;
            assert_int_equal(sandbox_run(sb, &out, "cat \"$SB_DIR/%s.pid\"",
                                         d ? "ovsdb-server" : "ovs-vswitchd"),
                             0);
            pids[n] = atoi(out);
            assert_true(pids[n] > 0);
            assert_int_equal(kill(pids[n], 0), 0);
            n++;
            free(out);
        }
    }

    fabric_destroy(f);
    for (int i = 0; i < n; i++) {
        assert_int_equal(kill(pids[i], 0), -1);
        assert_int_equal(errno, ESRCH);
    }
    if (!getenv("TETHER_KEEP_SANDBOX")) {
        for (int i = 0; i <= 3; i++) {
            assert_int_equal(access(dirs[i], F_OK), -1);
        }
    }
    for (int i = 0; i <= 3; i++) {
        free(dirs[i]);
    }
}

/* The accessors, and the set-up an agent finds on each hypervisor. */
static void
test_layout(void **state)
{
    (void) state;
    assert_int_equal(fabric_n_hvs(fab), 3);
    assert_string_equal(fabric_hv_name(fab, 2), "hv2");
    assert_string_equal(fabric_hv_ip(fab, 2), "192.168.0.2");
    assert_string_equal(fabric_hv_mac(fab, 2), "02:00:c0:a8:00:02");
    char *remote = NULL;
    assert_true(asprintf(&remote, "unix:%s/db.sock",
                         sandbox_dir(fabric_hv(fab, 2))) > 0);
    assert_string_equal(fabric_hv_db_remote(fab, 2), remote);
    free(remote);
    assert_ptr_not_equal(fabric_hv(fab, 1), fabric_hv(fab, 2));

    for (int i = 1; i <= 3; i++) {
        char *out = run(i, SANDBOX_VSCTL " list-br");
        assert_string_equal(out, "br-int\nbr-phy\n");
        free(out);

        out = run(i, SANDBOX_VSCTL " get bridge br-int fail_mode"
                  " datapath_type -- get-controller br-int"
                  " -- get interface underlay options:stream"
                  " -- get open_vswitch . external_ids:system-id");
        char *want = NULL;
        assert_true(asprintf(&want, "secure\ndummy\n\"unix:%s/hv%d.sock\"\n"
                             "hv%d\n", sandbox_dir(fabric_underlay(fab)),
                             i, i) > 0);
        assert_string_equal(out, want);
        free(want);
        free(out);

        /* br-phy owns the tunnel IP, the route and the neighbors. */
        out = run(i, SANDBOX_VSCTL " get interface br-phy mac_in_use");
        assert_non_null(strstr(out, fabric_hv_mac(fab, i)));
        free(out);
        out = run(i, SANDBOX_APPCTL " ovs/route/show");
        assert_non_null(strstr(out, "192.168.0.0/24 dev br-phy"));
        free(out);
        out = run(i, SANDBOX_APPCTL " tnl/neigh/show");
        for (int j = 1; j <= 3; j++) {
            assert_true((strstr(out, fabric_hv_mac(fab, j)) != NULL)
                        == (j != i));
        }
        free(out);

        /* An empty br-int: no flows at all (secure: not even NORMAL). */
        out = run(i, "ovs-ofctl -O OpenFlow13 dump-flows br-int"
                  " | grep -c cookie= || true");
        assert_string_equal(out, "0\n");
        free(out);
    }
}

/* VIFs carry what a hypervisor sets, get an ofport, and go away. */
static void
test_vif_plug(void **state)
{
    (void) state;
    int ofport = fabric_add_vif(fab, 2, "vm9", "eni-9", "02:00:00:00:00:09",
                                "99999999-0000-0000-0000-000000000000");
    assert_true(ofport > 0);
    assert_int_equal(fabric_ofport(fab, 2, "vm9"), ofport);
    assert_int_equal(fabric_ofport(fab, 1, "vm9"), -1);

    char *out = run(2, SANDBOX_VSCTL " get interface vm9"
                    " external_ids:iface-id external_ids:attached-mac"
                    " external_ids:vm-uuid external_ids:iface-status type"
                    " -- port-to-br vm9");
    assert_string_equal(out, "eni-9\n\"02:00:00:00:00:09\"\n"
                        "\"99999999-0000-0000-0000-000000000000\"\n"
                        "active\ndummy\nbr-int\n");
    free(out);

    /* Nothing captured yet, but the capture is there and readable. */
    assert_int_equal(fabric_vif_count_rx(fab, 2, "vm9", frame_match_any,
                                         NULL), 0);
    assert_int_equal(fabric_vif_count_tx(fab, 2, "vm9", frame_match_any,
                                         NULL), 0);

    /* What the VM sends is in its tx capture. */
    struct frame f;
    assert_int_equal(frame_garp(&f, "02:00:00:00:00:09", "10.0.0.9"), 0);
    assert_int_equal(fabric_inject(fab, 2, "vm9", &f), 0);
    assert_int_equal(fabric_vif_count_tx(fab, 2, "vm9", frame_match_equal,
                                         &f), 1);

    assert_int_equal(fabric_del_vif(fab, 2, "vm9"), 0);
    assert_int_equal(fabric_ofport(fab, 2, "vm9"), -1);
    assert_int_not_equal(fabric_del_vif(fab, 2, "vm9"), 0);
}

/* Every builder produces what the parser reads back, with valid
 * checksums; the parser checks them independently of the builders. */
static void
test_frames(void **state)
{
    (void) state;
    struct frame f;
    struct frame_info fi;
    uint32_t ip;

    /* A known-good frame (an OVS test's ICMP echo): checksums verify. */
    static const char known[] =
        "f8bc12440034f8bc124434b6080045000054ba20000040018486"
        "1e0000011e00000200004227e75400030af3195500000000f265"
        "010000000000101112131415161718191a1b1c1d1e1f20212223"
        "2425262728292a2b2c2d2e2f3031323334353637";
    f.len = strlen(known) / 2;
    for (size_t i = 0; i < f.len; i++) {
        unsigned int b;
        sscanf(known + 2 * i, "%2x", &b);
        f.data[i] = b;
    }
    assert_true(frame_parse(&f, &fi));
    assert_true(fi.ip_csum_ok);
    assert_true(fi.l4_csum_ok);
    f.data[40] ^= 1;
    assert_true(frame_parse(&f, &fi));
    assert_false(fi.l4_csum_ok);

    assert_int_equal(frame_udp4(&f, VM_MAC(1), VM_MAC(2), VM_IP(1),
                                VM_IP(2), 1234, 53, "hello", 5), 0);
    assert_int_equal(f.len, 14 + 20 + 8 + 5);
    assert_true(frame_parse(&f, &fi));
    assert_int_equal(fi.eth_type, 0x0800);
    assert_int_equal(fi.ip_proto, 17);
    inet_pton(AF_INET, VM_IP(2), &ip);
    assert_int_equal(fi.ip4_dst, ip);
    assert_int_equal(fi.src_port, 1234);
    assert_int_equal(fi.dst_port, 53);
    assert_true(fi.ip_csum_ok && fi.l4_csum_ok);
    assert_true(frame_match_udp_payload(&f, "hello"));
    assert_false(frame_match_udp_payload(&f, "hell"));
    char *hex = frame_to_hex(&f);
    assert_int_equal(strlen(hex), 2 * f.len);
    assert_memory_equal(hex, "020000000002020000000001080045", 30);
    free(hex);

    assert_int_equal(frame_tcp4(&f, VM_MAC(1), VM_MAC(2), VM_IP(1),
                                VM_IP(2), 40000, 80, 0x02, NULL, 0), 0);
    assert_true(frame_parse(&f, &fi));
    assert_true(fi.ip_proto == 6 && fi.tcp_flags == 0x02);
    assert_true(fi.ip_csum_ok && fi.l4_csum_ok);

    assert_int_equal(frame_icmp4_echo(&f, VM_MAC(1), VM_MAC(2), VM_IP(1),
                                      VM_IP(2), 8, 7, 1, "ping", 4), 0);
    assert_true(frame_parse(&f, &fi));
    assert_true(fi.ip_proto == 1 && fi.icmp_type == 8);
    assert_true(fi.ip_csum_ok && fi.l4_csum_ok);

    assert_int_equal(frame_arp(&f, 2, VM_MAC(2), VM_IP(2), VM_MAC(1),
                               VM_IP(1)), 0);
    assert_true(frame_parse(&f, &fi));
    assert_int_equal(fi.eth_type, 0x0806);
    assert_int_equal(fi.arp_op, 2);
    assert_memory_equal(fi.eth_dst, "\x02\0\0\0\0\x01", 6);

    assert_int_equal(frame_rarp(&f, VM_MAC(3)), 0);
    assert_true(frame_parse(&f, &fi));
    assert_int_equal(fi.eth_type, 0x8035);
    assert_int_equal(fi.arp_op, 3);
    uint16_t rarp = 0x8035;
    assert_true(frame_match_eth_type(&f, &rarp));

    assert_int_equal(frame_nd6_ns(&f, VM_MAC(1), "fd00::1", "fd00::2"), 0);
    assert_true(frame_parse(&f, &fi));
    assert_true(fi.eth_type == 0x86dd && fi.ip_proto == 58);
    assert_int_equal(fi.icmp_type, 135);
    assert_true(fi.l4_csum_ok);
    assert_memory_equal(fi.eth_dst, "\x33\x33\xff\0\0\x02", 6);

    assert_int_equal(frame_nd6_na(&f, VM_MAC(1), "fd00::1"), 0);
    assert_true(frame_parse(&f, &fi));
    assert_int_equal(fi.icmp_type, 136);
    assert_true(fi.l4_csum_ok);

    assert_int_equal(frame_udp4(&f, "nonsense", VM_MAC(2), VM_IP(1),
                                VM_IP(2), 1, 2, NULL, 0), EINVAL);
    assert_int_equal(f.len, 0);
    assert_int_equal(frame_arp(&f, 1, VM_MAC(1), "10.0.0.300", NULL,
                               VM_IP(2)), EINVAL);
}

/* The end-to-end proof: vm1 on hv1 reaches vm2 on hv2 through Geneve over
 * the underlay, and not vm3; with hv2's link cut nothing arrives; once it is
 * restored it does again. */
static void
test_overlay_udp(void **state)
{
    (void) state;
    struct frame f;

    plug_vms();
    install_overlay_flows();

    udp_1_to_2(&f, "first");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2", frame_match_equal,
                                        &f, 1, 2000), 1);
    assert_int_equal(fabric_vif_count_rx(fab, 2, "vm2",
                                         frame_match_udp_payload, "first"),
                     1);
    assert_int_equal(fabric_vif_count_rx(fab, 3, "vm3", frame_match_any,
                                         NULL), 0);
    assert_int_equal(fabric_vif_count_rx(fab, 1, "vm1", frame_match_any,
                                         NULL), 0);

    /* Cut: the frame reaches the underlay switch and goes no further. */
    assert_int_equal(fabric_link_set(fab, 2, false), 0);
    long long rx = port_rx_packets(0, "br-fabric", "hv1");
    udp_1_to_2(&f, "during the cut");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_true(wait_port_rx_packets(0, "br-fabric", "hv1", rx + 1, 2000)
                > rx);
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2", frame_match_any,
                                        NULL, 0, 200), 1);

    /* Restored: the next frame arrives, the lost one never does. */
    assert_int_equal(fabric_link_set(fab, 2, true), 0);
    udp_1_to_2(&f, "after the cut");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2",
                                        frame_match_udp_payload,
                                        "after the cut", 1, 2000), 1);
    assert_int_equal(fabric_vif_count_rx(fab, 2, "vm2", frame_match_any,
                                         NULL), 2);
    assert_int_equal(fabric_vif_count_rx(fab, 2, "vm2",
                                         frame_match_udp_payload,
                                         "during the cut"), 0);
    assert_int_equal(fabric_vif_count_rx(fab, 3, "vm3", frame_match_any,
                                         NULL), 0);
}

/* Every kind of frame the builders make crosses the overlay unchanged:
 * broadcast and multicast included (the flows ignore the destination). */
static void
test_overlay_frame_kinds(void **state)
{
    (void) state;
    struct frame frames[7];

    plug_vms();
    RUN(1, "ovs-ofctl -O OpenFlow13 add-flow br-int 'priority=100,"
        "in_port=%d,actions=set_field:%d->tun_id,"
        "set_field:%s->tun_dst,output:%d'",
        vm_ofport[1], VNI, fabric_hv_ip(fab, 2), tun_ofport[1]);
    RUN(2, "ovs-ofctl -O OpenFlow13 add-flow br-int 'priority=100,"
        "in_port=%d,tun_id=%d,actions=output:%d'",
        tun_ofport[2], VNI, vm_ofport[2]);

    assert_int_equal(frame_arp(&frames[0], 1, VM_MAC(1), VM_IP(1), NULL,
                               VM_IP(2)), 0);
    assert_int_equal(frame_garp(&frames[1], VM_MAC(1), VM_IP(1)), 0);
    assert_int_equal(frame_rarp(&frames[2], VM_MAC(1)), 0);
    assert_int_equal(frame_tcp4(&frames[3], VM_MAC(1), VM_MAC(2), VM_IP(1),
                                VM_IP(2), 40000, 80, 0x02, NULL, 0), 0);
    assert_int_equal(frame_icmp4_echo(&frames[4], VM_MAC(1), VM_MAC(2),
                                      VM_IP(1), VM_IP(2), 8, 1, 1, "abc", 3),
                     0);
    assert_int_equal(frame_nd6_ns(&frames[5], VM_MAC(1), "fd00::1",
                                  "fd00::2"), 0);
    assert_int_equal(frame_nd6_na(&frames[6], VM_MAC(1), "fd00::1"), 0);

    for (int i = 0; i < 7; i++) {
        assert_int_equal(fabric_inject(fab, 1, "vm1", &frames[i]), 0);
    }
    for (int i = 0; i < 7; i++) {
        assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2", frame_match_equal,
                                            &frames[i], 1, 2000), 1);
    }
    assert_int_equal(fabric_vif_count_rx(fab, 2, "vm2", frame_match_any,
                                         NULL), 7);
}

/* fail_mode=secure without a controller: the bridges come up and run, and
 * with no flows a bridge forwards nothing (it does not fall back to a
 * learning switch), even between two VMs on one hypervisor. */
static void
test_secure_without_controller(void **state)
{
    (void) state;
    struct frame f;

    plug_vms();
    assert_true(fabric_add_vif(fab, 1, "vm1b", "eni-1b", "02:00:00:00:01:0b",
                               "11111111-0000-0000-0000-00000000000b") > 0);
    for (int i = 1; i <= 3; i++) {
        char *out = run(i, SANDBOX_VSCTL " get-fail-mode br-int"
                        " -- get-fail-mode br-phy -- get-controller br-int"
                        " -- get-controller br-phy");
        assert_string_equal(out, "secure\nsecure\n");
        free(out);
    }

    assert_int_equal(frame_garp(&f, VM_MAC(1), VM_IP(1)), 0);
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_count_tx(fab, 1, "vm1", frame_match_equal,
                                         &f), 1);
    assert_true(wait_port_rx_packets(1, "br-int", "vm1", 1, 2000) >= 1);
    assert_int_equal(fabric_vif_wait_rx(fab, 1, "vm1b", frame_match_any,
                                        NULL, 0, 100), 0);

    /* One flow later the same frame is flooded locally. */
    RUN(1, "ovs-ofctl -O OpenFlow13 add-flow br-int"
        " 'in_port=%d,actions=ALL'", vm_ofport[1]);
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_wait_rx(fab, 1, "vm1b", frame_match_equal,
                                        &f, 1, 2000), 1);
    char *log = run(1, "grep -ci 'fail.*open\\|standalone' "
                    "\"$SB_DIR/ovs-vswitchd.log\" || true");
    assert_string_equal(log, "0\n");
    free(log);
}

/* Without the static neighbor entries fabric_create() installs, the first
 * tunneled frame to an unresolved next hop triggers an ARP request from
 * br-phy (answered by the peer's netdev-dummy br-phy) and is dropped; the
 * reply is snooped into the neighbor cache and later frames go through. */
static void
test_tunnel_neighbor_resolution(void **state)
{
    (void) state;
    struct frame f;

    plug_vms();
    install_overlay_flows();
    RUN(1, SANDBOX_APPCTL " tnl/neigh/flush");
    char *out = run(1, SANDBOX_APPCTL " tnl/neigh/show");
    assert_null(strstr(out, fabric_hv_mac(fab, 2)));
    free(out);

    udp_1_to_2(&f, "unresolved");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);

    /* hv1 learns hv2's br-phy MAC from the ARP reply. */
    long long deadline = now_ms() + 2000;
    bool learned = false;
    while (!learned && now_ms() < deadline) {
        out = run(1, SANDBOX_APPCTL " tnl/neigh/show");
        learned = strstr(out, fabric_hv_mac(fab, 2)) != NULL;
        free(out);
        if (!learned) {
            sleep_ms(5);
        }
    }
    assert_true(learned);
    int first = fabric_vif_wait_rx(fab, 2, "vm2", frame_match_any, NULL, 0,
                                   100);
    printf("# frame sent before the next hop resolved: %s\n",
           first ? "delivered" : "dropped");
    assert_int_equal(first, 0);

    udp_1_to_2(&f, "resolved");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2",
                                        frame_match_udp_payload, "resolved",
                                        1, 2000), 1);
}

/* The same overlay over VXLAN, with a frame injected in the flow syntax. */
static void
test_overlay_vxlan(void **state)
{
    (void) state;
    plug_vms_tunnel("vxlan");
    install_overlay_flows();

    char *out = run(2, SANDBOX_APPCTL " dpif/show | grep %s",
                    FABRIC_TUNNEL_PORT);
    assert_non_null(strstr(out, "vxlan"));
    free(out);

    assert_int_equal(fabric_inject_flow(fab, 1, "vm1",
        "in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),"
        "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,"
        "ttl=64,frag=no),udp(src=7,dst=4789)"), 0);
    uint16_t ip4 = 0x0800;
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2", frame_match_eth_type,
                                        &ip4, 1, 2000), 1);

    struct frame *frames;
    size_t n;
    struct frame_info fi;
    char *pcap = fabric_vif_pcap(fab, 2, "vm2", true);
    assert_int_equal(pcap_read(pcap, &frames, &n), 0);
    free(pcap);
    assert_int_equal(n, 1);
    assert_true(frame_parse(&frames[0], &fi));
    assert_int_equal(fi.ip_proto, 17);
    assert_int_equal(fi.dst_port, 4789);
    free(frames);
    assert_int_equal(fabric_vif_count_rx(fab, 3, "vm3", frame_match_any,
                                         NULL), 0);
}

/* What fabric_add_tunnel() works around: with options:local_ip the
 * tunnel cannot transmit on OVS 3.1's dummy datapath (no "local" route for
 * the source without the kernel's routing table).  If this starts to
 * pass with local_ip, a newer OVS fixed it and fabric.h should say so. */
static void
test_tunnel_local_ip(void **state)
{
    (void) state;
    plug_vms();
    install_overlay_flows();

    const char *trace = SANDBOX_APPCTL " ofproto/trace br-int 'in_port=%d,"
        "udp,dl_src=%s,dl_dst=%s,nw_src=%s,nw_dst=%s'";
    char *out = run(1, trace, vm_ofport[1], VM_MAC(1), VM_MAC(2), VM_IP(1),
                    VM_IP(2));
    assert_non_null(strstr(out, "tnl_push("));
    assert_non_null(strstr(out, "src=192.168.0.1,dst=192.168.0.2"));
    free(out);

    RUN(1, SANDBOX_VSCTL " set interface %s options:local_ip=%s",
        FABRIC_TUNNEL_PORT, fabric_hv_ip(fab, 1));
    out = run(1, trace, vm_ofport[1], VM_MAC(1), VM_MAC(2), VM_IP(1),
              VM_IP(2));
    assert_non_null(strstr(out, "native tunnel routing failed"));
    assert_null(strstr(out, "tnl_push("));
    free(out);

    /* Reception does not care: hv2 with local_ip still gets hv1's
     * frames. */
    RUN(1, SANDBOX_VSCTL " remove interface %s options local_ip",
        FABRIC_TUNNEL_PORT);
    RUN(2, SANDBOX_VSCTL " set interface %s options:local_ip=%s",
        FABRIC_TUNNEL_PORT, fabric_hv_ip(fab, 2));
    struct frame f;
    udp_1_to_2(&f, "to a local_ip port");
    assert_int_equal(fabric_inject(fab, 1, "vm1", &f), 0);
    assert_int_equal(fabric_vif_wait_rx(fab, 2, "vm2", frame_match_equal,
                                        &f, 1, 2000), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_frames),
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vif_plug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_frame_kinds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_overlay_vxlan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secure_without_controller,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tunnel_neighbor_resolution,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tunnel_local_ip, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
