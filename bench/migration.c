/* Benchmark of live migration on a sandbox data center (tests/sandbox/dc.h):
 * a VM migrates back and forth between hv2 and hv3 under 1 kHz sequenced
 * UDP probes both ways with a peer on hv1 (tests/sandbox/vm.h, probe.h),
 * first with tetherd's make-before-break, then with tetherd restarted in
 * --migration-mode=break-before-make, and prints the loss and duplicates
 * of each as "name: value unit" lines.  TETHER_BENCH_RUNS migrations per
 * mode (default 5); the figures are medians. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sandbox/dc.h"
#include "tests/sandbox/probe.h"
#include "tests/sandbox/vm.h"

#define STUN_MS 100
#define PRECOPY_MS 200
#define WAIT_MS 15000

static struct dc *dc;
static struct vm_world *world;
static struct vm *peer, *mv;

static void
die(const char *what)
{
    fprintf(stderr, "bench/migration: %s\n", what);
    vm_world_destroy(world);
    dc_destroy(dc);
    exit(1);
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

static double
median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs 'n' migrations in tetherd's current mode; stores each one's loss
 * (both directions, ms at 1 kHz) and duplicates. */
static void
run(int n, double *loss, double *dup)
{
    for (int i = 0; i < n; i++) {
        int dst = vm_hv(mv) == 2 ? 3 : 2;
        struct probe *in = probe_start(world, peer, mv, 1000, 5001);
        struct probe *out = probe_start(world, mv, peer, 1000, 5002);
        struct probe_result rin, rout;

        dc_sleep_ms(300);
        if (vm_migrate(mv, dst, STUN_MS, PRECOPY_MS, VM_MIGRATE_OK, NULL)
            || !dc_wait_bound(dc, "eni-mv", dst, WAIT_MS)) {
            die("migration failed");
        }
        dc_sleep_ms(1000);
        probe_stop(in, 500, &rin);
        probe_stop(out, 500, &rout);
        probe_destroy(in);
        probe_destroy(out);
        loss[i] = rin.loss_ms + rout.loss_ms;
        dup[i] = rin.dup + rout.dup;
        fprintf(stderr, "  run %d: lost %.0f ms, dup %.0f\n", i + 1,
                loss[i], dup[i]);
    }
}

int
main(void)
{
    const char *s = getenv("TETHER_BENCH_RUNS");
    int n = s && atoi(s) > 0 ? atoi(s) : 5;
    double *loss = calloc(n, sizeof *loss), *dup = calloc(n, sizeof *dup);

    if (!getenv("top_srcdir")) {
        setenv("top_srcdir", TOP_SRCDIR, 1);
    }
    dc = dc_create("bmig", 3);
    if (!dc) {
        die("data center not started");
    }
    world = vm_world_create(dc);
    if (!world
        || dc_ctl(dc, NULL, "eni create --id=eni-peer --mac=02:00:00:05:00:01"
                  " --ip=10.5.0.1 --vni=500 >/dev/null")
        || dc_ctl(dc, NULL, "eni create --id=eni-mv --mac=02:00:00:05:00:02"
                  " --ip=10.5.0.2 --vni=500 >/dev/null")) {
        die("ENIs not created");
    }
    peer = vm_create(world, "peer", "eni-peer", "02:00:00:05:00:01",
                     "10.5.0.1", 1);
    mv = vm_create(world, "mv", "eni-mv", "02:00:00:05:00:02", "10.5.0.2", 2);
    if (!peer || !mv || !dc_wait_bound(dc, "eni-peer", 1, WAIT_MS)
        || !dc_wait_bound(dc, "eni-mv", 2, WAIT_MS)) {
        die("VMs not bound");
    }

    fprintf(stderr, "make-before-break, %d migrations:\n", n);
    run(n, loss, dup);
    double p99 = dc_stat(dc, "switchover_ms_p99");
    printf("loss_ms_make_before_break: %g ms\n", median(loss, n));
    printf("dup_make_before_break: %g packets\n", median(dup, n));
    printf("stun_ms: %d ms\n", STUN_MS);
    printf("switchover_ms_p99: %g ms\n", p99);
    fflush(stdout);

    dc_stop_tetherd(dc, SIGTERM);
    if (dc_start_tetherd(dc, "--migration-mode=break-before-make")
        || !dc_wait_hosts_connected(dc, WAIT_MS)
        || !dc_wait_bound(dc, "eni-mv", vm_hv(mv), WAIT_MS)) {
        die("tetherd not restarted in break-before-make mode");
    }
    fprintf(stderr, "break-before-make, %d migrations:\n", n);
    run(n, loss, dup);
    printf("loss_ms_break_before_make: %g ms\n", median(loss, n));
    printf("dup_break_before_make: %g packets\n", median(dup, n));

    free(loss);
    free(dup);
    vm_world_destroy(world);
    dc_destroy(dc);
    return 0;
}
