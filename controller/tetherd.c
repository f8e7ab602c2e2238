/* tetherd: the data-center controller of tether.  It owns the host
 * inventory and (with the coming modules) the ENI registry, the migration
 * state machines and the OpenFlow tables of every hypervisor's integration
 * bridge.  This file is start-up, options and the main loop only. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command-line.h"
#include "controller/agent-server.h"
#include "controller/engine.h"
#include "controller/eni-store.h"
#include "controller/host-registry.h"
#include "controller/metrics.h"
#include "controller/physical.h"
#include "controller/placement.h"
#include "controller/rest.h"
#include "daemon.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "ovs-glue/of-server.h"
#include "ovs-glue/ovs-loop.h"
#include "ovs-glue/tether-service.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tetherd);

#define DEFAULT_AGENT_LISTEN "0.0.0.0:6650"
#define DEFAULT_OPENFLOW_LISTEN "ptcp:6653"
#define DEFAULT_API_LISTEN "127.0.0.1:8650"
#define DEFAULT_DB "unix:/var/run/tether/db.sock"

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
    const char *db;                     /* tetherd's database */
    const char *openflow_listen;        /* switches connect here */
    const char *api_listen;             /* REST API */
    char *api_token;
    struct engine_options engine;
};

struct tetherd {
    struct host_registry *hosts;
    struct agent_server *agents;
    struct of_server *switches;
    struct physical *physical;
    struct eni_store *store;
    struct placement *placement;
    struct engine *engine;
    struct rest_server *rest;
    uint16_t openflow_port;             /* TCP port switches connect to */
    const char *migration_mode;
};

OVS_NO_RETURN static void usage(void);

/* If 'target' is "ptcp:0" or "ptcp:0:IP", picks a free TCP port on IP
 * (default 0.0.0.0) and returns "ptcp:PORT:IP"; otherwise a copy of
 * 'target'.  Stores the port (or 0) in '*portp' and the IP in 'ip'. */
static char *
resolve_openflow_listen__(const char *target, uint16_t *portp, char ip[64])
{
    const char *rest;
    *portp = 0;
    snprintf(ip, 64, "0.0.0.0");
    if (strncmp(target, "ptcp:", 5)) {
        return xstrdup(target);
    }
    rest = target + 5;
    char *end;
    long port = strtol(rest, &end, 10);
    if (*end == ':') {
        snprintf(ip, 64, "%s", end + 1);
    }
    if (port != 0 || end == rest) {
        *portp = port;
        return xstrdup(target);
    }

    struct sockaddr_in sin = { .sin_family = AF_INET };
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
        ovs_fatal(0, "--openflow-listen=%s: port 0 needs an IPv4 address",
                  target);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof sin)
        || getsockname(fd, (struct sockaddr *) &sin, &len)) {
        ovs_fatal(errno, "--openflow-listen=%s: cannot find a free port",
                  target);
    }
    close(fd);
    *portp = ntohs(sin.sin_port);
    return xasprintf("ptcp:%u:%s", *portp, ip);
}

/* Reads the REST API's bearer token: the first line of 'path'. */
static char *
read_token__(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f) {
        ovs_fatal(errno, "--api-token-file: cannot open %s", path);
    }
    if (!fgets(line, sizeof line, f)) {
        ovs_fatal(0, "--api-token-file: %s is empty", path);
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) < 16) {
        ovs_fatal(0, "--api-token-file: the token in %s is shorter than 16 "
                  "characters", path);
    }
    return xstrdup(line);
}

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
        OPT_DB,
        OPT_OPENFLOW_LISTEN,
        OPT_API_LISTEN,
        OPT_API_TOKEN_FILE,
        OPT_MIGRATION_MODE,
        OPT_MIGRATION_TIMEOUT,
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
        {"db", required_argument, NULL, OPT_DB},
        {"openflow-listen", required_argument, NULL, OPT_OPENFLOW_LISTEN},
        {"api-listen", required_argument, NULL, OPT_API_LISTEN},
        {"api-token-file", required_argument, NULL, OPT_API_TOKEN_FILE},
        {"migration-mode", required_argument, NULL, OPT_MIGRATION_MODE},
        {"migration-timeout", required_argument, NULL, OPT_MIGRATION_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    o->agent_listen = DEFAULT_AGENT_LISTEN;
    o->openflow_listen = DEFAULT_OPENFLOW_LISTEN;
    o->api_listen = DEFAULT_API_LISTEN;
    o->db = DEFAULT_DB;
    o->engine.mode = BINDING_MAKE_BEFORE_BREAK;
    o->engine.migration_timeout_ms = 30000;
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
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_OPENFLOW_LISTEN:
            o->openflow_listen = optarg;
            break;
        case OPT_API_LISTEN:
            o->api_listen = optarg;
            break;
        case OPT_MIGRATION_MODE:
            if (!strcmp(optarg, "make-before-break")) {
                o->engine.mode = BINDING_MAKE_BEFORE_BREAK;
            } else if (!strcmp(optarg, "break-before-make")) {
                o->engine.mode = BINDING_BREAK_BEFORE_MAKE;
            } else {
                ovs_fatal(0, "--migration-mode: \"%s\" is neither "
                          "make-before-break nor break-before-make", optarg);
            }
            break;
        case OPT_MIGRATION_TIMEOUT:
            o->engine.migration_timeout_ms = parse_ms__("migration-timeout",
                                                        optarg, 0, 3600000);
            break;
        case OPT_API_TOKEN_FILE:
            free(o->api_token);
            o->api_token = read_token__(optarg);
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
           "\nState and data path:\n"
           "  --db=REMOTE               tetherd's OVSDB database (default %s)\n"
           "  --openflow-listen=TARGET  where the bridges connect (default "
           "%s)\n"
           "  --migration-mode=MODE     make-before-break (default) or "
           "break-before-make\n"
           "                            (remote hosts follow only at "
           "activation: for comparison)\n"
           "  --migration-timeout=MS    roll back a migration not activated "
           "in MS (default\n"
           "                            30000; 0: never)\n"
           "\nREST API:\n"
           "  --api-listen=IP:PORT      serve the API (default %s)\n"
           "  --api-token-file=FILE     changes need \"Authorization: "
           "Bearer <first line>\"\n"
           "\nGeneral:\n"
           "  --config=FILE             read options from FILE, one "
           "\"name = value\" a line\n"
           "  --unixctl=SOCKET          control socket for ovs-appctl\n"
           "  -h, --help                display this help message\n"
           "  -V, --version             display version information\n",
           program_name, program_name, DEFAULT_AGENT_LISTEN, DEFAULT_DB,
           DEFAULT_OPENFLOW_LISTEN, DEFAULT_API_LISTEN);
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

    struct physical_stats ps;
    struct engine_stats es;
    agent_server_get_stats(d->agents, &st);
    physical_get_stats(d->physical, &ps);
    engine_get_stats(d->engine, &es);
    char *s2 = xasprintf("enis: %zu\ndb_ready: %s\nvif_reports: %llu\n"
                         "unknown_enis: %llu\nbinding_refused: %llu\n"
                         "moves: %llu\nflow_rounds: %llu\nflow_commits: %llu\n"
                         "flow_commit_errors: %llu\nlast_round_ms: %.1f\n"
                         "max_round_ms: %.1f\nlast_round_hosts: %u\n"
                         "flows_idle: %s\napi_port: %u\n"
                         "openflow_port: %u\nmigrations: %llu\n"
                         "migration_commits: %llu\n"
                         "migration_rollbacks: %llu\n"
                         "migration_timeouts: %llu\n"
                         "migrations_in_progress: %zu\n"
                         "activations_by_announcement: %llu\n"
                         "switchovers: %llu\nlast_switchover_ms: %.1f\n"
                         "switchover_ms_p50: %.1f\n"
                         "switchover_ms_p99: %.1f\nmigration_mode: %s\n"
                         "admission_refusals: %llu\n",
                         eni_store_n_enis(d->store),
                         (eni_store_is_ready(d->store)
                          && placement_is_ready(d->placement) ? "yes" : "no"),
                         es.vif_reports, es.unknown_enis, es.refused,
                         es.moves, ps.rounds, ps.commits, ps.commit_errors,
                         ps.last_round_ms, ps.max_round_ms,
                         ps.last_round_hosts,
                         physical_is_idle(d->physical) ? "yes" : "no",
                         d->rest ? rest_server_port(d->rest) : 0,
                         d->openflow_port, es.migrations, es.commits,
                         es.rollbacks, es.timeouts,
                         engine_n_migrations(d->engine), es.announcements,
                         ps.switchovers, ps.last_switchover_ms,
                         ps.switchover_ms_p50, ps.switchover_ms_p99,
                         d->migration_mode, es.admission_refusals);
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
    char *all = xasprintf("%s%s", s, s2);
    unixctl_command_reply(conn, all);
    free(all);
    free(s2);
    free(s);
}

/* Refreshes the gauges /metrics reads from other modules' counters. */
static void
tetherd_collect_metrics(void *d_)
{
    struct tetherd *d = d_;
    unsigned long long n_ops[FT_N_OP_TYPES];

    physical_count_mods(d->physical, n_ops, FT_N_OP_TYPES);
    for (int i = 0; i < FT_N_OP_TYPES; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "op=\"%s\"",
                 ft_op_type_to_string(i));
        metrics_gauge_set("tether_flow_mods_total",
                          "Flow and group mods sent to bridges", labels,
                          n_ops[i]);
    }
    metrics_gauge_set("tether_migrations_in_progress",
                      "Live migrations between prepare and commit", NULL,
                      engine_n_migrations(d->engine));
}

static void
tetherd_packet_in(struct of_switch *sw, const struct of_packet_in *pin,
                  void *d_)
{
    struct tetherd *d = d_;
    engine_packet_in(d->engine, sw, pin);
}

int
main(int argc, char *argv[])
{
    struct tetherd_options o;
    struct tetherd d;
    memset(&d, 0, sizeof d);
    char *err;

    memset(&o, 0, sizeof o);
    set_program_name(argv[0]);
    tether_service_merge_config(&argc, &argv);
    parse_options(argc, argv, &o);

    /* Every bridge's fd is waited for each round: ovs_loop_avoid_epoll(). */
    ovs_loop_avoid_epoll();
    struct event_base *base = ovs_loop_base();
    tether_service_start(base, o.unixctl_path);

    d.hosts = host_registry_create();
    static const struct of_server_cbs of_cbs = {
        .packet_in = tetherd_packet_in,
    };
    d.switches = of_server_create(&of_cbs, &d);
    /* A bridge is only reconciled once its whole desired table is known:
     * after a restart, flows must not be deleted for want of knowing. */
    of_server_hold_new_switches(d.switches, true);
    char of_ip[64];
    char *of_listen = resolve_openflow_listen__(o.openflow_listen,
                                                &d.openflow_port, of_ip);
    int error = of_server_listen(d.switches, of_listen);
    if (error) {
        ovs_fatal(error, "--openflow-listen=%s", of_listen);
    }
    /* Without --openflow-target, agents are told to connect to where we
     * listen, if that is one address. */
    char *of_target = NULL;
    if (!o.n_openflow_targets && d.openflow_port
        && strcmp(of_ip, "0.0.0.0")) {
        of_target = xasprintf("tcp:%s:%u", of_ip, d.openflow_port);
        o.openflow_targets = xcalloc(2, sizeof *o.openflow_targets);
        o.openflow_targets[0] = of_target;
        o.n_openflow_targets = 1;
    }
    d.physical = physical_create(d.switches);
    physical_set_relay(d.physical, o.engine.mode == BINDING_MAKE_BEFORE_BREAK);
    d.engine = engine_create(d.hosts, d.physical, &o.engine);
    d.migration_mode = (o.engine.mode == BINDING_MAKE_BEFORE_BREAK
                        ? "make-before-break" : "break-before-make");
    /* Admission keeps its configuration in the same database, on a
     * connection of its own (controller/admission-store.h). */
    struct placement *placement = placement_create(d.hosts, o.db);
    d.placement = placement;
    struct eni_store_observer engine_obs = engine_store_observer(d.engine);
    struct eni_store_observer obs = placement_chain_observer(placement,
                                                             &engine_obs);
    d.store = eni_store_create(o.db, &obs);
    engine_set_store(d.engine, d.store);
    placement_set_store(placement, d.store);
    engine_set_admission(d.engine, placement_admit, placement);

    struct agent_server_options ao = {
        .listen = o.agent_listen,
        .controller_id = o.controller_id,
        .heartbeat_ms = o.heartbeat_ms,
        .hello_timeout_ms = o.hello_timeout_ms,
        .openflow_targets = o.openflow_targets,
        .private_key = o.private_key,
        .certificate = o.certificate,
        .ca_cert = o.ca_cert,
        .cbs = engine_agent_cbs(d.engine),
    };
    d.agents = agent_server_create(base, d.hosts, &ao, &err);
    if (!d.agents) {
        ovs_fatal(0, "%s", err);
    }
    engine_set_agent_server(d.engine, d.agents);

    struct rest_config rc = {
        .store = d.store,
        .hosts = d.hosts,
        .token = o.api_token,
        .migrations = { engine_migrations_json, d.engine },
        .admission = { placement_rest, placement },
        .cpu = { placement_check_cpu, placement },
        .collect_metrics = tetherd_collect_metrics,
        .metrics_aux = &d,
    };
    d.rest = rest_server_create(base, o.api_listen, &rc, &err);
    if (!d.rest) {
        ovs_fatal(0, "--api-listen=%s: %s", o.api_listen, err);
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
        of_server_run(d.switches);
        eni_store_run(d.store);
        placement_run(placement);
        engine_run(d.engine);
        physical_run(d.physical);

        tether_service_wait();
        agent_server_wait(d.agents);
        of_server_wait(d.switches);
        eni_store_wait(d.store);
        placement_wait(placement);
        physical_wait(d.physical);
        engine_wait(d.engine);
        poll_block();
    }

    VLOG_INFO("tetherd exiting: %zu hosts known", host_registry_count(d.hosts));
    rest_server_destroy(d.rest);
    agent_server_destroy(d.agents);
    engine_destroy(d.engine);
    placement_destroy(placement);
    physical_destroy(d.physical);
    eni_store_destroy(d.store);
    of_server_destroy(d.switches);
    host_registry_destroy(d.hosts);
    tether_service_stop();
    ovs_loop_destroy();
    free(o.controller_id);
    free(o.openflow_targets);
    free(o.api_token);
    free(of_target);
    free(of_listen);
    return 0;
}
