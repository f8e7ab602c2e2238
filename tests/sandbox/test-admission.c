/* Sandbox tests of migration admission end to end: the real tetherd,
 * database and agents on three hypervisors (dc.h), VMs driven the way a
 * hypervisor drives a migration (vm.h).  A migration that breaks a must
 * rule, or whose destination lacks CPU features of the source (faked with
 * a cpuinfo file per hypervisor), is refused at prepare: the ENI stays
 * bound where it was with its epoch unchanged, and the destination VIF is
 * marked external_ids:tether-migration-refused with the reason.  An
 * evacuation plan honours every must rule; recommendations follow the
 * hosts as they fill up.  The configuration is durable: everything the API
 * acknowledged is back after a kill -9 of tetherd, and a must rule still
 * refuses.
 *
 * A VM's CPU definition (libvirt <cpu> XML on its ENI, models expanded by
 * the real libvirt) is what admission judges it by: a VM with a custom
 * model goes where that model's features are, even to a host that lacks
 * features of the host it runs on, and a definition that requires a
 * feature the destination lacks is refused naming it -- also after a kill
 * -9 of tetherd.  A bad definition gets 400 and changes nothing.  An agent
 * with --libvirt reports libvirt's view of its host CPU (libvirt's test
 * driver here), or the cpuinfo file's if libvirt is unreachable. */
#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sandbox/dc.h"
#include "tests/sandbox/sandbox.h"
#include "tests/sandbox/vm.h"

#define WAIT_MS 10000

static struct dc *dc;
static struct vm_world *world;
static struct vm *peer, *mv;

static int
create_eni(const char *id, const char *mac, const char *ip)
{
    return dc_ctl(dc, NULL, "eni create --id=%s --mac=%s --ip=%s --vni=600 "
                  ">/dev/null", id, mac, ip);
}

static int
setup(void **state)
{
    (void) state;
    dc = dc_create("adm", 3);
    if (!dc) {
        return -1;
    }
    world = vm_world_create(dc);
    if (!world
        || create_eni("eni-peer", "02:00:00:06:00:01", "10.6.0.1")
        || create_eni("eni-mv", "02:00:00:06:00:02", "10.6.0.2")) {
        return -1;
    }
    peer = vm_create(world, "peer", "eni-peer", "02:00:00:06:00:01",
                     "10.6.0.1", 1);
    mv = vm_create(world, "mv", "eni-mv", "02:00:00:06:00:02", "10.6.0.2", 2);
    if (!peer || !mv
        || !dc_wait_bound(dc, "eni-peer", 1, WAIT_MS)
        || !dc_wait_bound(dc, "eni-mv", 2, WAIT_MS)) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    vm_world_destroy(world);
    dc_destroy(dc);
    return 0;
}

static void
ctl_ok(const char *cmd)
{
    char *out = NULL;
    int status = dc_ctl(dc, &out, "%s", cmd);
    if (status) {
        fail_msg("tetherctl %s: exit %d: %s", cmd, status, out ? out : "");
    }
    free(out);
}

/* The destination VIF's tether-migration-refused marker, waited for ("" if
 * it never came). */
static char *
wait_refused_marker(struct vm *vm, int hv)
{
    long long deadline = dc_now_ms() + WAIT_MS;
    for (;;) {
        char *out = NULL;
        sandbox_run(fabric_hv(dc->fabric, hv), &out,
                    "ovs-vsctl --if-exists get Interface %s "
                    "external_ids:tether-migration-refused 2>/dev/null",
                    vm_dest_port(vm));
        if ((out && out[0] && out[0] != '\n') || dc_now_ms() > deadline) {
            return out ? out : strdup("");
        }
        free(out);
        dc_sleep_ms(20);
    }
}

/* Starts migrating 'mv' to 'hv' and checks it is refused: still bound on
 * hv2 at the same epoch, the destination VIF marked with a reason that
 * contains 'why'.  The destination then goes away. */
static void
expect_refused(int hv, const char *why)
{
    long long epoch = dc_eni_int(dc, "eni-mv", "epoch");
    double refusals = dc_stat(dc, "admission_refusals");

    assert_int_equal(vm_mig_plug_dest(&mv, 1, hv), 0);
    char *marker = wait_refused_marker(mv, hv);
    if (!strstr(marker, why)) {
        fail_msg("destination VIF marker \"%s\" does not say \"%s\"", marker,
                 why);
    }
    free(marker);
    assert_true(dc_stat(dc, "admission_refusals") > refusals);
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));
    assert_int_equal(dc_eni_int(dc, "eni-mv", "epoch"), epoch);
    char *out = NULL;
    assert_int_equal(dc_ctl(dc, &out, "--format=json migration list"), 0);
    assert_null(strstr(out, "eni-mv"));
    free(out);

    assert_int_equal(vm_mig_dest_dies(&mv, 1), 0);
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));
    assert_int_equal(dc_eni_int(dc, "eni-mv", "epoch"), epoch);
}

static void
test_must_rule_refuses(void **state)
{
    (void) state;
    ctl_ok("group set db eni-peer eni-mv");
    ctl_ok("rule set db-apart must apart db scope=host");
    expect_refused(1, "must rule \\\"db-apart\\\"");

    /* Admitted elsewhere: the migration prepares, then is rolled back. */
    long long epoch = dc_eni_int(dc, "eni-mv", "epoch");
    assert_int_equal(vm_mig_plug_dest(&mv, 1, 3), 0);
    long long deadline = dc_now_ms() + WAIT_MS;
    while (dc_eni_int(dc, "eni-mv", "epoch") == epoch) {
        assert_true(dc_now_ms() < deadline);
        dc_sleep_ms(10);
    }
    assert_int_equal(vm_mig_dest_dies(&mv, 1), 0);
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));
}

static void
test_evacuation_plan_honours_must_rules(void **state)
{
    (void) state;
    char *out = NULL;

    /* eni-mv may not join eni-peer on hv1: hv3 is the only choice. */
    assert_int_equal(dc_ctl(dc, &out, "--format=json evacuate plan %s",
                            fabric_hv_name(dc->fabric, 2)), 0);
    assert_non_null(strstr(out, "\"dest_host\": \"hv3\""));
    assert_non_null(strstr(out, "\"n_unplaced\": 0"));
    free(out);

    /* With hv3 in maintenance, nothing can take it. */
    ctl_ok("host maintenance hv3 on");
    assert_int_equal(dc_ctl(dc, &out, "--format=json evacuate plan hv2"), 0);
    assert_non_null(strstr(out, "\"n_unplaced\": 1"));
    assert_non_null(strstr(out, "no host admits it"));
    free(out);
    ctl_ok("host maintenance hv3 off");
}

static void
test_recommendation_follows_load(void **state)
{
    (void) state;
    char *out = NULL;

    ctl_ok("rule delete db-apart");
    assert_int_equal(dc_ctl(dc, &out, "recommend eni-mv"), 0);
    /* hv3 is empty, hv1 has one ENI. */
    char *hv3 = strstr(out, "hv3"), *hv1 = strstr(out, "hv1");
    assert_true(hv3 && hv1 && hv3 < hv1);
    free(out);

    /* Two VMs on hv3: hv1 is emptier now. */
    assert_int_equal(create_eni("eni-f1", "02:00:00:06:00:11", "10.6.0.11"),
                     0);
    assert_int_equal(create_eni("eni-f2", "02:00:00:06:00:12", "10.6.0.12"),
                     0);
    struct vm *f1 = vm_create(world, "f1", "eni-f1", "02:00:00:06:00:11",
                              "10.6.0.11", 3);
    struct vm *f2 = vm_create(world, "f2", "eni-f2", "02:00:00:06:00:12",
                              "10.6.0.12", 3);
    assert_true(f1 && f2);
    assert_true(dc_wait_bound(dc, "eni-f1", 3, WAIT_MS));
    assert_true(dc_wait_bound(dc, "eni-f2", 3, WAIT_MS));
    assert_int_equal(dc_ctl(dc, &out, "recommend eni-mv"), 0);
    hv3 = strstr(out, "hv3");
    hv1 = strstr(out, "hv1");
    assert_true(hv3 && hv1 && hv1 < hv3);
    free(out);

    /* hv3 limited to the two it has: refused as full. */
    ctl_ok("host limits hv3 max-enis=2");
    assert_int_equal(dc_ctl(dc, &out, "recommend eni-mv"), 0);
    assert_non_null(strstr(out, "host hv3 is full: 2 of 2 ENIs"));
    free(out);
    expect_refused(3, "host hv3 is full");
    ctl_ok("host limits hv3 max-enis=0");
    vm_destroy(f1);
    vm_destroy(f2);
}

static void
write_cpuinfo(int hv, const char *flags)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cpuinfo",
             sandbox_dir(fabric_hv(dc->fabric, hv)));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "processor\t: 0\nmodel name\t: Fake CPU %d\nflags\t\t: %s\n\n"
            "processor\t: 1\nflags\t\t: ignored\n", hv, flags);
    fclose(f);
    dc_stop_agent(dc, hv, 15);
    assert_int_equal(dc_start_agent(dc, hv), 0);
}

static void
test_cpu_incompatible_refused(void **state)
{
    (void) state;
    char *out = NULL;

    write_cpuinfo(1, "fpu sse2 sse4_2 avx avx2 avx512f");
    write_cpuinfo(2, "fpu sse2 sse4_2 avx avx2 avx512f");
    write_cpuinfo(3, "fpu sse2 sse4_2 avx");
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));

    assert_int_equal(dc_ctl(dc, &out, "cpu baseline"), 0);
    assert_non_null(strstr(out, "features: avx,fpu,sse2,sse4_2"));
    assert_non_null(strstr(out, "partial:  avx2,avx512f"));
    free(out);
    assert_int_equal(dc_ctl(dc, &out, "cpu baseline --libvirt-xml"), 0);
    assert_non_null(strstr(out, "<feature policy='require' name='sse4.2'/>"));
    assert_non_null(strstr(out, "<feature policy='disable' "
                                "name='avx512f'/>"));
    free(out);
    assert_int_equal(dc_ctl(dc, &out, "cpu check host:hv2 hv3"), 1);
    assert_non_null(strstr(out, "missing avx2,avx512f"));
    free(out);
    assert_int_equal(dc_ctl(dc, &out, "cpu check fpu,avx hv3"), 0);
    free(out);

    expect_refused(3, "lacks features the VM may use (it runs on hv2): "
                   "avx2 avx512f");
}

/* "tetherctl --format=json 'cmd'" must succeed and print every string of
 * the NULL-terminated 'wanted' and none of 'unwanted'. */
static void
expect_json(const char *cmd, const char *const *wanted,
            const char *const *unwanted)
{
    char *out = NULL;
    int status = dc_ctl(dc, &out, "--format=json %s", cmd);
    if (status) {
        fail_msg("tetherctl %s: exit %d: %s", cmd, status, out ? out : "");
    }
    for (size_t i = 0; wanted && wanted[i]; i++) {
        if (!strstr(out, wanted[i])) {
            fail_msg("tetherctl %s: no \"%s\" in:\n%s", cmd, wanted[i], out);
        }
    }
    for (size_t i = 0; unwanted && unwanted[i]; i++) {
        if (strstr(out, unwanted[i])) {
            fail_msg("tetherctl %s: \"%s\" in:\n%s", cmd, unwanted[i], out);
        }
    }
    free(out);
}

/* The configuration the API acknowledged, checked before and after the
 * restart. */
static void
expect_config(void)
{
    expect_json("domain list",
                (const char *[]) { "\"id\": \"rack-a\"",
                                   "\"kind\": \"rack\"",
                                   "\"hv1\"", "\"hv2\"", NULL },
                (const char *[]) { "\"rack-gone\"", NULL });
    expect_json("group show db",
                (const char *[]) { "\"eni-mv\"", "\"eni-peer\"",
                                   "\"bandwidth_mbps\": 5", NULL },
                NULL);
    expect_json("group list", NULL, (const char *[]) { "\"tmp\"", NULL });
    expect_json("rule show db-apart",
                (const char *[]) { "\"strength\": \"must\"",
                                   "\"type\": \"apart\"",
                                   "\"scope\": \"host\"", NULL },
                NULL);
    expect_json("rule show prefer-rack",
                (const char *[]) { "\"strength\": \"should\"",
                                   "\"domain\": \"rack-a\"",
                                   "\"weight\": 20", NULL },
                NULL);
    expect_json("host limits hv3",
                (const char *[]) { "\"max_enis\": 7",
                                   "\"bandwidth_mbps\": 1000",
                                   "\"maintenance\": true", NULL },
                NULL);
    expect_json("evacuate status hv3",
                (const char *[]) { "\"host\": \"hv3\"", NULL }, NULL);
}

static void
test_config_survives_kill9(void **state)
{
    (void) state;

    ctl_ok("domain set rack-a --kind=rack hv1 hv2");
    ctl_ok("domain set rack-gone --kind=rack hv3");
    ctl_ok("domain delete rack-gone");
    ctl_ok("group set db --bandwidth=5 eni-peer eni-mv");
    ctl_ok("group set tmp eni-peer");
    ctl_ok("group delete tmp");
    ctl_ok("rule set db-apart must apart db scope=host");
    ctl_ok("rule set prefer-rack should together db domain=rack-a "
           "weight=20");
    ctl_ok("host limits hv3 max-enis=7 bandwidth=1000");
    ctl_ok("evacuate start hv3");       /* empty: puts it in maintenance */
    expect_config();

    /* Every reply came after the commit: nothing is lost with tetherd. */
    dc_stop_tetherd(dc, 9);
    assert_int_equal(dc_start_tetherd(dc, NULL), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));
    expect_config();

    /* And it is in force: eni-mv may not join eni-peer on hv1. */
    expect_refused(1, "must rule \\\"db-apart\\\"");
    char *out = NULL;
    assert_int_equal(dc_ctl(dc, &out, "--format=json evacuate plan hv2"), 0);
    assert_non_null(strstr(out, "\"n_unplaced\": 1"));
    free(out);
}

/* libvirt's Westmere (cpu_map/x86_Westmere.xml) in /proc/cpuinfo's
 * names, and vme as every x86-64 host has it. */
#define WESTMERE "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca " \
    "cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm pni ssse3 cx16 " \
    "sse4_1 sse4_2 popcnt aes lahf_lm"

/* Writes 'text' into file 'name' of tetherd's sandbox; returns its path. */
static char *
write_file(const char *name, const char *text)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", sandbox_dir(dc->db), name) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* "tetherctl 'cmd'" fails with exit status 1 and says 'why'. */
static void
ctl_refused(const char *cmd, const char *why)
{
    char *out = NULL;
    int status = dc_ctl(dc, &out, "%s 2>&1", cmd);
    if (status != 1 || !out || !strstr(out, why)) {
        fail_msg("tetherctl %s: exit %d, wanted 1 and \"%s\": %s", cmd,
                 status, why, out ? out : "");
    }
    free(out);
}

static void
test_vm_cpu_definition(void **state)
{
    (void) state;
    char *out = NULL, *cmd;

    ctl_ok("host maintenance hv3 off");
    write_cpuinfo(1, WESTMERE " avx avx2 avx512f");
    write_cpuinfo(2, WESTMERE " avx avx2 avx512f");
    write_cpuinfo(3, WESTMERE " avx");
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));

    /* The hosts are Westmeres with AVX: libvirt names the model. */
    assert_int_equal(dc_ctl(dc, &out, "cpu baseline --libvirt-xml"), 0);
    assert_non_null(strstr(out, "<model fallback='forbid'>Westmere</model>\n"
                            "  <feature policy='require' name='avx'/>\n"));
    assert_non_null(strstr(out, "<feature policy='disable' "
                                "name='avx512f'/>"));
    free(out);

    /* Bad definitions: 400, the ENI as it was. */
    char *bad = write_file("bad.xml", "<cpu mode='custom'><model>Westmere"
                           "</cpu>");
    char *unknown = write_file("unknown.xml", "<cpu mode='custom'><model>"
                               "NoSuchModel</model></cpu>");
    char *policy = write_file("policy.xml", "<cpu><feature policy='maybe' "
                              "name='avx'/></cpu>");
    char big[20000];
    memset(big, ' ', sizeof big);
    memcpy(big, "<cpu>", 5);
    strcpy(big + sizeof big - 7, "</cpu>");
    char *huge = write_file("huge.xml", big);
    const char *const bads[][2] = {
        { bad, "malformed XML" }, { unknown, "Unknown CPU model NoSuchModel" },
        { policy, "unknown policy 'maybe'" },
        { huge, "cpu: longer than 16384 characters" },
    };
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        assert_true(asprintf(&cmd, "eni update eni-mv --cpu-xml=%s",
                             bads[i][0]) > 0);
        ctl_refused(cmd, bads[i][1]);
        free(cmd);
    }
    expect_json("eni show eni-mv", (const char *[]) { "\"cpu\": null", NULL },
                NULL);
    assert_true(asprintf(&cmd, "cpu check xml:%s hv3", unknown) > 0);
    ctl_refused(cmd, "Unknown CPU model NoSuchModel");
    free(cmd);

    /* A Westmere VM that requires AVX-512: hv3 lacks it. */
    char *avx512 = write_file("avx512.xml",
                              "<cpu mode='custom' match='exact'>\n"
                              "  <model fallback='forbid'>Westmere</model>\n"
                              "  <feature policy='require' name='avx'/>\n"
                              "  <feature policy='require' name='avx512f'/>\n"
                              "</cpu>\n");
    assert_true(asprintf(&cmd, "eni update eni-mv --cpu-xml=%s", avx512) > 0);
    ctl_ok(cmd);
    free(cmd);
    assert_true(asprintf(&cmd, "cpu check xml:%s hv3", avx512) > 0);
    assert_int_equal(dc_ctl(dc, &out, "%s", cmd), 1);
    assert_non_null(strstr(out, "incompatible: missing avx512f"));
    free(out);
    free(cmd);
    expect_refused(3, "host hv3's CPU lacks features the VM's CPU "
                   "definition (custom Westmere on eni-mv) requires: "
                   "avx512f");

    /* Durable: the same after kill -9 of tetherd. */
    dc_stop_tetherd(dc, 9);
    assert_int_equal(dc_start_tetherd(dc, NULL), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));
    expect_json("eni show eni-mv",
                (const char *[]) { "name='avx512f'", "Westmere", NULL },
                NULL);
    expect_refused(3, "requires: avx512f");

    /* A Westmere VM with AVX and without SSE4.2: it runs on hv2, which has
     * AVX2 and AVX-512 that hv3 lacks, yet may go to hv3. */
    char *avx = write_file("avx.xml",
                           "<cpu mode='custom' match='exact'>\n"
                           "  <model fallback='forbid'>Westmere</model>\n"
                           "  <feature policy='require' name='avx'/>\n"
                           "  <feature policy='disable' name='sse4.2'/>\n"
                           "</cpu>\n");
    assert_true(asprintf(&cmd, "eni update eni-mv --cpu-xml=%s", avx) > 0);
    ctl_ok(cmd);
    free(cmd);
    assert_true(asprintf(&cmd, "--format=json cpu check xml:%s hv3", avx)
                > 0);
    assert_int_equal(dc_ctl(dc, &out, "%s", cmd), 0);
    assert_non_null(strstr(out, "\"compatible\": true"));
    assert_null(strstr(out, "\"sse4_2\""));   /* disabled: not needed */
    assert_non_null(strstr(out, "\"avx\""));
    free(out);
    free(cmd);
    assert_int_equal(dc_ctl(dc, &out, "cpu check host:hv2 hv3"), 1);
    assert_non_null(strstr(out, "missing avx2,avx512f"));
    free(out);
    assert_int_equal(vm_migrate(mv, 3, 50, 50, VM_MIGRATE_OK, NULL), 0);
    assert_true(dc_wait_bound(dc, "eni-mv", 3, WAIT_MS));
    assert_int_equal(vm_migrate(mv, 2, 50, 50, VM_MIGRATE_OK, NULL), 0);
    assert_true(dc_wait_bound(dc, "eni-mv", 2, WAIT_MS));

    /* Back to the default: host-passthrough, hv3 refused again. */
    ctl_ok("eni update eni-mv --no-cpu");
    expect_refused(3, "lacks features the VM may use (it runs on hv2): "
                   "avx2 avx512f");

    free(bad);
    free(unknown);
    free(policy);
    free(huge);
    free(avx512);
    free(avx);
}

/* tether-agent --libvirt: what libvirt says reaches tetherd; if libvirt is
 * unreachable, the cpuinfo file's CPU does. */
static void
test_agent_libvirt_cpu(void **state)
{
    (void) state;

    /* libvirt's test driver: an i686 host CPU with features pae, nonpae
     * and no model. */
    dc->agent_arg[1] = "--libvirt=test:///default";
    dc_stop_agent(dc, 1, 15);
    assert_int_equal(dc_start_agent(dc, 1), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    expect_json("host show hv1",
                (const char *[]) { "\"cpu_flags\": [\n    \"pae\",\n"
                                   "    \"nonpae\"]",
                                   "\"cpu_model\": \"\"", NULL },
                (const char *[]) { "Fake CPU", NULL });

    /* Unreachable: the file, and a warning. */
    dc->agent_arg[1] = "--libvirt=nosuchdriver:///x";
    dc_stop_agent(dc, 1, 15);
    assert_int_equal(dc_start_agent(dc, 1), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
    expect_json("host show hv1",
                (const char *[]) { "\"cpu_model\": \"Fake CPU 1\"",
                                   "\"avx512f\"", NULL },
                (const char *[]) { "nonpae", NULL });
    char *out = NULL;
    sandbox_run(fabric_hv(dc->fabric, 1), &out, "grep -c 'reporting the "
                "CPU from the cpuinfo file instead' %s/agent.log",
                sandbox_dir(fabric_hv(dc->fabric, 1)));
    assert_non_null(out);
    assert_true(atoi(out) >= 1);
    free(out);

    dc->agent_arg[1] = NULL;
    dc_stop_agent(dc, 1, 15);
    assert_int_equal(dc_start_agent(dc, 1), 0);
    assert_true(dc_wait_hosts_connected(dc, WAIT_MS));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_must_rule_refuses),
        cmocka_unit_test(test_evacuation_plan_honours_must_rules),
        cmocka_unit_test(test_recommendation_follows_load),
        cmocka_unit_test(test_cpu_incompatible_refused),
        cmocka_unit_test(test_config_survives_kill9),
        cmocka_unit_test(test_vm_cpu_definition),
        cmocka_unit_test(test_agent_libvirt_cpu),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
