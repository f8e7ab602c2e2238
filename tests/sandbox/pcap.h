/* Ethernet frames for sandbox tests: small builders for the frames a VM or a
 * hypervisor sends (ARP, RARP, IPv4 UDP/TCP/ICMP, IPv6 neighbor discovery,
 * all with correct checksums), a parser and matchers for what comes back,
 * and a reader for the pcap files ovs-vswitchd's dummy ports write
 * (options:tx_pcap / options:rxq_pcap).  Pure code: no processes, no OVS.
 *
 * Contract:
 *
 *   - A struct frame is a plain buffer: 'data' holds 'len' bytes, starting
 *     with the Ethernet header.  Builders overwrite the whole frame and
 *     return 0, or EINVAL (leaving 'len' 0) if an address does not parse
 *     or the frame would not fit.  Addresses are text ("02:00:00:00:00:01",
 *     "10.0.0.1", "fd00::1") so that tests read like the flows they test.
 *
 *   - pcap_read() reads a classic libpcap file (either byte order, micro- or
 *     nanosecond timestamps) as written by OVS, which flushes after every
 *     packet.  A missing file is an empty capture; a record cut short at the
 *     end of the file (a write in progress) is ignored. */
#ifndef TESTS_SANDBOX_PCAP_H
#define TESTS_SANDBOX_PCAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 2048

struct frame {
    size_t len;
    uint8_t data[FRAME_MAX];
};

/* Builders.  'src'/'dst' are Ethernet addresses, IP addresses are in their
 * usual text form. */

/* ARP (EtherType 0x0806) request ('op' 1) or reply ('op' 2).  A request goes
 * to the broadcast address with 'tha' ignored (zero); a reply goes to
 * 'tha'. */
int frame_arp(struct frame *, int op, const char *sha, const char *spa,
              const char *tha, const char *tpa);

/* A gratuitous ARP request for 'ip' from 'mac' (sender and target 'ip'). */
int frame_garp(struct frame *, const char *mac, const char *ip);

/* A RARP request (EtherType 0x8035, op 3) for 'mac', broadcast, as QEMU
 * sends after a live migration. */
int frame_rarp(struct frame *, const char *mac);

/* IPv4 (TTL 64, DF clear, id 0) carrying UDP, TCP or ICMP echo.  TCP has no
 * options, window 65535; 'tcp_flags' is the low byte of the flags (e.g.
 * 0x02 SYN, 0x10 ACK). */
int frame_udp4(struct frame *, const char *src, const char *dst,
               const char *src_ip, const char *dst_ip,
               uint16_t src_port, uint16_t dst_port,
               const void *payload, size_t payload_len);
int frame_tcp4(struct frame *, const char *src, const char *dst,
               const char *src_ip, const char *dst_ip,
               uint16_t src_port, uint16_t dst_port, uint8_t tcp_flags,
               const void *payload, size_t payload_len);
/* ICMP echo request ('type' 8) or reply ('type' 0). */
int frame_icmp4_echo(struct frame *, const char *src, const char *dst,
                     const char *src_ip, const char *dst_ip, int type,
                     uint16_t id, uint16_t seq,
                     const void *payload, size_t payload_len);

/* IPv6 neighbor solicitation for 'target' from 'src_ip', to its
 * solicited-node multicast group, with a source link-layer option. */
int frame_nd6_ns(struct frame *, const char *src, const char *src_ip,
                 const char *target);
/* Unsolicited neighbor advertisement (override flag set) of 'ip' owned by
 * 'mac', to all nodes (ff02::1), with a target link-layer option: what a
 * guest sends after it moved. */
int frame_nd6_na(struct frame *, const char *mac, const char *ip);

/* Writes 'frame' as lowercase hex (2 * len + 1 bytes with the NUL) into a
 * newly allocated string, as netdev-dummy/receive wants it. */
char *frame_to_hex(const struct frame *);

/* What a test usually wants to know about a frame.  Fields of layers the
 * frame does not have are zero. */
struct frame_info {
    uint8_t eth_dst[6], eth_src[6];
    uint16_t eth_type;          /* after one VLAN tag, if any */
    uint16_t vlan_tci;          /* 0 if untagged */

    /* ARP/RARP. */
    uint16_t arp_op;
    uint32_t arp_spa, arp_tpa;  /* network byte order */

    /* IPv4 / IPv6. */
    uint32_t ip4_src, ip4_dst;  /* network byte order */
    uint8_t ip6_src[16], ip6_dst[16];
    uint8_t ip_proto;
    bool ip_csum_ok;            /* IPv4 header checksum verifies */

    /* UDP, TCP, ICMP, ICMPv6. */
    uint16_t src_port, dst_port;
    uint8_t tcp_flags;
    uint8_t icmp_type, icmp_code;
    bool l4_csum_ok;            /* the L4 checksum verifies */
    const uint8_t *payload;     /* into the frame; after the L4 header */
    size_t payload_len;
};

/* Parses 'frame' into '*info'.  Returns false if it is not even a whole
 * Ethernet header, or if an IP header claims more than the frame holds. */
bool frame_parse(const struct frame *, struct frame_info *);

/* A predicate on frames: true if 'frame' is wanted.  The matchers below
 * take the 'aux' documented with each. */
typedef bool frame_match_func(const struct frame *, const void *aux);

frame_match_func frame_match_any;        /* aux unused */
frame_match_func frame_match_equal;      /* aux: const struct frame * */
frame_match_func frame_match_udp_payload;/* aux: NUL-terminated string */
frame_match_func frame_match_eth_type;   /* aux: const uint16_t * */

/* Reads every frame of pcap file 'path' into '*framesp' (an array the caller
 * frees) and '*np'.  Returns 0 (also for a file that does not exist yet, as
 * an empty capture) or a positive errno value (EPROTO: not a pcap file). */
int pcap_read(const char *path, struct frame **framesp, size_t *np);

/* The number of frames in 'path' that 'match' accepts with 'aux', or -1 if
 * the file cannot be read. */
int pcap_count(const char *path, frame_match_func *match, const void *aux);

#endif /* tests/sandbox/pcap.h */
