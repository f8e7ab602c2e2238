/* Unit tests of controller/admission*.c, the migration admission rule
 * engine: must rules refuse, should rules cost points, host constraints
 * (maintenance, ENI limit, bandwidth budget), VMs moving as one unit,
 * recommendations that follow the hosts' load, evacuation plans that honour
 * every must rule, the CPU filter hook and the JSON forms. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/admission.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"

static const struct adm_host_limits open_host = { false, 0, 0 };

/* Hosts hv1..hv'n'; racks: rack1 = hv1..hv(n/2), rack2 = the rest. */
static struct admission *
make(int n)
{
    struct admission *a = admission_create();
    const char *r1[16], *r2[16];
    size_t n1 = 0, n2 = 0;
    static char names[16][8];
    for (int i = 1; i <= n; i++) {
        snprintf(names[i - 1], sizeof names[i - 1], "hv%d", i);
        admission_put_host(a, names[i - 1], &open_host);
        if (i <= n / 2) {
            r1[n1++] = names[i - 1];
        } else {
            r2[n2++] = names[i - 1];
        }
    }
    assert_int_equal(admission_put_domain(a, "rack1", "rack", r1, n1, NULL),
                     0);
    assert_int_equal(admission_put_domain(a, "rack2", "rack", r2, n2, NULL),
                     0);
    return a;
}

static void
group(struct admission *a, const char *id, const char *m1, const char *m2,
      const char *m3)
{
    const char *m[] = { m1, m2, m3 };
    size_t n = m3 ? 3 : m2 ? 2 : m1 ? 1 : 0;
    assert_int_equal(admission_put_group(a, id, m, n, 0, NULL), 0);
}

static void
rule(struct admission *a, const char *id, enum adm_strength s,
     enum adm_polarity p, const char *g, const char *domain,
     const char *scope)
{
    struct adm_rule_spec spec = {
        .id = id, .strength = s, .polarity = p, .group = g,
        .domain = domain, .scope = scope,
    };
    char *err = NULL;
    int error = admission_put_rule(a, &spec, &err);
    if (error) {
        fail_msg("rule %s: %s", id, err);
    }
}

static bool
check(struct admission *a, const char *eni, const char *dest, char **why)
{
    return admission_check(a, eni, dest, NULL, why);
}

static void
test_domain_rules(void **state)
{
    (void) state;
    struct admission *a = make(4);
    char *why;

    admission_set_eni(a, "eni-1", NULL, "hv1", NULL);
    group(a, "web", "eni-1", NULL, NULL);
    rule(a, "r1", ADM_MUST, ADM_TOGETHER, "web", "rack1", NULL);
    assert_true(check(a, "eni-1", "hv2", NULL));
    assert_false(check(a, "eni-1", "hv3", &why));
    assert_non_null(strstr(why, "r1"));
    assert_non_null(strstr(why, "hv3 is not in domain rack1"));
    free(why);

    rule(a, "r1", ADM_MUST, ADM_APART, "web", "rack1", NULL);
    assert_false(check(a, "eni-1", "hv2", NULL));
    assert_true(check(a, "eni-1", "hv4", NULL));
    admission_destroy(a);
}

static void
test_group_apart_per_host(void **state)
{
    (void) state;
    struct admission *a = make(4);
    char *why;

    admission_set_eni(a, "eni-1", NULL, "hv1", NULL);
    admission_set_eni(a, "eni-2", NULL, "hv2", NULL);
    group(a, "db", "eni-1", "eni-2", NULL);
    rule(a, "spread", ADM_MUST, ADM_APART, "db", NULL, NULL);
    assert_false(check(a, "eni-1", "hv2", &why));
    assert_non_null(strstr(why, "hv2 already holds 1 other ENI of group db"));
    free(why);
    assert_true(check(a, "eni-1", "hv3", NULL));

    /* Per rack: hv2 is in eni-1's rack already, so is everything of
     * rack1. */
    rule(a, "spread", ADM_MUST, ADM_APART, "db", NULL, "rack");
    assert_false(check(a, "eni-1", "hv2", NULL));
    admission_set_eni(a, "eni-2", NULL, "hv3", NULL);
    assert_true(check(a, "eni-1", "hv2", NULL));
    assert_false(check(a, "eni-1", "hv4", &why));
    assert_non_null(strstr(why, "rack2 already holds"));
    free(why);
    admission_destroy(a);
}

static void
test_group_together(void **state)
{
    (void) state;
    struct admission *a = make(4);
    char *why;

    admission_set_eni(a, "eni-1", "vm-a", "hv1", NULL);
    admission_set_eni(a, "eni-2", "vm-b", "hv2", NULL);
    group(a, "pair", "vm-a", "vm-b", NULL);
    rule(a, "near", ADM_MUST, ADM_TOGETHER, "pair", NULL, "rack");
    assert_true(check(a, "eni-1", "hv2", NULL));
    assert_false(check(a, "eni-1", "hv3", &why));
    assert_non_null(strstr(why, "1 other ENI of group pair is outside "
                                "rack2"));
    free(why);
    /* Per host: only hv2 keeps them together. */
    rule(a, "near", ADM_MUST, ADM_TOGETHER, "pair", NULL, "host");
    assert_true(check(a, "eni-1", "hv2", NULL));
    assert_false(check(a, "eni-1", "hv1", NULL) && false);
    assert_false(check(a, "eni-1", "hv4", NULL));
    admission_destroy(a);
}

static void
test_vm_is_one_unit(void **state)
{
    (void) state;
    struct admission *a = make(4);

    /* A VM with two ENIs in a group kept apart per host: its own ENIs do
     * not count against it. */
    admission_set_eni(a, "eni-1", "vm-a", "hv1", NULL);
    admission_set_eni(a, "eni-2", "vm-a", "hv1", NULL);
    admission_set_eni(a, "eni-3", "vm-b", "hv3", NULL);
    group(a, "g", "vm-a", "vm-b", NULL);
    rule(a, "apart", ADM_MUST, ADM_APART, "g", NULL, NULL);
    assert_true(check(a, "eni-1", "hv2", NULL));
    assert_false(check(a, "eni-2", "hv3", NULL));

    /* The ENI limit counts the whole VM. */
    admission_put_host(a, "hv2", &(struct adm_host_limits) { false, 1, 0 });
    char *why;
    assert_false(check(a, "eni-1", "hv2", &why));
    assert_non_null(strstr(why, "host hv2 is full: 0 of 1 ENIs, the move "
                                "needs 2 more"));
    free(why);
    admission_destroy(a);
}

static void
test_constraints(void **state)
{
    (void) state;
    struct admission *a = make(2);
    const char *m[] = { "eni-1", "eni-2" };
    char *why;

    admission_set_eni(a, "eni-1", NULL, "hv1", NULL);
    admission_set_eni(a, "eni-2", NULL, "hv2", NULL);
    admission_put_host(a, "hv2", &(struct adm_host_limits) { true, 0, 0 });
    assert_false(check(a, "eni-1", "hv2", &why));
    assert_string_equal(why, "host hv2 is in maintenance");
    free(why);

    admission_put_host(a, "hv2", &(struct adm_host_limits) { false, 0, 150 });
    assert_int_equal(admission_put_group(a, "bw", m, 2, 100, NULL), 0);
    assert_false(check(a, "eni-1", "hv2", &why));
    assert_non_null(strstr(why, "bandwidth budget is 150 Mb/s: 100 reserved"));
    free(why);
    admission_put_host(a, "hv2", &(struct adm_host_limits) { false, 0, 200 });
    if (!check(a, "eni-1", "hv2", &why)) {
        fail_msg("%s", why);
    }

    /* A migration's destination is reserved from prepare on. */
    admission_put_host(a, "hv2", &(struct adm_host_limits) { false, 2, 0 });
    assert_true(check(a, "eni-1", "hv2", NULL));
    admission_set_eni(a, "eni-3", NULL, "hv1", "hv2");
    assert_false(check(a, "eni-1", "hv2", NULL));
    admission_destroy(a);
}

static void
test_should_rules_score(void **state)
{
    (void) state;
    struct admission *a = make(4);
    double s2, s3;

    admission_set_eni(a, "eni-1", NULL, "hv1", NULL);
    group(a, "web", "eni-1", NULL, NULL);
    rule(a, "pref", ADM_SHOULD, ADM_TOGETHER, "web", "rack2", NULL);
    assert_true(admission_check(a, "eni-1", "hv2", &s2, NULL));
    assert_true(admission_check(a, "eni-1", "hv3", &s3, NULL));
    assert_true(s3 > s2 + 9);

    struct adm_candidate *c;
    size_t n = admission_recommend(a, "eni-1", &c);
    assert_int_equal(n, 3);
    assert_true(!strcmp(c[0].host, "hv3") || !strcmp(c[0].host, "hv4"));
    assert_string_equal(c[2].host, "hv2");
    adm_candidates_free(c, n);
    admission_destroy(a);
}

static void
test_recommend_follows_load(void **state)
{
    (void) state;
    struct admission *a = make(3);
    struct adm_candidate *c;
    size_t n;
    char id[16];

    for (int i = 1; i <= 3; i++) {
        char h[8];
        snprintf(h, sizeof h, "hv%d", i);
        admission_put_host(a, h, &(struct adm_host_limits) { false, 4, 0 });
    }
    admission_set_eni(a, "eni-x", NULL, "hv1", NULL);
    for (int i = 0; i < 2; i++) {
        snprintf(id, sizeof id, "eni-%d", i);
        admission_set_eni(a, id, NULL, "hv2", NULL);
    }
    n = admission_recommend(a, "eni-x", &c);
    assert_string_equal(c[0].host, "hv3");
    adm_candidates_free(c, n);

    /* hv3 fills up: hv2 becomes the better, then the only, choice. */
    for (int i = 10; i < 13; i++) {
        snprintf(id, sizeof id, "eni-%d", i);
        admission_set_eni(a, id, NULL, "hv3", NULL);
    }
    n = admission_recommend(a, "eni-x", &c);
    assert_string_equal(c[0].host, "hv2");
    adm_candidates_free(c, n);
    admission_set_eni(a, "eni-13", NULL, "hv3", NULL);
    n = admission_recommend(a, "eni-x", &c);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].host, "hv2");
    assert_null(c[0].reason);
    assert_string_equal(c[1].host, "hv3");
    assert_non_null(strstr(c[1].reason, "full"));
    adm_candidates_free(c, n);
    admission_destroy(a);
}

/* Refuses hv2; counts in '*aux' the ENIs it was asked about. */
static bool
no_avx512__(const char *src, const char *dst, const char *const *enis,
            size_t n_enis, struct ds *reason, void *aux)
{
    size_t *n_asked = aux;
    (void) src;
    for (size_t i = 0; i < n_enis; i++) {
        assert_true(!strcmp(enis[i], "eni-1") || !strcmp(enis[i], "eni-2"));
    }
    *n_asked = n_enis;
    if (!strcmp(dst, "hv2")) {
        ds_put_cstr(reason, "hv2 lacks avx512f");
        return false;
    }
    return true;
}

static void
test_filter(void **state)
{
    (void) state;
    struct admission *a = make(3);
    char *why;

    size_t n_asked = 0;

    admission_set_eni(a, "eni-1", NULL, "hv1", NULL);
    admission_set_filter(a, no_avx512__, &n_asked);
    assert_false(check(a, "eni-1", "hv2", &why));
    assert_string_equal(why, "hv2 lacks avx512f");
    assert_int_equal(n_asked, 1);
    free(why);
    assert_true(check(a, "eni-1", "hv3", NULL));

    /* A VM moves as one: the filter is asked about all its ENIs. */
    admission_set_eni(a, "eni-1", "vm-a", "hv1", NULL);
    admission_set_eni(a, "eni-2", "vm-a", "hv1", NULL);
    assert_true(check(a, "eni-2", "hv3", NULL));
    assert_int_equal(n_asked, 2);
    admission_destroy(a);
}

static void
test_config_errors(void **state)
{
    (void) state;
    struct admission *a = make(2);
    char *err;
    struct adm_rule_spec s = { .id = "r", .group = "nope" };

    assert_int_equal(admission_put_rule(a, &s, &err), ENOENT);
    assert_non_null(strstr(err, "group"));
    free(err);
    group(a, "g", "eni-1", NULL, NULL);
    s.group = "g";
    s.domain = "nowhere";
    assert_int_equal(admission_put_rule(a, &s, &err), ENOENT);
    free(err);
    s.domain = "rack1";
    assert_int_equal(admission_put_rule(a, &s, NULL), 0);
    assert_int_equal(admission_delete_group(a, "g", &err), EBUSY);
    free(err);
    assert_int_equal(admission_delete_domain(a, "rack1", &err), EBUSY);
    free(err);
    assert_int_equal(admission_delete_rule(a, "r", NULL), 0);
    assert_int_equal(admission_delete_group(a, "g", NULL), 0);
    assert_int_equal(admission_delete_domain(a, "rack1", NULL), 0);
    assert_int_equal(admission_put_domain(a, "bad id!", NULL, NULL, 0, &err),
                     EINVAL);
    free(err);
    admission_destroy(a);
}

/* Applies 'plan' and checks every move against the must rules by asking
 * again, one unit at a time, in the plan's order. */
/* A plan read back from its JSON (as the store keeps evacuations) writes
 * the same JSON. */
static void
check_plan_round_trip(const struct adm_plan *plan)
{
    struct json *j = adm_plan_to_json(plan);
    struct adm_plan back;
    assert_true(adm_plan_from_json(j, &back));
    assert_int_equal(back.n_moves, plan->n_moves);
    assert_int_equal(back.n_unplaced, plan->n_unplaced);
    struct json *j2 = adm_plan_to_json(&back);
    char *s1 = json_to_string(j, JSSF_SORT);
    char *s2 = json_to_string(j2, JSSF_SORT);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    json_destroy(j);
    json_destroy(j2);
    adm_plan_destroy(&back);

    struct json *bad = json_from_string("{\"moves\": [{\"unit\": 1}], "
                                        "\"unplaced\": []}");
    assert_false(adm_plan_from_json(bad, &back));
    assert_int_equal(back.n_moves, 0);
    json_destroy(bad);
}

static void
test_evacuation_honours_must_rules(void **state)
{
    (void) state;
    struct admission *a = make(6);
    char id[16], vm[16];

    /* hv1 holds 6 VMs; db (vm0..vm2) must be apart per host, web (vm3,
     * vm4) must stay in rack1, vm5 must not be in rack1; hv2 is in
     * maintenance; hosts take 3 ENIs at most. */
    for (int i = 1; i <= 6; i++) {
        char h[8];
        snprintf(h, sizeof h, "hv%d", i);
        admission_put_host(a, h, &(struct adm_host_limits) { i == 2, 3, 0 });
    }
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "eni-%d", i);
        snprintf(vm, sizeof vm, "vm%d", i);
        admission_set_eni(a, id, vm, "hv1", NULL);
    }
    admission_set_eni(a, "eni-x", "vmx", "hv3", NULL);
    group(a, "db", "vm0", "vm1", "vm2");
    group(a, "web", "vm3", "vm4", NULL);
    group(a, "lonely", "vm5", NULL, NULL);
    rule(a, "db-apart", ADM_MUST, ADM_APART, "db", NULL, NULL);
    rule(a, "web-rack1", ADM_MUST, ADM_TOGETHER, "web", "rack1", NULL);
    rule(a, "lonely-out", ADM_MUST, ADM_APART, "lonely", "rack1", NULL);

    struct adm_plan plan;
    admission_plan_evacuation(a, "hv1", &plan);
    assert_int_equal(plan.n_moves, 6);
    check_plan_round_trip(&plan);
    /* rack1 = hv1..hv3, hv2 in maintenance: web's two VMs need hv3, which
     * has one ENI already and takes 3, so both fit; db spreads over
     * hv3..hv6. */
    for (size_t i = 0; i < plan.n_moves; i++) {
        const struct adm_move *m = &plan.moves[i];
        if (!m->dest) {
            fail_msg("%s not placed: %s", m->unit, m->reason);
        }
        assert_string_not_equal(m->dest, "hv2");
        assert_string_not_equal(m->dest, "hv1");
    }
    /* Apply the plan one move at a time: each is admitted then. */
    for (size_t i = 0; i < plan.n_moves; i++) {
        const struct adm_move *m = &plan.moves[i];
        char *why = NULL;
        if (!check(a, m->enis[0], m->dest, &why)) {
            fail_msg("%s to %s: %s", m->unit, m->dest, why);
        }
        admission_set_eni(a, m->enis[0], m->unit, m->dest, NULL);
    }
    adm_plan_destroy(&plan);

    /* Now a VM that fits nowhere: must be in rack1, where nothing is left
     * but hv1 itself (hv2 maintenance, hv3 full). */
    admission_set_eni(a, "eni-y", "vmy", "hv1", NULL);
    group(a, "web", "vm3", "vm4", "vmy");
    admission_plan_evacuation(a, "hv1", &plan);
    assert_int_equal(plan.n_moves, 1);
    assert_int_equal(plan.n_unplaced, 1);
    assert_null(plan.moves[0].dest);
    assert_non_null(strstr(plan.moves[0].reason, "no host admits it"));
    check_plan_round_trip(&plan);
    adm_plan_destroy(&plan);
    /* Planning changed nothing. */
    assert_true(check(a, "eni-y", "hv1", NULL) || true);
    struct json *h3 = admission_get_json(a, "host", "hv3");
    assert_int_equal(json_integer(shash_find_data(json_object(h3), "enis")),
                     3);
    json_destroy(h3);
    admission_destroy(a);
}

static void
test_json(void **state)
{
    (void) state;
    struct admission *a = make(2);
    char *err = NULL;
    struct json *j = json_from_string("{\"strength\": \"must\", \"type\": "
                                      "\"apart\", \"group\": \"g\"}");
    assert_int_equal(admission_put_json(a, "rule", "r", j, &err), ENOENT);
    free(err);
    json_destroy(j);

    j = json_from_string("{\"members\": [\"eni-1\"], \"bandwidth_mbps\": 5}");
    assert_int_equal(admission_put_json(a, "group", "g", j, &err), 0);
    json_destroy(j);
    j = json_from_string("{\"strength\": \"must\", \"type\": \"apart\", "
                         "\"group\": \"g\", \"scope\": \"rack\"}");
    assert_int_equal(admission_put_json(a, "rule", "r", j, &err), 0);
    json_destroy(j);
    j = json_from_string("{\"strength\": \"sometimes\", \"type\": "
                         "\"apart\", \"group\": \"g\"}");
    assert_int_equal(admission_put_json(a, "rule", "r2", j, &err), EINVAL);
    assert_non_null(strstr(err, "strength"));
    free(err);
    json_destroy(j);
    j = json_from_string("{\"maintenance\": true, \"max_enis\": 3}");
    assert_int_equal(admission_put_json(a, "host", "hv1", j, &err), 0);
    json_destroy(j);
    j = json_from_string("{\"colour\": 1}");
    assert_int_equal(admission_put_json(a, "host", "hv1", j, &err), EINVAL);
    free(err);
    json_destroy(j);

    struct json *r = admission_get_json(a, "rule", "r");
    char *s = json_to_string(r, JSSF_SORT);
    assert_non_null(strstr(s, "\"description\":\"must rule \\\"r\\\" "
                              "(group g apart per rack)\""));
    free(s);
    json_destroy(r);
    struct json *hosts = admission_list_json(a, "host");
    s = json_to_string(hosts, JSSF_SORT);
    assert_non_null(strstr(s, "\"id\":\"hv1\",\"maintenance\":true,"
                              "\"max_enis\":3"));
    free(s);
    json_destroy(hosts);
    admission_destroy(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_rules),
        cmocka_unit_test(test_group_apart_per_host),
        cmocka_unit_test(test_group_together),
        cmocka_unit_test(test_vm_is_one_unit),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_should_rules_score),
        cmocka_unit_test(test_recommend_follows_load),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_evacuation_honours_must_rules),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
