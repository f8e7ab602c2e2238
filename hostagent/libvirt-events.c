/* tether-agent's libvirt backend (see libvirt-events.h).
 *
 * Two parts, on libvirt-loop.c's event loop: the connection (opened, its
 * events registered, its domains listed; re-opened a second after it
 * closed), and a table of the daemon's domains (their ENIs from the domain
 * XML, what libvirt-phase.c made of their events, whether they are known
 * at all).
 *
 * The destination's "incoming": libvirt starts the incoming QEMU paused
 * and plugs its tap (external_ids iface-id, attached-mac, vm-id,
 * iface-status) during the migration's prepare step, and emits
 * STARTED/MIGRATED at the end of that step, before it returns to whoever
 * drives the migration and before any memory is sent; a domain booted
 * here gets STARTED/BOOTED the same way.  So a new unmarked VIF whose
 * vm-id names a domain this table does not know as running is held back
 * (libvirt_events_vif_gate()) until the domain's STARTED arrives; if
 * nothing arrives within a second, the agent asks libvirt (no such domain:
 * not libvirt's, report it; running: report it; else keep waiting).  While
 * the connection is down, new VIFs are reported as they are (libvirt is
 * preparing nothing then), and those already held wait for it. */
#include <config.h>

#include "hostagent/libvirt-events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "hostagent/libvirt-loop.h"
#include "hostagent/libvirt-phase.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(libvirt_events);

#define LV_RETRY_MS 1000        /* re-open a closed connection */
#define LV_ASK_MS 1000          /* ask libvirt about a held VIF's domain */
#define LV_FAILED_CLEAR_MS 1000 /* a source's "failed" is removed after */

struct lv_domain {
    char *uuid;
    char *name;
    char **enis;                /* interfaceids of its OVS interfaces */
    size_t n_enis;
    bool known;                 /* started (or found running): its VIFs
                                 * need no wait */
    struct libvirt_phase phase;
    long long int clear_at;     /* remove the source's "failed" then */
    double stop_at;             /* QEMU's last STOP (Unix time), or 0 */
};

struct libvirt_events {
    char *uri;
    virConnectPtr conn;         /* NULL: not connected */
    bool closed;                /* libvirt said the connection closed */
    int lifecycle_id, job_id;   /* event callback ids, -1: none */
    int stop_id;                /* QEMU's STOP relayed, -1: none */
    long long int retry_at;
    struct shash domains;       /* uuid -> struct lv_domain */
    struct shash held;          /* uuid of a held VIF -> time to ask */
    qmp_marker_func *marker_cb;
    libvirt_events_classified_func *classified_cb;
    void *aux;
};

static void
quiet__(void *aux OVS_UNUSED, virErrorPtr err OVS_UNUSED)
{
}

static const char *
last_error__(void)
{
    const char *msg = virGetLastErrorMessage();
    return msg && msg[0] ? msg : "unknown error";
}

static void
domain_free__(struct lv_domain *d)
{
    for (size_t i = 0; i < d->n_enis; i++) {
        free(d->enis[i]);
    }
    free(d->enis);
    free(d->uuid);
    free(d->name);
    free(d);
}

static struct lv_domain *
domain_get__(struct libvirt_events *le, const char *uuid)
{
    struct lv_domain *d = shash_find_data(&le->domains, uuid);
    if (!d) {
        d = xzalloc(sizeof *d);
        d->uuid = xstrdup(uuid);
        d->clear_at = LLONG_MAX;
        shash_add(&le->domains, uuid, d);
    }
    return d;
}

/* Reads 'dom''s name and ENIs (its XML) into the table; returns its entry
 * or NULL if libvirt did not answer. */
static struct lv_domain *
domain_read__(struct libvirt_events *le, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom, uuid)) {
        return NULL;
    }
    struct lv_domain *d = domain_get__(le, uuid);
    const char *name = virDomainGetName(dom);
    free(d->name);
    d->name = xstrdup(name ? name : "?");

    char *xml = virDomainGetXMLDesc(dom, 0);
    char *xml_uuid, **enis;
    size_t n_enis;
    if (!xml) {
        VLOG_WARN("libvirt domain %s: XML: %s", uuid, last_error__());
        return d;
    }
    if (libvirt_phase_parse_xml(xml, &xml_uuid, &enis, &n_enis)) {
        for (size_t i = 0; i < d->n_enis; i++) {
            free(d->enis[i]);
        }
        free(d->enis);
        d->enis = enis;
        d->n_enis = n_enis;
        free(xml_uuid);
    }
    free(xml);
    return d;
}

static void
set_marker__(struct libvirt_events *le, const struct lv_domain *d,
             const char *value, double paused_at)
{
    for (size_t i = 0; i < d->n_enis; i++) {
        VLOG_INFO("ENI %s: libvirt domain %s -> tether-migration=%s",
                  d->enis[i], d->name, value ? value : "(removed)");
        le->marker_cb(d->enis[i], value, paused_at, le->aux);
    }
}

static const char *
event_name__(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED: return "DEFINED";
    case VIR_DOMAIN_EVENT_UNDEFINED: return "UNDEFINED";
    case VIR_DOMAIN_EVENT_STARTED: return "STARTED";
    case VIR_DOMAIN_EVENT_SUSPENDED: return "SUSPENDED";
    case VIR_DOMAIN_EVENT_RESUMED: return "RESUMED";
    case VIR_DOMAIN_EVENT_STOPPED: return "STOPPED";
    case VIR_DOMAIN_EVENT_SHUTDOWN: return "SHUTDOWN";
    case VIR_DOMAIN_EVENT_PMSUSPENDED: return "PMSUSPENDED";
    case VIR_DOMAIN_EVENT_CRASHED: return "CRASHED";
    case LIBVIRT_PHASE_JOB_COMPLETED: return "JOB_COMPLETED";
    default: return "?";
    }
}

/* One event of domain 'dom'. */
static void
domain_event__(struct libvirt_events *le, virDomainPtr dom, int event,
               int detail)
{
    /* The event's arrival (libvirt's events carry no time): a pause's
     * time if QEMU's own STOP was not relayed.  Taken first, before
     * anything else is asked. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = ts.tv_sec + ts.tv_nsec / 1e9;

    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom, uuid)) {
        return;
    }
    struct lv_domain *d = shash_find_data(&le->domains, uuid);
    if (!d || !d->name || event == VIR_DOMAIN_EVENT_STARTED) {
        /* Not read yet, or a new QEMU, which may have new interfaces. */
        d = domain_read__(le, dom);
        if (!d) {
            return;
        }
    }
    VLOG_INFO("libvirt domain %s (%s): %s/%d%s", d->name, uuid,
              event_name__(event), detail,
              d->phase.incoming ? " (incoming)" : "");

    struct libvirt_marks ms;
    libvirt_phase_event(&d->phase, event, detail, &ms);
    if (event == VIR_DOMAIN_EVENT_STARTED) {
        /* The held VIFs of this domain can go now; the gate says
         * "incoming" for them if it is, and local-ovs writes it. */
        d->known = true;
        free(shash_find_and_delete(&le->held, uuid));
        le->classified_cb(le->aux);
        return;
    } else if (event == VIR_DOMAIN_EVENT_STOPPED) {
        d->known = false;
    }
    for (size_t i = 0; i < ms.n; i++) {
        enum libvirt_mark m = ms.marks[i];
        double paused_at = 0;
        if (m == LIBVIRT_MARK_PAUSED) {
            /* QEMU's own STOP, relayed just before this event, says when
             * the VM stopped; libvirt's event comes later, by as much as
             * QEMU keeps libvirt waiting at the end of a migration. */
            bool stamped = d->stop_at > 0 && d->stop_at <= now
                           && now - d->stop_at < 10;
            paused_at = stamped ? d->stop_at : now;
            d->stop_at = 0;
            VLOG_INFO("libvirt domain %s paused at %.6f (%s, %.1f ms before "
                      "the event)", d->name, paused_at,
                      stamped ? "QEMU's STOP" : "the event's arrival",
                      (now - paused_at) * 1e3);
        }
        set_marker__(le, d, libvirt_mark_value(m), paused_at);
        if (m == LIBVIRT_MARK_FAILED && event == VIR_DOMAIN_EVENT_RESUMED) {
            /* A source runs again: once tetherd has rolled back, its
             * "failed" must not fail the next migration. */
            d->clear_at = time_msec() + LV_FAILED_CLEAR_MS;
        } else if (m == LIBVIRT_MARK_PAUSED) {
            d->clear_at = LLONG_MAX;
        }
    }
}

static int
lifecycle_cb__(virConnectPtr conn OVS_UNUSED, virDomainPtr dom, int event,
               int detail, void *le)
{
    domain_event__(le, dom, event, detail);
    return 0;
}

static void
job_completed_cb__(virConnectPtr conn OVS_UNUSED, virDomainPtr dom,
                   virTypedParameterPtr params OVS_UNUSED,
                   int nparams OVS_UNUSED, void *le)
{
    domain_event__(le, dom, LIBVIRT_PHASE_JOB_COMPLETED, 0);
}

/* QEMU's STOP, as libvirt relays QEMU's own events (QEMU stamps them). */
static void
qemu_stop_cb__(virConnectPtr conn OVS_UNUSED, virDomainPtr dom,
               const char *event OVS_UNUSED, long long int seconds,
               unsigned int micros, const char *details OVS_UNUSED,
               void *le_)
{
    struct libvirt_events *le = le_;
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (seconds > 0 && !virDomainGetUUIDString(dom, uuid)) {
        domain_get__(le, uuid)->stop_at = seconds + micros / 1e6;
    }
}

static void
close_cb__(virConnectPtr conn OVS_UNUSED, int reason, void *le_)
{
    struct libvirt_events *le = le_;
    VLOG_WARN("%s: libvirt connection closed (reason %d)", le->uri, reason);
    le->closed = true;
    poll_immediate_wake();
}

/* Is running domain 'dom', paused, the destination of a migration?  Asked
 * only for domains found at (re)connection: libvirt 9.0 refuses job
 * statistics on a migration's destination ("available only on the source
 * host"); newer ones may give them, with operation MIGRATION_IN. */
static bool
domain_is_incoming__(virDomainPtr dom)
{
    int type, nparams = 0;
    virTypedParameterPtr params = NULL;

    if (virDomainGetJobStats(dom, &type, &params, &nparams, 0)) {
        virErrorPtr err = virGetLastError();
        return err && err->code == VIR_ERR_OPERATION_UNSUPPORTED;
    }
    int op = 0;
    bool in = (virTypedParamsGetInt(params, nparams,
                                    VIR_DOMAIN_JOB_OPERATION, &op) == 1
               && op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN);
    virTypedParamsFree(params, nparams);
    return in;
}

/* Lists the daemon's running domains into the table. */
static void
list_domains__(struct libvirt_events *le)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(le->conn, &doms,
                                     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    struct shash_node *node;

    if (n < 0) {
        VLOG_WARN("%s: listing domains: %s", le->uri, last_error__());
        return;
    }
    SHASH_FOR_EACH (node, &le->domains) {
        struct lv_domain *d = node->data;
        d->known = false;
    }
    for (int i = 0; i < n; i++) {
        struct lv_domain *d = domain_read__(le, doms[i]);
        int state, reason;
        if (d && !virDomainGetState(doms[i], &state, &reason, 0)) {
            d->known = true;
            bool in = (state == VIR_DOMAIN_PAUSED
                       && domain_is_incoming__(doms[i]));
            if (in != d->phase.incoming) {
                memset(&d->phase, 0, sizeof d->phase);
                d->phase.incoming = in;
            }
            VLOG_INFO("libvirt domain %s (%s): running here%s, %zu ENI(s)",
                      d->name, d->uuid, in ? ", incoming migration" : "",
                      d->n_enis);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    le->classified_cb(le->aux);
}

static void
disconnect__(struct libvirt_events *le)
{
    if (!le->conn) {
        return;
    }
    if (le->lifecycle_id >= 0) {
        virConnectDomainEventDeregisterAny(le->conn, le->lifecycle_id);
    }
    if (le->job_id >= 0) {
        virConnectDomainEventDeregisterAny(le->conn, le->job_id);
    }
    if (le->stop_id >= 0) {
        virConnectDomainQemuMonitorEventDeregister(le->conn, le->stop_id);
    }
    virConnectUnregisterCloseCallback(le->conn, close_cb__);
    virConnectClose(le->conn);
    le->conn = NULL;
    le->lifecycle_id = le->job_id = le->stop_id = -1;
    le->closed = false;
    le->retry_at = time_msec() + LV_RETRY_MS;
}

static void
connect__(struct libvirt_events *le)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 30);

    /* Read-write if libvirt lets us: it relays QEMU's own events only
     * then. */
    le->conn = virConnectOpen(le->uri);
    if (!le->conn) {
        le->conn = virConnectOpenReadOnly(le->uri);
    }
    if (!le->conn) {
        VLOG_WARN_RL(&rl, "%s: %s (retrying every %d ms)", le->uri,
                     last_error__(), LV_RETRY_MS);
        le->retry_at = time_msec() + LV_RETRY_MS;
        return;
    }
    virConnectRegisterCloseCallback(le->conn, close_cb__, le, NULL);
    if (virConnectSetKeepAlive(le->conn, 5, 3) < 0) {
        VLOG_WARN("%s: keepalive: %s", le->uri, last_error__());
    }
    le->lifecycle_id = virConnectDomainEventRegisterAny(
        le->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb__), le, NULL);
    le->job_id = virConnectDomainEventRegisterAny(
        le->conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
        VIR_DOMAIN_EVENT_CALLBACK(job_completed_cb__), le, NULL);
    if (le->lifecycle_id < 0) {
        VLOG_WARN("%s: domain events: %s", le->uri, last_error__());
        disconnect__(le);
        return;
    }
    le->stop_id = virConnectDomainQemuMonitorEventRegister(
        le->conn, NULL, "STOP", qemu_stop_cb__, le, NULL, 0);
    if (le->stop_id < 0) {
        VLOG_WARN("%s: QEMU's STOP events: %s (a pause is timed by the "
                  "arrival of libvirt's event)", le->uri, last_error__());
    }
    VLOG_INFO("%s: connected, following domain events", le->uri);
    list_domains__(le);
}

struct libvirt_events *
libvirt_events_create(const char *uri, qmp_marker_func *marker_cb,
                      libvirt_events_classified_func *classified_cb,
                      void *aux)
{
    libvirt_loop_register();
    virSetErrorFunc(NULL, quiet__);

    struct libvirt_events *le = xzalloc(sizeof *le);
    le->uri = xstrdup(uri);
    le->lifecycle_id = le->job_id = le->stop_id = -1;
    le->retry_at = LLONG_MIN;
    shash_init(&le->domains);
    shash_init(&le->held);
    le->marker_cb = marker_cb;
    le->classified_cb = classified_cb;
    le->aux = aux;
    VLOG_INFO("following libvirt at %s for migration phases", uri);
    /* Now, so that the VIFs found in the first read of the database are
     * judged with libvirt's domains at hand. */
    connect__(le);
    return le;
}

void
libvirt_events_destroy(struct libvirt_events *le)
{
    if (!le) {
        return;
    }
    disconnect__(le);
    libvirt_loop_run();        /* frees what the connection registered */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &le->domains) {
        domain_free__(node->data);
    }
    shash_destroy(&le->domains);
    shash_destroy_free_data(&le->held);
    free(le->uri);
    free(le);
}

/* Asks libvirt about the domains of VIFs held for a while. */
static void
ask_held__(struct libvirt_events *le, long long int now)
{
    bool changed = false;
    struct shash_node *node;

    SHASH_FOR_EACH_SAFE (node, &le->held) {
        long long int *ask_at = node->data;
        if (now < *ask_at) {
            continue;
        }
        *ask_at = now + LV_ASK_MS;
        virDomainPtr dom = virDomainLookupByUUIDString(le->conn, node->name);
        if (!dom) {
            virErrorPtr err = virGetLastError();
            if (!err || err->code != VIR_ERR_NO_DOMAIN) {
                continue;       /* asked again in a second */
            }
            VLOG_INFO("domain %s: not libvirt's; its VIFs are reported",
                      node->name);
            struct lv_domain *d = domain_get__(le, node->name);
            d->known = true;
            free(node->data);
            shash_delete(&le->held, node);
            changed = true;
            continue;
        }
        int state, reason;
        if (!virDomainGetState(dom, &state, &reason, 0)
            && state == VIR_DOMAIN_RUNNING) {
            struct lv_domain *d = domain_read__(le, dom);
            if (d) {
                d->known = true;
            }
            free(node->data);
            shash_delete(&le->held, node);
            changed = true;
        }
        virDomainFree(dom);
    }
    if (changed) {
        le->classified_cb(le->aux);
    }
}

void
libvirt_events_run(struct libvirt_events *le)
{
    long long int now = time_msec();

    libvirt_loop_run();
    if (le->closed) {
        disconnect__(le);
    }
    if (!le->conn && now >= le->retry_at) {
        connect__(le);
    }
    if (le->conn) {
        ask_held__(le, now);
    }

    struct shash_node *node;
    SHASH_FOR_EACH (node, &le->domains) {
        struct lv_domain *d = node->data;
        if (now >= d->clear_at) {
            d->clear_at = LLONG_MAX;
            if (!d->phase.paused) {
                set_marker__(le, d, NULL, 0);
            }
        }
    }
}

void
libvirt_events_wait(struct libvirt_events *le)
{
    libvirt_loop_wait();
    if (le->closed) {
        poll_immediate_wake();
    } else if (!le->conn) {
        poll_timer_wait_until(le->retry_at);
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, &le->held) {
        const long long int *ask_at = node->data;
        poll_timer_wait_until(*ask_at);
    }
    SHASH_FOR_EACH (node, &le->domains) {
        const struct lv_domain *d = node->data;
        if (d->clear_at != LLONG_MAX) {
            poll_timer_wait_until(d->clear_at);
        }
    }
}

enum local_ovs_gate
libvirt_events_vif_gate(const char *vm_uuid, void *le_)
{
    struct libvirt_events *le = le_;
    const struct lv_domain *d = shash_find_data(&le->domains, vm_uuid);

    if (d && d->phase.incoming) {
        return LOCAL_OVS_GATE_INCOMING;
    } else if (!le->conn && !shash_find(&le->held, vm_uuid)) {
        /* libvirt is away, so it is not preparing a migration here
         * either: a new VIF is not its doing.  (Holding VIFs now would
         * leave running VMs out of the agent's resync.) */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 60);
        VLOG_WARN_RL(&rl, "%s unreachable: the VIF of domain %s is reported "
                     "as it is", le->uri, vm_uuid);
        return LOCAL_OVS_GATE_REPORT;
    } else if (d && d->known && le->conn) {
        return LOCAL_OVS_GATE_REPORT;
    }
    if (!shash_find(&le->held, vm_uuid)) {
        long long int *ask_at = xmalloc(sizeof *ask_at);
        *ask_at = time_msec() + LV_ASK_MS;
        shash_add(&le->held, vm_uuid, ask_at);
    }
    return LOCAL_OVS_GATE_HOLD;
}
