/* Benchmark: how long from an Interface row being committed to ovsdb-server
 * until vif-monitor's callback reports it, on a private sandbox OVS.  A
 * second IDL in the same process writes the rows; the clock starts just
 * before its commit.  PLUGGED includes ovs-vswitchd assigning the ofport
 * (vif-monitor reports a VIF only then); CHANGED (an attached-mac update)
 * and UNPLUGGED are the OVSDB path alone. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/ovs-loop.h"
#include "ovs-glue/vif-monitor.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "tests/sandbox/sandbox.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

#define N_SAMPLES 200
#define N_WARMUP 5
#define DEADLINE_MS 10000

static struct ovsdb_idl *reader, *writer;
static struct vif_monitor *vm;

/* What the callback waits for, and when it came. */
static enum vif_event want_event;
static char want_eni[32];
static long long int got_us;

static long long int
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void
vif_cb(enum vif_event event, const struct vif_info *vif,
       const struct vif_info *old OVS_UNUSED, void *aux OVS_UNUSED)
{
    if (event == want_event && !strcmp(vif->eni_id, want_eni) && !got_us) {
        got_us = now_us();
    }
}

/* Runs both IDLs until 'done()' or the deadline; exits on the latter. */
static void
drive(bool (*done)(void), const char *what)
{
    long long int deadline = time_msec() + DEADLINE_MS;

    for (;;) {
        ovsdb_idl_run(writer);
        ovsdb_idl_run(reader);
        vif_monitor_run(vm);
        if (done()) {
            return;
        } else if (time_msec() >= deadline) {
            ovs_fatal(0, "timed out waiting for %s", what);
        }
        ovsdb_idl_wait(writer);
        ovsdb_idl_wait(reader);
        vif_monitor_wait(vm);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static const struct ovsrec_bridge *
writer_bridge(void)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, writer) {
        if (!strcmp(br->name, "br-int")) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_interface *
writer_iface(const char *name)
{
    const struct ovsrec_interface *iface;

    OVSREC_INTERFACE_FOR_EACH (iface, writer) {
        if (!strcmp(iface->name, name)) {
            return iface;
        }
    }
    return NULL;
}

static bool
both_ready(void)
{
    return writer_bridge() && vif_monitor_is_connected(vm);
}

static bool
got_event(void)
{
    return got_us != 0;
}

static char want_iface[32];

static bool
writer_sees_iface(void)
{
    return writer_iface(want_iface) != NULL;
}

/* Commits 'txn', timestamping just before, and waits for the event set up
 * in want_*; returns the latency in microseconds. */
static long long int
commit_and_measure(struct ovsdb_idl_txn *txn, const char *what)
{
    got_us = 0;
    long long int start = now_us();
    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
    if (status != TXN_INCOMPLETE && status != TXN_SUCCESS) {
        ovs_fatal(0, "%s: commit failed: %s", what,
                  ovsdb_idl_txn_status_to_string(status));
    }
    drive(got_event, what);
    long long int latency = got_us - start;

    /* The reply may still be on its way. */
    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE) {
        ovsdb_idl_run(writer);
        ovsdb_idl_wait(writer);
        ovsdb_idl_txn_wait(txn);
        poll_block();
    }
    if (status != TXN_SUCCESS) {
        ovs_fatal(0, "%s: commit failed: %s", what,
                  ovsdb_idl_txn_status_to_string(status));
    }
    ovsdb_idl_txn_destroy(txn);
    return latency;
}

static void
sample(int i, long long int *plug, long long int *change,
       long long int *unplug)
{
    struct ovsdb_idl_txn *txn;
    struct smap ids = SMAP_INITIALIZER(&ids);

    snprintf(want_iface, sizeof want_iface, "vif%d", i);
    snprintf(want_eni, sizeof want_eni, "eni-%d", i);

    /* Plug. */
    txn = ovsdb_idl_txn_create(writer);
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, want_iface);
    ovsrec_interface_set_type(iface, "dummy");
    smap_add(&ids, "iface-id", want_eni);
    smap_add(&ids, "attached-mac", "02:00:00:00:00:01");
    ovsrec_interface_set_external_ids(iface, &ids);
    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, want_iface);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_bridge_update_ports_addvalue(writer_bridge(), port);
    want_event = VIF_PLUGGED;
    *plug = commit_and_measure(txn, "plugged");
    drive(writer_sees_iface, "the writer's own row");

    /* Change. */
    const struct ovsrec_interface *row = writer_iface(want_iface);
    txn = ovsdb_idl_txn_create(writer);
    ovsrec_interface_update_external_ids_setkey(row, "attached-mac",
                                                "02:00:00:00:00:02");
    want_event = VIF_CHANGED;
    *change = commit_and_measure(txn, "changed");

    /* Unplug. */
    const struct ovsrec_bridge *br = writer_bridge();
    txn = ovsdb_idl_txn_create(writer);
    for (size_t j = 0; j < br->n_ports; j++) {
        if (!strcmp(br->ports[j]->name, want_iface)) {
            ovsrec_bridge_update_ports_delvalue(br, br->ports[j]);
        }
    }
    want_event = VIF_UNPLUGGED;
    *unplug = commit_and_measure(txn, "unplugged");
    smap_destroy(&ids);
}

static int
compare_ll(const void *a_, const void *b_)
{
    long long int a = *(const long long int *) a_;
    long long int b = *(const long long int *) b_;
    return a < b ? -1 : a > b;
}

static void
print_percentiles(const char *name, long long int *us, size_t n)
{
    qsort(us, n, sizeof *us, compare_ll);
    size_t p99 = (n * 99 + 99) / 100 - 1;
    printf("%s_p50: %.3f ms\n", name, us[n / 2] / 1000.0);
    printf("%s_p99: %.3f ms\n", name, us[p99] / 1000.0);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    static long long int plug[N_SAMPLES], change[N_SAMPLES],
        unplug[N_SAMPLES];

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);

    struct sandbox *sb = sandbox_create("bench");
    if (!sb || sandbox_run(sb, NULL, SANDBOX_VSCTL " add-br br-int -- set "
                           "Bridge br-int datapath_type=dummy")) {
        ovs_fatal(0, "cannot set up the sandbox");
    }

    reader = ovsdb_idl_create(sandbox_db_remote(sb), &ovsrec_idl_class,
                              false, true);
    vif_monitor_add_columns(reader);
    vm = vif_monitor_create(reader, "br-int", vif_cb, NULL);

    writer = ovsdb_idl_create(sandbox_db_remote(sb), &ovsrec_idl_class,
                              false, true);
    ovsdb_idl_add_column(writer, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(writer, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(writer, &ovsrec_port_col_name);
    ovsdb_idl_add_column(writer, &ovsrec_port_col_interfaces);
    ovsdb_idl_add_column(writer, &ovsrec_interface_col_name);
    ovsdb_idl_add_column(writer, &ovsrec_interface_col_type);
    ovsdb_idl_add_column(writer, &ovsrec_interface_col_external_ids);
    drive(both_ready, "the IDLs to connect");

    for (int i = 0; i < N_WARMUP + N_SAMPLES; i++) {
        long long int p, c, u;

        sample(i, &p, &c, &u);
        if (i >= N_WARMUP) {
            plug[i - N_WARMUP] = p;
            change[i - N_WARMUP] = c;
            unplug[i - N_WARMUP] = u;
        }
    }

    printf("ovsdb_event_samples: %d\n", N_SAMPLES);
    print_percentiles("ovsdb_event_ms", plug, N_SAMPLES);
    print_percentiles("ovsdb_event_changed_ms", change, N_SAMPLES);
    print_percentiles("ovsdb_event_unplugged_ms", unplug, N_SAMPLES);

    vif_monitor_destroy(vm);
    ovsdb_idl_destroy(reader);
    ovsdb_idl_destroy(writer);
    sandbox_destroy(sb);
    ovs_loop_destroy();
    return 0;
}
