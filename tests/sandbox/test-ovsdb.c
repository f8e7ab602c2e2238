/* Sandbox tests of the OVSDB side of ovs-glue: bridge-setup and vif-monitor
 * against a real ovsdb-server and ovs-vswitchd (tests/sandbox/sandbox.h),
 * including an ovsdb-server restart.  The cases run in order on one
 * sandbox; each drives the loop (run, wait, poll_block) until what it
 * expects has happened or a deadline passes. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/bridge-setup.h"
#include "ovs-glue/ovs-loop.h"
#include "ovs-glue/vif-monitor.h"
#include "ovsdb-idl.h"
#include "tests/sandbox/sandbox.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

#define DEADLINE_MS 10000

/* One event received by the vif-monitor callback. */
struct event {
    enum vif_event type;
    struct vif_info vif;
    char *old_mac;              /* VIF_CHANGED only */
};

#define MAX_EVENTS 64

static struct sandbox *sb;
static struct ovsdb_idl *idl;
static struct vif_monitor *vm;
static struct bridge_setup *bs;
static struct event events[MAX_EVENTS];
static size_t n_events;

static const char *const controllers[] = { "tcp:127.0.0.1:6653" };
static const struct bridge_setup_config cfg = {
    .bridge = "br-int",
    .datapath_type = "dummy",
    .controllers = controllers,
    .n_controllers = 1,
    .tunnel_port = "tun0",
    .tunnel_type = "geneve",
    .tunnel_local_ip = "192.0.2.1",
};

static void
vif_cb(enum vif_event type, const struct vif_info *vif,
       const struct vif_info *old, void *aux OVS_UNUSED)
{
    assert_true(n_events < MAX_EVENTS);
    struct event *e = &events[n_events++];
    e->type = type;
    e->vif = (struct vif_info) {
        .eni_id = xstrdup(vif->eni_id),
        .mac = xstrdup(vif->mac),
        .vm_uuid = xstrdup(vif->vm_uuid),
        .iface_status = xstrdup(vif->iface_status),
        .bridge = xstrdup(vif->bridge),
        .iface_name = xstrdup(vif->iface_name),
        .ofport = vif->ofport,
    };
    e->old_mac = old ? xstrdup(old->mac) : NULL;
}

static void
clear_events(void)
{
    for (size_t i = 0; i < n_events; i++) {
        struct event *e = &events[i];
        free(e->vif.eni_id);
        free(e->vif.mac);
        free(e->vif.vm_uuid);
        free(e->vif.iface_status);
        free(e->vif.bridge);
        free(e->vif.iface_name);
        free(e->old_mac);
    }
    n_events = 0;
}

/* Runs the loop until 'done(aux)' or DEADLINE_MS.  Returns what 'done'
 * last returned. */
static bool
drive(bool (*done)(const void *aux), const void *aux)
{
    long long int deadline = time_msec() + DEADLINE_MS;

    for (;;) {
        ovsdb_idl_run(idl);
        vif_monitor_run(vm);
        if (bs) {
            bridge_setup_run(bs);
        }
        if (done(aux)) {
            return true;
        } else if (time_msec() >= deadline) {
            return false;
        }
        ovsdb_idl_wait(idl);
        vif_monitor_wait(vm);
        if (bs) {
            bridge_setup_wait(bs);
        }
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static bool
has_n_events(const void *n_)
{
    return n_events >= *(const size_t *) n_;
}

static bool
bs_in_sync(const void *aux OVS_UNUSED)
{
    return bridge_setup_get_state(bs) == BRIDGE_SETUP_IN_SYNC;
}

/* In sync after at least '*n' commits.  (Merely "in sync" could be the
 * state from before a change the IDL has not received yet.) */
static bool
bs_in_sync_after(const void *n_)
{
    return (bridge_setup_get_state(bs) == BRIDGE_SETUP_IN_SYNC
            && bridge_setup_n_commits(bs) >= *(const unsigned int *) n_);
}

static bool
idl_disconnected(const void *aux OVS_UNUSED)
{
    return !vif_monitor_is_connected(vm);
}

/* Waits for exactly one new event, and returns it. */
static const struct event *
expect_event(void)
{
    size_t want = 1;

    clear_events();
    assert_true(drive(has_n_events, &want));
    assert_int_equal(n_events, 1);
    return &events[0];
}

/* Runs 'cmd' in the sandbox and returns its stdout without the trailing
 * newline (the caller frees it); fails the test if the command fails. */
static char *
run(const char *cmd)
{
    char *out;
    int status = sandbox_run(sb, &out, "%s", cmd);
    if (status) {
        fail_msg("\"%s\" exited with status %d", cmd, status);
    }
    size_t len = strlen(out);
    if (len && out[len - 1] == '\n') {
        out[len - 1] = '\0';
    }
    return out;
}

static void
assert_cmd_output(const char *cmd, const char *expected)
{
    char *out = run(cmd);
    if (strcmp(out, expected)) {
        fail_msg("\"%s\": expected \"%s\", got \"%s\"", cmd, expected, out);
    }
    free(out);
}

static int
group_setup(void **state OVS_UNUSED)
{
    sb = sandbox_create("ovsdb");
    if (!sb) {
        return -1;
    }
    idl = ovsdb_idl_create(sandbox_db_remote(sb), &ovsrec_idl_class,
                           false, true);
    vif_monitor_add_columns(idl);
    bridge_setup_add_columns(idl);
    vm = vif_monitor_create(idl, "br-int", vif_cb, NULL);
    return 0;
}

static int
group_teardown(void **state OVS_UNUSED)
{
    clear_events();
    bridge_setup_destroy(bs);
    vif_monitor_destroy(vm);
    ovsdb_idl_destroy(idl);
    sandbox_destroy(sb);
    ovs_loop_destroy();
    return 0;
}

/* A fresh database gets the whole bridge in one transaction. */
static void
test_bridge_setup_creates(void **state OVS_UNUSED)
{
    bs = bridge_setup_create(idl, &cfg);
    assert_non_null(bs);
    assert_true(drive(bs_in_sync, NULL));
    assert_int_equal(bridge_setup_n_commits(bs), 1);

    assert_cmd_output("ovs-vsctl list-br", "br-int");
    assert_cmd_output("ovs-vsctl get Bridge br-int datapath_type", "dummy");
    assert_cmd_output("ovs-vsctl get Bridge br-int fail_mode", "secure");
    assert_cmd_output("ovs-vsctl get Bridge br-int protocols",
                      "[OpenFlow13, OpenFlow14, OpenFlow15]");
    assert_cmd_output("ovs-vsctl get Bridge br-int "
                      "other_config:disable-in-band", "\"true\"");
    assert_cmd_output("ovs-vsctl get-controller br-int",
                      "tcp:127.0.0.1:6653");
    assert_cmd_output("ovs-vsctl list-ports br-int", "tun0");
    assert_cmd_output("ovs-vsctl get Interface br-int type", "internal");
    assert_cmd_output("ovs-vsctl get Interface tun0 type", "geneve");
    assert_cmd_output("ovs-vsctl get Interface tun0 options",
                      "{key=flow, local_ip=\"192.0.2.1\", remote_ip=flow}");
    /* ovs-vswitchd took the configuration. */
    assert_cmd_output(SANDBOX_APPCTL " dpif/show-dp-features br-int "
                      ">/dev/null && echo ok", "ok");
}

/* A second set-up with the same configuration commits nothing. */
static void
test_bridge_setup_idempotent(void **state OVS_UNUSED)
{
    bridge_setup_destroy(bs);
    bs = bridge_setup_create(idl, &cfg);
    assert_true(drive(bs_in_sync, NULL));
    assert_int_equal(bridge_setup_n_commits(bs), 0);
    assert_cmd_output("ovs-vsctl --columns=_uuid list Controller | wc -l",
                      "1");
}

/* Plug, change, unplug of a VIF made with ovs-vsctl. */
static void
test_vif_plug_change_unplug(void **state OVS_UNUSED)
{
    const struct event *e;

    free(run("ovs-vsctl add-port br-int vif1 -- set Interface vif1 "
             "type=dummy ofport_request=7 "
             "external_ids:iface-id=eni-1 "
             "external_ids:attached-mac=02:00:00:00:00:01 "
             "external_ids:vm-uuid=vm-1 external_ids:iface-status=active"));
    e = expect_event();
    assert_int_equal(e->type, VIF_PLUGGED);
    assert_string_equal(e->vif.eni_id, "eni-1");
    assert_string_equal(e->vif.mac, "02:00:00:00:00:01");
    assert_string_equal(e->vif.vm_uuid, "vm-1");
    assert_string_equal(e->vif.iface_status, "active");
    assert_string_equal(e->vif.bridge, "br-int");
    assert_string_equal(e->vif.iface_name, "vif1");
    assert_int_equal(e->vif.ofport, 7);

    free(run("ovs-vsctl set Interface vif1 "
             "external_ids:attached-mac=02:00:00:00:00:02"));
    e = expect_event();
    assert_int_equal(e->type, VIF_CHANGED);
    assert_string_equal(e->vif.eni_id, "eni-1");
    assert_string_equal(e->vif.mac, "02:00:00:00:00:02");
    assert_string_equal(e->old_mac, "02:00:00:00:00:01");
    assert_int_equal(e->vif.ofport, 7);

    free(run("ovs-vsctl del-port br-int vif1"));
    e = expect_event();
    assert_int_equal(e->type, VIF_UNPLUGGED);
    assert_string_equal(e->vif.eni_id, "eni-1");
    assert_string_equal(e->vif.iface_name, "vif1");
    assert_null(vif_monitor_find(vm, "vif1"));
}

/* An interface without iface-id is not a VIF until it gets one. */
static void
test_vif_iface_id_added_removed(void **state OVS_UNUSED)
{
    const struct event *e;

    /* If the plain port produced an event, it would come first. */
    free(run("ovs-vsctl add-port br-int vif2 -- set Interface vif2 "
             "type=dummy"));
    free(run("ovs-vsctl set Interface vif2 external_ids:iface-id=eni-2 "
             "external_ids:attached-mac=02:00:00:00:00:22"));
    e = expect_event();
    assert_int_equal(e->type, VIF_PLUGGED);
    assert_string_equal(e->vif.eni_id, "eni-2");
    assert_true(e->vif.ofport > 0);

    free(run("ovs-vsctl remove Interface vif2 external_ids iface-id"));
    e = expect_event();
    assert_int_equal(e->type, VIF_UNPLUGGED);
    assert_string_equal(e->vif.eni_id, "eni-2");

    free(run("ovs-vsctl set Interface vif2 external_ids:iface-id=eni-2"));
    e = expect_event();
    assert_int_equal(e->type, VIF_PLUGGED);

    size_t n;
    const struct vif_info **vifs = vif_monitor_list(vm, &n);
    assert_int_equal(n, 1);
    assert_string_equal(vifs[0]->eni_id, "eni-2");
    free(vifs);
}

/* ovsdb-server restarts on a database that changed while it was down (as
 * if restored from an old copy): the VIF added meanwhile is reported, the
 * unchanged one is not, and the bridge is set up again. */
static void
test_ovsdb_restart(void **state OVS_UNUSED)
{
    const struct event *e;

    assert_int_equal(sandbox_stop_ovsdb(sb), 0);
    clear_events();
    assert_true(drive(idl_disconnected, NULL));

    free(run("ovsdb-tool transact \"$SB_DIR/conf.db\" '"
             "[\"Open_vSwitch\","
             " {\"op\": \"update\", \"table\": \"Bridge\","
             "  \"where\": [[\"name\", \"==\", \"br-int\"]],"
             "  \"row\": {\"fail_mode\": \"standalone\"}},"
             " {\"op\": \"insert\", \"table\": \"Interface\","
             "  \"uuid-name\": \"i\","
             "  \"row\": {\"name\": \"vif3\", \"type\": \"dummy\","
             "   \"external_ids\": [\"map\", [[\"iface-id\", \"eni-3\"]]]}},"
             " {\"op\": \"insert\", \"table\": \"Port\", \"uuid-name\": \"p\","
             "  \"row\": {\"name\": \"vif3\","
             "   \"interfaces\": [\"named-uuid\", \"i\"]}},"
             " {\"op\": \"mutate\", \"table\": \"Bridge\","
             "  \"where\": [[\"name\", \"==\", \"br-int\"]],"
             "  \"mutations\": [[\"ports\", \"insert\","
             "                   [\"set\", [[\"named-uuid\", \"p\"]]]]]}]'"));
    assert_int_equal(n_events, 0);

    assert_int_equal(sandbox_start_ovsdb(sb), 0);
    e = expect_event();
    assert_int_equal(e->type, VIF_PLUGGED);
    assert_string_equal(e->vif.eni_id, "eni-3");
    assert_true(e->vif.ofport > 0);

    unsigned int n_commits = 1;
    assert_true(drive(bs_in_sync_after, &n_commits));
    assert_int_equal(bridge_setup_n_commits(bs), 1);
    assert_cmd_output("ovs-vsctl get Bridge br-int fail_mode", "secure");

    /* Still following, and nothing was reported for vif2 in between. */
    free(run("ovs-vsctl set Interface vif2 "
             "external_ids:iface-status=inactive"));
    e = expect_event();
    assert_int_equal(e->type, VIF_CHANGED);
    assert_string_equal(e->vif.eni_id, "eni-2");
    assert_string_equal(e->vif.iface_status, "inactive");
}

/* An operator's change to the bridge is undone. */
static void
test_bridge_setup_repairs(void **state OVS_UNUSED)
{
    free(run("ovs-vsctl set Bridge br-int protocols=OpenFlow10 "
             "-- del-controller br-int"));
    unsigned int n_commits = 2;
    assert_true(drive(bs_in_sync_after, &n_commits));
    assert_int_equal(bridge_setup_n_commits(bs), 2);
    assert_cmd_output("ovs-vsctl get Bridge br-int protocols",
                      "[OpenFlow13, OpenFlow14, OpenFlow15]");
    assert_cmd_output("ovs-vsctl get-controller br-int",
                      "tcp:127.0.0.1:6653");
}

/* Even the root row is put back, and the orphaned bridge row reused. */
static void
test_bridge_setup_root_row(void **state OVS_UNUSED)
{
    free(run("ovs-vsctl --no-wait destroy Open_vSwitch ."));
    unsigned int n_commits = 3;
    assert_true(drive(bs_in_sync_after, &n_commits));
    assert_int_equal(bridge_setup_n_commits(bs), 3);
    assert_cmd_output("ovs-vsctl --no-wait list-br", "br-int");
    assert_cmd_output("ovs-vsctl --no-wait --columns=_uuid list Bridge "
                      "| wc -l", "1");
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridge_setup_creates),
        cmocka_unit_test(test_bridge_setup_idempotent),
        cmocka_unit_test(test_vif_plug_change_unplug),
        cmocka_unit_test(test_vif_iface_id_added_removed),
        cmocka_unit_test(test_ovsdb_restart),
        cmocka_unit_test(test_bridge_setup_repairs),
        cmocka_unit_test(test_bridge_setup_root_row),
    };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    return cmocka_run_group_tests_name("ovsdb", tests, group_setup,
                                       group_teardown);
}
