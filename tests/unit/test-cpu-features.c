/* Unit tests of controller/cpu-features.c: the common feature set of
 * hosts as they join and leave, features a host lacks, and the mask as
 * libvirt CPU XML. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/cpu-features.h"
#include "lib/cpu-xml.h"
#include "openvswitch/dynamic-string.h"
#include "sset.h"

static char *old_flags[] = { "fpu", "sse2", "sse4_2", "avx" };
static char *new_flags[] = { "fpu", "sse2", "sse4_2", "avx", "avx2",
                             "avx512f" };
static char *odd_flags[] = { "fpu", "sse2", "avx2" };

static char *
fmt(const struct sset *s)
{
    struct ds d = DS_EMPTY_INITIALIZER;
    cpu_features_format(s, &d);
    return ds_steal_cstr(&d);
}

static void
assert_set(const struct sset *s, const char *expected)
{
    char *got = fmt(s);
    assert_string_equal(got, expected);
    free(got);
}

static void
test_baseline_join_leave(void **state)
{
    (void) state;
    struct cpu_features *cf = cpu_features_create();
    struct sset common = SSET_INITIALIZER(&common);
    struct sset partial = SSET_INITIALIZER(&partial);

    assert_int_equal(cpu_features_baseline(cf, NULL, 0, &common, NULL), 0);
    assert_true(sset_is_empty(&common));

    cpu_features_set_host(cf, "hv1", "Xeon new", new_flags, 6);
    cpu_features_baseline(cf, NULL, 0, &common, &partial);
    assert_set(&common, "avx avx2 avx512f fpu sse2 sse4_2");
    assert_true(sset_is_empty(&partial));

    /* An older host joins: the mask shrinks. */
    cpu_features_set_host(cf, "hv2", "Xeon old", old_flags, 4);
    assert_int_equal(cpu_features_baseline(cf, NULL, 0, &common, &partial),
                     2);
    assert_set(&common, "avx fpu sse2 sse4_2");
    assert_set(&partial, "avx2 avx512f");

    /* A third with a different mix: only what all three have. */
    cpu_features_set_host(cf, "hv3", "Odd", odd_flags, 3);
    cpu_features_baseline(cf, NULL, 0, &common, &partial);
    assert_set(&common, "fpu sse2");
    assert_set(&partial, "avx avx2 avx512f sse4_2");

    /* A domain of two hosts only; unknown hosts are skipped. */
    const char *dom[] = { "hv1", "hv3", "hv9" };
    assert_int_equal(cpu_features_baseline(cf, dom, 3, &common, NULL), 2);
    assert_set(&common, "avx2 fpu sse2");

    /* The old hosts leave: the mask grows back. */
    cpu_features_remove_host(cf, "hv2");
    cpu_features_remove_host(cf, "hv3");
    cpu_features_baseline(cf, NULL, 0, &common, NULL);
    assert_set(&common, "avx avx2 avx512f fpu sse2 sse4_2");

    /* A host reporting nothing is unknown, not a host with no features. */
    cpu_features_set_host(cf, "hv2", "", NULL, 0);
    assert_null(cpu_features_model(cf, "hv2"));
    assert_int_equal(cpu_features_n_hosts(cf), 1);

    sset_destroy(&common);
    sset_destroy(&partial);
    cpu_features_destroy(cf);
}

static void
test_missing(void **state)
{
    (void) state;
    struct cpu_features *cf = cpu_features_create();
    struct sset missing = SSET_INITIALIZER(&missing);

    cpu_features_set_host(cf, "new", "Xeon new", new_flags, 6);
    cpu_features_set_host(cf, "old", "Xeon old", old_flags, 4);
    assert_string_equal(cpu_features_model(cf, "old"), "Xeon old");

    /* A VM started on "new" with host-passthrough may use all of new's
     * features: old lacks two. */
    assert_true(cpu_features_missing(cf, cpu_features_flags(cf, "new"),
                                     "old", &missing));
    assert_set(&missing, "avx2 avx512f");
    assert_true(cpu_features_missing(cf, cpu_features_flags(cf, "old"),
                                     "new", &missing));
    assert_true(sset_is_empty(&missing));

    /* A VM with the cluster mask runs anywhere. */
    struct sset mask = SSET_INITIALIZER(&mask);
    cpu_features_baseline(cf, NULL, 0, &mask, NULL);
    assert_true(cpu_features_missing(cf, &mask, "old", &missing));
    assert_true(sset_is_empty(&missing));
    assert_false(cpu_features_missing(cf, &mask, "nowhere", &missing));

    sset_destroy(&mask);
    sset_destroy(&missing);
    cpu_features_destroy(cf);
}

static void
test_libvirt_xml(void **state)
{
    (void) state;
    struct sset req = SSET_INITIALIZER(&req);
    struct sset dis = SSET_INITIALIZER(&dis);
    struct ds s = DS_EMPTY_INITIALIZER;

    sset_add(&req, "sse4_2");
    sset_add(&req, "avx");
    sset_add(&dis, "avx512f");
    cpu_features_to_libvirt_xml(NULL, &req, &dis, &s);
    assert_string_equal(ds_cstr(&s),
        "<cpu mode='custom' match='exact' check='partial'>\n"
        "  <model fallback='forbid'>qemu64</model>\n"
        "  <feature policy='require' name='avx'/>\n"
        "  <feature policy='require' name='sse4.2'/>\n"
        "  <feature policy='disable' name='avx512f'/>\n"
        "</cpu>\n");
    ds_destroy(&s);
    sset_destroy(&req);
    sset_destroy(&dis);
}

/* Hosts report in either vocabulary; tetherd keeps one. */
static void
test_canonical_names(void **state)
{
    (void) state;
    struct cpu_features *cf = cpu_features_create();
    struct sset missing = SSET_INITIALIZER(&missing);
    static char *procfs[] = { "fpu", "sse4_2", "pclmulqdq", "sha_ni",
                              "constant_tsc" };
    static char *libvirt[] = { "fpu", "sse4.2", "pclmuldq", "sha-ni",
                               "BAD NAME" };

    cpu_features_set_host(cf, "a", "Kernel's view", procfs, 5);
    cpu_features_set_host(cf, "b", "libvirt's view", libvirt, 5);
    assert_set(cpu_features_flags(cf, "b"), "fpu pclmulqdq sha_ni sse4_2");
    assert_true(cpu_features_missing(cf, cpu_features_flags(cf, "b"), "a",
                                     &missing));
    assert_true(sset_is_empty(&missing));
    assert_true(cpu_features_missing(cf, cpu_features_flags(cf, "a"), "b",
                                     &missing));
    assert_set(&missing, "constant_tsc");
    sset_destroy(&missing);
    cpu_features_destroy(cf);
}

/* A VM's definition: what it may use. */
static void
test_vm_flags(void **state)
{
    (void) state;
    struct sset model = SSET_INITIALIZER(&model);
    struct sset src = SSET_INITIALIZER(&src);
    struct sset out = SSET_INITIALIZER(&out);
    struct cpu_xml def;

    sset_add(&model, "fpu");
    sset_add(&model, "sse2");
    sset_add(&model, "sse4_2");
    sset_add(&model, "aes");
    sset_add(&src, "fpu");
    sset_add(&src, "sse2");
    sset_add(&src, "avx512f");
    sset_add(&src, "rdrand");

    /* The model, plus required and forced, minus disabled and forbidden;
     * optional ones only if the source host has them. */
    assert_true(cpu_xml_parse(
                    "<cpu mode='custom'><model>M</model>"
                    "<feature policy='require' name='avx'/>"
                    "<feature policy='force' name='x2apic'/>"
                    "<feature policy='disable' name='sse4.2'/>"
                    "<feature policy='forbid' name='aes'/>"
                    "<feature policy='optional' name='rdrand'/>"
                    "<feature policy='optional' name='rdseed'/>"
                    "</cpu>", &def, NULL));
    assert_true(cpu_features_vm_flags(&def, &model, &src, &out));
    assert_set(&out, "avx fpu rdrand sse2 x2apic");
    /* Source unknown: optional ones count. */
    assert_true(cpu_features_vm_flags(&def, &model, NULL, &out));
    assert_set(&out, "avx fpu rdrand rdseed sse2 x2apic");
    cpu_xml_destroy(&def);

    /* Features without a model. */
    assert_true(cpu_xml_parse("<cpu><feature name='sse4.1'/></cpu>", &def,
                              NULL));
    assert_true(cpu_features_vm_flags(&def, NULL, &src, &out));
    assert_set(&out, "sse4_1");
    cpu_xml_destroy(&def);

    /* host-passthrough and host-model: whatever the source host has. */
    assert_true(cpu_xml_parse("<cpu mode='host-model'/>", &def, NULL));
    assert_true(cpu_features_vm_flags(&def, &model, &src, &out));
    assert_set(&out, "avx512f fpu rdrand sse2");
    assert_false(cpu_features_vm_flags(&def, &model, NULL, &out));
    assert_true(sset_is_empty(&out));
    cpu_xml_destroy(&def);

    sset_destroy(&model);
    sset_destroy(&src);
    sset_destroy(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_join_leave),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_libvirt_xml),
        cmocka_unit_test(test_canonical_names),
        cmocka_unit_test(test_vm_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
