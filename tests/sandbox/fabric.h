/* A small data center for sandbox tests: N hypervisors, each its own
 * ovsdb-server + ovs-vswitchd on the dummy datapath (a struct sandbox), on one
 * underlay switch, with VMs attached as dummy ports whose traffic is injected
 * with netdev-dummy/receive and read back from pcap files.  It builds the
 * set-up a tether-agent expects to find; it runs no tether daemon itself.
 *
 * Topology (the shape of OVS's and OVN's sim_add/net_attach/ovn_attach):
 *
 *   "fabric" sandbox:  br-fabric, fail_mode=secure, one flow actions=NORMAL,
 *                      port "hv<i>" per hypervisor (dummy, pstream=punix:)
 *   "hv<i>" sandbox:   br-phy, fail_mode=secure, one flow actions=NORMAL,
 *                      port "underlay" (dummy, stream=unix: to fabric hv<i>),
 *                      MAC 02:00:c0:a8:00:<i>, tunnel IP 192.168.0.<i>/24
 *                      (netdev-dummy/ip4addr + ovs/route/add on br-phy),
 *                      static neighbor entries (tnl/neigh/set) for every
 *                      other hypervisor's tunnel IP;
 *                      br-int, datapath_type=dummy, fail_mode=secure, no
 *                      flows, no controller, no tunnel port (the agent adds
 *                      those; fabric_add_tunnel() does it for tests without
 *                      one).
 *
 * All bridges are datapath_type=dummy, so within one hypervisor br-int's
 * tunnel port and br-phy share a datapath, as OVS's userspace tunneling
 * needs: a flow-based Geneve/VXLAN port on br-int reaches the other
 * hypervisors through br-phy without further set-up (but see
 * fabric_add_tunnel() about options:local_ip).
 *
 * Contract:
 *
 *   - Hypervisors are numbered 1..n.  A function given a number out of
 *     range aborts (a test bug, not a runtime condition).
 *
 *   - fabric_create() returns only once every underlay link is connected,
 *     or NULL after saying why on stderr (with everything it started
 *     stopped).  fabric_destroy() stops every daemon by pid (via
 *     sandbox_destroy()) and is safe on NULL and on a fabric whose tests
 *     failed half-way, so call it from a cmocka teardown.  The daemons also
 *     die with the test process (see sandbox.h), and TETHER_KEEP_SANDBOX=1
 *     keeps the directories (VIF pcaps included) for a post-mortem.
 *
 *   - Functions that run OVS tools print why they failed on stderr.
 *
 * Single-threaded, like sandbox.h. */
#ifndef TESTS_SANDBOX_FABRIC_H
#define TESTS_SANDBOX_FABRIC_H 1

#include <stdbool.h>

#include "tests/sandbox/pcap.h"

struct sandbox;

/* The tunnel port name tether-agent uses by default. */
#define FABRIC_TUNNEL_PORT "tether-tun"

/* Creates the underlay and 'n_hvs' (1..250) hypervisors.  'name' (short:
 * it ends up in unix socket paths) prefixes the sandbox directories. */
struct fabric *fabric_create(const char *name, int n_hvs);
void fabric_destroy(struct fabric *);

int fabric_n_hvs(const struct fabric *);

/* Hypervisor 'hv''s sandbox (for sandbox_run() of ovs-vsctl, ovs-ofctl,
 * "SANDBOX_APPCTL ..." there), its name ("hv<hv>"), tunnel IP
 * ("192.168.0.<hv>"), br-phy MAC and OVSDB remote ("unix:<dir>/db.sock",
 * what its tether-agent connects to). */
struct sandbox *fabric_hv(const struct fabric *, int hv);
const char *fabric_hv_name(const struct fabric *, int hv);
const char *fabric_hv_ip(const struct fabric *, int hv);
const char *fabric_hv_mac(const struct fabric *, int hv);
const char *fabric_hv_db_remote(const struct fabric *, int hv);

/* The underlay switch's sandbox (bridge br-fabric, port "hv<i>" per
 * hypervisor). */
struct sandbox *fabric_underlay(const struct fabric *);

/* Cuts ('up' false) or restores hypervisor 'hv''s underlay link: its
 * br-fabric port stops (resumes) receiving and forwarding, as if the cable
 * were pulled; the hypervisor side is left alone.  Takes effect for the next
 * frame.  Returns 0 or a positive errno value. */
int fabric_link_set(struct fabric *, int hv, bool up);

/* Adds a flow-based tunnel port 'name' (NULL: FABRIC_TUNNEL_PORT) of 'type'
 * ("geneve" or "vxlan") to 'hv''s br-int, with remote_ip=flow and key=flow.
 * Returns its OpenFlow port number, or -1.
 *
 * Deliberately without options:local_ip (which tether-agent sets when given
 * --tunnel-ip): in OVS 3.1 a tunnel source address must hit a "local" route
 * and only the kernel's routing table provides those, never ovs/route/add,
 * so with --disable-system-route every transmit fails ("native tunnel
 * routing failed" in ofproto/trace).  Without local_ip the source comes
 * from the route (192.168.0.<hv>), and reception is unaffected (br-phy's
 * address terminates the tunnel). */
int fabric_add_tunnel(struct fabric *, int hv, const char *name,
                      const char *type);

/* Plugs VM 'vm_name' into 'hv''s br-int as a dummy port of that name, with
 * the external_ids a hypervisor sets (iface-id='eni_id',
 * attached-mac='mac', vm-uuid='vm_uuid', iface-status=active) and two pcap
 * files: what the VM receives (the port's tx) and what it sent (the port's
 * rx queue).  Returns the port's OpenFlow port number, or -1. */
int fabric_add_vif(struct fabric *, int hv, const char *vm_name,
                   const char *eni_id, const char *mac, const char *vm_uuid);

/* Unplugs VM 'vm_name' from 'hv' (its pcap files stay).  Returns 0 or a
 * positive errno value. */
int fabric_del_vif(struct fabric *, int hv, const char *vm_name);

/* The OpenFlow port number of 'port' on 'hv', or -1 if there is none. */
int fabric_ofport(struct fabric *, int hv, const char *port);

/* Has port 'port' of 'hv' receive 'frame' (netdev-dummy/receive): for a VIF,
 * the VM sends it.  Returns 0 or a positive errno value. */
int fabric_inject(struct fabric *, int hv, const char *port,
                  const struct frame *);

/* The same with 'flow' in the datapath flow syntax netdev-dummy/receive
 * also takes (e.g. "in_port(1),eth(src=...,dst=...),eth_type(0x0800),
 * ipv4(...),udp(src=1,dst=2)"), which builds a minimal frame. */
int fabric_inject_flow(struct fabric *, int hv, const char *port,
                       const char *flow);

/* The pcap file of what VM 'vm_name' on 'hv' received ('to_vm') or sent.
 * The caller frees the string. */
char *fabric_vif_pcap(const struct fabric *, int hv, const char *vm_name,
                      bool to_vm);

/* The number of frames VM 'vm_name' on 'hv' has received (fabric_vif_
 * count_rx) or sent (_tx) so far that 'match' accepts with 'aux', or -1 if
 * the capture cannot be read. */
int fabric_vif_count_rx(const struct fabric *, int hv, const char *vm_name,
                        frame_match_func *match, const void *aux);
int fabric_vif_count_tx(const struct fabric *, int hv, const char *vm_name,
                        frame_match_func *match, const void *aux);

/* Polls (every 5 ms) until VM 'vm_name' on 'hv' has received at least 'n'
 * frames that 'match' accepts with 'aux', for at most 'timeout_ms'.
 * Returns the count when it stopped: at least 'n' unless it timed out.
 * With 'n' 0, it waits the whole 'timeout_ms', which is how to check that
 * nothing arrives. */
int fabric_vif_wait_rx(const struct fabric *, int hv, const char *vm_name,
                       frame_match_func *match, const void *aux,
                       int n, int timeout_ms);

#endif /* tests/sandbox/fabric.h */
