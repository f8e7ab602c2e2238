/* Unit tests of controller/binding.c: VIF reports turned into ENI
 * bindings -- epochs, cold moves, stale unplugs, refused MACs, and the
 * make-before-break migration phases with duplicated, reordered and stale
 * reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/binding.h"

#define MAC "02:00:00:00:00:01"
#define MBB BINDING_MAKE_BEFORE_BREAK

static struct eni *
make_eni(void)
{
    struct eni *e = eni_create();
    e->id = strdup("eni-1");
    e->mac = strdup(MAC);
    e->vni = 5;
    e->state = ENI_DETACHED;
    return e;
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Applies 'b' to 'e' as the store would. */
static void
apply(struct eni *e, const struct eni_binding *b)
{
    char *host = dup_or_null(b->host);
    char *dest = dup_or_null(b->dest_host);
    free(e->host);
    free(e->dest_host);
    e->host = host;
    e->dest_host = dest;
    e->state = b->state;
    e->ofport = b->ofport;
    e->epoch = b->epoch;
    e->phase = b->phase;
    e->dest_ofport = b->dest_ofport;
}

/* Reports a VIF and applies the result; returns the verdict. */
static enum binding_verdict
plug(struct eni *e, enum binding_mode mode, const char *host, int ofport,
     const char *marker, enum binding_event *ev)
{
    struct eni_binding b;
    const char *why;
    uint64_t epoch = e->epoch;
    enum binding_verdict v = binding_vif_plugged(e, mode, host, ofport, MAC,
                                                 marker, &b, ev, &why);
    if (v == BINDING_CHANGED) {
        assert_true(b.epoch >= epoch);
        apply(e, &b);
    }
    return v;
}

static enum binding_verdict
unplug(struct eni *e, const char *host, enum binding_event *ev)
{
    struct eni_binding b;
    const char *why;
    enum binding_verdict v = binding_vif_unplugged(e, host, &b, ev, &why);
    if (v == BINDING_CHANGED) {
        apply(e, &b);
    }
    return v;
}

static void
test_plug_binds_and_bumps_epoch(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    assert_int_equal(plug(e, MBB, "hv1", 7, "", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_BIND);
    assert_int_equal(e->state, ENI_BOUND);
    assert_string_equal(e->host, "hv1");
    assert_int_equal(e->ofport, 7);
    assert_int_equal(e->epoch, 1);

    assert_int_equal(plug(e, MBB, "hv1", 7, "", &ev), BINDING_UNCHANGED);
    assert_int_equal(plug(e, MBB, "hv1", 9, NULL, &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_PORT);
    assert_int_equal(e->epoch, 1);
    assert_int_equal(e->ofport, 9);
    eni_destroy(e);
}

static void
test_cold_move_and_stale_unplug(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    plug(e, MBB, "hv1", 7, "", &ev);
    assert_int_equal(plug(e, MBB, "hv2", 3, "", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_MOVE);
    assert_string_equal(e->host, "hv2");
    assert_int_equal(e->epoch, 2);
    /* hv1's late unplug is stale. */
    assert_int_equal(unplug(e, "hv1", &ev), BINDING_UNCHANGED);
    assert_string_equal(e->host, "hv2");
    assert_int_equal(unplug(e, "hv2", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_UNBIND);
    assert_int_equal(e->state, ENI_DETACHED);
    assert_null(e->host);
    assert_int_equal(e->epoch, 3);
    eni_destroy(e);
}

static void
test_unplug_of_attached_eni(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    e->vm_uuid = strdup("123e4567-e89b-12d3-a456-426614174000");
    plug(e, MBB, "hv1", 7, "", &ev);
    unplug(e, "hv1", &ev);
    assert_int_equal(e->state, ENI_ATTACHING);
    eni_destroy(e);
}

static void
test_wrong_mac_refused(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding b;
    enum binding_event ev;
    const char *why;

    assert_int_equal(binding_vif_plugged(e, MBB, "hv1", 7,
                                         "02:00:00:00:00:99", "", &b, &ev,
                                         &why), BINDING_REFUSED);
    assert_non_null(strstr(why, "MAC"));
    assert_int_equal(binding_vif_plugged(e, MBB, "hv1", 7,
                                         "02:00:00:00:00:01", "", &b, &ev,
                                         &why), BINDING_CHANGED);
    assert_int_equal(binding_vif_plugged(e, MBB, "hv1", -1, NULL, "", &b,
                                         &ev, &why), BINDING_REFUSED);
    eni_destroy(e);
}

/* The normal make-before-break sequence, with a duplicate of every
 * report in between that must change nothing. */
static void
test_migration_phases(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    plug(e, MBB, "src", 4, "", &ev);
    assert_int_equal(plug(e, MBB, "dst", 8, "incoming", &ev),
                     BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_PREPARE);
    assert_int_equal(e->state, ENI_MIGRATING);
    assert_int_equal(e->phase, ENI_MIG_PREPARED);
    assert_string_equal(e->host, "src");
    assert_string_equal(e->dest_host, "dst");
    assert_int_equal(e->dest_ofport, 8);
    assert_int_equal(plug(e, MBB, "dst", 8, "incoming", &ev),
                     BINDING_UNCHANGED);

    assert_int_equal(plug(e, MBB, "src", 4, "paused", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_SWITCHOVER);
    assert_int_equal(e->phase, ENI_MIG_SWITCHOVER);
    assert_int_equal(plug(e, MBB, "src", 4, "paused", &ev),
                     BINDING_UNCHANGED);

    assert_int_equal(plug(e, MBB, "dst", 8, "activated", &ev),
                     BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_ACTIVATE);
    assert_int_equal(e->phase, ENI_MIG_ACTIVATED);
    assert_int_equal(plug(e, MBB, "dst", 8, "activated", &ev),
                     BINDING_UNCHANGED);
    /* A late "paused" from the source changes nothing now. */
    assert_int_equal(plug(e, MBB, "src", 4, "paused", &ev),
                     BINDING_UNCHANGED);

    uint64_t epoch = e->epoch;
    assert_int_equal(plug(e, MBB, "dst", 8, "completed", &ev),
                     BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_COMMIT);
    assert_int_equal(e->state, ENI_BOUND);
    assert_string_equal(e->host, "dst");
    assert_int_equal(e->ofport, 8);
    assert_true(e->epoch > epoch);

    /* The source's leftover VIF, still "paused", and its unplug: stale. */
    assert_int_equal(plug(e, MBB, "src", 4, "paused", &ev),
                     BINDING_UNCHANGED);
    assert_int_equal(unplug(e, "src", &ev), BINDING_UNCHANGED);
    assert_string_equal(e->host, "dst");
    eni_destroy(e);
}

static void
test_commit_by_source_unplug(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    plug(e, MBB, "src", 4, "", &ev);
    plug(e, MBB, "dst", 8, "incoming", &ev);
    plug(e, MBB, "src", 4, "paused", &ev);
    plug(e, MBB, "dst", 8, "activated", &ev);
    assert_int_equal(unplug(e, "src", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_COMMIT);
    assert_string_equal(e->host, "dst");
    assert_int_equal(e->ofport, 8);
    eni_destroy(e);
}

static void
test_rollbacks(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;
    struct eni_binding b;

    /* Failure after the source paused. */
    plug(e, MBB, "src", 4, "", &ev);
    plug(e, MBB, "dst", 8, "incoming", &ev);
    plug(e, MBB, "src", 4, "paused", &ev);
    assert_int_equal(plug(e, MBB, "dst", 8, "failed", &ev),
                     BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_ROLLBACK);
    assert_int_equal(e->state, ENI_BOUND);
    assert_string_equal(e->host, "src");
    assert_null(e->dest_host);
    /* The failed destination's VIF, and its removal, change nothing. */
    assert_int_equal(plug(e, MBB, "dst", 8, "failed", &ev),
                     BINDING_UNCHANGED);
    assert_int_equal(unplug(e, "dst", &ev), BINDING_UNCHANGED);
    assert_string_equal(e->host, "src");

    /* The destination dies before activation. */
    plug(e, MBB, "dst", 9, "incoming", &ev);
    assert_int_equal(unplug(e, "dst", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_ROLLBACK);
    assert_string_equal(e->host, "src");

    /* The source resumes (clears its marker) during the switchover. */
    plug(e, MBB, "dst", 9, "incoming", &ev);
    plug(e, MBB, "src", 4, "paused", &ev);
    assert_int_equal(plug(e, MBB, "src", 4, "", &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_ROLLBACK);

    /* Stuck: the time limit rolls back; not once activated. */
    plug(e, MBB, "dst", 9, "incoming", &ev);
    assert_int_equal(binding_timeout(e, &b, &ev), BINDING_CHANGED);
    assert_int_equal(ev, BINDING_EV_ROLLBACK);
    apply(e, &b);
    plug(e, MBB, "dst", 9, "incoming", &ev);
    plug(e, MBB, "dst", 9, "activated", &ev);
    assert_int_equal(binding_timeout(e, &b, &ev), BINDING_UNCHANGED);
    eni_destroy(e);
}

static void
test_announcement_activates(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;
    struct eni_binding b;

    plug(e, MBB, "src", 4, "", &ev);
    plug(e, MBB, "dst", 8, "incoming", &ev);
    /* From the source, or another port: nothing. */
    assert_int_equal(binding_announcement(e, "src", 4, &b, &ev),
                     BINDING_UNCHANGED);
    assert_int_equal(binding_announcement(e, "dst", 5, &b, &ev),
                     BINDING_UNCHANGED);
    assert_int_equal(binding_announcement(e, "dst", 8, &b, &ev),
                     BINDING_CHANGED);
    assert_int_equal(b.phase, ENI_MIG_ACTIVATED);
    apply(e, &b);
    assert_int_equal(binding_announcement(e, "dst", 8, &b, &ev),
                     BINDING_UNCHANGED);
    eni_destroy(e);
}

static void
test_break_before_make_skips_switchover(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    plug(e, BINDING_BREAK_BEFORE_MAKE, "src", 4, "", &ev);
    plug(e, BINDING_BREAK_BEFORE_MAKE, "dst", 8, "incoming", &ev);
    assert_int_equal(plug(e, BINDING_BREAK_BEFORE_MAKE, "src", 4, "paused",
                          &ev), BINDING_UNCHANGED);
    assert_int_equal(e->phase, ENI_MIG_PREPARED);
    assert_int_equal(plug(e, BINDING_BREAK_BEFORE_MAKE, "dst", 8,
                          "activated", &ev), BINDING_CHANGED);
    assert_int_equal(e->phase, ENI_MIG_ACTIVATED);
    eni_destroy(e);
}

static void
test_third_host_refused_mid_migration(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    enum binding_event ev;

    plug(e, MBB, "src", 4, "", &ev);
    plug(e, MBB, "dst", 8, "incoming", &ev);
    uint64_t epoch = e->epoch;
    assert_int_equal(plug(e, MBB, "other", 2, "", &ev), BINDING_REFUSED);
    assert_int_equal(plug(e, MBB, "other", 2, "incoming", &ev),
                     BINDING_REFUSED);
    assert_int_equal(e->epoch, epoch);
    assert_string_equal(e->dest_host, "dst");
    eni_destroy(e);
}

static void
test_differs(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding a, b;
    enum binding_event ev;
    const char *why;

    binding_current(e, &a);
    binding_current(e, &b);
    assert_false(binding_differs(&a, &b));
    binding_vif_plugged(e, MBB, "hv1", 7, NULL, NULL, &b, &ev, &why);
    assert_true(binding_differs(&a, &b));
    assert_string_equal(binding_event_to_string(ev), "bind");
    eni_destroy(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plug_binds_and_bumps_epoch),
        cmocka_unit_test(test_cold_move_and_stale_unplug),
        cmocka_unit_test(test_unplug_of_attached_eni),
        cmocka_unit_test(test_wrong_mac_refused),
        cmocka_unit_test(test_migration_phases),
        cmocka_unit_test(test_commit_by_source_unplug),
        cmocka_unit_test(test_rollbacks),
        cmocka_unit_test(test_announcement_activates),
        cmocka_unit_test(test_break_before_make_skips_switchover),
        cmocka_unit_test(test_third_host_refused_mid_migration),
        cmocka_unit_test(test_differs),
    };
    return cmocka_run_group_tests_name("binding", tests, NULL, NULL);
}
