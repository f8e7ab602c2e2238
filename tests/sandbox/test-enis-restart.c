/* End-to-end sandbox tests of tether's daemons dying and coming back, on
 * three dummy-datapath hypervisors with the real tetherd, its database and
 * agents: tetherd killed with SIGKILL while a VM sends a numbered probe
 * every 2 ms, then restarted on the same database (nothing lost, not one
 * flow touched, not one probe lost); and an agent killed and restarted
 * (its bindings stay, and a VIF removed meanwhile unbinds its ENI). */
#define _GNU_SOURCE 1           /* asprintf */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/sandbox/dc.h"
#include "tests/sandbox/sandbox.h"

#define WAIT_MS 10000

/* OVS retries a lost controller connection after 1, 2, 4, 8 s. */
#define RECONNECT_MS 30000

static struct dc *dc;
static pid_t prober;            /* the probe sender, while it runs */

struct vm {
    const char *name;
    const char *eni;
    const char *mac;
    const char *ip;
    int hv;
};

static struct vm r1 = { "r1", "eni-r1", "02:00:00:06:00:01", "10.6.0.1", 1 };
static struct vm r2 = { "r2", "eni-r2", "02:00:00:06:00:02", "10.6.0.2", 2 };
static struct vm r3 = { "r3", "eni-r3", "02:00:00:06:00:03", "10.6.0.3", 3 };
static struct vm r4 = { "r4", "eni-r4", "02:00:00:06:00:04", "10.6.0.4", 2 };
static struct vm *vms[] = { &r1, &r2, &r3, &r4 };

static int
setup(void **state)
{
    (void) state;
    dc = dc_create("restart", 3);
    if (!dc) {
        return -1;
    }
    for (size_t i = 0; i < sizeof vms / sizeof *vms; i++) {
        const struct vm *vm = vms[i];
        char uuid[64];
        snprintf(uuid, sizeof uuid, "123e4567-e89b-12d3-a456-42661417400%zu",
                 i);
        if (dc_ctl(dc, NULL, "eni create --id=%s --mac=%s --ip=%s --vni=600"
                   " >/dev/null", vm->eni, vm->mac, vm->ip)
            || fabric_add_vif(dc->fabric, vm->hv, vm->name, vm->eni, vm->mac,
                              uuid) <= 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof vms / sizeof *vms; i++) {
        if (!dc_wait_bound(dc, vms[i]->eni, vms[i]->hv, WAIT_MS)) {
            return -1;
        }
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    if (prober > 0) {
        kill(prober, SIGKILL);
        waitpid(prober, NULL, 0);
    }
    dc_destroy(dc);
    dc = NULL;
    return 0;
}

static void
send_udp(const struct vm *from, const struct vm *to, const char *payload)
{
    struct frame f;
    assert_int_equal(frame_udp4(&f, from->mac, to->mac, from->ip, to->ip,
                                4000, 5000, payload, strlen(payload)), 0);
    assert_int_equal(fabric_inject(dc->fabric, from->hv, from->name, &f), 0);
}

static void
expect_udp(const struct vm *vm, const char *payload, int n)
{
    int got = fabric_vif_wait_rx(dc->fabric, vm->hv, vm->name,
                                 frame_match_udp_payload, payload, n,
                                 WAIT_MS);
    if (got != n) {
        fail_msg("%s received %d frame(s) \"%s\", expected %d", vm->name, got,
                 payload, n);
    }
}

/* --- Probes -------------------------------------------------------------- */

#define PROBE_FMT "probe-%c-%06u"   /* run, number */

static volatile sig_atomic_t stop_probes;

static void
stop_probes_handler(int sig)
{
    (void) sig;
    stop_probes = 1;
}

/* Probes are "probe-R-NNNNNN", R naming the run. */
static char probe_run = 'a';

/* A child process that has 'from' send "probe-R-NNNNNN" to 'to' every 2 ms,
 * numbered from 0, until SIGTERM; it then writes how many it sent to
 * 'fd'. */
static pid_t
start_probes(const struct vm *from, const struct vm *to, int fd)
{
    pid_t pid = fork();
    if (pid) {
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGTERM, stop_probes_handler);
    struct dc_injector *inj = dc_injector_open(dc, from->hv);
    unsigned int n = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (inj && !stop_probes) {
        char payload[32];
        struct frame f;
        snprintf(payload, sizeof payload, PROBE_FMT, probe_run, n);
        frame_udp4(&f, from->mac, to->mac, from->ip, to->ip, 4000, 5001,
                   payload, strlen(payload));
        if (dc_inject(inj, from->name, &f)) {
            break;
        }
        n++;
        next.tv_nsec += 2000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    if (write(fd, &n, sizeof n) != sizeof n) {
        _exit(1);
    }
    _exit(inj && stop_probes ? 0 : 1);
}

/* Probes 'vm' received: fills 'seen' (of 'n') and returns how many distinct
 * numbers below 'n' were there. */
static unsigned int
probes_seen(const struct vm *vm, bool *seen, unsigned int n)
{
    char *pcap = fabric_vif_pcap(dc->fabric, vm->hv, vm->name, true);
    struct frame *frames;
    size_t n_frames;
    unsigned int distinct = 0;

    memset(seen, 0, n * sizeof *seen);
    if (pcap_read(pcap, &frames, &n_frames)) {
        free(pcap);
        return 0;
    }
    for (size_t i = 0; i < n_frames; i++) {
        struct frame_info info;
        unsigned int k;
        char buf[32], run;
        if (frame_parse(&frames[i], &info) && info.ip_proto == 17
            && info.payload_len < sizeof buf) {
            memcpy(buf, info.payload, info.payload_len);
            buf[info.payload_len] = '\0';
            if (sscanf(buf, PROBE_FMT, &run, &k) == 2 && run == probe_run
                && k < n && !seen[k]) {
                seen[k] = true;
                distinct++;
            }
        }
    }
    free(frames);
    free(pcap);
    return distinct;
}

/* Waits until 'vm' has received at least 'n' distinct probes. */
static unsigned int
wait_probes(const struct vm *vm, unsigned int n, int timeout_ms)
{
    bool *seen = calloc(n + 1000000, sizeof *seen);
    long long deadline = dc_now_ms() + timeout_ms;
    unsigned int got;
    while ((got = probes_seen(vm, seen, n + 1000000)) < n
           && dc_now_ms() < deadline) {
        dc_sleep_ms(10);
    }
    free(seen);
    return got;
}

/* --- Flows --------------------------------------------------------------- */

/* One flow of a dump: its identity (everything but duration and counters)
 * and those. */
struct flow {
    char *key;
    double duration;
    unsigned long long n_packets;
};

static void
strip_field(char *line, const char *name, char *val, size_t size)
{
    char *p = strstr(line, name);
    val[0] = '\0';
    if (!p) {
        return;
    }
    char *end = p + strcspn(p, " ");
    size_t vlen = end - p - strlen(name);
    if (vlen < size) {
        memcpy(val, p + strlen(name), vlen);
        val[vlen] = '\0';
    }
    memmove(p, end + (*end == ' '), strlen(end + (*end == ' ')) + 1);
}

static size_t
parse_flows(const char *dump, struct flow **flowsp)
{
    char *copy = strdup(dump ? dump : "");
    struct flow *flows = NULL;
    size_t n = 0;

    for (char *save, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char val[64];
        char *l = strdup(line + strspn(line, " "));
        if (!*l) {
            free(l);
            continue;
        }
        flows = realloc(flows, (n + 1) * sizeof *flows);
        strip_field(l, "duration=", val, sizeof val);
        flows[n].duration = atof(val);
        strip_field(l, "n_packets=", val, sizeof val);
        flows[n].n_packets = strtoull(val, NULL, 10);
        strip_field(l, "n_bytes=", val, sizeof val);
        strip_field(l, "idle_age=", val, sizeof val);
        strip_field(l, "hard_age=", val, sizeof val);
        flows[n].key = l;
        n++;
    }
    free(copy);
    *flowsp = flows;
    return n;
}

static void
free_flows(struct flow *flows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(flows[i].key);
    }
    free(flows);
}

/* Fails unless 'after' has exactly the flows of 'before', none of them
 * younger than it was (a deleted and re-added flow starts again at 0). */
static void
check_flows_untouched(int hv, const char *before, const char *after)
{
    struct flow *b, *a;
    size_t nb = parse_flows(before, &b), na = parse_flows(after, &a);

    assert_true(nb > 0);
    for (size_t i = 0; i < nb; i++) {
        size_t j;
        for (j = 0; j < na; j++) {
            if (!strcmp(b[i].key, a[j].key)) {
                break;
            }
        }
        if (j == na) {
            fail_msg("hv%d: flow gone after the restart: %s", hv, b[i].key);
        }
        if (a[j].duration < b[i].duration
            || a[j].n_packets < b[i].n_packets) {
            fail_msg("hv%d: flow re-added (duration %.3fs -> %.3fs, n_packets"
                     " %llu -> %llu): %s", hv, b[i].duration, a[j].duration,
                     b[i].n_packets, a[j].n_packets, b[i].key);
        }
    }
    if (na != nb) {
        fail_msg("hv%d: %zu flows before the restart, %zu after", hv, nb, na);
    }
    free_flows(b, nb);
    free_flows(a, na);
}

/* "ovs-ofctl monitor" on 'hv''s br-int, every flow change written to
 * <hv dir>/monitor.txt; returns once it has printed the initial flows. */
static pid_t
start_monitor(int hv, char **pathp)
{
    const char *dir = sandbox_dir(fabric_hv(dc->fabric, hv));
    char *path, *target;
    assert_true(asprintf(&path, "%s/monitor.txt", dir) > 0);
    assert_true(asprintf(&target, "unix:%s/br-int.mgmt", dir) > 0);
    unlink(path);
    pid_t pid = fork();
    if (!pid) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        setenv("OVS_RUNDIR", dir, 1);
        if (!freopen(path, "w", stdout) || dup2(1, 2) != 2) {
            _exit(126);
        }
        execlp("ovs-ofctl", "ovs-ofctl", "-O", "OpenFlow14", "monitor",
               target, "watch:",
               (char *) NULL);
        _exit(127);
    }
    free(target);
    long long deadline = dc_now_ms() + WAIT_MS;
    for (;;) {
        char *out = NULL;
        sandbox_run(fabric_hv(dc->fabric, hv), &out, "grep -c 'event=INITIAL'"
                    " '%s'", path);
        bool ready = out && atoi(out) > 0;
        free(out);
        if (ready) {
            break;
        }
        assert_true(dc_now_ms() < deadline);
        dc_sleep_ms(10);
    }
    *pathp = path;
    return pid;
}

/* The flow changes ovs-ofctl monitor saw (events other than INITIAL). */
static char *
monitor_changes(int hv, const char *path)
{
    char *out = NULL;
    sandbox_run(fabric_hv(dc->fabric, hv), &out, "grep -E "
                "'event=(ADDED|DELETED|MODIFIED|ABBREV)' '%s' || true", path);
    return out;
}

static off_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : st.st_size;
}

/* Lines of 'path' from offset 'from' that contain 'needle' (a malloc()ed
 * string, possibly empty). */
static char *
grep_from(const char *path, off_t from, const char *needle, int *countp)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t size = 1, len = 0;
    char *out = calloc(1, 1);

    *countp = 0;
    if (!f) {
        return out;
    }
    fseeko(f, from, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, needle)) {
            size_t l = strlen(line);
            out = realloc(out, size + l);
            memcpy(out + len, line, l + 1);
            len += l;
            size += l;
            (*countp)++;
        }
    }
    fclose(f);
    return out;
}

/* --- Tests --------------------------------------------------------------- */

/* 6. tetherd killed with SIGKILL under traffic and restarted on the same
 * database, twice: once for what must survive (test_tetherd_restart) and
 * once for "hitless" (test_tetherd_restart_hitless).
 *
 * Survive: the REST API lists exactly the same ENIs (every field, epochs
 * included), every agent resyncs, and the restarted tetherd programs new
 * changes.
 *
 * Hitless: every probe sent (one every 2 ms, numbered, r1 on hv1 to r2 on
 * hv2) before, during and after the outage is delivered, and the restart
 * "sent no changes", defined as: the restarted tetherd sent no flow or group
 * mod at all (its of_switch module, at debug level, logs every bundle it
 * sends as "bundle of N ops"; none may appear), no bridge reported a flow
 * added, deleted or modified to an OpenFlow 1.4 flow monitor on it, and
 * every flow is there afterward with a duration and packet count not
 * smaller than before (a deleted and re-added flow starts again at 0).
 * tetherd's flow_commits may count one empty commit per host (the first
 * computation of its table, reconciled against what the switch has), so at
 * most 3, and flow_commit_errors must stay 0. */
static void
tetherd_restart(bool hitless)
{
    const char *dir = sandbox_dir(dc->db);
    char *log;
    assert_true(asprintf(&log, "%s/tetherd.log", dir) > 0);

    assert_true(dc_wait_idle(dc, WAIT_MS));
    char *enis_before = NULL;
    assert_int_equal(dc_ctl(dc, &enis_before, "--format=json eni list"), 0);

    /* Probes from r1 (hv1) to r2 (hv2); wait for the first ones. */
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    probe_run++;
    prober = start_probes(&r1, &r2, pipefd[1]);
    assert_true(prober > 0);
    assert_true(wait_probes(&r2, 50, WAIT_MS) >= 50);

    char *monitors[4];
    pid_t monitor_pids[4];
    char *flows_before[4];
    for (int hv = 1; hv <= 3; hv++) {
        monitor_pids[hv] = start_monitor(hv, &monitors[hv]);
        flows_before[hv] = dc_dump_flows(dc, hv);
        assert_non_null(flows_before[hv]);
    }
    double resyncs = dc_stat(dc, "resyncs");
    assert_true(resyncs >= 3);

    /* The outage: probes keep arriving while tetherd is dead. */
    dc_stop_tetherd(dc, SIGKILL);
    unsigned int at_kill = wait_probes(&r2, 0, 0);
    assert_true(wait_probes(&r2, at_kill + 250, WAIT_MS) >= at_kill + 250);

    off_t log_offset = file_size(log);
    assert_int_equal(dc_start_tetherd(dc, "-vof_switch:file:dbg"), 0);
    assert_true(dc_wait_hosts_connected(dc, RECONNECT_MS));

    /* Every bridge reconnected and was read ("read N flows"), every agent
     * resynced (the counters start again at 0), and the flows settled. */
    long long deadline = dc_now_ms() + RECONNECT_MS;
    int n_read;
    for (;;) {
        free(grep_from(log, log_offset, ": read ", &n_read));
        if ((n_read >= 3 && dc_stat(dc, "resyncs") >= 3
             && dc_stat(dc, "flows_idle") == 1) || dc_now_ms() > deadline) {
            break;
        }
        dc_sleep_ms(10);
    }
    assert_true(n_read >= 3);
    assert_true(dc_stat(dc, "resyncs") >= 3);
    assert_true(dc_wait_idle(dc, WAIT_MS));
    /* Probes sent after the reconciliation arrive. */
    unsigned int at_sync = wait_probes(&r2, 0, 0);
    assert_true(wait_probes(&r2, at_sync + 50, WAIT_MS) >= at_sync + 50);

    kill(prober, SIGTERM);
    unsigned int n_sent = 0;
    assert_int_equal(read(pipefd[0], &n_sent, sizeof n_sent), sizeof n_sent);
    int status;
    assert_int_equal(waitpid(prober, &status, 0), prober);
    prober = 0;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pipefd[0]);
    close(pipefd[1]);

    /* No ENI lost or changed. */
    char *enis_after = NULL;
    assert_int_equal(dc_ctl(dc, &enis_after, "--format=json eni list"), 0);
    assert_string_equal(enis_after, enis_before);
    free(enis_before);
    free(enis_after);

    /* The probes. */
    unsigned int got = wait_probes(&r2, n_sent, hitless ? WAIT_MS : 0);
    printf("# probes: %u sent every 2 ms across the kill -9 and restart, "
           "%u delivered\n", n_sent, got);
    int n_bundles;
    char *bundles = grep_from(log, log_offset, "bundle of", &n_bundles);
    printf("# restarted tetherd: %d bundle(s) sent, flow_commits %.0f, "
           "flow_commit_errors %.0f\n", n_bundles,
           dc_stat(dc, "flow_commits"), dc_stat(dc, "flow_commit_errors"));
    char *changes[4];
    for (int hv = 1; hv <= 3; hv++) {
        changes[hv] = monitor_changes(hv, monitors[hv]);
        kill(monitor_pids[hv], SIGTERM);
        waitpid(monitor_pids[hv], NULL, 0);
        free(monitors[hv]);
    }

    if (hitless) {
        if (got != n_sent) {
            bool *seen = calloc(n_sent, sizeof *seen);
            probes_seen(&r2, seen, n_sent);
            unsigned int first = 0, last = n_sent;
            while (first < n_sent && seen[first]) {
                first++;
            }
            while (last > first && seen[last - 1]) {
                last--;
            }
            free(seen);
            fail_msg("%u of %u probes delivered; missing from %u to %u",
                     got, n_sent, first, last - 1);
        }
        if (n_bundles) {
            fail_msg("the restarted tetherd sent flow changes:\n%s", bundles);
        }
        for (int hv = 1; hv <= 3; hv++) {
            if (changes[hv] && *changes[hv]) {
                fail_msg("hv%d's br-int saw flow changes:\n%.2000s", hv,
                         changes[hv]);
            }
            char *after = dc_dump_flows(dc, hv);
            check_flows_untouched(hv, flows_before[hv], after);
            free(after);
        }
        assert_true(dc_stat(dc, "flow_commits") <= 3);
        assert_int_equal(dc_stat(dc, "flow_commit_errors"), 0);
    }
    free(bundles);
    for (int hv = 1; hv <= 3; hv++) {
        free(changes[hv]);
        free(flows_before[hv]);
    }

    /* The restarted tetherd forwards and programs changes. */
    char payload[32];
    snprintf(payload, sizeof payload, "after-restart-%d", hitless);
    send_udp(&r3, &r1, payload);
    expect_udp(&r1, payload, 1);
    long long epoch = dc_eni_int(dc, r3.eni, "epoch");
    assert_int_equal(fabric_del_vif(dc->fabric, 3, r3.name), 0);
    assert_true(dc_wait_bound(dc, r3.eni, 0, WAIT_MS));
    assert_true(fabric_add_vif(dc->fabric, 3, r3.name, r3.eni, r3.mac,
                               "123e4567-e89b-12d3-a456-426614174002") > 0);
    assert_true(dc_wait_bound(dc, r3.eni, 3, WAIT_MS));
    assert_true(dc_eni_int(dc, r3.eni, "epoch") > epoch);
    snprintf(payload, sizeof payload, "replugged-%d", hitless);
    send_udp(&r1, &r3, payload);
    expect_udp(&r3, payload, 1);
    free(log);
}

static void
test_tetherd_restart(void **state)
{
    (void) state;
    tetherd_restart(false);
}

/* The restart is hitless only if the restarted tetherd computes, bit for
 * bit, the flows its predecessor installed: bridges are held until their
 * table is complete (nothing is deleted meanwhile), action lists built from
 * sets come in a fixed order (controller/flows.c), and a flow read back
 * from a switch that speaks OpenFlow 1.5 compares equal to the desired one
 * (ovs-glue/flow-table.c's canonical form). */
static void
test_tetherd_restart_hitless(void **state)
{
    (void) state;
    tetherd_restart(true);
}

/* 7. An agent killed and restarted resyncs: its bindings stay as they were
 * (same epoch, traffic flows throughout), and an ENI whose VIF went away
 * while it was down is unbound. */
static void
test_agent_restart(void **state)
{
    (void) state;
    long long r2_epoch = dc_eni_int(dc, r2.eni, "epoch");
    long long r4_epoch = dc_eni_int(dc, r4.eni, "epoch");
    double resyncs = dc_stat(dc, "resyncs");
    assert_true(r2_epoch > 0 && r4_epoch > 0);

    dc_stop_agent(dc, 2, SIGKILL);
    long long deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "hosts_connected") != 2 && dc_now_ms() < deadline) {
        dc_sleep_ms(10);
    }
    assert_int_equal(dc_stat(dc, "hosts_connected"), 2);

    /* The data path stays while the agent is away. */
    send_udp(&r1, &r2, "agent-down");
    expect_udp(&r2, "agent-down", 1);
    assert_int_equal(fabric_del_vif(dc->fabric, 2, r4.name), 0);
    char *host = dc_eni_host(dc, r4.eni);
    assert_non_null(host);
    assert_string_equal(host, "hv2");       /* nobody told tetherd yet */
    free(host);

    assert_int_equal(dc_start_agent(dc, 2), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    deadline = dc_now_ms() + WAIT_MS;
    while (dc_stat(dc, "resyncs") <= resyncs && dc_now_ms() < deadline) {
        dc_sleep_ms(10);
    }
    assert_true(dc_stat(dc, "resyncs") > resyncs);
    assert_true(dc_wait_bound(dc, r4.eni, 0, WAIT_MS));
    assert_true(dc_wait_bound(dc, r2.eni, 2, WAIT_MS));
    assert_int_equal(dc_eni_int(dc, r2.eni, "epoch"), r2_epoch);

    send_udp(&r1, &r2, "agent-back");
    send_udp(&r2, &r3, "agent-back");
    expect_udp(&r2, "agent-back", 1);
    expect_udp(&r3, "agent-back", 1);

    /* r4's VIF comes back on hv2: bound again, with a new epoch. */
    assert_true(fabric_add_vif(dc->fabric, 2, r4.name, r4.eni, r4.mac,
                               "123e4567-e89b-12d3-a456-426614174003") > 0);
    assert_true(dc_wait_bound(dc, r4.eni, 2, WAIT_MS));
    assert_true(dc_eni_int(dc, r4.eni, "epoch") > r4_epoch);
    send_udp(&r1, &r4, "r4-back");
    expect_udp(&r4, "r4-back", 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tetherd_restart),
        cmocka_unit_test(test_agent_restart),
        cmocka_unit_test(test_tetherd_restart_hitless),
    };
    return cmocka_run_group_tests_name("enis-restart", tests, setup,
                                       teardown);
}
