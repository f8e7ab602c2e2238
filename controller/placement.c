/* tetherd's migration admission service (see placement.h). */
#include <config.h>

#include "controller/placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/admission.h"
#include "controller/admission-store.h"
#include "controller/cpu-features.h"
#include "controller/eni.h"
#include "controller/host-registry.h"
#include "controller/libvirt-cpu.h"
#include "lib/cpu-xml.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(placement);

/* An evacuation started through the API: its plan, followed in the
 * store. */
struct evacuation {
    char *host;
    struct adm_plan plan;
    struct sset refused;        /* ENIs of the plan refused at prepare */
};

struct placement {
    struct host_registry *hosts;
    struct eni_store *store;
    struct admission *adm;
    struct cpu_features *cpu;
    struct libvirt_cpu *libvirt;        /* CPU models, baseline models */
    struct shash vm_cpus;               /* ENI id -> struct cpu_xml: the
                                         * ENIs with a CPU definition */
    struct eni_store_observer next;     /* the chained observer */
    struct shash evacuations;           /* host -> evacuation */
    struct admission_store *db;         /* NULL: in memory only */
};

/* A REST write waiting for its commit. */
struct pending_reply {
    struct placement *p;
    rest_admission_done_func *done;
    void *req;
    int status;
    struct json *reply;                 /* NULL: none */
};

static admission_filter_func cpu_filter__;
static admission_store_load_func load_row__;

struct placement *
placement_create(struct host_registry *hosts, const char *db_remote)
{
    struct placement *p = xzalloc(sizeof *p);
    p->hosts = hosts;
    p->adm = admission_create();
    p->cpu = cpu_features_create();
    p->libvirt = libvirt_cpu_create(NULL);
    shash_init(&p->vm_cpus);
    shash_init(&p->evacuations);
    admission_set_filter(p->adm, cpu_filter__, p);
    if (db_remote) {
        p->db = admission_store_create(db_remote, load_row__, p);
    }
    return p;
}

static void
evacuation_free__(struct evacuation *ev)
{
    free(ev->host);
    adm_plan_destroy(&ev->plan);
    sset_destroy(&ev->refused);
    free(ev);
}

void
placement_destroy(struct placement *p)
{
    if (p) {
        struct shash_node *n;
        SHASH_FOR_EACH (n, &p->evacuations) {
            evacuation_free__(n->data);
        }
        shash_destroy(&p->evacuations);
        SHASH_FOR_EACH (n, &p->vm_cpus) {
            cpu_xml_destroy(n->data);
            free(n->data);
        }
        shash_destroy(&p->vm_cpus);
        libvirt_cpu_destroy(p->libvirt);
        admission_store_destroy(p->db);
        admission_destroy(p->adm);
        cpu_features_destroy(p->cpu);
        free(p);
    }
}

void
placement_run(struct placement *p)
{
    if (p->db) {
        admission_store_run(p->db);
    }
}

void
placement_wait(struct placement *p)
{
    if (p->db) {
        admission_store_wait(p->db);
    }
}

bool
placement_is_ready(const struct placement *p)
{
    return !p->db || admission_store_is_ready(p->db);
}

void
placement_set_store(struct placement *p, struct eni_store *store)
{
    p->store = store;
}

/* Keeps 'p->vm_cpus' in step with the CPU definition of ENI 'id', 'xml'
 * (NULL: none). */
static void
set_vm_cpu__(struct placement *p, const char *id, const char *xml)
{
    struct cpu_xml *def = shash_find_and_delete(&p->vm_cpus, id);
    if (def) {
        cpu_xml_destroy(def);
        free(def);
    }
    if (xml) {
        char *err = NULL;
        def = xmalloc(sizeof *def);
        if (cpu_xml_parse(xml, def, &err)) {
            shash_add(&p->vm_cpus, id, def);
        } else {
            /* Only the API writes it, after checking it. */
            VLOG_WARN("ENI %s: stored CPU definition unreadable (%s); its "
                      "VM is judged as host-passthrough", id, err);
            free(err);
            free(def);
        }
    }
}

static void
placement_eni_changed__(const struct eni *old, const struct eni *new,
                        void *p_)
{
    struct placement *p = p_;
    if (new && (!old || !nullable_string_is_equal(old->cpu, new->cpu))) {
        set_vm_cpu__(p, new->id, new->cpu);
    } else if (!new && old) {
        set_vm_cpu__(p, old->id, NULL);
    }
    if (new) {
        bool wired = eni_is_wired(new);
        admission_set_eni(p->adm, new->id, new->vm_uuid,
                          wired ? new->host : NULL,
                          new->state == ENI_MIGRATING ? new->dest_host : NULL);
    } else if (old) {
        admission_remove_eni(p->adm, old->id);
    }
    if (p->next.eni_changed) {
        p->next.eni_changed(old, new, p->next.aux);
    }
}

static void
placement_sg_changed__(const struct security_group *old,
                       const struct security_group *new, void *p_)
{
    struct placement *p = p_;
    if (p->next.sg_changed) {
        p->next.sg_changed(old, new, p->next.aux);
    }
}

struct eni_store_observer
placement_chain_observer(struct placement *p,
                         const struct eni_store_observer *obs)
{
    p->next = *obs;
    return (struct eni_store_observer) {
        .eni_changed = placement_eni_changed__,
        .sg_changed = placement_sg_changed__,
        .aux = p,
    };
}

/* Every host the registry knows is a candidate (with no limits until
 * some are put), with the CPU its agent reported. */
static void
sync_hosts__(struct placement *p)
{
    for (size_t i = 0; i < host_registry_count(p->hosts); i++) {
        const struct host *h = host_registry_at(p->hosts, i);
        if (!admission_get_host(p->adm, h->id)) {
            static const struct adm_host_limits none;
            admission_put_host(p->adm, h->id, &none);
        }
        cpu_features_set_host(p->cpu, h->id, h->cpu_model, h->cpu_flags,
                              h->n_cpu_flags);
    }
}

/* Stores in 'out' the features a VM with CPU definition 'def' may use
 * when it runs on 'src' (NULL: unknown).  A custom model is expanded by
 * libvirt; if it cannot be (libvirt unavailable), the VM is judged by what
 * its host has, as a host-passthrough VM.  Returns false if nothing can be
 * said ('out' empty). */
static bool
vm_flags__(struct placement *p, const struct cpu_xml *def, const char *src,
           struct sset *out)
{
    const struct sset *src_flags = src ? cpu_features_flags(p->cpu, src)
                                       : NULL;
    const struct sset *model_flags = NULL;

    if (def->mode == CPU_XML_CUSTOM && def->model) {
        char *err = NULL;
        if (libvirt_cpu_model_flags(p->libvirt, def->model, &model_flags,
                                    &err)) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "CPU model %s cannot be expanded (%s): the VM "
                         "is judged by its host's CPU", def->model, err);
            free(err);
            static const struct cpu_xml passthrough = {
                .mode = CPU_XML_HOST_PASSTHROUGH,
            };
            def = &passthrough;
        }
    }
    return cpu_features_vm_flags(def, model_flags, src_flags, out);
}

/* The features the VM of ENIs 'enis' may use: its source host's
 * (host-passthrough, the default: returned as they are, since admission
 * asks this for every candidate host), or computed into 'out'.  Appends a
 * description of its CPU definition to 'what' (nothing for the default).
 * The definition is on whichever of its ENIs carry one; if several do, the
 * VM may use what any of them allows.  Returns NULL if that cannot be
 * known. */
static const struct sset *
unit_flags__(struct placement *p, const char *const *enis, size_t n,
             const char *src, struct sset *out, struct ds *what)
{
    struct sset one = SSET_INITIALIZER(&one);
    bool any = false, ok = true;

    sset_clear(out);
    for (size_t i = 0; i < n && ok; i++) {
        const struct cpu_xml *def = shash_find_data(&p->vm_cpus, enis[i]);
        if (def) {
            if (!any) {
                ds_put_format(what, "%s", cpu_xml_mode_to_string(def->mode));
                if (def->model) {
                    ds_put_format(what, " %s", def->model);
                }
                ds_put_format(what, " on %s", enis[i]);
            }
            any = true;
            ok = vm_flags__(p, def, src, &one);
            const char *f;
            SSET_FOR_EACH (f, &one) {
                sset_add(out, f);
            }
        }
    }
    sset_destroy(&one);
    if (!any) {
        return cpu_features_flags(p->cpu, src);
    }
    return ok ? out : NULL;
}

/* A VM may use what its CPU definition allows (by default, host-
 * passthrough: every feature of the host it runs on): a destination must
 * have all of it. */
static bool
cpu_filter__(const char *src, const char *dst, const char *const *enis,
             size_t n_enis, struct ds *reason, void *p_)
{
    struct placement *p = p_;
    struct sset buf = SSET_INITIALIZER(&buf);
    struct sset missing = SSET_INITIALIZER(&missing);
    struct ds what = DS_EMPTY_INITIALIZER;
    bool ok = true;

    const struct sset *want = unit_flags__(p, enis, n_enis, src, &buf,
                                           &what);
    if (want && cpu_features_missing(p->cpu, want, dst, &missing)
        && !sset_is_empty(&missing)) {
        if (what.length) {
            ds_put_format(reason, "host %s's CPU lacks features the VM's CPU "
                          "definition (%s) requires: ", dst, ds_cstr(&what));
        } else {
            ds_put_format(reason, "host %s's CPU lacks features the VM may "
                          "use (it runs on %s): ", dst, src);
        }
        cpu_features_format(&missing, reason);
        ok = false;
    }
    ds_destroy(&what);
    sset_destroy(&buf);
    sset_destroy(&missing);
    return ok;
}

int
placement_check_cpu(void *p_, const char *xml, char **normalizedp,
                    char **errp)
{
    struct placement *p = p_;
    struct cpu_xml def;

    if (!cpu_xml_parse(xml, &def, errp)) {
        return 400;
    }
    int status = 0;
    if (def.mode == CPU_XML_CUSTOM && def.model) {
        const struct sset *flags;
        int error = libvirt_cpu_model_flags(p->libvirt, def.model, &flags,
                                            errp);
        status = !error ? 0 : error == EINVAL ? 400 : 503;
    }
    if (!status) {
        *normalizedp = cpu_xml_format(&def);
    }
    cpu_xml_destroy(&def);
    return status;
}

/* --- Durability ------------------------------------------------------------
 *
 * Rows of Admission_Config (admission-store.h): a domain, group, rule or
 * host as admission_put_json() takes it (without the fields it computes),
 * an evacuation as {"plan": <adm_plan_to_json()>, "refused": [ENI ids]}. */

/* The stored form of 'kind' 'id', or NULL if there is none. */
static struct json *
stored_json__(const struct placement *p, const char *kind, const char *id)
{
    static const char *const derived[] = {
        "enis_placed", "description", "enis", "bandwidth_used_mbps",
    };
    if (!strcmp(kind, "host") && !admission_get_host(p->adm, id)) {
        return NULL;
    }
    struct json *j = admission_get_json(p->adm, kind, id);
    for (size_t i = 0; j && i < ARRAY_SIZE(derived); i++) {
        struct shash_node *n = shash_find(json_object(j), derived[i]);
        if (n) {
            json_destroy(n->data);
            shash_delete(json_object(j), n);
        }
    }
    return j;
}

static struct json *
evacuation_json__(const struct evacuation *ev)
{
    struct json *j = json_object_create();
    struct json *refused = json_array_create_empty();
    const char **names = sset_sort(&ev->refused);
    for (size_t i = 0; names[i]; i++) {
        json_array_add(refused, json_string_create(names[i]));
    }
    free(names);
    json_object_put(j, "plan", adm_plan_to_json(&ev->plan));
    json_object_put(j, "refused", refused);
    return j;
}

static void
put_evacuation__(struct placement *p, const char *host, struct adm_plan *plan)
{
    struct evacuation *ev = shash_find_and_delete(&p->evacuations, host);
    if (ev) {
        evacuation_free__(ev);
    }
    ev = xzalloc(sizeof *ev);
    ev->host = xstrdup(host);
    ev->plan = *plan;
    sset_init(&ev->refused);
    shash_add(&p->evacuations, host, ev);
}

static void
load_row__(const char *kind, const char *id, const struct json *value,
           void *p_)
{
    struct placement *p = p_;
    char *err = NULL;

    if (!strcmp(kind, "evacuation")) {
        const struct json *plan = NULL, *refused = NULL;
        struct adm_plan ap;
        if (value->type == JSON_OBJECT) {
            plan = shash_find_data(json_object(value), "plan");
            refused = shash_find_data(json_object(value), "refused");
        }
        if (!plan || !adm_plan_from_json(plan, &ap)) {
            VLOG_WARN("evacuation of %s: stored plan unreadable; dropped",
                      id);
            return;
        }
        put_evacuation__(p, id, &ap);
        struct evacuation *ev = shash_find_data(&p->evacuations, id);
        for (size_t i = 0; refused && refused->type == JSON_ARRAY
                           && i < json_array(refused)->n; i++) {
            const struct json *e = json_array(refused)->elems[i];
            if (e->type == JSON_STRING) {
                sset_add(&ev->refused, json_string(e));
            }
        }
    } else if (admission_put_json(p->adm, kind, id, value, &err)) {
        VLOG_WARN("%s %s: stored value refused (%s); dropped", kind, id, err);
        free(err);
    }
}

/* Empties the configuration (before a reload). */
static void
clear__(struct placement *p)
{
    static const char *const kinds[] = { "rule", "group", "domain", "host" };
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        struct json *list = admission_list_json(p->adm, kinds[k]);
        const struct json_array *a = json_array(list);
        for (size_t i = 0; i < a->n; i++) {
            const char *id = json_string(shash_find_data(
                                             json_object(a->elems[i]), "id"));
            if (!strcmp(kinds[k], "host")) {
                admission_remove_host(p->adm, id);
            } else {
                char *err = NULL;
                admission_delete_kind(p->adm, kinds[k], id, &err);
                free(err);
            }
        }
        json_destroy(list);
    }
    struct shash_node *n;
    SHASH_FOR_EACH (n, &p->evacuations) {
        evacuation_free__(n->data);
    }
    shash_clear(&p->evacuations);
}

static void
write_done__(int error, const char *msg, void *pr_)
{
    struct pending_reply *pr = pr_;
    struct placement *p = pr->p;

    if (error) {
        /* Memory has what the database refused: take the database's. */
        VLOG_WARN("reloading the admission configuration after a refused "
                  "write");
        clear__(p);
        admission_store_reload(p->db);
        sync_hosts__(p);
        json_destroy(pr->reply);
        pr->reply = json_object_create();
        struct json *e = json_object_create();
        json_object_put_string(e, "code", "internal");
        json_object_put_string(e, "message", msg ? msg : "write failed");
        json_object_put(pr->reply, "error", e);
        pr->status = 500;
    }
    if (pr->done) {
        pr->done(pr->req, pr->status, pr->reply);
    } else {
        json_destroy(pr->reply);
    }
    free(pr);
}

/* Writes the current form of 'n' objects ('kinds[i]' 'ids[i]'; absent ones
 * are deleted) and, if 'done' is nonnull, replies 'status' with 'reply'
 * (taken) once committed; returns REST_DEFERRED.  Without a database,
 * returns 'status' with 'reply' in '*replyp' at once. */
static int
persist__(struct placement *p, const char *const *kinds,
          const char *const *ids, size_t n, int status, struct json *reply,
          struct json **replyp, rest_admission_done_func *done, void *req)
{
    if (!p->db) {
        if (replyp) {
            *replyp = reply;
        } else {
            json_destroy(reply);
        }
        return status;
    }
    struct admission_store_row rows[2];
    struct json *values[2];
    ovs_assert(n <= ARRAY_SIZE(rows));
    for (size_t i = 0; i < n; i++) {
        struct evacuation *ev = (!strcmp(kinds[i], "evacuation")
                                 ? shash_find_data(&p->evacuations, ids[i])
                                 : NULL);
        values[i] = (ev ? evacuation_json__(ev)
                     : stored_json__(p, kinds[i], ids[i]));
        rows[i] = (struct admission_store_row) {
            .kind = kinds[i], .id = ids[i], .value = values[i],
        };
    }
    struct pending_reply *pr = xmalloc(sizeof *pr);
    *pr = (struct pending_reply) {
        .p = p, .done = done, .req = req, .status = status, .reply = reply,
    };
    admission_store_write(p->db, rows, n, write_done__, pr);
    for (size_t i = 0; i < n; i++) {
        json_destroy(values[i]);
    }
    if (replyp) {
        *replyp = NULL;
    }
    return REST_DEFERRED;
}

bool
placement_admit(const struct eni *eni, const char *dest, char **reasonp,
                void *p_)
{
    struct placement *p = p_;
    if (!placement_is_ready(p)) {
        *reasonp = xstrdup("the admission configuration is not loaded yet");
        return false;
    }
    sync_hosts__(p);
    bool ok = admission_check(p->adm, eni->id, dest, NULL, reasonp);
    struct shash_node *n;
    SHASH_FOR_EACH (n, &p->evacuations) {
        struct evacuation *ev = n->data;
        if (!ok && eni->host && !strcmp(eni->host, ev->host)
            && !sset_contains(&ev->refused, eni->id)) {
            sset_add(&ev->refused, eni->id);
            const char *kind = "evacuation";
            persist__(p, &kind, (const char *const *) &ev->host, 1, 0, NULL,
                      NULL, NULL, NULL);
        }
    }
    return ok;
}

/* --- REST ------------------------------------------------------------------ */

static int
error__(struct json **replyp, int status, const char *code, char *msg)
{
    struct json *err = json_object_create();
    json_object_put_string(err, "code", code);
    json_object_put_string(err, "message", msg);
    free(msg);
    *replyp = json_object_create();
    json_object_put(*replyp, "error", err);
    return status;
}

static int
errno_status__(int error, struct json **replyp, char *msg)
{
    return (error == ENOENT ? error__(replyp, 404, "not_found", msg)
            : error == EBUSY ? error__(replyp, 409, "in_use", msg)
            : error__(replyp, 400, "invalid", msg));
}

static struct json *
strings_json__(const struct sset *s)
{
    struct json *a = json_array_create_empty();
    const char **names = sset_sort(s);
    for (size_t i = 0; names[i]; i++) {
        json_array_add(a, json_string_create(names[i]));
    }
    free(names);
    return a;
}

static int
config__(struct placement *p, const char *method, const char *kind,
         const char *id, const struct json *body, struct json **replyp,
         rest_admission_done_func *done, void *req)
{
    char *err = NULL;
    int error;

    if (!strcmp(method, "GET")) {
        if (!id) {
            *replyp = json_object_create();
            json_object_put(*replyp, "items",
                            admission_list_json(p->adm, kind));
            return 200;
        }
        *replyp = admission_get_json(p->adm, kind, id);
        return (*replyp ? 200
                : error__(replyp, 404, "not_found",
                          xasprintf("%s \"%s\" does not exist", kind, id)));
    } else if (!strcmp(method, "PUT")) {
        error = admission_put_json(p->adm, kind, id, body, &err);
        if (error) {
            return errno_status__(error, replyp, err);
        }
        VLOG_INFO("%s %s put", kind, id);
        return persist__(p, &kind, &id, 1, 200,
                         admission_get_json(p->adm, kind, id), replyp, done,
                         req);
    } else {
        error = admission_delete_kind(p->adm, kind, id, &err);
        if (error) {
            return errno_status__(error, replyp, err);
        }
        VLOG_INFO("%s %s deleted", kind, id);
        return persist__(p, &kind, &id, 1, 204, NULL, replyp, done, req);
    }
}

static int
recommend__(struct placement *p, const char *eni_id, struct json **replyp)
{
    const struct eni *eni = p->store ? eni_store_find_eni(p->store, eni_id)
                                     : NULL;
    if (!eni) {
        return error__(replyp, 404, "not_found",
                       xasprintf("ENI \"%s\" does not exist", eni_id));
    }
    struct adm_candidate *c;
    size_t n = admission_recommend(p->adm, eni_id, &c);
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        struct json *j = json_object_create();
        json_object_put_string(j, "host", c[i].host);
        json_object_put(j, "admitted", json_boolean_create(!c[i].reason));
        if (c[i].reason) {
            json_object_put_string(j, "reason", c[i].reason);
        } else {
            json_object_put(j, "score", json_real_create(c[i].score));
        }
        json_array_add(array, j);
    }
    adm_candidates_free(c, n);
    *replyp = json_object_create();
    json_object_put_string(*replyp, "eni", eni_id);
    if (eni->host && eni_is_wired(eni)) {
        json_object_put_string(*replyp, "source_host", eni->host);
    }
    json_object_put(*replyp, "candidates", array);
    return 200;
}

static struct json *
evacuation_status__(struct placement *p, const struct evacuation *ev)
{
    size_t total = 0, done = 0, failed = 0;
    struct json *moves = json_array_create_empty();

    for (size_t i = 0; i < ev->plan.n_moves; i++) {
        const struct adm_move *m = &ev->plan.moves[i];
        for (size_t k = 0; k < m->n_enis; k++) {
            const struct eni *e = eni_store_find_eni(p->store, m->enis[k]);
            const char *state;
            total++;
            if (!m->dest) {
                state = "unplaced";
                failed++;
            } else if (e && e->state == ENI_BOUND && e->host
                       && !strcmp(e->host, m->dest)) {
                state = "done";
                done++;
            } else if (!e || sset_contains(&ev->refused, m->enis[k])
                       || (e->state == ENI_BOUND && e->host
                           && strcmp(e->host, ev->host))) {
                state = "failed";
                failed++;
            } else {
                state = e->state == ENI_MIGRATING ? "migrating" : "pending";
            }
            struct json *j = json_object_create();
            json_object_put_string(j, "eni", m->enis[k]);
            json_object_put_string(j, "unit", m->unit);
            json_object_put(j, "dest_host", m->dest
                            ? json_string_create(m->dest)
                            : json_null_create());
            json_object_put_string(j, "state", state);
            json_array_add(moves, j);
        }
    }
    struct json *top = json_object_create();
    json_object_put_string(top, "host", ev->host);
    json_object_put(top, "total", json_integer_create(total));
    json_object_put(top, "done", json_integer_create(done));
    json_object_put(top, "failed", json_integer_create(failed));
    json_object_put(top, "moves", moves);
    return top;
}

static int
evacuation__(struct placement *p, const char *method, const char *what,
             const char *host, struct json **replyp,
             rest_admission_done_func *done, void *req)
{
    struct evacuation *ev = shash_find_data(&p->evacuations, host);

    if (!strcmp(what, "evacuation-status")) {
        if (!ev) {
            return error__(replyp, 404, "not_found", xasprintf(
                               "no evacuation of host \"%s\" was started",
                               host));
        }
        *replyp = evacuation_status__(p, ev);
        return 200;
    }
    if (!admission_get_host(p->adm, host)) {
        return error__(replyp, 404, "not_found",
                       xasprintf("host \"%s\" is not known", host));
    }
    struct adm_plan plan;
    admission_plan_evacuation(p->adm, host, &plan);
    if (!strcmp(method, "GET")) {
        *replyp = adm_plan_to_json(&plan);
        json_object_put_string(*replyp, "host", host);
        adm_plan_destroy(&plan);
        return 200;
    }
    /* Start: remember the plan and keep the host from taking anything. */
    put_evacuation__(p, host, &plan);
    ev = shash_find_data(&p->evacuations, host);
    struct adm_host_limits lim = *admission_get_host(p->adm, host);
    lim.maintenance = true;
    admission_put_host(p->adm, host, &lim);
    VLOG_INFO("evacuation of host %s started: %zu VMs, %zu unplaced", host,
              ev->plan.n_moves, ev->plan.n_unplaced);
    struct json *reply = adm_plan_to_json(&ev->plan);
    json_object_put_string(reply, "host", host);
    static const char *const kinds[] = { "host", "evacuation" };
    const char *const ids[] = { host, host };
    return persist__(p, kinds, ids, 2, 202, reply, replyp, done, req);
}

static int
cpu_baseline__(struct placement *p, const char *domain, struct json **replyp)
{
    const char *const *hosts = NULL;
    size_t n = 0;
    if (domain) {
        hosts = admission_domain_hosts(p->adm, domain, &n);
        if (!hosts) {
            return error__(replyp, 404, "not_found", xasprintf(
                               "domain \"%s\" does not exist", domain));
        }
    }
    struct sset common = SSET_INITIALIZER(&common);
    struct sset partial = SSET_INITIALIZER(&partial);
    size_t n_hosts = cpu_features_baseline(p->cpu, hosts, n, &common,
                                           &partial);

    /* libvirt names the model; without it, the generic one. */
    struct ds xml = DS_EMPTY_INITIALIZER;
    char *err = NULL;
    if (n_hosts && !libvirt_cpu_baseline_xml(p->libvirt, &common, &partial,
                                             &xml, &err)) {
        /* done */
    } else {
        if (err) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_INFO_RL(&rl, "CPU baseline as libvirt XML: the generic "
                         "model (%s)", err);
        }
        cpu_features_to_libvirt_xml(NULL, &common, &partial, &xml);
    }
    free(err);

    *replyp = json_object_create();
    json_object_put(*replyp, "domain", domain ? json_string_create(domain)
                                              : json_null_create());
    json_object_put(*replyp, "hosts", json_integer_create(n_hosts));
    json_object_put(*replyp, "features", strings_json__(&common));
    json_object_put(*replyp, "partial", strings_json__(&partial));
    json_object_put_string(*replyp, "libvirt_xml", ds_cstr(&xml));
    ds_destroy(&xml);
    sset_destroy(&common);
    sset_destroy(&partial);
    return 200;
}

/* Body: {"host": B, and "flags": [...] or "source_host": A or "cpu_xml":
 * "<cpu>..." (with "source_host" for what depends on the host it runs
 * on: host-passthrough, optional features)}. */
static int
cpu_check__(struct placement *p, const struct json *body,
            struct json **replyp)
{
    const struct json *host = NULL, *flags = NULL, *src = NULL, *xml = NULL;
    if (body && body->type == JSON_OBJECT) {
        host = shash_find_data(json_object(body), "host");
        flags = shash_find_data(json_object(body), "flags");
        src = shash_find_data(json_object(body), "source_host");
        xml = shash_find_data(json_object(body), "cpu_xml");
    }
    if (!host || host->type != JSON_STRING
        || (flags && flags->type != JSON_ARRAY)
        || (src && src->type != JSON_STRING)
        || (xml && xml->type != JSON_STRING)
        || (!!flags + !!src + !!xml) < 1 || (flags && (src || xml))) {
        return error__(replyp, 400, "invalid", xstrdup(
                           "body: {\"host\": ID, and \"flags\": [...], "
                           "\"source_host\": ID, or \"cpu_xml\": "
                           "\"<cpu>...</cpu>\" (with \"source_host\" if "
                           "its CPU depends on it)}"));
    }
    const char *src_id = src ? json_string(src) : NULL;
    if (src_id && !cpu_features_flags(p->cpu, src_id)) {
        return error__(replyp, 404, "not_found", xasprintf(
                           "host \"%s\" reported no CPU", src_id));
    }

    struct sset want = SSET_INITIALIZER(&want);
    struct sset missing = SSET_INITIALIZER(&missing);
    if (flags) {
        const struct json_array *a = json_array(flags);
        for (size_t i = 0; i < a->n; i++) {
            char name[CPU_NAME_MAX + 1];
            if (a->elems[i]->type == JSON_STRING
                && cpu_name_canonical(json_string(a->elems[i]), name,
                                      sizeof name)) {
                sset_add(&want, name);
            }
        }
    } else if (xml) {
        struct cpu_xml def;
        const struct sset *model_flags;
        char *err = NULL;
        int status = 0;
        if (!cpu_xml_parse(json_string(xml), &def, &err)) {
            status = 400;
        } else if (def.mode == CPU_XML_CUSTOM && def.model) {
            int error = libvirt_cpu_model_flags(p->libvirt, def.model,
                                                &model_flags, &err);
            status = !error ? 0 : error == EINVAL ? 400 : 503;
        }
        if (status) {
            cpu_xml_destroy(&def);
            sset_destroy(&want);
            char *msg = xasprintf("cpu_xml: %s", err);
            free(err);
            return error__(replyp, status, status == 400 ? "invalid"
                           : "unavailable", msg);
        }
        bool ok = vm_flags__(p, &def, src_id, &want);
        cpu_xml_destroy(&def);
        if (!ok) {
            sset_destroy(&want);
            return error__(replyp, 400, "invalid", xstrdup(
                               "cpu_xml: this CPU uses what its host has: "
                               "give source_host"));
        }
    } else {
        const char *f;
        SSET_FOR_EACH (f, cpu_features_flags(p->cpu, src_id)) {
            sset_add(&want, f);
        }
    }
    bool known = cpu_features_missing(p->cpu, &want, json_string(host),
                                      &missing);
    *replyp = json_object_create();
    json_object_put_string(*replyp, "host", json_string(host));
    json_object_put(*replyp, "known", json_boolean_create(known));
    json_object_put(*replyp, "compatible",
                    json_boolean_create(known && sset_is_empty(&missing)));
    json_object_put(*replyp, "missing", strings_json__(&missing));
    if (xml) {
        json_object_put(*replyp, "vm_features", strings_json__(&want));
    }
    sset_destroy(&want);
    sset_destroy(&missing);
    return known ? 200 : error__(replyp, 404, "not_found", xasprintf(
                                     "host \"%s\" reported no CPU",
                                     json_string(host)));
}

int
placement_rest(void *p_, const char *method, const char *what,
               const char *id, const struct json *body, struct json **replyp,
               rest_admission_done_func *done, void *req)
{
    struct placement *p = p_;

    if (!placement_is_ready(p)) {
        return error__(replyp, 503, "unavailable", xstrdup(
                           "the admission configuration has not been "
                           "loaded from the database yet; retry shortly"));
    }
    sync_hosts__(p);
    if (!strcmp(what, "domains") || !strcmp(what, "groups")
        || !strcmp(what, "rules") || !strcmp(what, "host-limits")) {
        const char *kind = (!strcmp(what, "domains") ? "domain"
                            : !strcmp(what, "groups") ? "group"
                            : !strcmp(what, "rules") ? "rule" : "host");
        return config__(p, method, kind, id, body, replyp, done, req);
    } else if (!strcmp(what, "recommend")) {
        return recommend__(p, id, replyp);
    } else if (!strcmp(what, "evacuation")
               || !strcmp(what, "evacuation-status")) {
        return evacuation__(p, method, what, id, replyp, done, req);
    } else if (!strcmp(what, "cpu-baseline")) {
        return cpu_baseline__(p, id, replyp);
    } else if (!strcmp(what, "cpu-check")) {
        return cpu_check__(p, body, replyp);
    }
    return error__(replyp, 404, "not_found",
                   xasprintf("%s: no such resource", what));
}
