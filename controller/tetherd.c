/* tetherd: the data-center controller of tether.  It owns the host
 * inventory and (with the coming modules) the ENI registry, the migration
 * state machines and the OpenFlow tables of every hypervisor's integration
 * bridge.  This file is start-up, options and the main loop only. */
#include <config.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command-line.h"
#include "controller/agent-server.h"
#include "controller/host-registry.h"
#include "daemon.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/ovs-loop.h"
#include "ovs-glue/tether-service.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tetherd);

#define DEFAULT_AGENT_LISTEN "0.0.0.0:6650"

struct tetherd_options {
    const char *agent_listen;
    char *controller_id;
    unsigned int heartbeat_ms;
    unsigned int hello_timeout_ms;
    const char *unixctl_path;
    const char **openflow_targets;      /* NULL-ended */
    size_t n_openflow_targets;
    const char *private_key;            /* TLS for the agent protocol */
    const char *certificate;
    const char *ca_cert;
};

struct tetherd {
    struct host_registry *hosts;
    struct agent_server *agents;
};

OVS_NO_RETURN static void usage(void);

static unsigned int
parse_ms__(const char *name, const char *s, unsigned int min,
           unsigned int max)
{
    char *end;
    long long int v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        ovs_fatal(0, "--%s: \"%s\" is not a number of milliseconds in "
                  "%u..%u", name, s, min, max);
    }
    return v;
}

static void
parse_options(int argc, char *argv[], struct tetherd_options *o)
{
    enum {
        OPT_AGENT_LISTEN = UCHAR_MAX + 1,
        OPT_CONTROLLER_ID,
        OPT_HEARTBEAT,
        OPT_HELLO_TIMEOUT,
        OPT_OPENFLOW_TARGET,
        OPT_UNIXCTL,
        OPT_CONFIG,
        OPT_PRIVATE_KEY,
        OPT_CERTIFICATE,
        OPT_CA_CERT,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"agent-listen", required_argument, NULL, OPT_AGENT_LISTEN},
        {"controller-id", required_argument, NULL, OPT_CONTROLLER_ID},
        {"heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT},
        {"hello-timeout", required_argument, NULL, OPT_HELLO_TIMEOUT},
        {"openflow-target", required_argument, NULL, OPT_OPENFLOW_TARGET},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
        {"certificate", required_argument, NULL, OPT_CERTIFICATE},
        {"ca-cert", required_argument, NULL, OPT_CA_CERT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    o->agent_listen = DEFAULT_AGENT_LISTEN;
    o->heartbeat_ms = 1000;
    o->hello_timeout_ms = 10000;

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_AGENT_LISTEN:
            o->agent_listen = optarg;
            break;
        case OPT_CONTROLLER_ID:
            free(o->controller_id);
            o->controller_id = xstrdup(optarg);
            break;
        case OPT_HEARTBEAT:
            o->heartbeat_ms = parse_ms__("heartbeat-interval", optarg,
                                         100, 600000);
            break;
        case OPT_HELLO_TIMEOUT:
            o->hello_timeout_ms = parse_ms__("hello-timeout", optarg,
                                             100, 600000);
            break;
        case OPT_OPENFLOW_TARGET:
            o->openflow_targets = xrealloc(o->openflow_targets,
                                           (o->n_openflow_targets + 2)
                                           * sizeof *o->openflow_targets);
            o->openflow_targets[o->n_openflow_targets++] = optarg;
            o->openflow_targets[o->n_openflow_targets] = NULL;
            break;
        case OPT_UNIXCTL:
            o->unixctl_path = optarg;
            break;
        case OPT_CONFIG:
            break;              /* merged by tether_service_merge_config() */
        case OPT_PRIVATE_KEY:
            o->private_key = optarg;
            break;
        case OPT_CERTIFICATE:
            o->certificate = optarg;
            break;
        case OPT_CA_CERT:
            o->ca_cert = optarg;
            break;
        case 'h':
            usage();
        case 'V':
            printf("tetherd (tether) %s\n", TETHER_VERSION);
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
    if (!o->controller_id) {
        char hostname[256];
        o->controller_id = xstrdup(gethostname(hostname, sizeof hostname)
                                   ? "tetherd" : hostname);
    }
}

static void
usage(void)
{
    printf("%s: tether's data-center controller\n"
           "usage: %s [OPTIONS]\n"
           "\nAgent protocol:\n"
           "  --agent-listen=[tcp:|ssl:]IP:PORT\n"
           "                            listen for tether-agents (default %s)\n"
           "  --private-key=FILE        TLS (ssl:): this controller's key,\n"
           "  --certificate=FILE          its certificate,\n"
           "  --ca-cert=FILE              and the CA agents' certificates "
           "must chain to\n"
           "  --controller-id=ID        this controller's name (default: "
           "hostname)\n"
           "  --heartbeat-interval=MS   agents' heartbeat interval "
           "(default 1000)\n"
           "  --hello-timeout=MS        time a new agent has to say hello "
           "(default 10000)\n"
           "  --openflow-target=TARGET  OpenFlow controller target for the "
           "agents' bridges\n"
           "                            (repeatable, e.g. tcp:10.0.0.1:6653)\n"
           "\nGeneral:\n"
           "  --config=FILE             read options from FILE, one "
           "\"name = value\" a line\n"
           "  --unixctl=SOCKET          control socket for ovs-appctl\n"
           "  -h, --help                display this help message\n"
           "  -V, --version             display version information\n",
           program_name, program_name, DEFAULT_AGENT_LISTEN);
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
tetherd_unixctl_hosts(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *d_)
{
    struct tetherd *d = d_;
    struct ds s = DS_EMPTY_INITIALIZER;
    long long int now = time_msec();

    for (size_t i = 0; i < host_registry_count(d->hosts); i++) {
        const struct host *h = host_registry_at(d->hosts, i);
        ds_put_format(&s, "%s %s hypervisor=%s tunnel=%s:%s bridge=%s "
                      "agent=%s sessions=%llu last_heard=%lldms\n",
                      h->id, h->connected ? "connected" : "disconnected",
                      h->hypervisor, h->tunnel_type[0] ? h->tunnel_type
                      : "geneve", h->tunnel_ip, h->bridge, h->agent_version,
                      h->n_sessions, now - h->last_heard);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
tetherd_unixctl_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *d_)
{
    struct tetherd *d = d_;
    struct agent_server_stats st;
    char *s;

    agent_server_get_stats(d->agents, &st);
    s = xasprintf("hosts: %zu\nhosts_connected: %zu\nsessions: %u\n"
                  "sessions_accepted: %llu\nsessions_refused: %llu\n"
                  "sessions_failed: %llu\n"
                  "hellos: %llu\nvif_events: %llu\nmigration_events: %llu\n"
                  "resyncs: %llu\nauth_refusals: %llu\nagent_port: %u\n",
                  host_registry_count(d->hosts),
                  host_registry_count_connected(d->hosts),
                  agent_server_n_sessions(d->agents),
                  st.sessions_accepted, st.sessions_refused,
                  st.sessions_failed, st.hellos,
                  st.vif_events, st.migration_events, st.resyncs,
                  st.auth_refusals, agent_server_port(d->agents));
    unixctl_command_reply(conn, s);
    free(s);
}

int
main(int argc, char *argv[])
{
    struct tetherd_options o;
    struct tetherd d;
    char *err;

    memset(&o, 0, sizeof o);
    set_program_name(argv[0]);
    tether_service_merge_config(&argc, &argv);
    parse_options(argc, argv, &o);

    struct event_base *base = ovs_loop_base();
    tether_service_start(base, o.unixctl_path);

    d.hosts = host_registry_create();
    struct agent_server_options ao = {
        .listen = o.agent_listen,
        .controller_id = o.controller_id,
        .heartbeat_ms = o.heartbeat_ms,
        .hello_timeout_ms = o.hello_timeout_ms,
        .openflow_targets = o.openflow_targets,
        .private_key = o.private_key,
        .certificate = o.certificate,
        .ca_cert = o.ca_cert,
    };
    d.agents = agent_server_create(base, d.hosts, &ao, &err);
    if (!d.agents) {
        ovs_fatal(0, "%s", err);
    }
    unixctl_command_register("tetherd/hosts", "", 0, 0,
                             tetherd_unixctl_hosts, &d);
    unixctl_command_register("tetherd/stats", "", 0, 0,
                             tetherd_unixctl_stats, &d);

    VLOG_INFO("tetherd %s started as controller %s", TETHER_VERSION,
              o.controller_id);
    tether_service_ready();

    while (!tether_service_exiting()) {
        tether_service_run();
        agent_server_run(d.agents);

        tether_service_wait();
        agent_server_wait(d.agents);
        poll_block();
    }

    VLOG_INFO("tetherd exiting: %zu hosts known", host_registry_count(d.hosts));
    agent_server_destroy(d.agents);
    host_registry_destroy(d.hosts);
    tether_service_stop();
    ovs_loop_destroy();
    free(o.controller_id);
    free(o.openflow_targets);
    return 0;
}
