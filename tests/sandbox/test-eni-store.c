/* Sandbox tests of controller/eni-store.c against a real ovsdb-server on
 * controller/tether.ovsschema: API writes and their errors (memory and
 * database unchanged after each), keys, bindings and hosts reaching the
 * database, a second store (tetherd restarted) loading the same contents,
 * and an ovsdb-server restart with writes pending.  The cases run in order
 * on one database; each drives the loop (run, wait, poll_block) until its
 * callbacks arrive or a deadline passes. */
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

#include "controller/eni-store.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-glue/ovs-loop.h"
#include "tests/sandbox/sandbox.h"
#include "timeval.h"
#include "util.h"

#define DEADLINE_MS 15000

static struct sandbox *sb;
static struct eni_store *store;     /* the store under test */
static struct eni_store *store2;    /* a second one, when a case needs it */

/* What the observer of 'store' saw. */
static unsigned int n_eni_changes, n_sg_changes;
static struct eni *last_old, *last_new;

/* One write's result. */
struct result {
    bool done;
    int error;
    char *msg;
};

static void
done_cb(int error, const char *msg, void *r_)
{
    struct result *r = r_;
    assert_false(r->done);
    r->done = true;
    r->error = error;
    r->msg = msg ? xstrdup(msg) : NULL;
}

static void
result_clear(struct result *r)
{
    free(r->msg);
    memset(r, 0, sizeof *r);
}

static void
eni_changed(const struct eni *old, const struct eni *new, void *aux OVS_UNUSED)
{
    n_eni_changes++;
    eni_destroy(last_old);
    eni_destroy(last_new);
    last_old = old ? eni_clone(old) : NULL;
    last_new = new ? eni_clone(new) : NULL;
}

static void
sg_changed(const struct security_group *old OVS_UNUSED,
           const struct security_group *new OVS_UNUSED, void *aux OVS_UNUSED)
{
    n_sg_changes++;
}

static const struct eni_store_observer observer = {
    .eni_changed = eni_changed, .sg_changed = sg_changed,
};

/* Runs the loop for the live stores until 'done(aux)' or 'ms' pass.
 * Returns what 'done' last returned. */
static bool
drive_ms(bool (*done)(const void *aux), const void *aux, int ms)
{
    long long int deadline = time_msec() + ms;

    for (;;) {
        if (store) {
            eni_store_run(store);
        }
        if (store2) {
            eni_store_run(store2);
        }
        if (done && done(aux)) {
            return true;
        } else if (time_msec() >= deadline) {
            return false;
        }
        if (store) {
            eni_store_wait(store);
        }
        if (store2) {
            eni_store_wait(store2);
        }
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static bool
drive(bool (*done)(const void *aux), const void *aux)
{
    return drive_ms(done, aux, DEADLINE_MS);
}

static bool
is_done(const void *r_)
{
    return ((const struct result *) r_)->done;
}

static bool
store_ready(const void *st_)
{
    return eni_store_is_ready(*(struct eni_store *const *) st_);
}

static bool
nothing_pending(const void *st_)
{
    return !eni_store_n_pending(*(struct eni_store *const *) st_);
}

static bool
disconnected(const void *st_)
{
    return !eni_store_is_connected(*(struct eni_store *const *) st_);
}

static struct eni_store *
open_store(const struct eni_store_observer *obs)
{
    struct eni_store *st = eni_store_create(sandbox_db_remote(sb), obs);
    return st;
}

/* Opens 'store2' on the same database and waits for it to load. */
static void
open_store2(void)
{
    store2 = open_store(NULL);
    assert_true(drive(store_ready, &store2));
}

static void
close_store2(void)
{
    eni_store_destroy(store2);
    store2 = NULL;
}

static struct eni *
make_eni(const char *id, const char *mac, const char *ip, const char *sg)
{
    struct eni *e = eni_create();
    e->id = xstrdup(id);
    e->mac = xstrdup(mac);
    e->primary_ipv4 = ip ? xstrdup(ip) : NULL;
    e->vni = 100;
    e->description = xstrdup("test");
    if (sg) {
        e->security_groups = xmalloc(sizeof *e->security_groups);
        e->security_groups[0] = xstrdup(sg);
        e->n_security_groups = 1;
    }
    return e;
}

/* Submits 'e' with 'fn' (create or update) and returns the result. */
static int
write_eni(void (*fn)(struct eni_store *, const struct eni *,
                     eni_store_done_func *, void *),
          struct eni *e, char **msgp)
{
    struct result r = { 0 };
    fn(store, e, done_cb, &r);
    eni_destroy(e);
    assert_true(drive(is_done, &r));
    if (msgp) {
        *msgp = r.msg;
    } else {
        free(r.msg);
    }
    return r.error;
}

static int
delete_eni(const char *id)
{
    struct result r = { 0 };
    eni_store_delete_eni(store, id, done_cb, &r);
    assert_true(drive(is_done, &r));
    int error = r.error;
    result_clear(&r);
    return error;
}

static int
put_sg(const char *id, const char *remote_group)
{
    struct security_group sg = { .id = (char *) id, .name = (char *) id };
    struct sg_rule rules[2] = {
        { .direction = SG_INGRESS, .ethertype = SG_IPV4, .protocol = 6,
          .port_min = 22, .port_max = 22, .remote_cidr = "10.0.0.0/8" },
        { .direction = SG_EGRESS, .ethertype = SG_IPV4,
          .remote_cidr = "0.0.0.0/0" },
    };
    if (remote_group) {
        rules[0].remote_cidr = NULL;
        rules[0].remote_group = (char *) remote_group;
    }
    sg.rules = rules;
    sg.n_rules = 2;

    struct result r = { 0 };
    eni_store_put_sg(store, &sg, done_cb, &r);
    assert_true(drive(is_done, &r));
    int error = r.error;
    result_clear(&r);
    return error;
}

static int
delete_sg(const char *id)
{
    struct result r = { 0 };
    eni_store_delete_sg(store, id, done_cb, &r);
    assert_true(drive(is_done, &r));
    int error = r.error;
    result_clear(&r);
    return error;
}

/* Fails unless 'a' and 'b' are the same ENI, field by field. */
static void
assert_eni_equal(const struct eni *a, const struct eni *b)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->key, b->key);
    assert_string_equal(a->mac, b->mac);
    assert_true(!a->primary_ipv4 == !b->primary_ipv4);
    if (a->primary_ipv4) {
        assert_string_equal(a->primary_ipv4, b->primary_ipv4);
    }
    assert_int_equal(a->n_secondary_ipv4s, b->n_secondary_ipv4s);
    for (size_t i = 0; i < a->n_secondary_ipv4s; i++) {
        assert_string_equal(a->secondary_ipv4s[i], b->secondary_ipv4s[i]);
    }
    assert_int_equal(a->n_ipv6s, b->n_ipv6s);
    for (size_t i = 0; i < a->n_ipv6s; i++) {
        assert_string_equal(a->ipv6s[i], b->ipv6s[i]);
    }
    assert_int_equal(a->vni, b->vni);
    assert_int_equal(a->n_security_groups, b->n_security_groups);
    for (size_t i = 0; i < a->n_security_groups; i++) {
        assert_string_equal(a->security_groups[i], b->security_groups[i]);
    }
    assert_int_equal(a->source_dest_check, b->source_dest_check);
    assert_true(!a->description == !b->description);
    if (a->description) {
        assert_string_equal(a->description, b->description);
    }
    assert_true(!a->vm_uuid == !b->vm_uuid);
    if (a->vm_uuid) {
        assert_string_equal(a->vm_uuid, b->vm_uuid);
    }
    assert_int_equal(a->state, b->state);
    assert_true(!a->host == !b->host);
    if (a->host) {
        assert_string_equal(a->host, b->host);
    }
    assert_int_equal(a->ofport, b->ofport);
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->phase, b->phase);
    assert_true(!a->dest_host == !b->dest_host);
    if (a->dest_host) {
        assert_string_equal(a->dest_host, b->dest_host);
    }
    assert_int_equal(a->dest_ofport, b->dest_ofport);
    assert_int_equal(a->created, b->created);
    assert_int_equal(a->updated, b->updated);
}

/* Fails unless a fresh store on the database loads exactly what 'store'
 * holds in memory (ENIs and security groups). */
static void
assert_db_equals_memory(void)
{
    const struct eni **a, **b;
    const struct security_group **ga, **gb;

    assert_int_equal(eni_store_n_pending(store), 0);
    open_store2();
    size_t na = eni_store_list_enis(store, &a);
    size_t nb = eni_store_list_enis(store2, &b);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_eni_equal(a[i], b[i]);
    }
    free(a);
    free(b);

    na = eni_store_list_sgs(store, &ga);
    nb = eni_store_list_sgs(store2, &gb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(ga[i]->id, gb[i]->id);
        assert_int_equal(ga[i]->n_rules, gb[i]->n_rules);
        for (size_t j = 0; j < ga[i]->n_rules; j++) {
            const struct sg_rule *x = &ga[i]->rules[j], *y = &gb[i]->rules[j];
            assert_int_equal(x->direction, y->direction);
            assert_int_equal(x->port_min, y->port_min);
            assert_true(!x->remote_group == !y->remote_group);
        }
    }
    free(ga);
    free(gb);
    close_store2();
}

/* Runs 'cmd' in the sandbox; returns its stdout (caller frees). */
static char *
run(const char *cmd)
{
    char *out;
    int status = sandbox_run(sb, &out, "%s", cmd);
    if (status) {
        fail_msg("\"%s\" exited with status %d", cmd, status);
    }
    return out;
}

/* --- Cases --------------------------------------------------------------- */

static void
test_load_empty(void **state OVS_UNUSED)
{
    store = open_store(&observer);
    assert_false(eni_store_is_ready(store));
    assert_true(drive(store_ready, &store));
    assert_true(eni_store_is_connected(store));
    assert_int_equal(eni_store_n_enis(store), 0);
    assert_int_equal(n_eni_changes, 0);
}

static void
test_create(void **state OVS_UNUSED)
{
    assert_int_equal(put_sg("sg-web", NULL), 0);
    assert_int_equal(n_sg_changes, 1);
    assert_non_null(eni_store_find_sg(store, "sg-web"));

    struct eni *e = make_eni("eni-1", "02:00:00:00:00:01", "10.0.0.1",
                             "sg-web");
    e->secondary_ipv4s = xmalloc(3 * sizeof *e->secondary_ipv4s);
    e->secondary_ipv4s[0] = xstrdup("10.0.0.9");
    e->secondary_ipv4s[1] = xstrdup("10.0.0.7");
    e->secondary_ipv4s[2] = xstrdup("10.0.0.9");
    e->n_secondary_ipv4s = 3;
    e->state = ENI_BOUND;       /* binding fields are ignored */
    e->host = xstrdup("hv9");
    e->key = 77;
    unsigned int n = n_eni_changes;
    assert_int_equal(write_eni(eni_store_create_eni, e, NULL), 0);
    assert_int_equal(n_eni_changes, n + 1);
    assert_null(last_old);
    assert_string_equal(last_new->id, "eni-1");

    const struct eni *got = eni_store_find_eni(store, "eni-1");
    assert_non_null(got);
    assert_true(got->key > 0 && got->key != 77);
    assert_int_equal(got->state, ENI_DETACHED);
    assert_null(got->host);
    assert_int_equal(got->ofport, -1);
    assert_int_equal(got->n_secondary_ipv4s, 2);      /* a sorted set */
    assert_string_equal(got->secondary_ipv4s[0], "10.0.0.7");
    assert_true(got->created > 0);
    assert_ptr_equal(eni_store_find_eni_by_key(store, got->key), got);

    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-2", "02:00:00:00:00:02",
                                        "10.0.0.2", NULL), NULL), 0);
    assert_int_equal(eni_store_n_enis(store), 2);
    assert_db_equals_memory();
}

/* Many writes at once: all committed (in batches), keys unique. */
static void
test_create_many(void **state OVS_UNUSED)
{
    enum { N = 300 };
    struct result r[N];

    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++) {
        char id[32], mac[32];
        snprintf(id, sizeof id, "eni-m%03d", i);
        snprintf(mac, sizeof mac, "02:00:00:00:%02x:%02x", i >> 8, i & 255);
        struct eni *e = make_eni(id, mac, NULL, i % 2 ? "sg-web" : NULL);
        eni_store_create_eni(store, e, done_cb, &r[i]);
        eni_destroy(e);
    }
    assert_true(drive(is_done, &r[N - 1]));
    for (int i = 0; i < N; i++) {
        assert_true(r[i].done);
        assert_int_equal(r[i].error, 0);
    }
    assert_int_equal(eni_store_n_enis(store), N + 2);

    const struct eni **enis;
    size_t n = eni_store_list_enis(store, &enis);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(eni_store_find_eni_by_key(store, enis[i]->key),
                         enis[i]);
        if (i) {
            assert_true(strcmp(enis[i - 1]->id, enis[i]->id) < 0);
        }
    }
    free(enis);
}

static void
test_update(void **state OVS_UNUSED)
{
    const struct eni *old = eni_store_find_eni(store, "eni-2");
    uint64_t key = old->key;
    long long int created = old->created;

    assert_int_equal(eni_store_set_binding(store, "eni-2", ENI_BOUND, "hv1",
                                           5, 1, ENI_MIG_NONE, NULL, -1), 0);
    struct eni *e = make_eni("eni-2", "02:00:00:00:00:22", "10.0.0.22",
                             "sg-web");
    e->vm_uuid = xstrdup("0b0d1c6e-2c34-4a8f-9d47-1f4f6d7f0a11");
    assert_int_equal(write_eni(eni_store_update_eni, e, NULL), 0);

    const struct eni *got = eni_store_find_eni(store, "eni-2");
    assert_string_equal(got->mac, "02:00:00:00:00:22");
    assert_string_equal(got->vm_uuid, "0b0d1c6e-2c34-4a8f-9d47-1f4f6d7f0a11");
    assert_int_equal(got->key, key);
    assert_int_equal(got->created, created);
    assert_int_equal(got->state, ENI_BOUND);        /* binding kept */
    assert_string_equal(got->host, "hv1");
    assert_string_equal(last_old->mac, "02:00:00:00:00:02");
    assert_string_equal(last_new->mac, "02:00:00:00:00:22");
    assert_true(drive(nothing_pending, &store));
    assert_db_equals_memory();
}

/* Every error leaves memory and database as they were. */
static void
test_errors(void **state OVS_UNUSED)
{
    size_t n = eni_store_n_enis(store);
    unsigned int changes = n_eni_changes + n_sg_changes;
    char *msg;

    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-1", "02:00:00:00:00:09", NULL,
                                        NULL), &msg), EEXIST);
    assert_non_null(msg);
    free(msg);
    assert_string_equal(eni_store_find_eni(store, "eni-1")->mac,
                        "02:00:00:00:00:01");
    assert_int_equal(write_eni(eni_store_update_eni,
                               make_eni("eni-nope", "02:00:00:00:00:09",
                                        NULL, NULL), NULL), ENOENT);
    assert_int_equal(delete_eni("eni-nope"), ENOENT);
    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-3", "02:00:00:00:00:03", NULL,
                                        "sg-nope"), NULL), ENOENT);
    assert_null(eni_store_find_eni(store, "eni-3"));
    assert_int_equal(write_eni(eni_store_update_eni,
                               make_eni("eni-1", "02:00:00:00:00:01", NULL,
                                        "sg-nope"), NULL), ENOENT);
    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-3", "not-a-mac", NULL, NULL),
                               &msg), EINVAL);
    assert_non_null(strstr(msg, "mac"));
    free(msg);
    assert_int_equal(delete_eni("eni-2"), EBUSY);   /* bound on hv1 */
    assert_non_null(eni_store_find_eni(store, "eni-2"));
    assert_int_equal(delete_sg("sg-web"), EBUSY);   /* eni-1 uses it */
    assert_non_null(eni_store_find_sg(store, "sg-web"));
    assert_int_equal(delete_sg("sg-nope"), ENOENT);
    assert_int_equal(put_sg("sg-db", "sg-nope"), ENOENT);
    assert_int_equal(eni_store_set_binding(store, "eni-nope", ENI_BOUND,
                                           "hv1", 1, 1, ENI_MIG_NONE, NULL,
                                           -1), ENOENT);

    /* A group named by another group's rule is in use too. */
    assert_int_equal(put_sg("sg-db", "sg-web"), 0);
    assert_int_equal(put_sg("sg-self", "sg-self"), 0);
    assert_int_equal(delete_sg("sg-self"), 0);
    changes += 3;

    assert_int_equal(eni_store_n_enis(store), n);
    assert_int_equal(n_eni_changes + n_sg_changes, changes);
    assert_db_equals_memory();
}

/* Deleting frees nothing for reuse: a new ENI gets a key above all. */
static void
test_delete_and_keys(void **state OVS_UNUSED)
{
    uint64_t max_key = 0;
    const struct eni **enis;
    size_t n = eni_store_list_enis(store, &enis);
    for (size_t i = 0; i < n; i++) {
        max_key = MAX(max_key, enis[i]->key);
    }
    free(enis);

    uint64_t key1 = eni_store_find_eni(store, "eni-1")->key;
    assert_int_equal(delete_eni("eni-1"), 0);
    assert_null(eni_store_find_eni(store, "eni-1"));
    assert_null(eni_store_find_eni_by_key(store, key1));
    assert_string_equal(last_old->id, "eni-1");
    assert_null(last_new);

    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-1", "02:00:00:00:00:01", NULL,
                                        NULL), NULL), 0);
    assert_true(eni_store_find_eni(store, "eni-1")->key > max_key);

    /* Unbind, then delete: allowed. */
    assert_int_equal(eni_store_set_binding(store, "eni-2", ENI_DETACHED,
                                           NULL, -1, 2, ENI_MIG_NONE, NULL,
                                           -1), 0);
    assert_int_equal(delete_eni("eni-2"), 0);
    assert_int_equal(delete_sg("sg-db"), 0);
    assert_true(drive(nothing_pending, &store));
    assert_db_equals_memory();
}

/* Bindings are in memory at once, coalesced, and reach the database. */
static void
test_bindings(void **state OVS_UNUSED)
{
    for (int i = 1; i <= 50; i++) {
        assert_int_equal(eni_store_set_binding(store, "eni-m001",
                                               ENI_MIGRATING, "hv1", 7, i,
                                               ENI_MIG_SWITCHOVER, "hv2", 8),
                         0);
        assert_int_equal(eni_store_find_eni(store, "eni-m001")->epoch, i);
    }
    assert_true(eni_store_n_pending(store) <= 2);
    struct eni_store_host h = {
        .id = "hv1", .hypervisor = "kvm", .tunnel_ip = "192.0.2.1",
        .tunnel_type = "geneve", .bridge = "br-int", .connected = true,
        .last_heard = 12345,
    };
    eni_store_put_host(store, &h);
    assert_true(drive(nothing_pending, &store));

    char *out = run("ovsdb-client -f csv --no-headings --data=bare dump "
                    "\"$SB_DB\" Tether ENI id epoch dest_host phase state "
                    "| grep eni-m001");
    assert_non_null(strstr(out, "hv2,50,eni-m001,switchover,migrating"));
    free(out);
    out = run("ovsdb-client -f csv --no-headings --data=bare dump "
              "\"$SB_DB\" Tether Host");
    assert_non_null(strstr(out, "hv1"));
    assert_non_null(strstr(out, "192.0.2.1"));
    free(out);
    assert_db_equals_memory();
}

/* The database refuses a batch (a key taken behind the store's back): only
 * that create fails, the others of its batch commit. */
static void
test_db_refuses(void **state OVS_UNUSED)
{
    /* The next keys are >= the largest + 1; take the one after that. */
    uint64_t max_key = 0;
    const struct eni **enis;
    size_t n = eni_store_list_enis(store, &enis);
    for (size_t i = 0; i < n; i++) {
        max_key = MAX(max_key, enis[i]->key);
    }
    free(enis);
    char *cmd = xasprintf("ovsdb-client transact \"$SB_DB\" '[\"Tether\", "
                       "{\"op\": \"insert\", \"table\": \"ENI\", \"row\": "
                       "{\"id\": \"eni-alien\", \"eni_key\": %"PRIu64", "
                       "\"mac\": \"02:00:00:00:0a:0a\", \"vni\": 1, "
                       "\"state\": \"detached\", \"phase\": \"none\"}}]'",
                       max_key + 2);
    free(run(cmd));
    free(cmd);

    struct result r[3];
    memset(r, 0, sizeof r);
    const char *ids[3] = { "eni-x1", "eni-x2", "eni-x3" };
    for (int i = 0; i < 3; i++) {
        char mac[32];
        snprintf(mac, sizeof mac, "02:00:00:00:0b:%02x", i);
        struct eni *e = make_eni(ids[i], mac, NULL, NULL);
        eni_store_create_eni(store, e, done_cb, &r[i]);
        eni_destroy(e);
    }
    assert_true(drive(is_done, &r[2]));
    assert_int_equal(r[0].error, 0);
    assert_int_equal(r[1].error, EIO);
    assert_int_equal(r[2].error, 0);
    assert_null(eni_store_find_eni(store, "eni-x2"));
    for (int i = 0; i < 3; i++) {
        result_clear(&r[i]);
    }

    /* The alien row is in the database, not in memory: a create of its id
     * passes the store's checks and the database refuses it. */
    char *msg;
    assert_int_equal(write_eni(eni_store_create_eni,
                               make_eni("eni-alien", "02:00:00:00:0a:0a",
                                        NULL, NULL), &msg), EIO);
    assert_non_null(strstr(msg, "constraint violation"));
    free(msg);
    assert_null(eni_store_find_eni(store, "eni-alien"));
    free(run("ovsdb-client transact \"$SB_DB\" '[\"Tether\", "
             "{\"op\": \"delete\", \"table\": \"ENI\", \"where\": "
             "[[\"id\", \"==\", \"eni-alien\"]]}]'"));
    assert_db_equals_memory();
}

/* tetherd killed right after an acknowledged create: a new one has it. */
static void
test_kill_after_ack(void **state OVS_UNUSED)
{
    struct result r = { 0 };
    struct eni *e = make_eni("eni-k", "02:00:00:00:00:0c", "10.0.0.12",
                             NULL);
    eni_store_create_eni(store, e, done_cb, &r);
    eni_destroy(e);
    assert_true(drive(is_done, &r));
    assert_int_equal(r.error, 0);
    uint64_t key = eni_store_find_eni(store, "eni-k")->key;
    eni_store_destroy(store);

    n_eni_changes = n_sg_changes = 0;
    store = open_store(&observer);
    assert_true(drive(store_ready, &store));
    const struct eni *got = eni_store_find_eni(store, "eni-k");
    assert_non_null(got);
    assert_int_equal(got->key, key);
    /* The load told the observer about every ENI and group. */
    assert_int_equal(n_eni_changes, eni_store_n_enis(store));
    assert_true(n_sg_changes >= 1);
    /* The migrating binding of eni-m001 came back from the database. */
    assert_int_equal(eni_store_find_eni(store, "eni-m001")->state,
                     ENI_MIGRATING);
    assert_int_equal(eni_store_find_eni(store, "eni-m001")->epoch, 50);
    result_clear(&r);
}

/* ovsdb-server goes away with writes pending; they complete when it is
 * back, and the binding in memory stayed authoritative meanwhile. */
static void
test_ovsdb_restart(void **state OVS_UNUSED)
{
    assert_int_equal(sandbox_stop_ovsdb(sb), 0);
    assert_true(drive(disconnected, &store));

    assert_int_equal(eni_store_set_binding(store, "eni-k", ENI_BOUND, "hv3",
                                           9, 1, ENI_MIG_NONE, NULL, -1), 0);
    struct result r1 = { 0 }, r2 = { 0 };
    struct eni *e = make_eni("eni-r", "02:00:00:00:00:0d", NULL, "sg-web");
    eni_store_create_eni(store, e, done_cb, &r1);
    eni_destroy(e);
    eni_store_delete_eni(store, "eni-m002", done_cb, &r2);
    struct eni_store_host h = { .id = "hv3", .tunnel_ip = "192.0.2.3" };
    eni_store_put_host(store, &h);

    /* Nothing completes while the server is down. */
    assert_false(drive_ms(is_done, &r1, 300));
    assert_false(r2.done);
    assert_true(eni_store_n_pending(store) >= 4);
    assert_string_equal(eni_store_find_eni(store, "eni-k")->host, "hv3");

    assert_int_equal(sandbox_start_ovsdb(sb), 0);
    assert_true(drive(is_done, &r2));
    assert_true(drive(is_done, &r1));
    assert_int_equal(r1.error, 0);
    assert_int_equal(r2.error, 0);
    assert_true(drive(nothing_pending, &store));
    assert_true(eni_store_is_connected(store));
    assert_non_null(eni_store_find_eni(store, "eni-r"));
    assert_null(eni_store_find_eni(store, "eni-m002"));
    assert_db_equals_memory();

    char *out = run("ovsdb-client -f csv --no-headings --data=bare dump "
                    "\"$SB_DB\" Tether Host id tunnel_ip");
    assert_non_null(strstr(out, "hv3,192.0.2.3"));
    free(out);
    result_clear(&r1);
    result_clear(&r2);
}

/* ovsdb-server stops with a transaction in flight.  Whether it committed
 * before going (its reply lost) or not, the write completes once and
 * memory equals the database afterwards. */
static void
test_ovsdb_restart_in_flight(void **state OVS_UNUSED)
{
    struct result r = { 0 };
    struct eni *e = make_eni("eni-f", "02:00:00:00:00:0f", NULL, NULL);
    eni_store_create_eni(store, e, done_cb, &r);
    eni_destroy(e);
    eni_store_run(store);               /* sends the transaction */

    assert_int_equal(sandbox_stop_ovsdb(sb), 0);
    assert_true(drive(disconnected, &store));
    assert_int_equal(eni_store_set_binding(store, "eni-k", ENI_BOUND, "hv3",
                                           9, 2, ENI_MIG_NONE, NULL, -1), 0);
    assert_int_equal(sandbox_start_ovsdb(sb), 0);
    assert_true(drive(is_done, &r));
    assert_int_equal(r.error, 0);
    assert_non_null(eni_store_find_eni(store, "eni-f"));
    assert_true(drive(nothing_pending, &store));
    assert_db_equals_memory();
    result_clear(&r);
}

/* With TETHER_STORE_BENCH=N: N creates, a reload, N binding changes, with
 * their times as TAP comments.  Passes at once otherwise (cmocka's skip()
 * reads as a failure to automake's TAP driver). */
static void
test_bench(void **state OVS_UNUSED)
{
    const char *env = getenv("TETHER_STORE_BENCH");
    int n = env ? atoi(env) : 0;
    if (n <= 0) {
        printf("# test_bench: set TETHER_STORE_BENCH=N to run it\n");
        return;
    }

    struct result *r = xcalloc(n, sizeof *r);
    long long int t0 = time_msec();
    for (int i = 0; i < n; i++) {
        char id[32], mac[32];
        snprintf(id, sizeof id, "eni-b%07d", i);
        snprintf(mac, sizeof mac, "02:01:%02x:%02x:%02x:%02x", i >> 24,
                 (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct eni *e = make_eni(id, mac, "10.1.0.1", "sg-web");
        eni_store_create_eni(store, e, done_cb, &r[i]);
        eni_destroy(e);
    }
    assert_true(drive_ms(is_done, &r[n - 1], 600000));
    long long int t1 = time_msec();
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].error, 0);
        result_clear(&r[i]);
    }
    free(r);
    printf("# %d creates: %lld ms\n", n, t1 - t0);

    t0 = time_msec();
    open_store2();
    printf("# load of %"PRIuSIZE" ENIs: %lld ms\n",
           eni_store_n_enis(store2), time_msec() - t0);
    close_store2();

    t0 = time_msec();
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "eni-b%07d", i);
        assert_int_equal(eni_store_set_binding(store, id, ENI_BOUND, "hv1",
                                               i + 1, 1, ENI_MIG_NONE, NULL,
                                               -1), 0);
    }
    t1 = time_msec();
    assert_true(drive_ms(nothing_pending, &store, 600000));
    printf("# %d binding changes: %lld ms in memory, %lld ms persisted\n",
           n, t1 - t0, time_msec() - t0);
}

static int
group_setup(void **state OVS_UNUSED)
{
    const char *top = getenv("top_srcdir");
    char *schema = xasprintf("%s/controller/tether.ovsschema",
                             top ? top : ".");
    sb = sandbox_create_db("eni-store", schema);
    free(schema);
    return sb ? 0 : -1;
}

static int
group_teardown(void **state OVS_UNUSED)
{
    eni_store_destroy(store);
    eni_store_destroy(store2);
    eni_destroy(last_old);
    eni_destroy(last_new);
    sandbox_destroy(sb);
    ovs_loop_destroy();
    return 0;
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    /* test_db_refuses makes the IDL log the error it expects. */
    vlog_set_levels(vlog_module_from_name("ovsdb_idl"), VLF_CONSOLE,
                    VLL_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_empty),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_many),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_delete_and_keys),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_db_refuses),
        cmocka_unit_test(test_kill_after_ack),
        cmocka_unit_test(test_ovsdb_restart),
        cmocka_unit_test(test_ovsdb_restart_in_flight),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests_name("eni-store", tests, group_setup,
                                       group_teardown);
}
