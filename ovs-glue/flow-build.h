/* Builds one flow's match and actions directly in the canonical form of
 * flow-table.h -- the form in which a switch reports the flow back -- so
 * that a flow computation adds it with flow_table_add_flow_canonical(),
 * without the ovs-ofctl text parser and without an OpenFlow 1.3 encode and
 * decode per flow (together ~9 us a flow, most of a full computation).
 *
 * It is not a general flow parser: it offers what tether's flow computation
 * uses (controller/flows*.c), set the way ovs-ofctl's parser sets it.  What
 * it builds is checked against the OpenFlow round trip when the table's
 * check is on (flow_table_set_check_canonical()), as the unit tests do.
 *
 * Usage:
 *
 *     struct flow_build fb;
 *     flow_build_init(&fb, 10, 90);                     table, priority
 *     fb_match_int(&fb, MFF_IN_PORT, 5);
 *     fb_match_mac(&fb, MFF_ETH_SRC, "02:00:00:00:00:01");
 *     fb_match_proto(&fb, ETH_TYPE_IP, 0);              "ip"
 *     fb_resubmit(&fb, 20);
 *     char *error = flow_build_add(&fb, ft, cookie);    and uninit
 *
 * A value that does not parse (a bad MAC or IP string) is recorded in the
 * builder, and flow_build_add() adds nothing and returns the error. */
#ifndef OVS_GLUE_FLOW_BUILD_H
#define OVS_GLUE_FLOW_BUILD_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/types.h"

struct flow_table;

struct flow_build {
    uint8_t table_id;
    uint16_t priority;
    struct match match;
    struct ofpbuf ofpacts;
    char *error;                /* The first error, or NULL. */
    uint64_t stub[1024 / 8];    /* 'ofpacts' starts here. */
};

void flow_build_init(struct flow_build *, uint8_t table_id,
                     uint16_t priority);
void flow_build_uninit(struct flow_build *);

/* Adds the flow to 'ft' with 'cookie' (flow_table_add_flow_canonical()) and
 * uninitializes 'fb'.  Returns NULL, or a malloc()'d error message (a value
 * that did not parse, a foreign cookie, or, with the check on, a flow that
 * is not in canonical form); then nothing was added. */
char *flow_build_add(struct flow_build *, struct flow_table *,
                     uint64_t cookie) OVS_WARN_UNUSED_RESULT;

/* Match.
 *
 * fb_match_proto() is ovs-ofctl's protocol keywords: "ip" is
 * (ETH_TYPE_IP, 0), "icmp6" (ETH_TYPE_IPV6, IPPROTO_ICMPV6), "arp"
 * (ETH_TYPE_ARP, 0).  'nw_proto' 0 leaves the IP protocol wild.
 *
 * fb_match_int() matches field 'id' (at most 64 bits wide, given in host
 * byte order) exactly, fb_match_int_masked() under 'mask'.
 *
 * fb_match_mac() and fb_match_ip() take the value as text: a MAC
 * ("02:00:00:00:00:01"); an IPv4 or IPv6 address, with a prefix length
 * ("10.0.0.0/8") or without, as the field's width says. */
void fb_match_proto(struct flow_build *, uint16_t dl_type, uint8_t nw_proto);
void fb_match_int(struct flow_build *, enum mf_field_id, uint64_t value);
void fb_match_int_masked(struct flow_build *, enum mf_field_id,
                         uint64_t value, uint64_t mask);
void fb_match_mac(struct flow_build *, enum mf_field_id, const char *mac);
void fb_match_mac_masked(struct flow_build *, enum mf_field_id,
                         struct eth_addr value, struct eth_addr mask);
void fb_match_ip(struct flow_build *, enum mf_field_id, const char *ip);

/* Actions, appended in order.  No action at all is "drop". */

/* resubmit(,TABLE) */
void fb_resubmit(struct flow_build *, uint8_t table_id);
/* ct([commit,][table=TABLE,]zone=ZONE[0..15]); 'recirc_table' < 0: none. */
void fb_ct(struct flow_build *, bool commit, int recirc_table,
           enum mf_field_id zone);
/* output:PORT, and "in_port" (OFPP_IN_PORT). */
void fb_output(struct flow_build *, ofp_port_t);
/* controller(max_len=MAX_LEN) */
void fb_controller(struct flow_build *, uint16_t max_len);
/* output:FIELD[OFS..OFS+N_BITS-1] */
void fb_output_reg(struct flow_build *, enum mf_field_id, unsigned int ofs,
                   unsigned int n_bits);
/* set_field:VALUE->FIELD, the value as in fb_match_*(). */
void fb_set_int(struct flow_build *, enum mf_field_id, uint64_t value);
void fb_set_mac(struct flow_build *, enum mf_field_id, const char *mac);
void fb_set_ip(struct flow_build *, enum mf_field_id, const char *ip);
/* move:SRC[]->DST[] */
void fb_move(struct flow_build *, enum mf_field_id src, enum mf_field_id dst);
/* push_vlan:TPID, pop_vlan */
void fb_push_vlan(struct flow_build *, uint16_t tpid);
void fb_pop_vlan(struct flow_build *);

#endif /* ovs-glue/flow-build.h */
