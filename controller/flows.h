/* The flow computation of tetherd: given the ENIs, security groups and
 * hosts, the desired OpenFlow 1.3 tables of each hypervisor's br-int, built
 * into an ovs-glue flow_table one ENI (or one VNI) at a time so that a
 * change touches only the flows it must.  Each flow is built as a match and
 * actions directly in canonical form (ovs-glue/flow-build.h: no text parse,
 * no OpenFlow round trip; the comment above each one gives it in ovs-ofctl
 * syntax).  This module does no I/O and keeps no flow state of its own: it
 * writes flows into tables the caller owns, and keeps an index (struct
 * flows_ctx) of the objects the flows depend on.
 *
 * Data path
 * =========
 *
 * Every host has VIF ports and one flow-based Geneve tunnel port
 * (options:remote_ip=flow, options:key=flow) at 'tunnel_ofport'.  A VNI is
 * carried in tun_id and, inside the pipeline, in 'metadata'.  There is no
 * MAC learning anywhere: every destination is an explicit per-ENI flow.
 *
 * Registers:
 *
 *   metadata  VNI of the packet (set in table 0; all L2/ARP lookups match it,
 *             so nothing crosses between VNIs and addresses may overlap).
 *   reg6      ofport of the VIF the packet came from (0 from the tunnel):
 *             the conntrack zone of the egress security group.
 *   reg7      ofport of the VIF the packet is being delivered to: the
 *             conntrack zone of the ingress security group, and the output.
 *
 * Conntrack zones are per VIF (the ofport), as OVN does per logical port: a
 * connection between two VIFs is tracked once in each, and replies find
 * their connection in both.
 *
 * Tables:
 *
 *   0  CLASSIFY     in_port=VIF: metadata=VNI, reg6=ofport, -> 10.
 *                   in_port=tunnel,tun_id=VNI (for each VNI this host has
 *                   ENIs in): metadata=VNI, -> 45.  Anything else: drop.
 *                   On a migration's destination, before ACTIVATED, RARP,
 *                   ARP and NA from the destination VIF also go to the
 *                   controller (the cookie names the ENI): the VM runs there.
 *   10 PORT_SEC     The VIF's source MAC and IPs (ARP: arp_sha, arp_spa or
 *                   0.0.0.0 for a probe; IPv6: its addresses, its EUI-64
 *                   link-local address, :: for ICMPv6) -> 20; NS/NA -> 11.
 *                   With source_dest_check off only the MAC is checked (the
 *                   ENI may route or NAT: any source IP, any ARP spa).
 *                   Miss: drop.
 *   11 PORT_SEC_ND  NS: nd_sll is the ENI's MAC or absent; NA: nd_target is
 *                   one of its addresses (any if source_dest_check is off)
 *                   and nd_tll its MAC or absent.  -> 20; miss: drop.
 *   20 ARP_ND       ARP requests for a known ENI IP in the VNI are answered
 *                   in place (no flood); NS for a known target become
 *                   unicast to the target's MAC (the owner answers, no
 *                   flood).  The owner's own probes/GARP for its addresses
 *                   are dropped (not answered), as is every other ARP
 *                   request, broadcast ARP and NS.  Miss: -> 30.
 *   30 EGRESS_CT    IPv4/IPv6 except ND/RS/RA/MLD: ct(zone=reg6) -> 31;
 *                   miss: -> 40.
 *   31 EGRESS_SG    +inv: drop; established/related: -> 40; +new matching
 *                   an egress rule of the ENI on reg6: ct(commit) -> 40.
 *                   Miss: drop.
 *   40 L2_LOCAL     From a VIF. metadata,dl_dst=MAC of an ENI: deliver to
 *                   its current location(s) (below); multicast/broadcast:
 *                   the VNI's local VIFs and every other host in the VNI.
 *                   Miss (unknown unicast): drop.
 *   45 L2_TUNNEL    From the tunnel. metadata,dl_dst=MAC of an ENI with a VIF
 *                   on this host: that VIF; multicast/broadcast: the VNI's
 *                   local VIFs only.  Miss: drop.
 *   50 INGRESS_CT   reg6 == reg7 (a flood back to its sender): drop.
 *                   IPv4/IPv6 except ND etc.: ct(zone=reg7) -> 51; miss: 60.
 *   51 INGRESS_SG   As 31, ingress rules of the ENI on reg7.  Miss: drop.
 *   60 OUTPUT       output:reg7.
 *
 * Delivering to a VIF is "reg7=ofport, resubmit(,50)"; to a remote host
 * "tun_id=VNI, tun_dst=host IP, output:tunnel".
 *
 * Live migration (struct eni state ENI_MIGRATING): the ENI has a VIF on its
 * source ('host', 'ofport') and its destination ('dest_host',
 * 'dest_ofport').  Both hosts always get the VIF's flows (classification,
 * port security, security groups, delivery from the tunnel), so the
 * destination is fully pre-wired from PREPARED on.  Where traffic from
 * anywhere else goes -- remote hosts' table 40, and the other VIFs on the
 * source and destination themselves -- follows the phase:
 *
 *   PREPARED     source only
 *   SWITCHOVER   source and destination (two outputs in one action list),
 *                or source only if the source relays (below)
 *   ACTIVATED    destination only (the source keeps its VIF flows until
 *                commit, i.e. until the ENI is BOUND to the destination)
 *
 * The source's relay (make-before-break mode, hostagent/relay.h): if the
 * source host has a relay port R (its agent reported it) and the source
 * VIF's ofport P is 1..FLOWS_RELAY_MAX_OFPORT, then from PREPARED until
 * commit or rollback the source host tees every unicast frame it delivers
 * to P (tables 40 and 45) to R tagged with VLAN P, and sends what comes
 * back from R with VLAN P through the tunnel to the destination (table 0,
 * in_port=R,dl_vlan=P: pop_vlan, tunnel).  The agent sends back what
 * arrived after the VM paused, so the destination gets exactly what the
 * paused source VM did not read, with no round trip through tetherd; remote
 * hosts then stay on the source until ACTIVATED, so nothing reaches the
 * destination twice.  Floods are not relayed.
 *
 * Floods follow the same rule for the ENI's two VIFs.
 *
 * Security groups: see flows-sg.c.  Rules only allow; replies to allowed
 * connections pass.  Egress rules match traffic leaving the VIF, ingress
 * rules traffic delivered to it; a remote_group matches the IPs of the
 * group's members in the same VNI.  An ENI with no security group is in the
 * VNI's implicit default group (FLOWS_DEFAULT_SG), which, as AWS's default
 * group, allows all egress and ingress from the other members of the
 * default group (ENIs of the VNI with no group).  DHCP is not served or
 * passed (tether assigns addresses; 0.0.0.0 sources are dropped).
 *
 * Cookies (FT_COOKIE(class, id)); every flow belongs to exactly one owner:
 *
 *   0x0001 FLOWS_CLASS_HOST  id 0: the host's fixed pipeline (table misses,
 *                             conntrack dispatch, output).
 *   0x0002 FLOWS_CLASS_VNI   id VNI: the tunnel classification and the
 *                             flood flows of one VNI on this host.
 *   0x0003 FLOWS_CLASS_ENI   id eni->key: the ENI's VIF flows (if it has a
 *                             VIF here), its ARP/ND responder flows and its
 *                             L2 forwarding on this host.
 *   0x0004 FLOWS_CLASS_SG    id eni->key: the ENI's security group rules
 *                             (only where it has a VIF).
 *
 * Incremental use: keep one struct flows_ctx in step with the registry
 * (flows_ctx_set_eni() etc.); each change fills a struct flows_work with
 * (host, owner) pairs whose flows depend on it; flows_work_apply() redoes
 * exactly those owners in the hosts' desired tables (remove by cookie, add
 * again).  A binding change (migration phase) touches one ENI's flows on
 * each host of its VNI; only a change of IPs, VNI or groups touches the
 * security group flows of the ENIs that refer to its groups.
 *
 * The result depends only on the inputs, not on the order in which they
 * arrived: action lists built from sets (a VNI's flood to hosts and VIFs)
 * are in a fixed order.  So incremental and full computation, and two
 * tetherd processes, give the same flows, and a restarted tetherd finds
 * nothing to change on a switch. */
#ifndef CONTROLLER_FLOWS_H
#define CONTROLLER_FLOWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eni;
struct flow_table;
struct security_group;

/* Tables (see above). */
enum flows_table {
    FLOWS_T_CLASSIFY = 0,
    FLOWS_T_PORT_SEC = 10,
    FLOWS_T_PORT_SEC_ND = 11,
    FLOWS_T_ARP_ND = 20,
    FLOWS_T_EGRESS_CT = 30,
    FLOWS_T_EGRESS_SG = 31,
    FLOWS_T_L2_LOCAL = 40,
    FLOWS_T_L2_TUNNEL = 45,
    FLOWS_T_INGRESS_CT = 50,
    FLOWS_T_INGRESS_SG = 51,
    FLOWS_T_OUTPUT = 60,
};

/* The highest source VIF ofport that the relay can tag (a VLAN id). */
#define FLOWS_RELAY_MAX_OFPORT 4094

/* Cookie classes (see above). */
#define FLOWS_CLASS_HOST 0x0001
#define FLOWS_CLASS_VNI  0x0002
#define FLOWS_CLASS_ENI  0x0003
#define FLOWS_CLASS_SG   0x0004

/* The id under which ENIs with no security group are members of their
 * VNI's implicit default group. */
#define FLOWS_DEFAULT_SG ""

/* The host whose table is being computed. */
struct flows_host {
    const char *id;             /* host id, as in eni->host */
    int32_t tunnel_ofport;      /* its flow-based Geneve port */
};

/* --- The index ----------------------------------------------------------- */

/* What the computation looks up: hosts' tunnel IPs, security groups by id,
 * the members of a group, the ENIs and hosts of a VNI.  It keeps its own
 * copies of the ENIs and groups it is given.  Every lookup is a hash
 * lookup; nothing walks all ENIs. */
struct flows_ctx;

/* A set of (host, owner) pairs to recompute, filled by the flows_ctx_set_*
 * and _remove_* functions (each pair once, however often it is added). */
struct flows_work;

struct flows_ctx *flows_ctx_create(void);
void flows_ctx_destroy(struct flows_ctx *);

/* Sets the underlay (tunnel) IP of 'host', or forgets it if 'ip' is NULL.
 * Remote hosts' flows towards 'host' change: 'work' (may be NULL) gets the
 * ENIs bound there, on every host that shares a VNI with them. */
void flows_ctx_set_host(struct flows_ctx *, const char *host, const char *ip,
                        struct flows_work *);
const char *flows_ctx_host_ip(const struct flows_ctx *, const char *host);

/* Sets the ofport of 'host''s migration relay port (0: none; -1, the
 * default: not reported yet, which keeps remote hosts on the source during
 * a switchover, as a relay would).  The flows of the ENIs with a VIF there
 * change ('work', may be NULL). */
void flows_ctx_set_host_relay(struct flows_ctx *, const char *host,
                              int32_t relay_ofport, struct flows_work *);
int32_t flows_ctx_host_relay(const struct flows_ctx *, const char *host);

/* Whether migrations go through the source's relay at all (off in the
 * break-before-make comparison mode).  Set before any ENI. */
void flows_ctx_set_relay(struct flows_ctx *, bool enabled);
bool flows_ctx_relay_enabled(const struct flows_ctx *);

/* Adds or replaces 'sg' (copied) / removes security group 'id'.  'work'
 * gets the SG flows of the group's members. */
void flows_ctx_set_sg(struct flows_ctx *, const struct security_group *,
                      struct flows_work *);
void flows_ctx_remove_sg(struct flows_ctx *, const char *id,
                         struct flows_work *);

/* Adds or replaces 'eni' (copied; identified by eni->key) / removes the ENI
 * with 'key'.  'work' gets every (host, owner) whose flows depend on what
 * changed: the ENI itself on every host of its old and new VNI, the VNI
 * flood flows of hosts whose VIFs or VNI membership changed, all ENIs of a
 * VNI on a host that joins or leaves it, and -- only if its IPs, VNI or
 * groups changed -- the SG flows of ENIs whose rules name its groups. */
void flows_ctx_set_eni(struct flows_ctx *, const struct eni *,
                       struct flows_work *);
void flows_ctx_remove_eni(struct flows_ctx *, uint64_t key,
                          struct flows_work *);
const struct eni *flows_ctx_find_eni(const struct flows_ctx *, uint64_t key);

/* True if 'host' has a VIF (bound or pre-wired) of an ENI in 'vni'. */
bool flows_ctx_host_in_vni(const struct flows_ctx *, const char *host,
                           uint32_t vni);

/* --- Work ---------------------------------------------------------------- */

struct flows_work *flows_work_create(void);
void flows_work_destroy(struct flows_work *);
void flows_work_clear(struct flows_work *);
size_t flows_work_count(const struct flows_work *);
/* True if 'work' holds the pair (host, FT_COOKIE(class, id)). */
bool flows_work_contains(const struct flows_work *, const char *host,
                         uint16_t class, uint64_t id);

/* Redoes every pair of 'work': removes the owner's flows from the host's
 * table and computes them again from 'ctx'.  'table_for' returns the
 * desired table of 'host' and fills '*hostp' (tunnel port), or returns NULL
 * to skip a host (not connected: it will be computed in full later).  Calls
 * 'changed' (may be NULL) once for every host whose table it edited. */
void flows_work_apply(const struct flows_work *, const struct flows_ctx *,
                      struct flow_table *(*table_for)(const char *host,
                                                      struct flows_host *hostp,
                                                      void *aux),
                      void (*changed)(const char *host, void *aux),
                      void *aux);

/* --- Computation --------------------------------------------------------- */

/* Adds the host's fixed pipeline (cookie FLOWS_CLASS_HOST/0). */
void flows_host_base(struct flow_table *, const struct flows_host *);

/* Adds everything 'host' needs, from 'ctx': the base, and the VNI and ENI
 * flows of every VNI it is in.  For a fresh table (a switch connecting). */
void flows_host_full(struct flow_table *, const struct flows_host *,
                     const struct flows_ctx *);

/* Adds the flows of 'eni' on 'host' (FLOWS_CLASS_ENI and FLOWS_CLASS_SG,
 * id eni->key): its VIF flows if it has a VIF there (bound or pre-wired),
 * and its ARP/ND responder and forwarding flows if 'host' is in its VNI.
 * Adds nothing if the ENI is not wired or 'host' is not in its VNI. */
void flows_add_eni(struct flow_table *, const struct flows_host *,
                   const struct eni *, const struct flows_ctx *);
/* Only the FLOWS_CLASS_SG part of flows_add_eni(). */
void flows_add_eni_sg(struct flow_table *, const struct flows_host *,
                      const struct eni *, const struct flows_ctx *);

/* Removes every flow of the ENI with 'key' (both classes). */
void flows_remove_eni(struct flow_table *, uint64_t key);

/* Adds the tunnel classification and flood flows of 'vni' on 'host'
 * (FLOWS_CLASS_VNI/vni), if 'host' is in 'vni'. */
void flows_add_vni(struct flow_table *, const struct flows_host *,
                   uint32_t vni, const struct flows_ctx *);
void flows_remove_vni(struct flow_table *, uint32_t vni);

/* Number of flows that could not be built so far (a bug, or bad input that
 * eni_check() let through, e.g. an address that does not parse; each is
 * also logged).  For tests. */
unsigned int flows_n_errors(void);

#endif /* controller/flows.h */
