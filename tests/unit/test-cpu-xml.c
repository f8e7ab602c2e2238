/* Unit tests of lib/cpu-names.c and lib/cpu-xml.c: one canonical name per
 * CPU feature, a VM's <cpu> definition read and normalized, bad
 * definitions refused with a reason, and the host CPU read from libvirt
 * capabilities XML (a realistic document in the format libvirt documents:
 * an Intel host with topology, NUMA cells, pages, guests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/cpu-names.h"
#include "lib/cpu-xml.h"

static void
assert_canonical(const char *name, const char *expected)
{
    char out[CPU_NAME_MAX + 1];
    assert_true(cpu_name_canonical(name, out, sizeof out));
    assert_string_equal(out, expected);
}

static void
test_names(void **state)
{
    (void) state;
    char out[CPU_NAME_MAX + 1], buf[CPU_NAME_MAX + 1];

    /* libvirt's spelling and the kernel's give the kernel's. */
    assert_canonical("sse4.2", "sse4_2");
    assert_canonical("sse4_2", "sse4_2");
    assert_canonical("pclmuldq", "pclmulqdq");
    assert_canonical("pclmulqdq", "pclmulqdq");
    assert_canonical("tsc-deadline", "tsc_deadline_timer");
    assert_canonical("sha-ni", "sha_ni");
    assert_canonical("avx512vnni", "avx512_vnni");
    assert_canonical("avx512-vpopcntdq", "avx512_vpopcntdq");
    assert_canonical("ds", "dts");
    assert_canonical("lahf_lm", "lahf_lm");
    assert_canonical("cr8legacy", "cr8_legacy");
    assert_canonical("vmx-ins-outs", "vmx_ins_outs");
    assert_canonical("avx", "avx");

    /* And back. */
    assert_string_equal(cpu_name_libvirt("sse4_2", buf, sizeof buf),
                        "sse4.2");
    assert_string_equal(cpu_name_libvirt("pclmulqdq", buf, sizeof buf),
                        "pclmuldq");
    assert_string_equal(cpu_name_libvirt("tsc_deadline_timer", buf,
                                         sizeof buf), "tsc-deadline");
    assert_string_equal(cpu_name_libvirt("dts", buf, sizeof buf), "ds");
    assert_string_equal(cpu_name_libvirt("vmx_ins_outs", buf, sizeof buf),
                        "vmx-ins-outs");
    assert_string_equal(cpu_name_libvirt("lahf_lm", buf, sizeof buf),
                        "lahf_lm");
    assert_string_equal(cpu_name_libvirt("constant_tsc", buf, sizeof buf),
                        "constant_tsc");

    /* Not names. */
    assert_false(cpu_name_canonical("", out, sizeof out));
    assert_false(cpu_name_canonical("AVX", out, sizeof out));
    assert_false(cpu_name_canonical("a'b", out, sizeof out));
    char long_name[CPU_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(cpu_name_canonical(long_name, out, sizeof out));
    long_name[CPU_NAME_MAX] = '\0';
    assert_true(cpu_name_canonical(long_name, out, sizeof out));
}

static void
test_custom_definition(void **state)
{
    (void) state;
    struct cpu_xml cpu;
    char *err = NULL;

    assert_true(cpu_xml_parse(
                    "<?xml version='1.0'?>\n"
                    "<cpu mode='custom' match='exact' check='partial'>\n"
                    "  <model fallback='allow'> Westmere </model>\n"
                    "  <vendor>Intel</vendor>\n"
                    "  <topology sockets='1' cores='2' threads='1'/>\n"
                    "  <feature policy='require' name='avx'/>\n"
                    "  <feature policy='disable' name='sse4.2'/>\n"
                    "  <feature policy='optional' name='pclmuldq'/>\n"
                    "  <feature policy='force' name='x2apic'/>\n"
                    "  <feature policy='forbid' name='hle'/>\n"
                    "  <feature name='aes'/>\n"
                    "</cpu>\n", &cpu, &err));
    assert_null(err);
    assert_int_equal(cpu.mode, CPU_XML_CUSTOM);
    assert_string_equal(cpu.model, "Westmere");
    assert_string_equal(cpu.vendor, "Intel");
    assert_int_equal(cpu.n_features, 6);
    assert_string_equal(cpu.features[0].name, "avx");
    assert_int_equal(cpu.features[0].policy, CPU_XML_REQUIRE);
    assert_string_equal(cpu.features[1].name, "sse4_2");
    assert_int_equal(cpu.features[1].policy, CPU_XML_DISABLE);
    assert_string_equal(cpu.features[2].name, "pclmulqdq");
    assert_int_equal(cpu.features[2].policy, CPU_XML_OPTIONAL);
    assert_int_equal(cpu.features[3].policy, CPU_XML_FORCE);
    assert_int_equal(cpu.features[4].policy, CPU_XML_FORBID);
    assert_string_equal(cpu.features[5].name, "aes");
    assert_int_equal(cpu.features[5].policy, CPU_XML_REQUIRE);

    /* The normalized form, in libvirt's names; it reads back the same. */
    char *xml = cpu_xml_format(&cpu);
    assert_string_equal(xml,
                        "<cpu mode='custom' match='exact'>\n"
                        "  <model fallback='forbid'>Westmere</model>\n"
                        "  <vendor>Intel</vendor>\n"
                        "  <feature policy='require' name='avx'/>\n"
                        "  <feature policy='disable' name='sse4.2'/>\n"
                        "  <feature policy='optional' name='pclmuldq'/>\n"
                        "  <feature policy='force' name='x2apic'/>\n"
                        "  <feature policy='forbid' name='hle'/>\n"
                        "  <feature policy='require' name='aes'/>\n"
                        "</cpu>\n");
    struct cpu_xml again;
    assert_true(cpu_xml_parse(xml, &again, NULL));
    char *xml2 = cpu_xml_format(&again);
    assert_string_equal(xml, xml2);
    free(xml2);
    cpu_xml_destroy(&again);
    free(xml);

    /* As a host CPU: what the VM is given, without policies. */
    xml = cpu_xml_format_host(&cpu, NULL);
    assert_string_equal(xml,
                        "<cpu>\n"
                        "  <arch>x86_64</arch>\n"
                        "  <model>Westmere</model>\n"
                        "  <vendor>Intel</vendor>\n"
                        "  <feature name='avx'/>\n"
                        "  <feature name='pclmuldq'/>\n"
                        "  <feature name='x2apic'/>\n"
                        "  <feature name='aes'/>\n"
                        "</cpu>\n");
    free(xml);
    cpu_xml_destroy(&cpu);
}

static void
test_host_modes(void **state)
{
    (void) state;
    struct cpu_xml cpu;

    assert_true(cpu_xml_parse("<cpu mode='host-passthrough' "
                              "migratable='on'/>", &cpu, NULL));
    assert_int_equal(cpu.mode, CPU_XML_HOST_PASSTHROUGH);
    assert_null(cpu.model);
    char *xml = cpu_xml_format(&cpu);
    assert_string_equal(xml, "<cpu mode='host-passthrough'/>\n");
    free(xml);
    cpu_xml_destroy(&cpu);

    assert_true(cpu_xml_parse("<cpu mode='host-model'><model "
                              "fallback='allow'/></cpu>", &cpu, NULL));
    assert_int_equal(cpu.mode, CPU_XML_HOST_MODEL);
    assert_null(cpu.model);
    cpu_xml_destroy(&cpu);

    /* No mode: custom, as libvirt reads it. */
    assert_true(cpu_xml_parse("<cpu><model>qemu64</model></cpu>", &cpu,
                              NULL));
    assert_int_equal(cpu.mode, CPU_XML_CUSTOM);
    assert_string_equal(cpu.model, "qemu64");
    cpu_xml_destroy(&cpu);
}

static void
expect_bad(const char *xml, const char *why)
{
    struct cpu_xml cpu;
    char *err = NULL;

    if (cpu_xml_parse(xml, &cpu, &err)) {
        fail_msg("accepted: %s", xml);
    }
    assert_non_null(err);
    if (!strstr(err, why)) {
        fail_msg("\"%s\" does not say \"%s\"", err, why);
    }
    assert_null(cpu.model);
    assert_int_equal(cpu.n_features, 0);
    free(err);
}

static void
test_bad_definitions(void **state)
{
    (void) state;

    expect_bad("<cpu mode='custom'><model>Westmere</cpu>", "malformed XML");
    expect_bad("", "malformed XML");
    expect_bad("<domain/>", "not <cpu>");
    expect_bad("<cpu mode='fast'/>", "unknown mode");
    expect_bad("<cpu><feature policy='maybe' name='avx'/></cpu>",
               "unknown policy");
    expect_bad("<cpu><feature policy='require'/></cpu>", "without a name");
    expect_bad("<cpu><feature name='AVX'/></cpu>", "not a CPU feature name");
    expect_bad("<cpu><feature name='avx'/><feature policy='disable' "
               "name='avx'/></cpu>", "appears twice");
    expect_bad("<cpu><feature name='sse4.2'/><feature name='sse4_2'/></cpu>",
               "appears twice");
    expect_bad("<cpu><model>West mere</model></cpu>", "[A-Za-z0-9._-]");
    expect_bad("<cpu><model></model></cpu>", "<model>");
    expect_bad("<!DOCTYPE cpu [<!ENTITY x 'Westmere'>]>"
               "<cpu><model>&x;</model></cpu>", "DTD");

    /* Too long, and too many features. */
    size_t size = CPU_XML_MAX_LEN + 64;
    char *big = malloc(size);
    snprintf(big, size, "<cpu>");
    while (strlen(big) < CPU_XML_MAX_LEN) {
        strcat(big, "<!-- padding -->");
    }
    strcat(big, "</cpu>");
    expect_bad(big, "over the maximum");
    free(big);

    size = (CPU_XML_MAX_FEATURES + 1) * 32 + 32;
    big = malloc(size);
    size_t len = snprintf(big, size, "<cpu>");
    for (int i = 0; i <= CPU_XML_MAX_FEATURES; i++) {
        len += snprintf(big + len, size - len, "<feature name='f%d'/>", i);
    }
    snprintf(big + len, size - len, "</cpu>");
    expect_bad(big, "more than 1024 features");
    free(big);
}

/* Capabilities of an Intel host as libvirt's qemu driver reports them
 * (format: libvirt's "Driver capabilities XML format"). */
static const char capabilities[] =
    "<capabilities>\n"
    "  <host>\n"
    "    <uuid>4c4c4544-0044-3510-8058-b4c04f4b4d32</uuid>\n"
    "    <cpu>\n"
    "      <arch>x86_64</arch>\n"
    "      <model>Skylake-Client-IBRS</model>\n"
    "      <vendor>Intel</vendor>\n"
    "      <microcode version='240'/>\n"
    "      <signature family='6' model='94' stepping='3'/>\n"
    "      <counter name='tsc' frequency='3191999000' scaling='no'/>\n"
    "      <topology sockets='1' dies='1' cores='4' threads='2'/>\n"
    "      <maxphysaddr mode='emulate' bits='39'/>\n"
    "      <feature name='ds'/>\n"
    "      <feature name='acpi'/>\n"
    "      <feature name='ss'/>\n"
    "      <feature name='ht'/>\n"
    "      <feature name='tm'/>\n"
    "      <feature name='pbe'/>\n"
    "      <feature name='dtes64'/>\n"
    "      <feature name='monitor'/>\n"
    "      <feature name='vmx'/>\n"
    "      <feature name='tsc_adjust'/>\n"
    "      <feature name='clflushopt'/>\n"
    "      <feature name='intel-pt'/>\n"
    "      <feature name='md-clear'/>\n"
    "      <feature name='stibp'/>\n"
    "      <feature name='arch-capabilities'/>\n"
    "      <feature name='ssbd'/>\n"
    "      <feature name='xsaves'/>\n"
    "      <feature name='pdpe1gb'/>\n"
    "      <feature name='invtsc'/>\n"
    "      <feature name='vmx-ins-outs'/>\n"
    "      <pages unit='KiB' size='4'/>\n"
    "      <pages unit='KiB' size='2048'/>\n"
    "      <pages unit='KiB' size='1048576'/>\n"
    "    </cpu>\n"
    "    <power_management>\n"
    "      <suspend_mem/>\n"
    "      <suspend_disk/>\n"
    "    </power_management>\n"
    "    <iommu support='yes'/>\n"
    "    <migration_features>\n"
    "      <live/>\n"
    "      <uri_transports>\n"
    "        <uri_transport>tcp</uri_transport>\n"
    "        <uri_transport>rdma</uri_transport>\n"
    "      </uri_transports>\n"
    "    </migration_features>\n"
    "    <topology>\n"
    "      <cells num='1'>\n"
    "        <cell id='0'>\n"
    "          <memory unit='KiB'>32766812</memory>\n"
    "          <pages unit='KiB' size='4'>8191703</pages>\n"
    "          <distances>\n"
    "            <sibling id='0' value='10'/>\n"
    "          </distances>\n"
    "          <cpus num='8'>\n"
    "            <cpu id='0' socket_id='0' die_id='0' core_id='0' "
    "siblings='0,4'/>\n"
    "            <cpu id='1' socket_id='0' die_id='0' core_id='1' "
    "siblings='1,5'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "      </cells>\n"
    "    </topology>\n"
    "    <secmodel>\n"
    "      <model>apparmor</model>\n"
    "      <doi>0</doi>\n"
    "    </secmodel>\n"
    "  </host>\n"
    "  <guest>\n"
    "    <os_type>hvm</os_type>\n"
    "    <arch name='x86_64'>\n"
    "      <wordsize>64</wordsize>\n"
    "      <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
    "      <machine maxCpus='255'>pc-i440fx-7.2</machine>\n"
    "      <domain type='qemu'/>\n"
    "      <domain type='kvm'/>\n"
    "    </arch>\n"
    "    <features>\n"
    "      <acpi default='on' toggle='yes'/>\n"
    "      <cpuselection/>\n"
    "    </features>\n"
    "  </guest>\n"
    "</capabilities>\n";

static void
test_capabilities(void **state)
{
    (void) state;
    struct cpu_xml cpu;
    char *err = NULL;

    assert_true(cpu_xml_parse_capabilities(capabilities, &cpu, &err));
    assert_null(err);
    assert_string_equal(cpu.arch, "x86_64");
    assert_string_equal(cpu.model, "Skylake-Client-IBRS");
    assert_string_equal(cpu.vendor, "Intel");
    assert_int_equal(cpu.n_features, 20);
    assert_string_equal(cpu.features[0].name, "dts");
    assert_string_equal(cpu.features[11].name, "intel_pt");
    assert_string_equal(cpu.features[12].name, "md_clear");
    assert_string_equal(cpu.features[19].name, "vmx_ins_outs");
    for (size_t i = 0; i < cpu.n_features; i++) {
        assert_int_equal(cpu.features[i].policy, CPU_XML_REQUIRE);
    }

    /* What virConnectBaselineCPU() is given to expand it. */
    char *xml = cpu_xml_format_host(&cpu, NULL);
    assert_non_null(strstr(xml, "<cpu>\n  <arch>x86_64</arch>\n"
                           "  <model>Skylake-Client-IBRS</model>\n"
                           "  <vendor>Intel</vendor>\n"
                           "  <feature name='ds'/>\n"));
    assert_non_null(strstr(xml, "<feature name='intel-pt'/>"));
    assert_non_null(strstr(xml, "<feature name='vmx-ins-outs'/>"));
    assert_null(strstr(xml, "pages"));
    free(xml);
    cpu_xml_destroy(&cpu);

    /* libvirt's test driver: a host CPU without a model. */
    assert_true(cpu_xml_parse_capabilities(
                    "<capabilities><host><cpu><arch>i686</arch><features>"
                    "<pae/><nonpae/></features></cpu></host>"
                    "</capabilities>", &cpu, NULL));
    assert_string_equal(cpu.arch, "i686");
    assert_null(cpu.model);
    assert_int_equal(cpu.n_features, 2);
    assert_string_equal(cpu.features[0].name, "pae");
    assert_string_equal(cpu.features[1].name, "nonpae");
    cpu_xml_destroy(&cpu);

    /* Not capabilities, or without a host CPU. */
    assert_false(cpu_xml_parse_capabilities("<cpu/>", &cpu, &err));
    assert_non_null(strstr(err, "not <capabilities>"));
    free(err);
    assert_false(cpu_xml_parse_capabilities(
                     "<capabilities><host/><guest><cpu/></guest>"
                     "</capabilities>", &cpu, &err));
    assert_non_null(strstr(err, "no <host><cpu>"));
    free(err);
    assert_false(cpu_xml_parse_capabilities("<capabilities>", &cpu, &err));
    assert_non_null(strstr(err, "malformed XML"));
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_custom_definition),
        cmocka_unit_test(test_host_modes),
        cmocka_unit_test(test_bad_definitions),
        cmocka_unit_test(test_capabilities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
