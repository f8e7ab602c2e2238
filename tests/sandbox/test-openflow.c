/* Sandbox tests of ovs-glue's OpenFlow side (of-server, of-switch,
 * flow-table) against a real ovs-vswitchd: connection and dpid, 10,000
 * flows in one bundle, reconciliation after a controller restart that
 * touches only what is wrong, packet-in of an injected RARP, packet-out, an
 * ALL group, and a rejected commit that leaves the installed table true. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/flow-table.h"
#include "ovs-glue/of-server.h"
#include "ovs-glue/ovs-loop.h"
#include "tests/sandbox/sandbox.h"
#include "flow.h"
#include "timeval.h"

#define DPID 0x7e7e000000000001ULL
#define N_FLOWS 10000
#define C_FLOW FT_COOKIE(1, 0)
#define C_GROUP FT_COOKIE(2, 0)
#define C_PKT FT_COOKIE(3, 0)

static struct sandbox *sb;
static struct of_server *server;
static char *listen_target;

/* What the callbacks saw. */
static int n_up, n_down, n_synced, sync_error;
static uint64_t up_dpid;
static int n_commits_done, commit_error;
static int n_packet_ins;
static struct of_packet_in last_pin;
static uint8_t last_packet[1600];

static void
cb_up(struct of_switch *sw, void *aux OVS_UNUSED)
{
    n_up++;
    up_dpid = of_switch_dpid(sw);
}

static void
cb_down(struct of_switch *sw OVS_UNUSED, void *aux OVS_UNUSED)
{
    n_down++;
}

static void
cb_synced(struct of_switch *sw OVS_UNUSED, int error, void *aux OVS_UNUSED)
{
    n_synced++;
    sync_error = error;
}

static void
cb_packet_in(struct of_switch *sw OVS_UNUSED, const struct of_packet_in *pin,
             void *aux OVS_UNUSED)
{
    n_packet_ins++;
    last_pin = *pin;
    memcpy(last_packet, pin->packet, MIN(pin->len, sizeof last_packet));
    last_pin.packet = last_packet;
}

static void
cb_commit(struct of_switch *sw OVS_UNUSED, int error, void *aux OVS_UNUSED)
{
    n_commits_done++;
    commit_error = error;
}

static const struct of_server_cbs cbs = {
    .switch_up = cb_up,
    .switch_down = cb_down,
    .switch_synced = cb_synced,
    .packet_in = cb_packet_in,
};

/* Runs the loop until '*counter' reaches 'target' or 'ms' pass. */
static bool
run_until(const int *counter, int target, int ms)
{
    long long int deadline = time_msec() + ms;

    for (;;) {
        of_server_run(server);
        if (*counter >= target) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        of_server_wait(server);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static struct of_switch *
sw(void)
{
    return of_server_get_switch(server, DPID);
}

static void
commit_and_wait(int expected_error)
{
    int target = n_commits_done + 1;

    of_switch_commit(sw(), cb_commit, NULL);
    assert_true(run_until(&n_commits_done, target, 60000));
    if (expected_error >= 0) {
        assert_int_equal(commit_error, expected_error);
    }
}

static void
refresh_and_wait(void)
{
    int target = n_commits_done + 1;

    of_switch_refresh(sw(), cb_commit, NULL);
    assert_true(run_until(&n_commits_done, target, 30000));
    assert_int_equal(commit_error, 0);
}

static char *
sh(const char *fmt, const char *arg)
{
    char *out = NULL;
    int status = sandbox_run(sb, &out, fmt, arg);
    if (status) {
        fail_msg("command failed (%d): %s", status, fmt);
    }
    return out;
}

/* Number of lines that shell command 'fmt' (with one "%s" for 'arg')
 * prints. */
static long
count_lines(const char *fmt, const char *arg)
{
    char *cmd = xasprintf(fmt, arg);
    char *out = sh("%s | wc -l", cmd);
    long n = atol(out);
    free(out);
    free(cmd);
    return n;
}

static void
add_flow(const char *s, uint64_t cookie)
{
    char *error = flow_table_add_flow_str(of_switch_desired(sw()), cookie, s);
    if (error) {
        fail_msg("%s", error);
    }
}

/* The flows of test_install: 2,500 per table in tables 0 to 3. */
static void
add_bulk_flows(void)
{
    for (int i = 0; i < N_FLOWS; i++) {
        char s[160];
        snprintf(s, sizeof s, "table=%d,priority=%d,ip,nw_dst=10.%d.%d.%d,"
                 "actions=mod_dl_dst:00:00:00:00:%02x:%02x,output:%d",
                 i % 4, 100 + i % 3, i / 256 / 256, (i / 256) % 256, i % 256,
                 (i >> 8) & 0xff, i & 0xff, 1 + i % 2);
        add_flow(s, C_FLOW | i);
    }
}

static void
server_start(void)
{
    server = of_server_create(&cbs, NULL);
    assert_int_equal(of_server_listen(server, listen_target), 0);
}

static void
test_connect(void **state OVS_UNUSED)
{
    server_start();
    assert_true(run_until(&n_synced, 1, 20000));
    assert_int_equal(n_up, 1);
    assert_true(up_dpid == DPID);
    assert_int_equal(sync_error, 0);
    assert_true(of_switch_is_connected(sw()));
    assert_true(of_switch_is_idle(sw()));
    assert_int_equal(flow_table_n_flows(of_switch_installed(sw())), 0);
}

static void
test_install_10000(void **state OVS_UNUSED)
{
    struct of_switch_stats before, after;

    add_bulk_flows();
    of_switch_get_stats(sw(), &before);
    long long int start = time_msec();
    commit_and_wait(0);
    long long int ms = time_msec() - start;
    of_switch_get_stats(sw(), &after);
    print_message("# 10000 flows committed in %lld ms\n", ms);

    assert_int_equal(after.n_ops[FT_FLOW_ADD] - before.n_ops[FT_FLOW_ADD],
                     N_FLOWS);
    assert_int_equal(after.n_bundles - before.n_bundles, 1);
    assert_int_equal(flow_table_n_flows(of_switch_installed(sw())), N_FLOWS);
    char *out = sh("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                   "| grep -c cookie=%s", "");
    assert_int_equal(atol(out), N_FLOWS);
    free(out);

    /* Committing again sends nothing. */
    commit_and_wait(0);
    of_switch_get_stats(sw(), &before);
    assert_int_equal(of_switch_stats_n_flow_mods(&before),
                     of_switch_stats_n_flow_mods(&after));
}

/* ovs_loop_fd_ready(): of two sockets waited for, the one with data is
 * ready and the idle one is not, for the last round only; and an idle
 * bridge connection is not read every round, yet what the bridge sends
 * later (barrier replies) is still received. */
static void
test_idle_connection_not_read(void **state OVS_UNUSED)
{
    int sv[2][2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[0]), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[1]), 0);
    assert_int_equal(write(sv[1][1], "x", 1), 1);

    unsigned long long calls = ovs_loop_wait_calls();
    poll_fd_wait(sv[0][0], POLLIN);
    assert_true(ovs_loop_wait_calls() == calls + 1);
    assert_int_equal(ovs_loop_last_wait_fd(), sv[0][0]);
    poll_fd_wait(sv[1][0], POLLIN);
    unsigned long long round = ovs_loop_round() + 1;
    poll_timer_wait(1000);
    poll_block();
    assert_true(ovs_loop_round() == round);
    assert_false(ovs_loop_fd_ready(sv[0][0], round));
    assert_true(ovs_loop_fd_ready(sv[1][0], round));
    /* Not waited for in that round, or another round: not known. */
    assert_true(ovs_loop_fd_ready(sv[0][1], round));
    assert_true(ovs_loop_fd_ready(sv[0][0], round - 1));
    poll_immediate_wake();
    poll_block();
    assert_true(ovs_loop_fd_ready(sv[0][0], round));
    for (int i = 0; i < 2; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }

    /* The bridge is connected and synced, with nothing to say: 20 rounds
     * read it at most a few times (an echo). */
    unsigned long long skipped0, read0, skipped1, read1;
    of_server_recv_counts(server, &skipped0, &read0);
    for (int i = 0; i < 20; i++) {
        of_server_run(server);
        of_server_wait(server);
        poll_timer_wait(5);
        poll_block();
    }
    of_server_recv_counts(server, &skipped1, &read1);
    print_message("# 20 idle rounds: %llu reads skipped, %llu done\n",
                  skipped1 - skipped0, read1 - read0);
    assert_true(skipped1 - skipped0 >= 15);

    /* And a commit still gets its barrier reply. */
    add_flow("table=0,priority=7,in_port=1,actions=drop", C_FLOW | 77777);
    commit_and_wait(0);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int"
                                 "%s | grep priority=7,", ""), 1);
    flow_table_remove_cookie(of_switch_desired(sw()), C_FLOW | 77777,
                             UINT64_MAX);
    commit_and_wait(0);
}

/* Seconds a flow has existed, from ovs-ofctl. */
static double
flow_duration(const char *match)
{
    char *out = sh("ovs-ofctl -O OpenFlow13 dump-flows br-int '%s' "
                   "| grep -o 'duration=[0-9.]*'", match);
    double d = atof(out + strlen("duration="));
    free(out);
    return d;
}

static void
test_reconcile_after_restart(void **state OVS_UNUSED)
{
    const char *kept = "table=1,ip,nw_dst=10.0.0.1";
    struct of_switch_stats before, after;
    int synced = n_synced;

    of_server_destroy(server);
    server = NULL;
    sleep(1);                   /* So that a re-added flow would look new. */

    /* Tamper: 3 flows with wrong actions, 3 missing, 3 extra of ours (two
     * of them nobody's), and one foreign flow that must stay. */
    free(sh("set -e; o='ovs-ofctl -O OpenFlow13'%s\n"
            "$o mod-flows --strict br-int "
            "'table=2,priority=100,ip,nw_dst=10.0.0.6,actions=drop'\n"
            "$o mod-flows --strict br-int "
            "'table=2,priority=101,ip,nw_dst=10.0.0.10,actions=output:2'\n"
            "$o mod-flows --strict br-int "
            "'table=3,priority=102,ip,nw_dst=10.0.0.11,actions=output:1'\n"
            "$o del-flows --strict br-int "
            "'table=0,priority=100,ip,nw_dst=10.0.0.0'\n"
            "$o del-flows --strict br-int "
            "'table=0,priority=101,ip,nw_dst=10.0.0.4'\n"
            "$o del-flows --strict br-int "
            "'table=3,priority=100,ip,nw_dst=10.0.39.15'\n"
            "$o add-flow br-int 'table=5,priority=1,actions=drop'\n"
            "$o add-flow br-int 'table=0,priority=7,in_port=2,actions=drop'\n"
            "$o add-flow br-int 'cookie=0x1000000000099,table=0,priority=7,"
            "in_port=1,actions=drop'\n"
            "$o add-flow br-int 'cookie=0xff00000000000001,table=9,priority=1,"
            "actions=drop'\n", ""));
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows "
                                 "br-int --no-names%s | grep cookie", ""),
                     N_FLOWS - 3 + 4);
    double d0 = flow_duration(kept);
    assert_true(d0 >= 1.0);

    /* A new controller with the same desired flows. */
    server_start();
    add_bulk_flows();
    of_switch_get_stats(sw(), &before);
    assert_true(run_until(&n_synced, synced + 1, 30000));
    assert_int_equal(sync_error, 0);
    of_switch_get_stats(sw(), &after);

    /* Exactly the differences were sent. */
    assert_int_equal(after.n_ops[FT_FLOW_MODIFY], 3);
    assert_int_equal(after.n_ops[FT_FLOW_ADD], 3);
    assert_int_equal(after.n_ops[FT_FLOW_DELETE], 3);
    assert_int_equal(of_switch_stats_n_flow_mods(&after), 9);

    /* The switch now has the desired flows plus the foreign one, and the
     * flows that were right were not touched. */
    char *out = sh("ovs-ofctl -O OpenFlow13 dump-flows br-int%s "
                   "| grep -c cookie=", "");
    assert_int_equal(atol(out), N_FLOWS + 1);
    free(out);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                                 "table=9%s | grep cookie=0xff00000000000001",
                                 ""), 1);
    assert_true(flow_duration(kept) >= d0);
    out = sh("ovs-ofctl -O OpenFlow13 dump-flows br-int "
             "'%s' | grep -o 'actions=.*'",
             "table=2,ip,nw_dst=10.0.0.6");
    assert_non_null(strstr(out, "output:1"));
    free(out);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                                 "'%s' | grep cookie",
                                 "table=3,ip,nw_dst=10.0.39.15"), 1);

    /* Our view agrees with a fresh read of the switch. */
    struct flow_table *view = flow_table_clone(of_switch_installed(sw()));
    refresh_and_wait();
    assert_true(flow_table_equal(view, of_switch_installed(sw())));
    flow_table_destroy(view);
}

static void
test_packet_in_rarp(void **state OVS_UNUSED)
{
    add_flow("table=0,priority=300,in_port=3,rarp,actions=controller",
             C_PKT | 1);
    commit_and_wait(0);

    /* RARP request from 00:00:5e:00:01:03 (as QEMU sends after a move). */
    const char *rarp =
        "ffffffffffff" "00005e000103" "8035"
        "0001" "0800" "06" "04" "0003"
        "00005e000103" "00000000" "00005e000103" "00000000";
    int target = n_packet_ins + 1;
    char *out = sh(SANDBOX_APPCTL " netdev-dummy/receive p3 %s", rarp);
    free(out);
    assert_true(run_until(&n_packet_ins, target, 10000));
    assert_int_equal(ofp_to_u16(last_pin.in_port), 3);
    assert_int_equal(last_pin.len, 42);
    assert_int_equal(last_pin.cookie, C_PKT | 1);
    assert_int_equal(last_packet[12], 0x80);
    assert_int_equal(last_packet[13], 0x35);
}

static void
test_packet_out(void **state OVS_UNUSED)
{
    static const uint8_t packet[60] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x5e, 0x00, 0x01,
        0x09, 0x88, 0xb5,
    };
    struct ofpbuf ofpacts;
    struct stat st0, st1;
    char *path = xasprintf("%s/p2.pcap", sandbox_dir(sb));

    assert_int_equal(stat(path, &st0), 0);
    ofpbuf_init(&ofpacts, 0);
    ofpact_put_OUTPUT(&ofpacts)->port = u16_to_ofp(2);
    assert_int_equal(of_switch_packet_out(sw(), packet, sizeof packet,
                                          OFPP_CONTROLLER, ofpacts.data,
                                          ofpacts.size), 0);
    ofpbuf_uninit(&ofpacts);

    /* The packet reaches p2's pcap (16-byte record header + packet). */
    for (int i = 0; i < 100; i++) {
        int never = 0;
        run_until(&never, 1, 50);
        assert_int_equal(stat(path, &st1), 0);
        if (st1.st_size >= st0.st_size + 16 + (off_t) sizeof packet) {
            break;
        }
    }
    assert_int_equal(st1.st_size, st0.st_size + 16 + sizeof packet);
    free(path);
}

static void
test_group_all(void **state OVS_UNUSED)
{
    char *error = flow_table_add_group_str(
        of_switch_desired(sw()), C_GROUP | 1,
        "group_id=1,type=all,bucket=output:1,bucket=output:2");
    assert_null(error);
    add_flow("table=0,priority=300,in_port=3,ip,actions=group:1",
             C_GROUP | 1);
    commit_and_wait(0);

    char *out = sh("ovs-ofctl -O OpenFlow13 dump-groups br-int%s", "");
    assert_non_null(strstr(out, "group_id=1,type=all,"
                            "bucket=actions=output:1,"
                            "bucket=actions=output:2"));
    free(out);
    out = sh(SANDBOX_APPCTL " ofproto/trace br-int in_port=3,ip%s "
             "| tail -1", "");
    assert_non_null(strstr(out, "Datapath actions: 1,2"));
    free(out);

    /* Removing the ENI's cookie removes the group and its flow, and the
     * flow goes before the group. */
    assert_int_equal(flow_table_remove_cookie(of_switch_desired(sw()),
                                              C_GROUP | 1, FT_COOKIE_MASK),
                     2);
    commit_and_wait(0);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-groups "
                                 "br-int%s | grep group_id", ""), 0);
}

static void
test_commit_rejected(void **state OVS_UNUSED)
{
    struct flow_table *before = flow_table_clone(of_switch_installed(sw()));
    struct of_switch_stats st0, st1;

    /* A flow that outputs to a missing group, with a good flow in the same
     * commit: the switch rejects the bundle at commit and applies neither. */
    add_flow("table=0,priority=400,in_port=1,actions=group:99", C_PKT | 2);
    add_flow("table=0,priority=400,in_port=2,actions=output:1", C_PKT | 3);
    of_switch_get_stats(sw(), &st0);
    commit_and_wait(-1);
    of_switch_get_stats(sw(), &st1);
    assert_true(ofperr_is_valid(commit_error));
    print_message("# rejected: %s\n", ofperr_to_string(commit_error));
    assert_int_equal(st1.n_errors, st0.n_errors + 1);
    assert_true(flow_table_equal(before, of_switch_installed(sw())));
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                                 "| grep %s", "priority=400"), 0);

    /* A flow the switch refuses as it is added to the bundle (table 254 is
     * OVS's internal table): the bundle is discarded, not committed. */
    flow_table_remove_cookie(of_switch_desired(sw()), C_PKT | 2,
                             FT_COOKIE_MASK);
    add_flow("table=254,priority=1,actions=drop", C_PKT | 4);
    commit_and_wait(-1);
    assert_true(ofperr_is_valid(commit_error));
    print_message("# rejected: %s\n", ofperr_to_string(commit_error));
    assert_true(flow_table_equal(before, of_switch_installed(sw())));
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                                 "| grep %s", "priority=400"), 0);

    /* Fixed desired table: the good flow goes in. */
    flow_table_remove_cookie(of_switch_desired(sw()), C_PKT | 4,
                             FT_COOKIE_MASK);
    commit_and_wait(0);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int "
                                 "| grep %s", "priority=400"), 1);
    struct flow_table *view = flow_table_clone(of_switch_installed(sw()));
    refresh_and_wait();
    assert_true(flow_table_equal(view, of_switch_installed(sw())));
    flow_table_destroy(view);
    flow_table_destroy(before);
}

static void
test_disconnect(void **state OVS_UNUSED)
{
    int down = n_down;

    of_server_destroy(server);
    server = NULL;
    assert_int_equal(n_down, down + 1);
}

/* Connecting out (to the bridge's always-present management socket) works
 * too, and a controller whose desired table has one flow leaves the switch
 * with that flow and the foreign one. */
static void
test_connect_out(void **state OVS_UNUSED)
{
    int synced = n_synced;
    char *target = xasprintf("unix:%s/br-int.mgmt", sandbox_dir(sb));

    server = of_server_create(&cbs, NULL);
    of_server_connect(server, target);
    free(target);
    add_flow("table=0,priority=1,actions=drop", C_FLOW | 1);
    assert_true(run_until(&n_synced, synced + 1, 30000));
    assert_int_equal(sync_error, 0);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int"
                                 "%s | grep cookie=", ""), 2);
    assert_int_equal(count_lines("ovs-ofctl -O OpenFlow13 dump-flows br-int"
                                 "%s | grep cookie=0xff00000000000001", ""),
                     1);
    of_server_destroy(server);
    server = NULL;
}

static int
setup(void **state OVS_UNUSED)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    sb = sandbox_create("openflow");
    if (!sb) {
        return -1;
    }
    listen_target = xasprintf("punix:%s/tetherd-of.sock", sandbox_dir(sb));
    char *out = NULL;
    int status = sandbox_run(
        sb, &out,
        SANDBOX_VSCTL " add-br br-int -- set bridge br-int "
        "datapath_type=dummy fail_mode=secure protocols=OpenFlow13 "
        "other-config:datapath-id=%016llx "
        "-- add-port br-int p1 -- set interface p1 type=dummy "
        "ofport_request=1 "
        "-- add-port br-int p2 -- set interface p2 type=dummy "
        "ofport_request=2 options:tx_pcap=\"$SB_DIR/p2.pcap\" "
        "-- add-port br-int p3 -- set interface p3 type=dummy "
        "ofport_request=3 "
        "&& " SANDBOX_VSCTL " set-controller br-int %s "
        "&& " SANDBOX_VSCTL " set controller br-int max_backoff=1000",
        (unsigned long long) DPID, listen_target + 1);
    free(out);
    return status ? -1 : 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    of_server_destroy(server);
    sandbox_destroy(sb);
    free(listen_target);
    ovs_loop_destroy();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_install_10000),
        cmocka_unit_test(test_idle_connection_not_read),
        cmocka_unit_test(test_reconcile_after_restart),
        cmocka_unit_test(test_packet_in_rarp),
        cmocka_unit_test(test_packet_out),
        cmocka_unit_test(test_group_all),
        cmocka_unit_test(test_commit_rejected),
        cmocka_unit_test(test_disconnect),
        cmocka_unit_test(test_connect_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
