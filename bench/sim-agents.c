/* Simulated tether-agents (bench/sim.h): one TCP session per simulated host
 * speaking tether's agent protocol through proto/wire.h: Hello, then
 * BridgeStatus (the simulated switch's datapath id, tunnel ofport 1) and a
 * full Resync of the host's VIFs, heartbeats, an Ack for every command (a
 * Resync for REQUEST_RESYNC), and VifEvents on demand. */
#include <config.h>

#include "bench/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/util.h"
#include "util.h"
#include "openvswitch/vlog.h"
#include "proto/wire.h"

VLOG_DEFINE_THIS_MODULE(sim_agents);

struct sim_agent {
    struct sim_conn conn;
    int idx;
    char host_id[16];
    char tunnel_ip[32];
    uint64_t dpid;
    long long retry_at;         /* reconnect at (us), 0 if connected */
    bool registered;
    uint64_t seq;
    struct sim_vif *vifs;
    size_t n_vifs, alloc_vifs;
};

static struct sim_agent *agents;
static int n_agents, agent_port;
static long long next_heartbeat_us;
static unsigned int heartbeat_ms = 1000;

const char *
sim_agent_host_id(int i)
{
    return agents[i].host_id;
}

static void
ag_send(struct sim_agent *a, int type, const ProtobufCMessage *pb)
{
    uint8_t *buf;
    size_t len;

    if (tether_wire_encode_alloc(type, pb, &buf, &len)) {
        ovs_fatal(0, "%s: cannot encode %s", a->host_id,
                  tether_msg_type_name(type));
    }
    sim_conn_send(&a->conn, buf, len);
    free(buf);
}

static void
ag_fill_vif(Tether__Vif *v, const struct sim_vif *sv)
{
    tether__vif__init(v);
    v->eni_id = sv->eni_id;
    v->mac = sv->mac;
    v->vm_uuid = "";
    v->bridge = "br-int";
    v->iface_name = sv->eni_id;
    v->ofport = sv->ofport;
    v->iface_status = "active";
    v->migration = (char *) sv->migration;
}

static void
ag_send_resync(struct sim_agent *a)
{
    Tether__Resync rs = TETHER__RESYNC__INIT;
    Tether__Vif *vifs = xmalloc((a->n_vifs + 1) * sizeof *vifs);
    Tether__Vif **pv = xmalloc((a->n_vifs + 1) * sizeof *pv);

    for (size_t i = 0; i < a->n_vifs; i++) {
        ag_fill_vif(&vifs[i], &a->vifs[i]);
        pv[i] = &vifs[i];
    }
    rs.host_id = a->host_id;
    rs.vifs = pv;
    rs.n_vifs = a->n_vifs;
    rs.seq = ++a->seq;
    ag_send(a, TETHER_MSG_RESYNC, &rs.base);
    free(pv);
    free(vifs);
}

static void
ag_registered(struct sim_agent *a)
{
    Tether__BridgeStatus bs = TETHER__BRIDGE_STATUS__INIT;

    a->registered = true;
    bs.host_id = a->host_id;
    bs.bridge = "br-int";
    bs.datapath_id = a->dpid;
    bs.tunnel_ofport = 1;
    bs.seq = ++a->seq;
    ag_send(a, TETHER_MSG_BRIDGE_STATUS, &bs.base);
    ag_send_resync(a);
}

static void
ag_handle(struct sim_agent *a, const struct tether_msg *msg)
{
    if (msg->type == TETHER_MSG_HELLO_REPLY) {
        const Tether__HelloReply *r = (const void *) msg->pb;
        if (!r->accepted) {
            VLOG_WARN("%s: hello refused: %s", a->host_id, r->reason);
            sim_conn_close(&a->conn);
            a->retry_at = sim_now_us() + 1000000;
            return;
        }
        if (r->heartbeat_interval_ms) {
            heartbeat_ms = r->heartbeat_interval_ms;
        }
        ag_registered(a);
    } else if (msg->type == TETHER_MSG_COMMAND) {
        const Tether__Command *cmd = (const void *) msg->pb;
        Tether__Ack ack = TETHER__ACK__INIT;
        ack.command_id = cmd->command_id;
        if (cmd->kind == TETHER__COMMAND__KIND__REQUEST_RESYNC) {
            ag_send_resync(a);
        } else {
            ack.status = TETHER__ACK__STATUS__UNSUPPORTED;
        }
        ag_send(a, TETHER_MSG_ACK, &ack.base);
    }
}

static void
ag_input(struct sim_conn *c, void *a_)
{
    struct sim_agent *a = a_;
    char err[TETHER_WIRE_ERRLEN];
    size_t ofs = 0;

    for (;;) {
        struct tether_wire_header hdr;
        size_t frame_len;
        if (tether_wire_peek(c->rx + ofs, c->rx_len - ofs, &hdr, &frame_len,
                             err)) {
            VLOG_WARN("%s: %s", a->host_id, err);
            sim_conn_close(c);
            a->retry_at = sim_now_us() + 100000;
            return;
        }
        if (!frame_len || frame_len > c->rx_len - ofs) {
            break;
        }
        struct tether_msg msg;
        if (!tether_wire_decode(c->rx + ofs, frame_len, &msg, err)) {
            ag_handle(a, &msg);
            tether_msg_clear(&msg);
        }
        ofs += frame_len;
        if (c->fd < 0) {
            return;
        }
    }
    sim_conn_consume(c, ofs);
}

static void
ag_connect(struct sim_agent *a)
{
    Tether__Hello h = TETHER__HELLO__INIT;

    a->registered = false;
    if (sim_conn_open(&a->conn, agent_port)) {
        a->retry_at = sim_now_us() + 100000;
        return;
    }
    a->retry_at = 0;
    h.host_id = a->host_id;
    h.hypervisor = "generic";
    h.hostname = a->host_id;
    h.tunnel_ip = a->tunnel_ip;
    h.tunnel_type = "geneve";
    h.bridge = "br-int";
    h.agent_version = "sim";
    h.boot_id = 1;
    ag_send(a, TETHER_MSG_HELLO, &h.base);
}

static void
ag_closed(struct sim_conn *c OVS_UNUSED, void *a_)
{
    struct sim_agent *a = a_;
    a->registered = false;
    a->retry_at = sim_now_us() + 50000;
}

void
sim_agents_create(int n, uint64_t dpid0, int port)
{
    agents = xcalloc(n, sizeof *agents);
    n_agents = n;
    agent_port = port;
    for (int i = 0; i < n; i++) {
        struct sim_agent *a = &agents[i];
        a->idx = i;
        snprintf(a->host_id, sizeof a->host_id, "hv%04d", i);
        snprintf(a->tunnel_ip, sizeof a->tunnel_ip, "172.16.%d.%d",
                 i / 250, i % 250 + 1);
        a->dpid = dpid0 + i;
        a->conn.fd = -1;
        a->conn.input = ag_input;
        a->conn.closed = ag_closed;
        a->conn.aux = a;
    }
}

void
sim_agents_run(void)
{
    long long now = sim_now_us();
    bool beat = now >= next_heartbeat_us;

    if (beat) {
        next_heartbeat_us = now + heartbeat_ms * 1000LL / 2;
    }
    for (int i = 0; i < n_agents; i++) {
        struct sim_agent *a = &agents[i];
        if (a->conn.fd < 0) {
            if (!a->retry_at || now >= a->retry_at) {
                ag_connect(a);
            }
        } else if (beat && a->registered) {
            Tether__Heartbeat hb = TETHER__HEARTBEAT__INIT;
            hb.seq = ++a->seq;
            hb.time_ms = now / 1000;
            hb.vif_count = a->n_vifs;
            ag_send(a, TETHER_MSG_HEARTBEAT, &hb.base);
        }
    }
}

int
sim_agents_n_registered(void)
{
    int n = 0;
    for (int i = 0; i < n_agents; i++) {
        n += agents[i].registered;
    }
    return n;
}

void
sim_agent_add_vif(int i, const char *eni_id, const char *mac, int32_t ofport,
                  const char *migration)
{
    struct sim_agent *a = &agents[i];
    if (a->n_vifs >= a->alloc_vifs) {
        a->vifs = x2nrealloc(a->vifs, &a->alloc_vifs, sizeof *a->vifs);
    }
    struct sim_vif *v = &a->vifs[a->n_vifs++];
    v->eni_id = xstrdup(eni_id);
    v->mac = xstrdup(mac);
    v->ofport = ofport;
    v->migration = migration;
}

struct sim_vif *
sim_agent_find_vif(int i, const char *eni_id)
{
    struct sim_agent *a = &agents[i];
    for (size_t j = 0; j < a->n_vifs; j++) {
        if (!strcmp(a->vifs[j].eni_id, eni_id)) {
            return &a->vifs[j];
        }
    }
    return NULL;
}

void
sim_agent_remove_vif(int i, const char *eni_id)
{
    struct sim_agent *a = &agents[i];
    struct sim_vif *v = sim_agent_find_vif(i, eni_id);
    if (v) {
        free(v->eni_id);
        free(v->mac);
        *v = a->vifs[--a->n_vifs];
    }
}

void
sim_agent_send_vif_event(int i, int kind, const struct sim_vif *sv)
{
    struct sim_agent *a = &agents[i];
    Tether__VifEvent ev = TETHER__VIF_EVENT__INIT;
    Tether__Vif v;

    ag_fill_vif(&v, sv);
    ev.kind = kind;
    ev.host_id = a->host_id;
    ev.vif = &v;
    ev.seq = ++a->seq;
    ag_send(a, TETHER_MSG_VIF_EVENT, &ev.base);
}
