/* End-to-end sandbox tests of tether's data path as an operator sees it:
 * three dummy-datapath hypervisors, the real tetherd with its database and a
 * real tether-agent on each, ENIs and security groups created through the
 * REST API (tetherctl), VIFs plugged the way a hypervisor plugs them, and
 * frames injected at VMs and read back from their captures: connectivity
 * and the ARP responder, isolation between virtual networks, port security,
 * security groups, a cold move, and VIFs that must bind nothing.
 *
 * Negative checks never wait for a time: after a frame that must be
 * dropped, a "marker" frame that must arrive is sent the same way, and the
 * dropped one is looked for once the marker is there. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sandbox/dc.h"
#include "tests/sandbox/sandbox.h"

#define WAIT_MS 10000

static struct dc *dc;

/* A VM and its ENI. */
struct vm {
    const char *name;           /* VIF name */
    const char *eni;
    const char *mac;
    const char *ip;
    int vni;
    int hv;                     /* where it is plugged */
    const char *sg;             /* NULL: the VNI's default group */
};

/* VNI 100 and VNI 200 reuse the same IPs. */
static struct vm a1 = { "a1", "eni-a1", "02:00:00:01:00:01", "10.1.0.1",
                        100, 1, NULL };
static struct vm a2 = { "a2", "eni-a2", "02:00:00:01:00:02", "10.1.0.2",
                        100, 2, NULL };
static struct vm b1 = { "b1", "eni-b1", "02:00:00:02:00:01", "10.1.0.1",
                        200, 3, NULL };
static struct vm b2 = { "b2", "eni-b2", "02:00:00:02:00:02", "10.1.0.2",
                        200, 1, NULL };

/* Security groups, VNI 300. */
static struct vm srv = { "srv", "eni-srv", "02:00:00:03:00:01", "10.3.0.10",
                         300, 2, "sg-ssh" };
static struct vm cli = { "cli", "eni-cli", "02:00:00:03:00:02", "10.3.0.2",
                         300, 1, NULL };
static struct vm app = { "app", "eni-app", "02:00:00:03:00:03", "10.3.0.30",
                         300, 3, "sg-app" };
static struct vm dbs = { "dbs", "eni-dbs", "02:00:00:03:00:04", "10.3.0.40",
                         300, 1, "sg-db" };

/* The cold move, VNI 400. */
static struct vm m1 = { "m1", "eni-m1", "02:00:00:04:00:01", "10.4.0.1",
                        400, 1, NULL };
static struct vm m2 = { "m2", "eni-m2", "02:00:00:04:00:02", "10.4.0.2",
                        400, 2, NULL };

static struct vm *vms[] = { &a1, &a2, &b1, &b2, &srv, &cli, &app, &dbs,
                            &m1, &m2 };

#define VM_UUID "123e4567-e89b-12d3-a456-42661417400"

static void
create_eni(const struct vm *vm)
{
    char sg[64] = "";
    if (vm->sg) {
        snprintf(sg, sizeof sg, "--sg=%s", vm->sg);
    }
    assert_int_equal(dc_ctl(dc, NULL, "eni create --id=%s --mac=%s --ip=%s "
                            "--vni=%d %s >/dev/null", vm->eni, vm->mac,
                            vm->ip, vm->vni, sg), 0);
}

static void
plug(struct vm *vm, int hv)
{
    static int n;
    char uuid[64];
    snprintf(uuid, sizeof uuid, "%s%d", VM_UUID, n++ % 10);
    vm->hv = hv;
    assert_true(fabric_add_vif(dc->fabric, hv, vm->name, vm->eni, vm->mac,
                               uuid) > 0);
}

static int
setup(void **state)
{
    (void) state;
    dc = dc_create("enis", 3);
    if (!dc) {
        return -1;
    }
    if (dc_ctl(dc, NULL, "sg create --id=sg-ssh "
               "--rule=ingress,tcp,22,22,10.3.0.0/28 >/dev/null")
        || dc_ctl(dc, NULL, "sg create --id=sg-app "
                  "--rule=egress,any,,,0.0.0.0/0 >/dev/null")
        || dc_ctl(dc, NULL, "sg create --id=sg-db "
                  "--rule=ingress,tcp,5432,5432,sg-app >/dev/null")) {
        fprintf(stderr, "security groups not created\n");
        return -1;
    }
    for (size_t i = 0; i < sizeof vms / sizeof *vms; i++) {
        create_eni(vms[i]);
    }
    for (size_t i = 0; i < sizeof vms / sizeof *vms; i++) {
        plug(vms[i], vms[i]->hv);
    }
    for (size_t i = 0; i < sizeof vms / sizeof *vms; i++) {
        if (!dc_wait_bound(dc, vms[i]->eni, vms[i]->hv, WAIT_MS)) {
            return -1;
        }
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    dc_destroy(dc);
    dc = NULL;
    return 0;
}

/* --- Frames ------------------------------------------------------------- */

static void
inject(const struct vm *from, const struct frame *f)
{
    assert_int_equal(fabric_inject(dc->fabric, from->hv, from->name, f), 0);
}

/* 'from' sends UDP with 'payload' to 'to' (its MAC and IP), optionally with
 * another source MAC or IP. */
static void
send_udp_as(const struct vm *from, const char *src_mac, const char *src_ip,
            const struct vm *to, const char *payload)
{
    struct frame f;
    assert_int_equal(frame_udp4(&f, src_mac, to->mac, src_ip, to->ip, 4000,
                                5000, payload, strlen(payload)), 0);
    inject(from, &f);
}

static void
send_udp(const struct vm *from, const struct vm *to, const char *payload)
{
    send_udp_as(from, from->mac, from->ip, to, payload);
}

static int
count_udp(const struct vm *vm, const char *payload)
{
    return fabric_vif_count_rx(dc->fabric, vm->hv, vm->name,
                               frame_match_udp_payload, payload);
}

static void
expect_udp(const struct vm *vm, const char *payload, int n)
{
    int got = fabric_vif_wait_rx(dc->fabric, vm->hv, vm->name,
                                 frame_match_udp_payload, payload, n,
                                 WAIT_MS);
    if (got != n) {
        fail_msg("%s received %d frame(s) \"%s\", expected %d", vm->name, got,
                 payload, n);
    }
}

/* ARP replies: from 'mac' (Ethernet source and sender hardware address)
 * for 'spa', to 'tpa'. */
struct arp_reply {
    const char *mac;
    const char *spa;
    const char *tpa;            /* NULL: any */
};

static bool
match_arp_reply(const struct frame *f, const void *aux_)
{
    const struct arp_reply *aux = aux_;
    struct frame_info info;
    uint8_t mac[6];
    struct in_addr spa, tpa;

    if (!frame_parse(f, &info) || info.eth_type != 0x0806
        || info.arp_op != 2 || f->len < 42 || info.vlan_tci) {
        return false;
    }
    sscanf(aux->mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
           &mac[2], &mac[3], &mac[4], &mac[5]);
    inet_pton(AF_INET, aux->spa, &spa);
    if (aux->tpa) {
        inet_pton(AF_INET, aux->tpa, &tpa);
    }
    return (!memcmp(info.eth_src, mac, 6) && !memcmp(f->data + 22, mac, 6)
            && info.arp_spa == spa.s_addr
            && (!aux->tpa || info.arp_tpa == tpa.s_addr));
}

static int
count_arp(const struct vm *vm)
{
    uint16_t arp = 0x0806;
    return fabric_vif_count_rx(dc->fabric, vm->hv, vm->name,
                               frame_match_eth_type, &arp);
}

/* Packets the underlay switch has received from all hypervisors. */
static long long
underlay_rx_packets(void)
{
    char *out = NULL;
    long long sum = 0;
    assert_int_equal(sandbox_run(fabric_underlay(dc->fabric), &out,
                                 "ovs-ofctl dump-ports br-fabric"), 0);
    for (const char *p = out; (p = strstr(p, "rx pkts=")); p++) {
        sum += atoll(p + 8);
    }
    free(out);
    return sum;
}

/* TCP with explicit sequence and acknowledgement numbers, so that the
 * userspace conntrack's TCP window check sees a real handshake. */
static uint16_t
csum_add__(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (p[i] << 8) | p[i + 1];
    }
    if (n & 1) {
        sum += p[n - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

static void
send_tcp(const struct vm *from, const struct vm *to, uint16_t sport,
         uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    struct frame f;
    assert_int_equal(frame_tcp4(&f, from->mac, to->mac, from->ip, to->ip,
                                sport, dport, flags, NULL, 0), 0);
    uint8_t *ip = f.data + 14, *tcp = ip + 20;
    size_t tcp_len = ((ip[2] << 8) | ip[3]) - 20;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = seq >> (24 - 8 * i);
        tcp[8 + i] = ack >> (24 - 8 * i);
    }
    tcp[16] = tcp[17] = 0;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = tcp_len >> 8;
    pseudo[11] = tcp_len;
    uint16_t sum = csum_add__(csum_add__(0, pseudo, 12), tcp, tcp_len);
    sum = ~sum;
    tcp[16] = sum >> 8;
    tcp[17] = sum;
    inject(from, &f);
}

struct tcp_match {
    uint16_t sport, dport;
    uint8_t flags;
};

static bool
match_tcp(const struct frame *f, const void *aux_)
{
    const struct tcp_match *m = aux_;
    struct frame_info info;
    return (frame_parse(f, &info) && info.ip_proto == 6
            && info.src_port == m->sport && info.dst_port == m->dport
            && info.tcp_flags == m->flags && info.l4_csum_ok);
}

static int
count_tcp(const struct vm *vm, uint16_t sport, uint16_t dport, uint8_t flags)
{
    struct tcp_match m = { sport, dport, flags };
    return fabric_vif_count_rx(dc->fabric, vm->hv, vm->name, match_tcp, &m);
}

static bool
wait_tcp(const struct vm *vm, uint16_t sport, uint16_t dport, uint8_t flags)
{
    struct tcp_match m = { sport, dport, flags };
    return fabric_vif_wait_rx(dc->fabric, vm->hv, vm->name, match_tcp, &m, 1,
                              WAIT_MS) >= 1;
}

#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* Client 'c' opens a TCP connection to 's':'dport' from 'sport'.  Returns
 * true if the SYN reached the server and its SYN-ACK came back.  (A SYN that
 * must be refused is looked for after such a handshake, its marker.) */
static bool
tcp_handshake(const struct vm *c, const struct vm *s, uint16_t sport,
              uint16_t dport)
{
    send_tcp(c, s, sport, dport, TCP_SYN, 1000, 0);
    if (!wait_tcp(s, sport, dport, TCP_SYN)) {
        return false;
    }
    send_tcp(s, c, dport, sport, TCP_SYN | TCP_ACK, 5000, 1001);
    return wait_tcp(c, dport, sport, TCP_SYN | TCP_ACK);
}

/* --- Tests --------------------------------------------------------------- */

/* 1. UDP both ways across hosts within a VNI; the ARP responder answers in
 * place and no ARP crosses the overlay. */
static void
test_vni_connectivity(void **state)
{
    (void) state;
    for (int i = 0; i < 5; i++) {
        send_udp(&a1, &a2, "a1->a2");
        send_udp(&a2, &a1, "a2->a1");
    }
    expect_udp(&a2, "a1->a2", 5);
    expect_udp(&a1, "a2->a1", 5);

    /* a1 (hv1) asks for a2's IP (hv2); b2 (VNI 200, hv1) asks for 10.1.0.1,
     * which in VNI 200 is b1 on hv3, and in VNI 100 a1 right next to it. */
    int a2_arps = count_arp(&a2), b1_arps = count_arp(&b1);
    int a1_arps = count_arp(&a1);
    long long underlay = underlay_rx_packets();
    struct frame f;
    assert_int_equal(frame_arp(&f, 1, a1.mac, a1.ip, NULL, a2.ip), 0);
    inject(&a1, &f);
    assert_int_equal(frame_arp(&f, 1, b2.mac, b2.ip, NULL, b1.ip), 0);
    inject(&b2, &f);

    struct arp_reply r = { a2.mac, a2.ip, a1.ip };
    assert_int_equal(fabric_vif_wait_rx(dc->fabric, a1.hv, a1.name,
                                        match_arp_reply, &r, 1, WAIT_MS), 1);
    struct arp_reply r2 = { b1.mac, b1.ip, b2.ip };
    assert_int_equal(fabric_vif_wait_rx(dc->fabric, b2.hv, b2.name,
                                        match_arp_reply, &r2, 1, WAIT_MS), 1);
    /* Exactly one reply each, none from the same-IP ENI of the other VNI. */
    assert_int_equal(count_arp(&a1), a1_arps + 1);
    struct arp_reply wrong = { a1.mac, a1.ip, NULL };
    assert_int_equal(fabric_vif_count_rx(dc->fabric, b2.hv, b2.name,
                                         match_arp_reply, &wrong), 0);

    /* Nothing went over the underlay: a datagram that must cross it now
     * arrives after anything the ARPs could have sent, and is the only
     * packet the underlay saw. */
    send_udp(&a1, &a2, "after-arp");
    expect_udp(&a2, "after-arp", 1);
    assert_int_equal(underlay_rx_packets(), underlay + 1);
    assert_int_equal(count_arp(&a2), a2_arps);
    assert_int_equal(count_arp(&b1), b1_arps);
}

/* 2. Nothing crosses between VNIs, not even with the same IPs. */
static void
test_vni_isolation(void **state)
{
    (void) state;
    /* b2 (VNI 200, hv1) to a2's MAC and IP (VNI 100, hv2); a1 (VNI 100,
     * hv1) to b2 (VNI 200, same host); b1 (VNI 200, hv3) to a1; and a
     * broadcast in VNI 100. */
    send_udp(&b2, &a2, "x-200-to-100");
    send_udp(&a1, &b2, "x-100-to-200-local");
    send_udp(&b1, &a1, "x-200-to-100-b");
    struct frame f;
    assert_int_equal(frame_udp4(&f, a2.mac, "ff:ff:ff:ff:ff:ff", a2.ip,
                                "10.1.0.255", 4000, 5000, "bcast-100", 9), 0);
    inject(&a2, &f);

    /* Markers along the same ways, within the right VNIs. */
    send_udp(&a1, &a2, "m-a2");
    send_udp(&b2, &b1, "m-b1");
    send_udp(&a2, &a1, "m-a1");
    expect_udp(&a2, "m-a2", 1);
    expect_udp(&b1, "m-b1", 1);
    expect_udp(&a1, "m-a1", 1);
    /* b2 is on a1's host: a marker from b1 to it. */
    send_udp(&b1, &b2, "m-b2");
    expect_udp(&b2, "m-b2", 1);

    assert_int_equal(count_udp(&a2, "x-200-to-100"), 0);
    assert_int_equal(count_udp(&b2, "x-100-to-200-local"), 0);
    assert_int_equal(count_udp(&a1, "x-200-to-100-b"), 0);
    assert_int_equal(count_udp(&a1, "bcast-100"), 1);
    assert_int_equal(count_udp(&b1, "bcast-100"), 0);
    assert_int_equal(count_udp(&b2, "bcast-100"), 0);
    assert_int_equal(count_udp(&m1, "bcast-100"), 0);
}

/* 3. A VIF may only send as its ENI. */
static void
test_port_security(void **state)
{
    (void) state;
    send_udp_as(&a1, "02:00:00:01:00:99", a1.ip, &a2, "spoof-mac");
    send_udp_as(&a1, a2.mac, a1.ip, &a2, "spoof-mac-other-eni");
    send_udp_as(&a1, a1.mac, "10.1.0.99", &a2, "spoof-ip");
    send_udp_as(&a1, a1.mac, a2.ip, &a2, "spoof-ip-other-eni");
    send_udp_as(&a1, a1.mac, "0.0.0.0", &a2, "spoof-ip-zero");
    send_udp(&a1, &a2, "m-after-spoof");
    expect_udp(&a2, "m-after-spoof", 1);
    assert_int_equal(count_udp(&a2, "spoof-mac"), 0);
    assert_int_equal(count_udp(&a2, "spoof-mac-other-eni"), 0);
    assert_int_equal(count_udp(&a2, "spoof-ip"), 0);
    assert_int_equal(count_udp(&a2, "spoof-ip-other-eni"), 0);
    assert_int_equal(count_udp(&a2, "spoof-ip-zero"), 0);

    /* ARP with a spoofed sender IP gets no answer (and reaches no one);
     * the honest request after it does. */
    struct frame f;
    int a2_arps = count_arp(&a2);
    assert_int_equal(frame_arp(&f, 1, a1.mac, "10.1.0.99", NULL, a2.ip), 0);
    inject(&a1, &f);
    assert_int_equal(frame_arp(&f, 1, a1.mac, a2.ip, NULL, a2.ip), 0);
    inject(&a1, &f);        /* claims a2's address: a GARP for it */
    assert_int_equal(frame_arp(&f, 1, "02:00:00:01:00:99", a1.ip, NULL,
                               a2.ip), 0);
    inject(&a1, &f);        /* honest spa, spoofed sha */
    assert_int_equal(frame_arp(&f, 1, a1.mac, a1.ip, NULL, a2.ip), 0);
    inject(&a1, &f);
    struct arp_reply honest = { a2.mac, a2.ip, a1.ip };
    struct arp_reply spoofed = { a2.mac, a2.ip, "10.1.0.99" };
    struct arp_reply to_a2 = { a2.mac, a2.ip, a2.ip };
    assert_true(fabric_vif_wait_rx(dc->fabric, a1.hv, a1.name,
                                   match_arp_reply, &honest, 1, WAIT_MS) >= 1);
    /* The replies so far: test 1's and this honest one, one each. */
    send_udp(&a1, &a2, "m-after-arp-spoof");
    expect_udp(&a2, "m-after-arp-spoof", 1);
    assert_int_equal(fabric_vif_count_rx(dc->fabric, a1.hv, a1.name,
                                         match_arp_reply, &spoofed), 0);
    assert_int_equal(fabric_vif_count_rx(dc->fabric, a1.hv, a1.name,
                                         match_arp_reply, &to_a2), 0);
    assert_int_equal(count_arp(&a2), a2_arps);
}

/* 4. Security groups through the REST API. */
static void
test_security_groups(void **state)
{
    (void) state;
    /* cli (default group, 10.3.0.2 in 10.3.0.0/28) -> srv:22 (sg-ssh). */
    assert_true(tcp_handshake(&cli, &srv, 40001, 22));
    /* srv:23 is not allowed, nor is app (sg-app, egress any) outside the
     * CIDR; the handshake after them is their marker. */
    send_tcp(&cli, &srv, 40002, 23, TCP_SYN, 1000, 0);
    send_tcp(&app, &srv, 40003, 22, TCP_SYN, 1000, 0);  /* outside CIDR */
    assert_true(tcp_handshake(&cli, &srv, 40004, 22));
    assert_int_equal(count_tcp(&srv, 40002, 23, TCP_SYN), 0);
    assert_int_equal(count_tcp(&srv, 40003, 22, TCP_SYN), 0);

    /* remote_group: sg-db lets sg-app's members in on 5432, not cli. */
    send_tcp(&cli, &dbs, 40005, 5432, TCP_SYN, 1000, 0);
    assert_true(tcp_handshake(&app, &dbs, 40006, 5432));
    assert_int_equal(count_tcp(&dbs, 40005, 5432, TCP_SYN), 0);

    /* Changing sg-ssh to allow 23 instead of 22 changes what passes, for
     * new connections. */
    long long rounds = dc_stat(dc, "flow_rounds");
    assert_int_equal(dc_ctl(dc, NULL, "sg create --id=sg-ssh --replace "
                            "--rule=ingress,tcp,23,23,10.3.0.0/28 "
                            ">/dev/null"), 0);
    long long deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "flow_rounds") <= rounds && dc_now_ms() < deadline) {
        dc_sleep_ms(5);
    }
    assert_true(dc_wait_idle(dc, WAIT_MS));
    send_tcp(&cli, &srv, 40007, 22, TCP_SYN, 1000, 0);
    assert_true(tcp_handshake(&cli, &srv, 40008, 23));
    assert_int_equal(count_tcp(&srv, 40007, 22, TCP_SYN), 0);

    /* And back. */
    rounds = dc_stat(dc, "flow_rounds");
    assert_int_equal(dc_ctl(dc, NULL, "sg create --id=sg-ssh --replace "
                            "--rule=ingress,tcp,22,22,10.3.0.0/28 "
                            ">/dev/null"), 0);
    deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "flow_rounds") <= rounds && dc_now_ms() < deadline) {
        dc_sleep_ms(5);
    }
    assert_true(dc_wait_idle(dc, WAIT_MS));
    send_tcp(&cli, &srv, 40009, 23, TCP_SYN, 1000, 0);
    assert_true(tcp_handshake(&cli, &srv, 40010, 22));
    assert_int_equal(count_tcp(&srv, 40009, 23, TCP_SYN), 0);
}

/* 5. A cold move: m2 unplugged on hv2, plugged on hv3. */
static void
test_cold_move(void **state)
{
    (void) state;
    send_udp(&m1, &m2, "before-move");
    expect_udp(&m2, "before-move", 1);
    long long epoch = dc_eni_int(dc, m2.eni, "epoch");

    assert_int_equal(fabric_del_vif(dc->fabric, 2, m2.name), 0);
    assert_true(dc_wait_bound(dc, m2.eni, 0, WAIT_MS));
    double rounds = dc_stat(dc, "flow_rounds");

    long long t0 = dc_now_ms();
    plug(&m2, 3);
    long long deadline = t0 + WAIT_MS;
    char *host = NULL;
    for (;;) {
        free(host);
        host = dc_eni_host(dc, m2.eni);
        if ((host && !strcmp(host, "hv3") && dc_stat(dc, "flow_rounds") > rounds
             && dc_stat(dc, "flows_idle") == 1) || dc_now_ms() > deadline) {
            break;
        }
        dc_sleep_ms(2);
    }
    long long wall = dc_now_ms() - t0;
    assert_non_null(host);
    assert_string_equal(host, "hv3");
    free(host);
    assert_true(dc_eni_int(dc, m2.eni, "epoch") > epoch);
    printf("# cold_move_ms: %.1f (tetherd last_round_ms: report -> flows "
           "confirmed on %.0f host(s)); plug -> observed confirmed: %lld ms "
           "(includes polling tetherctl/appctl)\n",
           dc_stat(dc, "last_round_ms"), dc_stat(dc, "last_round_hosts"),
           wall);

    for (int i = 0; i < 3; i++) {
        send_udp(&m1, &m2, "after-move");
        send_udp(&m2, &m1, "after-move-back");
    }
    expect_udp(&m2, "after-move", 3);
    expect_udp(&m1, "after-move-back", 3);
}

/* 8. VIFs that must bind nothing: an unknown ENI, a wrong attached-mac (on
 * an unbound ENI and on one bound elsewhere). */
static void
test_bad_vifs(void **state)
{
    (void) state;
    assert_int_equal(dc_ctl(dc, NULL, "eni create --id=eni-w "
                            "--mac=02:00:00:05:00:01 --ip=10.5.0.1 --vni=500 "
                            ">/dev/null"), 0);
    double unknown = dc_stat(dc, "unknown_enis");
    double refused = dc_stat(dc, "binding_refused");
    long long a1_epoch = dc_eni_int(dc, a1.eni, "epoch");

    assert_true(fabric_add_vif(dc->fabric, 1, "ghost", "eni-ghost",
                               "02:00:00:05:00:77", VM_UUID "9") > 0);
    long long deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "unknown_enis") < unknown + 1
           && dc_now_ms() < deadline) {
        dc_sleep_ms(5);
    }
    assert_int_equal(dc_stat(dc, "unknown_enis"), unknown + 1);

    assert_true(fabric_add_vif(dc->fabric, 2, "wrong", "eni-w",
                               "02:00:00:05:00:99", VM_UUID "8") > 0);
    assert_true(fabric_add_vif(dc->fabric, 3, "thief", a1.eni,
                               "02:00:00:05:00:98", VM_UUID "7") > 0);
    deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "binding_refused") < refused + 2
           && dc_now_ms() < deadline) {
        dc_sleep_ms(5);
    }
    assert_int_equal(dc_stat(dc, "binding_refused"), refused + 2);
    assert_true(dc_wait_idle(dc, WAIT_MS));

    char *host = dc_eni_host(dc, "eni-w");
    assert_non_null(host);
    assert_string_equal(host, "");
    free(host);
    host = dc_eni_host(dc, a1.eni);
    assert_non_null(host);
    assert_string_equal(host, "hv1");
    free(host);
    assert_int_equal(dc_eni_int(dc, a1.eni, "epoch"), a1_epoch);
    assert_int_equal(dc_ctl(dc, NULL, "eni show eni-ghost >/dev/null 2>&1"),
                     1);

    /* a1 still gets its traffic; the thief gets none of it. */
    send_udp(&a2, &a1, "not-for-thief");
    expect_udp(&a1, "not-for-thief", 1);
    assert_int_equal(fabric_vif_count_rx(dc->fabric, 3, "thief",
                                         frame_match_udp_payload,
                                         "not-for-thief"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vni_connectivity),
        cmocka_unit_test(test_vni_isolation),
        cmocka_unit_test(test_port_security),
        cmocka_unit_test(test_security_groups),
        cmocka_unit_test(test_cold_move),
        cmocka_unit_test(test_bad_vifs),
    };
    return cmocka_run_group_tests_name("enis", tests, setup, teardown);
}
