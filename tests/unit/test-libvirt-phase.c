/* Unit tests of hostagent/libvirt-phase.c: the markers libvirt's domain
 * events give on a migration's source and destination (success, failure
 * before and after the pause, post-copy, a plain pause or boot), and the
 * ENIs read from domain XML. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "hostagent/libvirt-phase.h"

#define JOB_COMPLETED LIBVIRT_PHASE_JOB_COMPLETED

/* One event and the markers it must give (LIBVIRT_MARK_NONE: none). */
struct step {
    int event, detail;
    enum libvirt_mark marks[2];
};

static void
run_steps(struct libvirt_phase *p, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct libvirt_marks m;
        libvirt_phase_event(p, steps[i].event, steps[i].detail, &m);
        enum libvirt_mark got = m.n > 0 ? m.marks[0] : LIBVIRT_MARK_NONE;
        enum libvirt_mark got2 = m.n > 1 ? m.marks[1] : LIBVIRT_MARK_NONE;
        if (got != steps[i].marks[0] || got2 != steps[i].marks[1]
            || (m.n > 0 && got == LIBVIRT_MARK_NONE)) {
            fail_msg("step %zu (event %d/%d): marks %d %d (%zu), expected "
                     "%d %d", i, steps[i].event, steps[i].detail, got, got2,
                     m.n, steps[i].marks[0], steps[i].marks[1]);
        }
    }
}

#define RUN(P, STEPS) run_steps(P, STEPS, sizeof STEPS / sizeof *STEPS)

static void
test_source_completes(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_NONE } },                      /* said once */
        { JOB_COMPLETED, 0, { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED,
          { LIBVIRT_MARK_NONE } },
    };
    RUN(&p, steps);
    assert_false(p.paused);
}

static void
test_destination_completes(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED,
          { LIBVIRT_MARK_NONE } },                      /* not a source */
        /* Pre-copy: resumed once everything arrived. */
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
          { LIBVIRT_MARK_ACTIVATED, LIBVIRT_MARK_COMPLETED } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
          { LIBVIRT_MARK_NONE } },
        { JOB_COMPLETED, 0, { LIBVIRT_MARK_NONE } },
        /* Now it is this host's own VM: its next migration away. */
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
    };
    RUN(&p, steps);
}

static void
test_destination_postcopy(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
          { LIBVIRT_MARK_ACTIVATED } },
        { JOB_COMPLETED, 0, { LIBVIRT_MARK_COMPLETED } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
    };
    RUN(&p, steps);

    /* No JOB_COMPLETED: its next migration away ends the incoming one. */
    struct libvirt_phase q = { 0 };
    const struct step steps2[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
          { LIBVIRT_MARK_ACTIVATED } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
          { LIBVIRT_MARK_FAILED } },
    };
    RUN(&q, steps2);
}

static void
test_destination_fails(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED,
          { LIBVIRT_MARK_FAILED } },
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
          { LIBVIRT_MARK_FAILED } },
    };
    RUN(&p, steps);
    assert_false(p.incoming);
}

static void
test_destination_stops_after_resume(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED,
          { LIBVIRT_MARK_INCOMING } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
          { LIBVIRT_MARK_ACTIVATED } },
        /* The VM ran here: no rollback to the source. */
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED,
          { LIBVIRT_MARK_NONE } },
    };
    RUN(&p, steps);
}

static void
test_source_fails_after_pause(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
          { LIBVIRT_MARK_FAILED } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED,
          { LIBVIRT_MARK_NONE } },
        /* The next attempt pauses again. */
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_PAUSED } },
    };
    RUN(&p, steps);
}

static void
test_source_postcopy(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY,
          { LIBVIRT_MARK_PAUSED } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED,
          { LIBVIRT_MARK_NONE } },
    };
    RUN(&p, steps);
}

static void
test_plain_pause_and_boot(void **state)
{
    struct libvirt_phase p = { 0 };
    const struct step steps[] = {
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN,
          { LIBVIRT_MARK_NONE } },
        { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_RESTORED,
          { LIBVIRT_MARK_NONE } },
    };
    RUN(&p, steps);
}

static void
test_restart_clears(void **state)
{
    /* A paused source whose QEMU is replaced: the new one starts clean. */
    struct libvirt_phase p = { .paused = true };
    struct libvirt_marks m;
    libvirt_phase_event(&p, VIR_DOMAIN_EVENT_STARTED,
                        VIR_DOMAIN_EVENT_STARTED_BOOTED, &m);
    assert_int_equal(m.n, 0);
    assert_false(p.paused);
    libvirt_phase_event(&p, VIR_DOMAIN_EVENT_RESUMED,
                        VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, &m);
    assert_int_equal(m.n, 0);
}

static void
test_mark_values(void **state)
{
    assert_null(libvirt_mark_value(LIBVIRT_MARK_NONE));
    assert_string_equal(libvirt_mark_value(LIBVIRT_MARK_INCOMING),
                        "incoming");
    assert_string_equal(libvirt_mark_value(LIBVIRT_MARK_PAUSED), "paused");
    assert_string_equal(libvirt_mark_value(LIBVIRT_MARK_ACTIVATED),
                        "activated");
    assert_string_equal(libvirt_mark_value(LIBVIRT_MARK_COMPLETED),
                        "completed");
    assert_string_equal(libvirt_mark_value(LIBVIRT_MARK_FAILED), "failed");
}

static const char domain_xml[] =
    "<domain type='qemu' id='3'>\n"
    "  <name>g</name>\n"
    "  <uuid>6f1c1c1e-5f4e-4a55-9b61-0c5d1d2a3b4c</uuid>\n"
    "  <memory unit='KiB'>131072</memory>\n"
    "  <devices>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='02:00:00:00:01:00'/>\n"
    "      <source bridge='br-int'/>\n"
    "      <virtualport type='openvswitch'>\n"
    "        <parameters interfaceid='eni-g'/>\n"
    "      </virtualport>\n"
    "      <target dev='vnet0'/>\n"
    "      <model type='virtio'/>\n"
    "    </interface>\n"
    "    <interface type='bridge'>\n"
    "      <source bridge='virbr0'/>\n"          /* no virtualport */
    "    </interface>\n"
    "    <interface type='bridge'>\n"
    "      <virtualport type='802.1Qbh'>\n"
    "        <parameters profileid='p' interfaceid='not-ovs'/>\n"
    "      </virtualport>\n"
    "    </interface>\n"
    "    <interface type='network'>\n"
    "      <virtualport type='openvswitch'>\n"
    "        <parameters interfaceid='eni-g2'/>\n"
    "      </virtualport>\n"
    "    </interface>\n"
    "  </devices>\n"
    "</domain>\n";

static void
test_parse_xml(void **state)
{
    char *uuid, **enis;
    size_t n;

    assert_true(libvirt_phase_parse_xml(domain_xml, &uuid, &enis, &n));
    assert_string_equal(uuid, "6f1c1c1e-5f4e-4a55-9b61-0c5d1d2a3b4c");
    assert_int_equal(n, 2);
    assert_string_equal(enis[0], "eni-g");
    assert_string_equal(enis[1], "eni-g2");
    for (size_t i = 0; i < n; i++) {
        free(enis[i]);
    }
    free(enis);
    free(uuid);
}

static void
test_parse_xml_bad(void **state)
{
    char *uuid, **enis;
    size_t n;

    assert_false(libvirt_phase_parse_xml("<network/>", &uuid, &enis, &n));
    assert_false(libvirt_phase_parse_xml("<domain", &uuid, &enis, &n));
    assert_null(uuid);
    assert_null(enis);
    assert_true(libvirt_phase_parse_xml("<domain/>", &uuid, &enis, &n));
    assert_null(uuid);
    assert_int_equal(n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_completes),
        cmocka_unit_test(test_destination_completes),
        cmocka_unit_test(test_destination_postcopy),
        cmocka_unit_test(test_destination_fails),
        cmocka_unit_test(test_destination_stops_after_resume),
        cmocka_unit_test(test_source_fails_after_pause),
        cmocka_unit_test(test_source_postcopy),
        cmocka_unit_test(test_plain_pause_and_boot),
        cmocka_unit_test(test_restart_clears),
        cmocka_unit_test(test_mark_values),
        cmocka_unit_test(test_parse_xml),
        cmocka_unit_test(test_parse_xml_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
