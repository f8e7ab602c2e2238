/* A switch in a test: what an Open vSwitch bridge speaking a given OpenFlow
 * version reports back in a flow dump for a flow tetherd installed.  Shared
 * by the unit tests of flow-table.c and flows.c. */
#ifndef TESTS_UNIT_SWITCH_SIM_H
#define TESTS_UNIT_SWITCH_SIM_H 1

#include "openvswitch/ofp-protocol.h"
#include "ovs-glue/flow-table.h"

/* Encodes 'f' as the flow_mod of-switch.c would send with 'protocol',
 * decodes it as ovs-vswitchd does, returns it in a flow stats reply, and
 * adds what of-switch.c reads from that reply to 'installed'. */
void switch_sim_flow(struct flow_table *installed, const struct ft_flow *f,
                     enum ofputil_protocol protocol);

#endif /* tests/unit/switch-sim.h */
