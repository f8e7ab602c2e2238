/* tether-agent: the agent on every hypervisor.  It registers its host with
 * tetherd and (with the coming modules) watches the local Open vSwitch and
 * the hypervisor for VIFs and migration phases and reports them.  This file
 * is start-up, options and the main loop only. */
#include <config.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "hostagent/controller-conn.h"
#include "hostagent/cpuinfo.h"
#include "hostagent/libvirt-events.h"
#include "hostagent/libvirt-host.h"
#include "hostagent/local-ovs.h"
#include "hostagent/qmp.h"
#include "hostagent/vif-marker.h"
#include "lib/validate.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/ovs-loop.h"
#include "ovs-glue/tether-service.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tether_agent);

struct agent_options {
    const char *controller;
    char *host_id;
    const char *hypervisor;
    const char *tunnel_ip;
    const char *tunnel_type;
    const char *bridge;
    const char *unixctl_path;
    const char *ovsdb;
    const char *datapath_type;
    const char *tunnel_port;
    const char *relay_port;             /* NULL: no migration relay */
    const char **openflow_targets;      /* overrides tetherd's, NULL-ended */
    size_t n_openflow_targets;
    const char **qmp;                   /* --qmp arguments */
    size_t n_qmp;
    int qmp_switchover_wait_ms;
    struct controller_conn_tls tls;
    const char *cpu_flags_file;         /* default /proc/cpuinfo */
    const char *libvirt_uri;            /* NULL: the CPU from the file */
    const char *libvirt_events_uri;     /* NULL: no libvirt backend */
};

struct agent {
    struct controller_conn *conn;
    struct vif_marker *marker;
    struct local_ovs *ovs;
    struct qmp_backend *qmp;            /* NULL: no --qmp */
    struct libvirt_events *lv;          /* NULL: no --libvirt-events */
    const struct agent_options *o;
};

OVS_NO_RETURN static void usage(void);

static void
parse_options(int argc, char *argv[], struct agent_options *o)
{
    enum {
        OPT_CONTROLLER = UCHAR_MAX + 1,
        OPT_HOST_ID,
        OPT_HYPERVISOR,
        OPT_TUNNEL_IP,
        OPT_TUNNEL_TYPE,
        OPT_BRIDGE,
        OPT_UNIXCTL,
        OPT_CONFIG,
        OPT_OVSDB,
        OPT_DATAPATH_TYPE,
        OPT_TUNNEL_PORT,
        OPT_RELAY_PORT,
        OPT_OPENFLOW_TARGET,
        OPT_PRIVATE_KEY,
        OPT_CERTIFICATE,
        OPT_CA_CERT,
        OPT_CPU_FLAGS_FILE,
        OPT_LIBVIRT,
        OPT_LIBVIRT_EVENTS,
        OPT_QMP,
        OPT_QMP_SWITCHOVER_WAIT,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"controller", required_argument, NULL, OPT_CONTROLLER},
        {"host-id", required_argument, NULL, OPT_HOST_ID},
        {"hypervisor", required_argument, NULL, OPT_HYPERVISOR},
        {"tunnel-ip", required_argument, NULL, OPT_TUNNEL_IP},
        {"tunnel-type", required_argument, NULL, OPT_TUNNEL_TYPE},
        {"bridge", required_argument, NULL, OPT_BRIDGE},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"ovsdb", required_argument, NULL, OPT_OVSDB},
        {"datapath-type", required_argument, NULL, OPT_DATAPATH_TYPE},
        {"tunnel-port", required_argument, NULL, OPT_TUNNEL_PORT},
        {"relay-port", required_argument, NULL, OPT_RELAY_PORT},
        {"openflow-target", required_argument, NULL, OPT_OPENFLOW_TARGET},
        {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
        {"certificate", required_argument, NULL, OPT_CERTIFICATE},
        {"ca-cert", required_argument, NULL, OPT_CA_CERT},
        {"qmp", required_argument, NULL, OPT_QMP},
        {"qmp-switchover-wait", required_argument, NULL,
         OPT_QMP_SWITCHOVER_WAIT},
        {"cpu-flags-file", required_argument, NULL, OPT_CPU_FLAGS_FILE},
        {"libvirt", required_argument, NULL, OPT_LIBVIRT},
        {"libvirt-events", required_argument, NULL, OPT_LIBVIRT_EVENTS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    o->hypervisor = "generic";
    o->tunnel_type = "geneve";
    o->bridge = "br-int";
    o->ovsdb = "unix:/var/run/openvswitch/db.sock";
    o->datapath_type = "system";
    o->tunnel_port = "tether-tun";
    o->relay_port = "tether-relay";
    o->qmp_switchover_wait_ms = 100;

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONTROLLER:
            o->controller = optarg;
            break;
        case OPT_HOST_ID:
            free(o->host_id);
            o->host_id = xstrdup(optarg);
            break;
        case OPT_HYPERVISOR:
            o->hypervisor = optarg;
            break;
        case OPT_TUNNEL_IP:
            o->tunnel_ip = optarg;
            break;
        case OPT_TUNNEL_TYPE:
            o->tunnel_type = optarg;
            break;
        case OPT_BRIDGE:
            o->bridge = optarg;
            break;
        case OPT_UNIXCTL:
            o->unixctl_path = optarg;
            break;
        case OPT_CONFIG:
            break;              /* merged by tether_service_merge_config() */
        case OPT_OVSDB:
            o->ovsdb = optarg;
            break;
        case OPT_DATAPATH_TYPE:
            o->datapath_type = optarg;
            break;
        case OPT_TUNNEL_PORT:
            o->tunnel_port = optarg[0] ? optarg : NULL;
            break;
        case OPT_RELAY_PORT:
            o->relay_port = optarg[0] ? optarg : NULL;
            break;
        case OPT_OPENFLOW_TARGET:
            o->openflow_targets = xrealloc(o->openflow_targets,
                                           (o->n_openflow_targets + 2)
                                           * sizeof *o->openflow_targets);
            o->openflow_targets[o->n_openflow_targets++] = optarg;
            o->openflow_targets[o->n_openflow_targets] = NULL;
            break;
        case OPT_PRIVATE_KEY:
            o->tls.private_key = optarg;
            break;
        case OPT_CERTIFICATE:
            o->tls.certificate = optarg;
            break;
        case OPT_CA_CERT:
            o->tls.ca_cert = optarg;
            break;
        case OPT_QMP:
            o->qmp = xrealloc(o->qmp, (o->n_qmp + 1) * sizeof *o->qmp);
            o->qmp[o->n_qmp++] = optarg;
            break;
        case OPT_QMP_SWITCHOVER_WAIT:
            if (!str_to_int(optarg, 10, &o->qmp_switchover_wait_ms)
                || o->qmp_switchover_wait_ms < 0
                || o->qmp_switchover_wait_ms > 10000) {
                ovs_fatal(0, "--qmp-switchover-wait: \"%s\" is not 0 to "
                          "10000 ms", optarg);
            }
            break;
        case OPT_CPU_FLAGS_FILE:
            o->cpu_flags_file = optarg;
            break;
        case OPT_LIBVIRT:
            o->libvirt_uri = optarg;
            break;
        case OPT_LIBVIRT_EVENTS:
            o->libvirt_events_uri = optarg;
            break;

        case 'h':
            usage();
        case 'V':
            printf("tether-agent (tether) %s\n", TETHER_VERSION);
            exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    if (optind < argc) {
        ovs_fatal(0, "unexpected argument \"%s\" (try --help)", argv[optind]);
    }
    if (!o->controller) {
        ovs_fatal(0, "--controller=IP:PORT is required (try --help)");
    }
    if (!o->host_id) {
        char hostname[256];
        if (gethostname(hostname, sizeof hostname)) {
            ovs_fatal(0, "no --host-id given and no hostname to use");
        }
        o->host_id = xstrdup(hostname);
    }
    if (!tether_valid_host_id(o->host_id)) {
        ovs_fatal(0, "--host-id: \"%s\" is not a host id (1 to %d of "
                  "A-Z a-z 0-9 . _ -)", o->host_id, TETHER_HOST_ID_MAX);
    }
    if (!o->tunnel_ip) {
        ovs_fatal(0, "--tunnel-ip=IP is required: this host's underlay "
                  "tunnel endpoint (try --help)");
    }
    if (!tether_valid_ip(o->tunnel_ip)) {
        ovs_fatal(0, "--tunnel-ip: \"%s\" is not an IPv4 or IPv6 address",
                  o->tunnel_ip);
    }
    if (strcmp(o->tunnel_type, "geneve") && strcmp(o->tunnel_type, "vxlan")) {
        ovs_fatal(0, "--tunnel-type: \"%s\" is neither geneve nor vxlan",
                  o->tunnel_type);
    }
    if (strcmp(o->datapath_type, "system") && strcmp(o->datapath_type, "netdev")
        && strcmp(o->datapath_type, "dummy")) {
        ovs_fatal(0, "--datapath-type: \"%s\" is not system, netdev or dummy",
                  o->datapath_type);
    }
    if (o->tunnel_port && strlen(o->tunnel_port) > 15) {
        ovs_fatal(0, "--tunnel-port: \"%s\" is longer than 15 characters",
                  o->tunnel_port);
    }
    if (!o->bridge[0] || strlen(o->bridge) > 15) {
        ovs_fatal(0, "--bridge: \"%s\" is not a bridge name (1 to 15 "
                  "characters)", o->bridge);
    }
}

static void
usage(void)
{
    printf("%s: tether's hypervisor agent\n"
           "usage: %s --controller=IP:PORT --tunnel-ip=IP [OPTIONS]\n"
           "\nController:\n"
           "  --controller=[tcp:|ssl:]IP:PORT\n"
           "                            tetherd's agent address\n"
           "  --private-key=FILE        TLS (ssl:): this host's key,\n"
           "  --certificate=FILE          its certificate (common name = "
           "host id),\n"
           "  --ca-cert=FILE              and the CA tetherd's certificate "
           "must chain to\n"
           "  --host-id=ID              this host's id (default: hostname)\n"
           "\nThis hypervisor:\n"
           "  --tunnel-ip=IP            underlay tunnel endpoint\n"
           "  --tunnel-type=TYPE        geneve (default) or vxlan\n"
           "  --bridge=NAME             integration bridge (default br-int)\n"
           "  --hypervisor=NAME         qemu, libvirt, mininet, generic "
           "(default)\n"
           "  --ovsdb=REMOTE            local OVSDB (default "
           "unix:/var/run/openvswitch/db.sock)\n"
           "  --datapath-type=TYPE      system (default), netdev or dummy\n"
           "  --tunnel-port=NAME        overlay tunnel port (default "
           "tether-tun; empty: none)\n"
           "  --relay-port=NAME         port that relays a paused migration "
           "source's\n"
           "                            traffic to its destination (default "
           "tether-relay;\n"
           "                            empty: none)\n"
           "  --openflow-target=TARGET  bridge controller, overriding "
           "tetherd's (repeatable)\n"
           "  --qmp=ENI_ID:SOCKET|DIR   follow a QEMU's QMP socket (or every "
           "ENI_ID.sock\n"
           "                            in DIR) for migration phases "
           "(repeatable)\n"
           "  --qmp-switchover-wait=MS  hold a source in pre-switchover "
           "until tetherd confirms\n"
           "                            its switchover, at most this long "
           "(100)\n"
           "  --cpu-flags-file=FILE     CPU model and flags to report "
           "(default /proc/cpuinfo)\n"
           "  --libvirt=URI             report the CPU libvirt at URI "
           "sees instead\n"
           "                            (e.g. qemu:///system; the file if "
           "unreachable)\n"
           "  --libvirt-events=URI      learn migration phases from the "
           "domain events of\n"
           "                            libvirt at URI (e.g. "
           "qemu:///system)\n"
           "\nGeneral:\n"
           "  --config=FILE             read options from FILE, one "
           "\"name = value\" a line\n"
           "  --unixctl=SOCKET          control socket for ovs-appctl\n"
           "  -h, --help                display this help message\n"
           "  -V, --version             display version information\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
agent_unixctl_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct controller_conn *c = a->conn;
    struct controller_conn_stats st;
    char *s;

    controller_conn_get_stats(c, &st);
    s = xasprintf("registered: %s\ncontroller_id: %s\nconnects: %llu\n"
                  "registrations: %llu\nheartbeats_sent: %llu\n"
                  "commands: %llu\novsdb_connected: %s\nbridge: %s\n"
                  "vifs: %zu\n",
                  controller_conn_is_registered(c) ? "yes" : "no",
                  controller_conn_controller_id(c)
                  ? controller_conn_controller_id(c) : "",
                  st.connects, st.registrations, st.heartbeats_sent,
                  st.commands, local_ovs_is_connected(a->ovs) ? "yes" : "no",
                  local_ovs_bridge_state(a->ovs), local_ovs_n_vifs(a->ovs));
    unixctl_command_reply(conn, s);
    free(s);
}

static void
agent_vif_cb(Tether__VifEvent *ev, void *a_)
{
    struct agent *a = a_;
    /* Not registered: the Resync that follows registration carries it. */
    controller_conn_send_vif_event(a->conn, ev);
}

static void
agent_refusal_cb(const char *eni_id, const char *reason, void *a_)
{
    struct agent *a = a_;
    vif_marker_refused(a->marker, eni_id, reason);
}

static void
agent_switchover_cb(const char *eni_id, void *a_)
{
    struct agent *a = a_;
    qmp_backend_switchover_ready(a->qmp, eni_id);
}

static void
agent_qmp_marker_cb(const char *eni_id, const char *value, double paused_at,
                    void *a_)
{
    struct agent *a = a_;
    local_ovs_set_marker(a->ovs, eni_id, value, paused_at);
}

static void
agent_lv_classified_cb(void *a_)
{
    struct agent *a = a_;
    local_ovs_gate_recheck(a->ovs);
}

static void
agent_resync_cb(Tether__Resync *rs, void *a_)
{
    struct agent *a = a_;
    local_ovs_fill_resync(a->ovs, rs);
}

/* The bridge's controllers: the command line's if given, else tetherd's. */
static void
agent_update_controllers(struct agent *a)
{
    if (a->o->n_openflow_targets) {
        local_ovs_set_controllers(a->ovs, (char *const *) a->o->openflow_targets,
                                  a->o->n_openflow_targets);
    } else {
        size_t n;
        char *const *t = controller_conn_openflow_targets(a->conn, &n);
        if (t) {
            local_ovs_set_controllers(a->ovs, t, n);
        }
    }
}

/* The host's CPU into 'cpu': libvirt's view with --libvirt, else (or if
 * libvirt fails) the cpuinfo file's. */
static void
read_cpu(const struct agent_options *o, struct cpuinfo *cpu)
{
    if (o->libvirt_uri) {
        char *err = NULL;
        int error = libvirt_host_cpu(o->libvirt_uri, cpu, &err);
        if (!error) {
            VLOG_INFO("%s: CPU \"%s\" with %zu features, as libvirt sees "
                      "it", o->libvirt_uri, cpu->model, cpu->n_flags);
            return;
        }
        VLOG_WARN("%s; reporting the CPU from the cpuinfo file instead",
                  err);
        free(err);
        cpuinfo_destroy(cpu);
    }

    const char *cpu_file = o->cpu_flags_file ? o->cpu_flags_file
                                             : "/proc/cpuinfo";
    int cpu_error = cpuinfo_read(cpu_file, cpu);
    if (cpu_error) {
        VLOG_WARN("%s: %s: the CPU is reported as unknown", cpu_file,
                  ovs_strerror(cpu_error));
    } else {
        VLOG_INFO("%s: CPU \"%s\" with %zu flags", cpu_file, cpu->model,
                  cpu->n_flags);
    }
}

int
main(int argc, char *argv[])
{
    struct agent_options o;
    char *err;

    memset(&o, 0, sizeof o);
    set_program_name(argv[0]);
    tether_service_merge_config(&argc, &argv);
    parse_options(argc, argv, &o);

    struct event_base *base = ovs_loop_base();
    tether_service_start(base, o.unixctl_path);

    struct cpuinfo cpu;
    read_cpu(&o, &cpu);
    struct agent_identity id = {
        .host_id = o.host_id,
        .hypervisor = o.hypervisor,
        .tunnel_ip = o.tunnel_ip,
        .tunnel_type = o.tunnel_type,
        .bridge = o.bridge,
        .cpu_model = cpu.model,
        .cpu_flags = cpu.flags,
        .n_cpu_flags = cpu.n_flags,
    };
    struct agent a = { .o = &o };
    a.conn = controller_conn_create(base, o.controller, &o.tls, &id,
                                    agent_resync_cb, &a, &err);
    if (!a.conn) {
        ovs_fatal(0, "%s", err);
    }
    cpuinfo_destroy(&cpu);
    a.marker = vif_marker_create(o.ovsdb);
    controller_conn_set_refusal_cb(a.conn, agent_refusal_cb, &a);
    controller_conn_set_switchover_cb(a.conn, agent_switchover_cb, &a);
    struct local_ovs_config lc = {
        .db_remote = o.ovsdb,
        .bridge = o.bridge,
        .datapath_type = o.datapath_type,
        .tunnel_port = o.tunnel_port,
        .tunnel_type = o.tunnel_type,
        .tunnel_local_ip = NULL,   /* the route to the peer picks it */
        .relay_port = o.relay_port,
    };
    /* On the dummy datapath the relay port is a stream in our run
     * directory. */
    char *relay_stream = (o.relay_port && !strcmp(o.datapath_type, "dummy")
                          ? xasprintf("%s/%s.relay", ovs_rundir(), o.bridge)
                          : NULL);
    lc.relay_stream = relay_stream;
    a.ovs = local_ovs_create(&lc, agent_vif_cb, &a);
    free(relay_stream);
    if (o.n_qmp) {
        a.qmp = qmp_backend_create(agent_qmp_marker_cb, &a,
                                   o.qmp_switchover_wait_ms);
        for (size_t i = 0; i < o.n_qmp; i++) {
            char *qerr = qmp_backend_parse(a.qmp, o.qmp[i]);
            if (qerr) {
                ovs_fatal(0, "%s", qerr);
            }
        }
    }
    if (o.libvirt_events_uri) {
        a.lv = libvirt_events_create(o.libvirt_events_uri,
                                     agent_qmp_marker_cb,
                                     agent_lv_classified_cb, &a);
        local_ovs_set_gate(a.ovs, libvirt_events_vif_gate, a.lv);
    }
    unixctl_command_register("agent/status", "", 0, 0, agent_unixctl_status,
                             &a);

    VLOG_INFO("tether-agent %s started for host %s, controller %s",
              TETHER_VERSION, o.host_id, o.controller);
    tether_service_ready();

    bool ovs_loaded = false;
    while (!tether_service_exiting()) {
        tether_service_run();
        /* tetherd hears from us only once the local database has been
         * read: the Resync that follows registration lists this host's
         * VIFs, and tetherd unbinds every ENI bound here that it omits. */
        if (ovs_loaded) {
            controller_conn_run(a.conn);
        }
        local_ovs_run(a.ovs);
        vif_marker_run(a.marker);
        ovs_loaded = ovs_loaded || local_ovs_is_connected(a.ovs);
        if (a.qmp && ovs_loaded) {
            qmp_backend_run(a.qmp);
        }
        if (a.lv && ovs_loaded) {
            libvirt_events_run(a.lv);
        }
        agent_update_controllers(&a);
        uint64_t dpid;
        int32_t tunnel_ofport, relay_ofport;
        local_ovs_get_bridge(a.ovs, &dpid, &tunnel_ofport, &relay_ofport);
        controller_conn_set_bridge_status(a.conn, dpid, tunnel_ofport,
                                          relay_ofport);

        tether_service_wait();
        if (ovs_loaded) {
            controller_conn_wait(a.conn);
        }
        local_ovs_wait(a.ovs);
        if (a.qmp && ovs_loaded) {
            qmp_backend_wait(a.qmp);
        }
        if (a.lv && ovs_loaded) {
            libvirt_events_wait(a.lv);
        }
        vif_marker_wait(a.marker);
        poll_block();
    }

    VLOG_INFO("tether-agent exiting");
    controller_conn_destroy(a.conn);
    qmp_backend_destroy(a.qmp);
    libvirt_events_destroy(a.lv);
    local_ovs_destroy(a.ovs);
    vif_marker_destroy(a.marker);
    free(o.openflow_targets);
    free(o.qmp);
    tether_service_stop();
    ovs_loop_destroy();
    free(o.host_id);
    return 0;
}
