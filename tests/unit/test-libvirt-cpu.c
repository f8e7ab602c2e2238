/* Tests of controller/libvirt-cpu.c against the real libvirt: its test
 * driver (test:///default) runs in this process with libvirt's own CPU
 * map, so a model expands to the features libvirt gives it and the
 * baseline names the model libvirt picks.  No daemon is needed; libvirt0
 * must be installed (it is a build dependency). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controller/libvirt-cpu.h"
#include "openvswitch/dynamic-string.h"
#include "sset.h"

/* libvirt's Westmere (cpu_map/x86_Westmere.xml), in canonical names. */
static const char *const westmere[] = {
    "aes", "apic", "clflush", "cmov", "cx16", "cx8", "de", "fpu", "fxsr",
    "lahf_lm", "lm", "mca", "mce", "mmx", "msr", "mtrr", "nx", "pae", "pat",
    "pge", "pni", "popcnt", "pse", "pse36", "sep", "sse", "sse2", "sse4_1",
    "sse4_2", "ssse3", "syscall", "tsc",
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_model_expansion(void **state)
{
    (void) state;
    struct libvirt_cpu *lc = libvirt_cpu_create(NULL);
    const struct sset *flags;
    char *err = NULL;

    double t0 = now_ms();
    assert_int_equal(libvirt_cpu_model_flags(lc, "Westmere", &flags, &err),
                     0);
    double t1 = now_ms();
    assert_null(err);
    for (size_t i = 0; i < sizeof westmere / sizeof *westmere; i++) {
        if (!sset_contains(flags, westmere[i])) {
            fail_msg("Westmere expanded without %s", westmere[i]);
        }
    }
    /* Canonical names only, nothing Westmere does not have. */
    assert_false(sset_contains(flags, "sse4.2"));
    assert_false(sset_contains(flags, "avx"));

    /* A later model has more. */
    const struct sset *sky;
    assert_int_equal(libvirt_cpu_model_flags(lc, "Skylake-Client", &sky,
                                             &err), 0);
    assert_true(sset_contains(sky, "avx2"));
    assert_true(sset_contains(sky, "sse4_2"));

    /* Cached: the same set, at once. */
    const struct sset *again;
    double t2 = now_ms();
    assert_int_equal(libvirt_cpu_model_flags(lc, "Westmere", &again, &err),
                     0);
    double t3 = now_ms();
    assert_ptr_equal(again, flags);
    printf("# first expansion %.2f ms, cached %.4f ms\n", t1 - t0, t3 - t2);

    /* A model libvirt does not know is refused with libvirt's reason. */
    assert_int_equal(libvirt_cpu_model_flags(lc, "NoSuchModel", &flags,
                                             &err), EINVAL);
    assert_non_null(strstr(err, "NoSuchModel"));
    free(err);
    libvirt_cpu_destroy(lc);
}

static void
test_baseline_names_a_model(void **state)
{
    (void) state;
    struct libvirt_cpu *lc = libvirt_cpu_create(NULL);
    struct sset common = SSET_INITIALIZER(&common);
    struct sset partial = SSET_INITIALIZER(&partial);
    struct ds s = DS_EMPTY_INITIALIZER;
    char *err = NULL;

    /* Westmere hosts with AVX and a kernel-only flag. */
    for (size_t i = 0; i < sizeof westmere / sizeof *westmere; i++) {
        sset_add(&common, westmere[i]);
    }
    sset_add(&common, "avx");
    sset_add(&common, "constant_tsc");
    sset_add(&partial, "avx2");
    sset_add(&partial, "sha_ni");
    sset_add(&partial, "rep_good");

    double t0 = now_ms();
    assert_int_equal(libvirt_cpu_baseline_xml(lc, &common, &partial, &s,
                                              &err), 0);
    double t1 = now_ms();
    printf("# baseline (first, names probed) %.2f ms\n", t1 - t0);
    assert_string_equal(ds_cstr(&s),
                        "<cpu mode='custom' match='exact' "
                        "check='partial'>\n"
                        "  <model fallback='forbid'>Westmere</model>\n"
                        "  <feature policy='require' name='avx'/>\n"
                        "  <feature policy='disable' name='avx2'/>\n"
                        "  <feature policy='disable' name='sha-ni'/>\n"
                        "</cpu>\n");

    /* Without AES: Westmere's predecessor, and nothing is required that
     * the hosts lack. */
    sset_find_and_delete(&common, "aes");
    ds_clear(&s);
    assert_int_equal(libvirt_cpu_baseline_xml(lc, &common, &partial, &s,
                                              &err), 0);
    assert_non_null(strstr(ds_cstr(&s), "<model fallback='forbid'>Nehalem"
                           "</model>\n  <feature policy='require' "
                           "name='avx'/>\n"));
    assert_null(strstr(ds_cstr(&s), "name='aes'"));

    /* Not an x86-64 CPU: no model. */
    sset_clear(&common);
    sset_add(&common, "fp");
    sset_add(&common, "asimd");
    ds_clear(&s);
    assert_int_equal(libvirt_cpu_baseline_xml(lc, &common, &partial, &s,
                                              &err), EINVAL);
    assert_non_null(strstr(err, "x86-64"));
    assert_string_equal(ds_cstr(&s), "");
    free(err);

    ds_destroy(&s);
    sset_destroy(&common);
    sset_destroy(&partial);
    libvirt_cpu_destroy(lc);
}

static void
test_unavailable(void **state)
{
    (void) state;
    struct libvirt_cpu *lc = libvirt_cpu_create("nosuchdriver:///x");
    const struct sset *flags;
    char *err = NULL;

    assert_int_equal(libvirt_cpu_model_flags(lc, "Westmere", &flags, &err),
                     EAGAIN);
    assert_non_null(strstr(err, "unavailable"));
    free(err);
    libvirt_cpu_destroy(lc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_expansion),
        cmocka_unit_test(test_baseline_names_a_model),
        cmocka_unit_test(test_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
