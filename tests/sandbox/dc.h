/* A whole tether data center for end-to-end sandbox tests: a fabric of
 * dummy-datapath hypervisors (fabric.h), tetherd's own ovsdb-server, the
 * built tetherd and one built tether-agent per hypervisor, all children of
 * the test, plus the helpers those tests need: tetherctl against the REST
 * API, tetherd/stats, waiting for bindings and confirmed flows, and a fast
 * packet injector (a persistent unixctl connection to ovs-vswitchd).
 *
 * Contract:
 *
 *   - dc_create() returns only once tetherd's store has loaded, every agent
 *     is connected and every hypervisor's br-int has its tunnel port and
 *     tetherd's base flows, or NULL after saying why on stderr (everything
 *     it started stopped).  dc_destroy() stops everything by pid and is safe
 *     on NULL.  The daemons get SIGTERM if the test process dies.
 *
 *   - tetherd listens on 127.0.0.1 only; its ports are chosen by the kernel
 *     the first time and reused on every restart (the agents and bridges
 *     are configured with them).  Its files (log, pidfile, control socket,
 *     API token) are in sandbox_dir(dc->db); agents' in their hypervisor's
 *     directory.
 *
 *   - Functions that wait take a timeout in milliseconds and poll; none
 *     sleeps for correctness.  Functions print why they failed on stderr.
 *
 * Single-threaded, like sandbox.h. */
#ifndef TESTS_SANDBOX_DC_H
#define TESTS_SANDBOX_DC_H 1

#include <stdbool.h>
#include <sys/types.h>

#include "tests/sandbox/fabric.h"
#include "tests/sandbox/pcap.h"

#define DC_MAX_HVS 8

struct dc {
    struct fabric *fabric;
    struct sandbox *db;             /* tetherd's ovsdb-server and files */
    int n_hvs;
    pid_t tetherd;                  /* 0 if not running */
    pid_t agents[DC_MAX_HVS + 1];   /* by hypervisor number; 0 if stopped */
    const char *agent_arg[DC_MAX_HVS + 1];  /* one more argument for that
                                             * agent's next start, or NULL */
    int agent_port, api_port, openflow_port;
    char token[64];
};

struct dc *dc_create(const char *name, int n_hvs);
void dc_destroy(struct dc *);

/* Starts tetherd (on the ports of the previous run, if any) with 'extra'
 * (NULL or one more command-line argument, e.g. a -v option) and waits
 * until its store has loaded.  Returns 0 or -1. */
int dc_start_tetherd(struct dc *, const char *extra);
/* Sends 'sig' to tetherd and reaps it. */
void dc_stop_tetherd(struct dc *, int sig);

/* Starts / stops (with 'sig', reaping it) hypervisor 'hv''s agent. */
int dc_start_agent(struct dc *, int hv);
void dc_stop_agent(struct dc *, int hv, int sig);

/* Waits until tetherd reports all hypervisors connected. */
bool dc_wait_hosts_connected(struct dc *, int timeout_ms);

/* Runs "ovs-appctl -t <tetherd.ctl> 'cmd'" and returns its output (the
 * caller frees it), or NULL. */
char *dc_tetherd_ctl(struct dc *, const char *cmd);
/* The value of 'name' in tetherd/stats: a number, 1 for "yes", 0 for
 * "no", or -1 if missing or tetherd does not answer. */
double dc_stat(struct dc *, const char *name);

/* Runs the built tetherctl against tetherd with the token: "tetherctl
 * <args>".  Stores stdout in '*outp' if nonnull.  Returns its exit
 * status. */
int dc_ctl(struct dc *, char **outp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The ENI's "host" per the REST API ("hv2"; "" if unbound; NULL if there is
 * no such ENI or tetherd does not answer).  The caller frees it. */
char *dc_eni_host(struct dc *, const char *eni_id);
/* The integer field 'field' ("epoch", "ofport") of the ENI, or -1. */
long long dc_eni_int(struct dc *, const char *eni_id, const char *field);

/* Waits until tetherd has no flow change waiting to be computed or
 * confirmed (flows_idle). */
bool dc_wait_idle(struct dc *, int timeout_ms);
/* Waits until the ENI is bound to hypervisor 'hv' (0: unbound) and the
 * flows are idle. */
bool dc_wait_bound(struct dc *, const char *eni_id, int hv, int timeout_ms);

/* The flows of 'hv''s br-int as "ovs-ofctl -O OpenFlow13 dump-flows" prints
 * them (one a line, the reply header removed); the caller frees it. */
char *dc_dump_flows(struct dc *, int hv);

/* A persistent unixctl connection to 'hv''s ovs-vswitchd for injecting
 * frames fast (no process per frame): a VM sends 'frame' from 'port'.
 * dc_inject() returns 0 or a positive errno value. */
struct dc_injector *dc_injector_open(struct dc *, int hv);
int dc_inject(struct dc_injector *, const char *port, const struct frame *);
void dc_injector_close(struct dc_injector *);

long long dc_now_ms(void);
void dc_sleep_ms(int ms);

/* Reads one JSON object (an OVSDB or unixctl reply) from 'fd' into 'buf',
 * NUL-terminated.  Returns 0, EPIPE at end of file, EMSGSIZE if it does not
 * fit, or an errno value. */
int dc_read_json(int fd, char *buf, size_t size);

#endif /* tests/sandbox/dc.h */
