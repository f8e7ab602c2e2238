/* tether-agent --libvirt-events in the sandbox, with libvirt's in-process
 * test driver (no daemon; its one domain "test" runs, and it sends no
 * events): which new VIFs the agent holds back before tetherd hears of
 * them.  A VIF of a domain libvirt runs is reported at once, one without a
 * domain id too; one whose domain libvirt does not know is held until the
 * agent has asked libvirt (a second), then reported as it is.  The
 * migrations themselves, with a real libvirtd, are tests/qemu/lvtests.py's. */
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

#define WAIT_MS 10000
/* The test driver's running domain (libvirt's src/test/test_driver.c). */
#define TEST_DOMAIN_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"
#define OTHER_UUID "0f0e0d0c-0b0a-4908-8706-050403020100"

static struct dc *dc;

static int
create_eni(const char *id, const char *mac, const char *ip)
{
    return dc_ctl(dc, NULL, "eni create --id=%s --mac=%s --ip=%s --vni=700 "
                  ">/dev/null", id, mac, ip);
}

static int
setup(void **state)
{
    (void) state;
    dc = dc_create("lvgate", 2);
    if (!dc) {
        return -1;
    }
    dc->agent_arg[1] = "--libvirt-events=test:///default";
    dc_stop_agent(dc, 1, 15);
    if (dc_start_agent(dc, 1) || !dc_wait_hosts_connected(dc, WAIT_MS)
        || create_eni("eni-known", "02:00:00:07:00:01", "10.7.0.1")
        || create_eni("eni-other", "02:00:00:07:00:02", "10.7.0.2")
        || create_eni("eni-plain", "02:00:00:07:00:03", "10.7.0.3")) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    dc_destroy(dc);
    return 0;
}

/* How many lines of hv1's agent log match 'text' (a grep pattern without
 * a single quote). */
static int
agent_log_count(const char *text)
{
    char *out = NULL;
    sandbox_run(fabric_hv(dc->fabric, 1), &out, "grep -c -- '%s' "
                "%s/agent.log", text, sandbox_dir(fabric_hv(dc->fabric, 1)));
    int n = out ? atoi(out) : -1;
    free(out);
    return n;
}

static void
test_known_domain_reported(void **state)
{
    (void) state;
    assert_true(agent_log_count("test:///default: connected") >= 1);
    assert_true(fabric_add_vif(dc->fabric, 1, "vknown", "eni-known",
                               "02:00:00:07:00:01", TEST_DOMAIN_UUID) > 0);
    assert_true(dc_wait_bound(dc, "eni-known", 1, WAIT_MS));
    assert_int_equal(agent_log_count("VIF vknown .* held back"), 0);
}

static void
test_no_domain_id_reported(void **state)
{
    (void) state;
    assert_true(fabric_add_vif(dc->fabric, 1, "vplain", "eni-plain",
                               "02:00:00:07:00:03", "") > 0);
    assert_true(dc_wait_bound(dc, "eni-plain", 1, WAIT_MS));
    assert_int_equal(agent_log_count("VIF vplain .* held back"), 0);
}

static void
test_unknown_domain_held_then_reported(void **state)
{
    (void) state;
    long long t0 = dc_now_ms();
    assert_true(fabric_add_vif(dc->fabric, 1, "vother", "eni-other",
                               "02:00:00:07:00:02", OTHER_UUID) > 0);
    assert_true(dc_wait_bound(dc, "eni-other", 1, WAIT_MS));
    /* Held until libvirt was asked, a second after it appeared. */
    assert_true(dc_now_ms() - t0 >= 900);
    assert_int_equal(agent_log_count("VIF vother .* held back"), 1);
    assert_int_equal(agent_log_count("domain " OTHER_UUID ": not "
                                     "libvirt"), 1);
    /* Unplugged and plugged again: libvirt's answer is remembered. */
    assert_int_equal(fabric_del_vif(dc->fabric, 1, "vother"), 0);
    assert_true(dc_wait_bound(dc, "eni-other", 0, WAIT_MS));
    assert_true(fabric_add_vif(dc->fabric, 1, "vother", "eni-other",
                               "02:00:00:07:00:02", OTHER_UUID) > 0);
    assert_true(dc_wait_bound(dc, "eni-other", 1, WAIT_MS));
    assert_int_equal(agent_log_count("VIF vother .* held back"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_domain_reported),
        cmocka_unit_test(test_no_domain_id_reported),
        cmocka_unit_test(test_unknown_domain_held_then_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
