/* Benchmark: how fast ovs-glue installs flows into a real ovs-vswitchd
 * (of_switch_commit() of 50,000 flows into an empty bridge, until the
 * barrier after the bundle's commit), compared with
 * `ovs-ofctl -O OpenFlow13 --bundle add-flows` of the same flows into
 * another empty bridge of the same ovs-vswitchd, in the same run.  Each side
 * is measured three times and its best run counts. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "ovs-glue/of-server.h"
#include "ovs-glue/ovs-loop.h"
#include "tests/sandbox/sandbox.h"
#include "timeval.h"

#define N_FLOWS 50000
#define N_ROUNDS 3
#define DPID 0x7e7e0000000000b1ULL

static struct sandbox *sb;
static struct of_server *server;
static int n_synced, n_done, done_error;

static void
synced_cb(struct of_switch *sw OVS_UNUSED, int error OVS_UNUSED,
          void *aux OVS_UNUSED)
{
    n_synced++;
}

static void
commit_cb(struct of_switch *sw OVS_UNUSED, int error, void *aux OVS_UNUSED)
{
    n_done++;
    done_error = error;
}

static const struct of_server_cbs cbs = { .switch_synced = synced_cb };

static void
run_until(const int *counter, int target)
{
    long long int deadline = time_msec() + 120000;

    for (;;) {
        of_server_run(server);
        if (*counter >= target) {
            return;
        }
        if (time_msec() >= deadline) {
            ovs_fatal(0, "timed out");
        }
        of_server_wait(server);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static void
flow_string(int i, char *s, size_t size)
{
    snprintf(s, size, "table=%d,priority=%d,ip,nw_dst=10.%d.%d.%d,"
             "actions=mod_dl_dst:00:00:00:00:%02x:%02x,output:%d",
             i % 4, 100 + i % 3, i / 65536, (i / 256) % 256, i % 256,
             (i >> 8) & 0xff, i & 0xff, 1 + i % 2);
}

static void
sh(const char *cmd)
{
    if (sandbox_run(sb, NULL, "%s", cmd)) {
        ovs_fatal(0, "failed: %s", cmd);
    }
}

/* Returns the seconds ovs-glue takes to install the flows of 'desired'
 * (filled by the caller) into the empty bridge. */
static double
glue_round(struct of_switch *sw, const struct flow_table *flows)
{
    struct flow_table *desired = of_switch_desired(sw);
    int target = n_done + 1;

    /* Empty the bridge (not timed). */
    flow_table_clear(desired);
    of_switch_commit(sw, commit_cb, NULL);
    run_until(&n_done, target++);

    /* Fill the desired table (not timed: tetherd computes flows, it does
     * not parse them), then commit (timed). */
    struct flow_table *copy = flow_table_clone(flows);
    flow_table_swap(desired, copy);
    flow_table_destroy(copy);

    long long int start = time_msec();
    of_switch_commit(sw, commit_cb, NULL);
    run_until(&n_done, target);
    long long int ms = time_msec() - start;
    if (done_error || flow_table_n_flows(of_switch_installed(sw)) != N_FLOWS) {
        ovs_fatal(0, "commit failed (%d)", done_error);
    }
    return ms / 1000.0;
}

static double
ofctl_round(const char *file)
{
    char *cmd = xasprintf("ovs-ofctl -O OpenFlow13 del-flows br-ofctl && "
                          "n=$(ovs-ofctl -O OpenFlow13 dump-flows br-ofctl "
                          "| grep -c cookie=); test \"$n\" = 0");
    sh(cmd);
    free(cmd);

    cmd = xasprintf("ovs-ofctl -O OpenFlow13 --bundle add-flows br-ofctl %s",
                    file);
    long long int start = time_msec();
    sh(cmd);
    long long int ms = time_msec() - start;
    free(cmd);

    char *out = NULL;
    sandbox_run(sb, &out, "ovs-ofctl -O OpenFlow13 dump-flows br-ofctl "
                "| grep -c cookie=");
    if (!out || atoi(out) != N_FLOWS) {
        ovs_fatal(0, "ovs-ofctl installed %s flows", out ? out : "?");
    }
    free(out);
    return ms / 1000.0;
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    sb = sandbox_create("flowmod");
    if (!sb) {
        return 1;
    }
    char *target = xasprintf("punix:%s/tetherd-of.sock", sandbox_dir(sb));
    char *setup = xasprintf(
        SANDBOX_VSCTL " add-br br-int -- set bridge br-int "
        "datapath_type=dummy fail_mode=secure protocols=OpenFlow13 "
        "other-config:datapath-id=%016llx "
        "-- add-port br-int p1 -- set interface p1 type=dummy "
        "ofport_request=1 "
        "-- add-port br-int p2 -- set interface p2 type=dummy "
        "ofport_request=2 "
        "-- add-br br-ofctl -- set bridge br-ofctl datapath_type=dummy "
        "fail_mode=secure protocols=OpenFlow13 "
        "-- add-port br-ofctl q1 -- set interface q1 type=dummy "
        "ofport_request=1 "
        "-- add-port br-ofctl q2 -- set interface q2 type=dummy "
        "ofport_request=2 "
        "&& " SANDBOX_VSCTL " set-controller br-int %s",
        (unsigned long long) DPID, target + 1);
    sh(setup);
    free(setup);

    /* The flows, as a file for ovs-ofctl and as a table for ovs-glue. */
    char *file = xasprintf("%s/flows.txt", sandbox_dir(sb));
    FILE *f = fopen(file, "w");
    if (!f) {
        ovs_fatal(errno, "%s", file);
    }
    struct flow_table *flows = flow_table_create();
    long long int start = time_msec();
    for (int i = 0; i < N_FLOWS; i++) {
        char s[160];
        flow_string(i, s, sizeof s);
        fprintf(f, "cookie=%#"PRIx64",%s\n", FT_COOKIE(1, i), s);
        char *error = flow_table_add_flow_str(flows, FT_COOKIE(1, i), s);
        if (error) {
            ovs_fatal(0, "%s", error);
        }
    }
    long long int fill_ms = time_msec() - start;
    fclose(f);

    server = of_server_create(&cbs, NULL);
    if (of_server_listen(server, target)) {
        return 1;
    }
    run_until(&n_synced, 1);
    struct of_switch *sw = of_server_get_switch(server, DPID);

    double best_glue = 1e9, best_ofctl = 1e9;
    for (int r = 0; r < N_ROUNDS; r++) {
        best_ofctl = MIN(best_ofctl, ofctl_round(file));
        best_glue = MIN(best_glue, glue_round(sw, flows));
    }

    double glue_rate = N_FLOWS / best_glue;
    double ofctl_rate = N_FLOWS / best_ofctl;
    printf("flowmod_desired_table_fill_flows_per_s: %.0f flows/s\n",
           N_FLOWS / (fill_ms / 1000.0));
    printf("flowmod_ovs_glue_flows_per_s: %.0f flows/s\n", glue_rate);
    printf("flowmod_ovs_ofctl_flows_per_s: %.0f flows/s\n", ofctl_rate);
    printf("flowmod_ratio: %.2f\n", glue_rate / ofctl_rate);

    flow_table_destroy(flows);
    of_server_destroy(server);
    sandbox_destroy(sb);
    ovs_loop_destroy();
    free(file);
    free(target);
    return 0;
}
