/* Benchmark of migration admission (controller/admission.h): plans the
 * evacuation of one host in a data center of 1,000 hosts in 10 racks,
 * 100,000 ENIs (50,000 VMs of two ENIs), 50 resource groups and 50 rules
 * (must apart per host, must in a rack, should apart per rack, should in a
 * rack), hosts limited to 150 ENIs; prints "evacuation_plan_ms: X ms" (the
 * median of TETHER_BENCH_RUNS plans, default 5) and the set-up time. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/admission.h"

#define N_HOSTS 1000
#define N_RACKS 10
#define N_VMS 50000
#define N_GROUPS 50
#define VMS_PER_GROUP 20

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

int
main(void)
{
    const char *env = getenv("TETHER_BENCH_RUNS");
    int runs = env && atoi(env) > 0 ? atoi(env) : 5;
    struct admission *a = admission_create();
    static char hosts[N_HOSTS][16];
    char id[32], vm[32];
    double t0 = now_ms();

    for (int i = 0; i < N_HOSTS; i++) {
        snprintf(hosts[i], sizeof hosts[i], "hv%d", i);
        admission_put_host(a, hosts[i],
                           &(struct adm_host_limits) { false, 150, 0 });
    }
    for (int r = 0; r < N_RACKS; r++) {
        const char *members[N_HOSTS / N_RACKS];
        for (int i = 0; i < N_HOSTS / N_RACKS; i++) {
            members[i] = hosts[r * (N_HOSTS / N_RACKS) + i];
        }
        snprintf(id, sizeof id, "rack%d", r);
        admission_put_domain(a, id, "rack", members, N_HOSTS / N_RACKS,
                             NULL);
    }
    /* Group g: VMs g + j * N_HOSTS, all on host hv<g> to begin with
     * (group 0's on hv0, the host evacuated: its must-apart rule spreads
     * them). */
    for (int g = 0; g < N_GROUPS; g++) {
        char names[VMS_PER_GROUP][32];
        const char *members[VMS_PER_GROUP];
        for (int j = 0; j < VMS_PER_GROUP; j++) {
            snprintf(names[j], sizeof names[j], "vm-%d",
                     g + j * N_HOSTS);
            members[j] = names[j];
        }
        snprintf(id, sizeof id, "g%d", g);
        admission_put_group(a, id, members, VMS_PER_GROUP, 0, NULL);
        char rack[16];
        snprintf(rack, sizeof rack, "rack%d", g % N_RACKS);
        char rid[32];
        snprintf(rid, sizeof rid, "r%d", g);
        struct adm_rule_spec s = { .id = rid, .group = id };
        switch (g % 4) {
        case 0:
            s.strength = ADM_MUST;
            s.polarity = ADM_APART;
            break;
        case 1:
            s.strength = ADM_MUST;
            s.polarity = ADM_TOGETHER;
            s.domain = "rack0";
            break;
        case 2:
            s.strength = ADM_SHOULD;
            s.polarity = ADM_APART;
            s.scope = "rack";
            break;
        default:
            s.strength = ADM_SHOULD;
            s.polarity = ADM_TOGETHER;
            s.domain = rack;
            break;
        }
        char *err = NULL;
        if (admission_put_rule(a, &s, &err)) {
            fprintf(stderr, "bench/admission: %s\n", err);
            return 1;
        }
    }
    /* VM v on host v % N_HOSTS: hv0 holds 50 VMs, 100 ENIs. */
    for (int v = 0; v < N_VMS; v++) {
        snprintf(vm, sizeof vm, "vm-%d", v);
        for (int k = 0; k < 2; k++) {
            snprintf(id, sizeof id, "eni-%d-%d", v, k);
            admission_set_eni(a, id, vm, hosts[v % N_HOSTS], NULL);
        }
    }
    double setup = now_ms() - t0;

    double *t = malloc(runs * sizeof *t);
    struct adm_plan plan;
    size_t n_units = 0, n_unplaced = 0;
    for (int r = 0; r < runs; r++) {
        double start = now_ms();
        admission_plan_evacuation(a, "hv0", &plan);
        t[r] = now_ms() - start;
        n_units = plan.n_moves;
        n_unplaced = plan.n_unplaced;
        adm_plan_destroy(&plan);
    }
    qsort(t, runs, sizeof *t, cmp_double);
    printf("admission_setup_ms: %.1f ms\n", setup);
    printf("evacuation_units: %zu VMs (%zu unplaced)\n", n_units, n_unplaced);
    printf("evacuation_plan_ms: %.1f ms\n", t[runs / 2]);
    free(t);
    admission_destroy(a);
    return 0;
}
