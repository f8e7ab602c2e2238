/* Ethernet frames for sandbox tests: builders, a parser, matchers and a
 * pcap file reader.  See pcap.h for the contract. */
#include "tests/sandbox/pcap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20
#define ICMP_HLEN 8

#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_RARP 0x8035
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_IP6 0x86dd

static void
put16__(uint8_t *p, uint16_t x)
{
    p[0] = x >> 8;
    p[1] = x;
}

static uint16_t
get16__(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static int
parse_mac__(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char c;

    if (!s || sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
                     &b[4], &b[5], &c) != 6) {
        return EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            return EINVAL;
        }
        mac[i] = b[i];
    }
    return 0;
}

static int
parse_ip4__(const char *s, uint8_t ip[4])
{
    return s && inet_pton(AF_INET, s, ip) == 1 ? 0 : EINVAL;
}

static int
parse_ip6__(const char *s, uint8_t ip[16])
{
    return s && inet_pton(AF_INET6, s, ip) == 1 ? 0 : EINVAL;
}

/* The 32-bit running sum of 'len' bytes at 'p' as 16-bit big-endian words
 * (an odd last byte padded with zero), added to 'sum'. */
static uint32_t
csum_add__(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get16__(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

/* Folds 'sum' to 16 bits and complements it: the Internet checksum. */
static uint16_t
csum_finish__(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* The sum of the IPv4 or IPv6 pseudo-header for an L4 segment of
 * 'l4_len' bytes of protocol 'proto', given the IP header at 'ip'. */
static uint32_t
pseudo_sum__(const uint8_t *ip, bool ipv6, uint8_t proto, size_t l4_len)
{
    /* Source and destination addresses are adjacent in both headers. */
    uint32_t sum = (ipv6
                    ? csum_add__(0, ip + 8, 32)
                    : csum_add__(0, ip + 12, 8));
    return sum + proto + (l4_len & 0xffff) + (l4_len >> 16);
}

/* Starts 'f' with an Ethernet header. */
static int
eth__(struct frame *f, const char *src, const char *dst, uint16_t type)
{
    memset(f, 0, sizeof *f);
    if (parse_mac__(dst, f->data) || parse_mac__(src, f->data + 6)) {
        return EINVAL;
    }
    put16__(f->data + 12, type);
    f->len = ETH_HLEN;
    return 0;
}

static int
arp__(struct frame *f, uint16_t eth_type, const char *eth_dst, int op,
      const char *sha, const char *spa, const char *tha, const char *tpa)
{
    int error = eth__(f, sha, eth_dst, eth_type);
    uint8_t *a = f->data + ETH_HLEN;

    if (!error) {
        put16__(a, 1);                  /* Ethernet */
        put16__(a + 2, ETH_TYPE_IP4);
        a[4] = 6;
        a[5] = 4;
        put16__(a + 6, op);
        error = (parse_mac__(sha, a + 8) || parse_ip4__(spa, a + 14)
                 || (tha && parse_mac__(tha, a + 18))
                 || parse_ip4__(tpa, a + 24)) ? EINVAL : 0;
        f->len += 28;
    }
    if (error) {
        f->len = 0;
    }
    return error;
}

int
frame_arp(struct frame *f, int op, const char *sha, const char *spa,
          const char *tha, const char *tpa)
{
    return (op == 1
            ? arp__(f, ETH_TYPE_ARP, "ff:ff:ff:ff:ff:ff", 1, sha, spa, NULL,
                    tpa)
            : arp__(f, ETH_TYPE_ARP, tha, op, sha, spa, tha, tpa));
}

int
frame_garp(struct frame *f, const char *mac, const char *ip)
{
    return frame_arp(f, 1, mac, ip, NULL, ip);
}

int
frame_rarp(struct frame *f, const char *mac)
{
    return arp__(f, ETH_TYPE_RARP, "ff:ff:ff:ff:ff:ff", 3, mac, "0.0.0.0",
                 mac, "0.0.0.0");
}

/* Builds an IPv4 packet carrying the 'l4_hlen'-byte L4 header 'l4' and
 * 'payload'.  Fills in the UDP length, and the L4 checksum at offset
 * 'csum_ofs' of the L4 header. */
static int
ip4__(struct frame *f, const char *src, const char *dst, const char *src_ip,
      const char *dst_ip, uint8_t proto, const uint8_t *l4, size_t l4_hlen,
      size_t csum_ofs, const void *payload, size_t payload_len)
{
    size_t l4_len = l4_hlen + payload_len;
    int error = eth__(f, src, dst, ETH_TYPE_IP4);
    uint8_t *ip = f->data + ETH_HLEN;

    if (error || ETH_HLEN + IP4_HLEN + l4_len > FRAME_MAX) {
        f->len = 0;
        return EINVAL;
    }
    ip[0] = 0x45;
    put16__(ip + 2, IP4_HLEN + l4_len);
    ip[8] = 64;
    ip[9] = proto;
    if (parse_ip4__(src_ip, ip + 12) || parse_ip4__(dst_ip, ip + 16)) {
        f->len = 0;
        return EINVAL;
    }
    put16__(ip + 10, csum_finish__(csum_add__(0, ip, IP4_HLEN)));

    uint8_t *l4p = ip + IP4_HLEN;
    memcpy(l4p, l4, l4_hlen);
    if (payload_len) {
        memcpy(l4p + l4_hlen, payload, payload_len);
    }
    if (proto == IPPROTO_UDP) {
        put16__(l4p + 4, l4_len);
    }
    uint32_t sum = proto == IPPROTO_ICMP ? 0 : pseudo_sum__(ip, false, proto,
                                                            l4_len);
    uint16_t csum = csum_finish__(csum_add__(sum, l4p, l4_len));
    if (proto == IPPROTO_UDP && !csum) {
        csum = 0xffff;          /* 0 would mean "no checksum" */
    }
    put16__(l4p + csum_ofs, csum);
    f->len = ETH_HLEN + IP4_HLEN + l4_len;
    return 0;
}

int
frame_udp4(struct frame *f, const char *src, const char *dst,
           const char *src_ip, const char *dst_ip,
           uint16_t src_port, uint16_t dst_port,
           const void *payload, size_t payload_len)
{
    uint8_t udp[UDP_HLEN] = { 0 };

    put16__(udp, src_port);
    put16__(udp + 2, dst_port);
    return ip4__(f, src, dst, src_ip, dst_ip, IPPROTO_UDP, udp, UDP_HLEN, 6,
                 payload, payload_len);
}

int
frame_tcp4(struct frame *f, const char *src, const char *dst,
           const char *src_ip, const char *dst_ip,
           uint16_t src_port, uint16_t dst_port, uint8_t tcp_flags,
           const void *payload, size_t payload_len)
{
    uint8_t tcp[TCP_HLEN] = { 0 };

    put16__(tcp, src_port);
    put16__(tcp + 2, dst_port);
    tcp[7] = 1;                         /* seq 1 */
    tcp[12] = (TCP_HLEN / 4) << 4;
    tcp[13] = tcp_flags;
    put16__(tcp + 14, 65535);
    return ip4__(f, src, dst, src_ip, dst_ip, IPPROTO_TCP, tcp, TCP_HLEN, 16,
                 payload, payload_len);
}

int
frame_icmp4_echo(struct frame *f, const char *src, const char *dst,
                 const char *src_ip, const char *dst_ip, int type,
                 uint16_t id, uint16_t seq,
                 const void *payload, size_t payload_len)
{
    uint8_t icmp[ICMP_HLEN] = { type };

    put16__(icmp + 4, id);
    put16__(icmp + 6, seq);
    return ip4__(f, src, dst, src_ip, dst_ip, IPPROTO_ICMP, icmp, ICMP_HLEN,
                 2, payload, payload_len);
}

/* Builds an ICMPv6 neighbor discovery message 'type' (135 NS, 136 NA) with
 * 'flags' in its first reserved byte, target 'target', and a link-layer
 * address option of 'opt_type' carrying 'src'. */
static int
nd6__(struct frame *f, const char *src, const char *dst, const char *src_ip,
      const uint8_t dst_ip[16], uint8_t type, uint8_t flags,
      const uint8_t target[16], uint8_t opt_type)
{
    const size_t icmp_len = 8 + 16 + 8;
    int error = eth__(f, src, dst, ETH_TYPE_IP6);
    uint8_t *ip = f->data + ETH_HLEN;
    uint8_t *icmp = ip + IP6_HLEN;

    if (error || parse_ip6__(src_ip, ip + 8)) {
        f->len = 0;
        return EINVAL;
    }
    ip[0] = 0x60;
    put16__(ip + 4, icmp_len);
    ip[6] = 58;                         /* ICMPv6 */
    ip[7] = 255;                        /* hop limit, required by ND */
    memcpy(ip + 24, dst_ip, 16);

    icmp[0] = type;
    icmp[4] = flags;
    memcpy(icmp + 8, target, 16);
    icmp[24] = opt_type;
    icmp[25] = 1;                       /* 8 octets */
    parse_mac__(src, icmp + 26);
    put16__(icmp + 2, csum_finish__(csum_add__(pseudo_sum__(ip, true, 58,
                                                            icmp_len),
                                               icmp, icmp_len)));
    f->len = ETH_HLEN + IP6_HLEN + icmp_len;
    return 0;
}

int
frame_nd6_ns(struct frame *f, const char *src, const char *src_ip,
             const char *target)
{
    uint8_t tgt[16], group[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
    char dst[18];

    if (parse_ip6__(target, tgt)) {
        f->len = 0;
        return EINVAL;
    }
    memcpy(group + 13, tgt + 13, 3);
    snprintf(dst, sizeof dst, "33:33:ff:%02x:%02x:%02x",
             tgt[13], tgt[14], tgt[15]);
    return nd6__(f, src, dst, src_ip, group, 135, 0, tgt, 1);
}

int
frame_nd6_na(struct frame *f, const char *mac, const char *ip)
{
    uint8_t tgt[16], all_nodes[16] = { 0xff, 0x02, [15] = 1 };

    if (parse_ip6__(ip, tgt)) {
        f->len = 0;
        return EINVAL;
    }
    return nd6__(f, mac, "33:33:00:00:00:01", ip, all_nodes, 136,
                 0x20 /* override */, tgt, 2);
}

char *
frame_to_hex(const struct frame *f)
{
    char *hex = malloc(2 * f->len + 1);

    for (size_t i = 0; i < f->len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", f->data[i]);
    }
    hex[2 * f->len] = '\0';
    return hex;
}

/* Parses the L4 header of protocol 'proto' at 'l4' ('len' bytes, its IP
 * header at 'ip') into 'info'. */
static void
parse_l4__(const uint8_t *ip, bool ipv6, uint8_t proto, const uint8_t *l4,
           size_t len, struct frame_info *info)
{
    size_t hlen;

    if (proto == IPPROTO_UDP && len >= UDP_HLEN) {
        hlen = UDP_HLEN;
    } else if (proto == IPPROTO_TCP && len >= TCP_HLEN
               && (size_t) (l4[12] >> 4) * 4 <= len) {
        hlen = (l4[12] >> 4) * 4;
        info->tcp_flags = l4[13];
    } else if ((proto == IPPROTO_ICMP || proto == 58) && len >= 4) {
        hlen = len >= ICMP_HLEN ? ICMP_HLEN : len;
        info->icmp_type = l4[0];
        info->icmp_code = l4[1];
    } else {
        return;
    }
    if (proto == IPPROTO_UDP || proto == IPPROTO_TCP) {
        info->src_port = get16__(l4);
        info->dst_port = get16__(l4 + 2);
    }

    uint32_t sum = (proto == IPPROTO_ICMP ? 0
                    : pseudo_sum__(ip, ipv6, proto, len));
    info->l4_csum_ok = (!csum_finish__(csum_add__(sum, l4, len))
                        || (proto == IPPROTO_UDP && !ipv6
                            && !get16__(l4 + 6)));
    info->payload = l4 + hlen;
    info->payload_len = len - hlen;
}

bool
frame_parse(const struct frame *f, struct frame_info *info)
{
    const uint8_t *p = f->data;
    size_t len = f->len;

    memset(info, 0, sizeof *info);
    if (len < ETH_HLEN) {
        return false;
    }
    memcpy(info->eth_dst, p, 6);
    memcpy(info->eth_src, p + 6, 6);
    info->eth_type = get16__(p + 12);
    p += ETH_HLEN;
    len -= ETH_HLEN;
    if (info->eth_type == ETH_TYPE_VLAN && len >= 4) {
        info->vlan_tci = get16__(p);
        info->eth_type = get16__(p + 2);
        p += 4;
        len -= 4;
    }

    if ((info->eth_type == ETH_TYPE_ARP || info->eth_type == ETH_TYPE_RARP)
        && len >= 28) {
        info->arp_op = get16__(p + 6);
        memcpy(&info->arp_spa, p + 14, 4);
        memcpy(&info->arp_tpa, p + 24, 4);
    } else if (info->eth_type == ETH_TYPE_IP4 && len >= IP4_HLEN) {
        size_t ihl = (p[0] & 0x0f) * 4;
        size_t tot_len = get16__(p + 2);

        if (ihl < IP4_HLEN || tot_len < ihl || tot_len > len) {
            return false;
        }
        memcpy(&info->ip4_src, p + 12, 4);
        memcpy(&info->ip4_dst, p + 16, 4);
        info->ip_proto = p[9];
        info->ip_csum_ok = !csum_finish__(csum_add__(0, p, ihl));
        if (!(get16__(p + 6) & 0x1fff)) {       /* first or only fragment */
            parse_l4__(p, false, p[9], p + ihl, tot_len - ihl, info);
        }
    } else if (info->eth_type == ETH_TYPE_IP6 && len >= IP6_HLEN) {
        size_t pl_len = get16__(p + 4);

        if (IP6_HLEN + pl_len > len) {
            return false;
        }
        memcpy(info->ip6_src, p + 8, 16);
        memcpy(info->ip6_dst, p + 24, 16);
        info->ip_proto = p[6];
        parse_l4__(p, true, p[6], p + IP6_HLEN, pl_len, info);
    }
    return true;
}

bool
frame_match_any(const struct frame *f, const void *aux)
{
    (void) f;
    (void) aux;
    return true;
}

bool
frame_match_equal(const struct frame *f, const void *aux)
{
    const struct frame *want = aux;
    return f->len == want->len && !memcmp(f->data, want->data, f->len);
}

bool
frame_match_udp_payload(const struct frame *f, const void *aux)
{
    const char *want = aux;
    struct frame_info info;

    return (frame_parse(f, &info) && info.ip_proto == IPPROTO_UDP
            && info.payload && info.payload_len == strlen(want)
            && !memcmp(info.payload, want, info.payload_len));
}

bool
frame_match_eth_type(const struct frame *f, const void *aux)
{
    struct frame_info info;
    return frame_parse(f, &info) && info.eth_type == *(const uint16_t *) aux;
}

static uint32_t
get32__(const uint8_t *p, bool swap)
{
    uint32_t x;

    memcpy(&x, p, 4);
    return swap ? __builtin_bswap32(x) : x;
}

int
pcap_read(const char *path, struct frame **framesp, size_t *np)
{
    uint8_t hdr[24];
    size_t n = 0, allocated = 0;
    struct frame *frames = NULL;
    int error = 0;
    FILE *file;

    *framesp = NULL;
    *np = 0;
    file = fopen(path, "rb");
    if (!file) {
        return errno == ENOENT ? 0 : errno;
    }
    if (fread(hdr, 1, sizeof hdr, file) != sizeof hdr) {
        fclose(file);
        return 0;               /* not even the header written yet */
    }

    uint32_t magic = get32__(hdr, false);
    bool swap;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
        swap = false;
    } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
        swap = true;
    } else {
        fclose(file);
        return EPROTO;
    }

    for (;;) {
        uint8_t rec[16];
        if (fread(rec, 1, sizeof rec, file) != sizeof rec) {
            break;
        }
        uint32_t caplen = get32__(rec + 8, swap);
        if (caplen > 1 << 20) {
            error = EPROTO;
            break;
        }
        if (n >= allocated) {
            allocated = allocated ? 2 * allocated : 16;
            frames = realloc(frames, allocated * sizeof *frames);
        }

        struct frame *f = &frames[n];
        size_t keep = caplen < FRAME_MAX ? caplen : FRAME_MAX;
        if (fread(f->data, 1, keep, file) != keep
            || (caplen > keep && fseek(file, caplen - keep, SEEK_CUR))) {
            break;              /* cut short: a write in progress */
        }
        f->len = keep;
        n++;
    }
    fclose(file);

    if (error) {
        free(frames);
        return error;
    }
    *framesp = frames;
    *np = n;
    return 0;
}

int
pcap_count(const char *path, frame_match_func *match, const void *aux)
{
    struct frame *frames;
    size_t n;
    int count = 0;

    if (pcap_read(path, &frames, &n)) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        count += match(&frames[i], aux);
    }
    free(frames);
    return count;
}
