/* Unit tests of controller/binding.c: VIF reports turned into ENI
 * bindings, with epochs, cold moves, stale unplugs and refused MACs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/binding.h"

static struct eni *
make_eni(void)
{
    struct eni *e = eni_create();
    e->id = strdup("eni-1");
    e->mac = strdup("02:00:00:00:00:01");
    e->vni = 5;
    e->state = ENI_DETACHED;
    return e;
}

/* Applies 'b' to 'e' as the store would. */
static void
apply(struct eni *e, const struct eni_binding *b)
{
    char *host = b->host ? strdup(b->host) : NULL;
    free(e->host);
    e->host = host;
    e->state = b->state;
    e->ofport = b->ofport;
    e->epoch = b->epoch;
    e->phase = b->phase;
}

static void
test_plug_binds_and_bumps_epoch(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding b;
    const char *why;

    assert_int_equal(binding_vif_plugged(e, "hv1", 7, "02:00:00:00:00:01",
                                         &b, &why), BINDING_CHANGED);
    assert_int_equal(b.state, ENI_BOUND);
    assert_string_equal(b.host, "hv1");
    assert_int_equal(b.ofport, 7);
    assert_int_equal(b.epoch, 1);
    apply(e, &b);

    /* The same report again changes nothing. */
    assert_int_equal(binding_vif_plugged(e, "hv1", 7, "02:00:00:00:00:01",
                                         &b, &why), BINDING_UNCHANGED);
    /* A new ofport on the same host keeps the epoch. */
    assert_int_equal(binding_vif_plugged(e, "hv1", 9, "02:00:00:00:00:01",
                                         &b, &why), BINDING_CHANGED);
    assert_int_equal(b.epoch, 1);
    assert_int_equal(b.ofport, 9);
    eni_destroy(e);
}

static void
test_cold_move_and_stale_unplug(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding b;
    const char *why;

    binding_vif_plugged(e, "hv1", 7, NULL, &b, &why);
    apply(e, &b);
    /* Plugged on hv2 before hv1's unplug arrives: it moves. */
    assert_int_equal(binding_vif_plugged(e, "hv2", 3, "02:00:00:00:00:01",
                                         &b, &why), BINDING_CHANGED);
    assert_string_equal(b.host, "hv2");
    assert_int_equal(b.epoch, 2);
    apply(e, &b);
    /* hv1's late unplug is stale. */
    assert_int_equal(binding_vif_unplugged(e, "hv1", &b, &why),
                     BINDING_UNCHANGED);
    assert_non_null(why);
    assert_string_equal(e->host, "hv2");
    /* hv2's unplug unbinds, with a new epoch. */
    assert_int_equal(binding_vif_unplugged(e, "hv2", &b, &why),
                     BINDING_CHANGED);
    assert_int_equal(b.state, ENI_DETACHED);
    assert_null(b.host);
    assert_int_equal(b.epoch, 3);
    eni_destroy(e);
}

static void
test_unplug_of_attached_eni(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding b;
    const char *why;

    e->vm_uuid = strdup("123e4567-e89b-12d3-a456-426614174000");
    binding_vif_plugged(e, "hv1", 7, NULL, &b, &why);
    apply(e, &b);
    binding_vif_unplugged(e, "hv1", &b, &why);
    assert_int_equal(b.state, ENI_ATTACHING);
    eni_destroy(e);
}

static void
test_wrong_mac_refused(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding b;
    const char *why;

    assert_int_equal(binding_vif_plugged(e, "hv1", 7, "02:00:00:00:00:99",
                                         &b, &why), BINDING_REFUSED);
    assert_non_null(strstr(why, "MAC"));
    /* Case does not matter. */
    assert_int_equal(binding_vif_plugged(e, "hv1", 7, "02:00:00:00:00:01",
                                         &b, &why), BINDING_CHANGED);
    assert_int_equal(binding_vif_plugged(e, "hv1", -1, NULL, &b, &why),
                     BINDING_REFUSED);
    eni_destroy(e);
}

static void
test_differs(void **state)
{
    (void) state;
    struct eni *e = make_eni();
    struct eni_binding a, b;
    const char *why;

    binding_current(e, &a);
    binding_current(e, &b);
    assert_false(binding_differs(&a, &b));
    binding_vif_plugged(e, "hv1", 7, NULL, &b, &why);
    assert_true(binding_differs(&a, &b));
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
        cmocka_unit_test(test_differs),
    };
    return cmocka_run_group_tests_name("binding", tests, NULL, NULL);
}
