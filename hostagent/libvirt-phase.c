/* What libvirt's domain events mean for a migration (see libvirt-phase.h).
 *
 * The events of a live migration with libvirt 9.0 (QEMU driver), as the
 * agent on each host receives them:
 *
 *   destination   STARTED/MIGRATED  at the end of the prepare step: QEMU
 *                                   runs paused, its tap already plugged
 *                 RESUMED/MIGRATED  at the finish step, once QEMU has
 *                                   received everything: the VM runs here
 *                                   (no JOB_COMPLETED follows in 9.0)
 *                 RESUMED/POSTCOPY  the VM runs here, its memory still
 *                                   arriving (JOB_COMPLETED, if sent, or
 *                                   its next migration ends that)
 *                 STOPPED/FAILED    (or any STOPPED before resuming) the
 *                                   migration failed, QEMU is gone
 *   source        SUSPENDED/MIGRATED (or /POSTCOPY) QEMU stopped the vCPUs
 *                                   for the switchover
 *                 STOPPED/MIGRATED  done, QEMU is gone
 *                 RESUMED           after the pause: the migration failed
 *                                   and the VM runs here again
 *
 * A source cancelled before its pause says nothing: the destination's
 * STOPPED is the failure then. */
#include <config.h>

#include "hostagent/libvirt-phase.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util.h"

const char *
libvirt_mark_value(enum libvirt_mark m)
{
    switch (m) {
    case LIBVIRT_MARK_INCOMING: return "incoming";
    case LIBVIRT_MARK_PAUSED: return "paused";
    case LIBVIRT_MARK_ACTIVATED: return "activated";
    case LIBVIRT_MARK_COMPLETED: return "completed";
    case LIBVIRT_MARK_FAILED: return "failed";
    case LIBVIRT_MARK_NONE:
    default:
        return NULL;
    }
}

/* The destination's events, while 'p->incoming'.  Returns true if the
 * event was the destination's, false if it is the domain's own (a new
 * outgoing migration after the incoming one). */
static bool
incoming_event__(struct libvirt_phase *p, int event, int detail,
                 struct libvirt_marks *m)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_RESUMED:
        if (!p->activated) {
            p->activated = true;
            m->marks[m->n++] = LIBVIRT_MARK_ACTIVATED;
            if (detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED) {
                /* libvirt resumes a pre-copy destination once QEMU has
                 * received everything: done.  (libvirt 9.0 sends no
                 * JOB_COMPLETED on the destination.) */
                m->marks[m->n++] = LIBVIRT_MARK_COMPLETED;
                p->incoming = p->activated = false;
            }
        }
        return true;
    case LIBVIRT_PHASE_JOB_COMPLETED:
        /* After post-copy, if the destination is told. */
        m->marks[m->n++] = LIBVIRT_MARK_COMPLETED;
        p->incoming = p->activated = false;
        return true;
    case VIR_DOMAIN_EVENT_STOPPED:
        if (!p->activated) {
            m->marks[m->n++] = LIBVIRT_MARK_FAILED;
        }
        p->incoming = p->activated = false;
        return true;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        if (p->activated
            && (detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED
                || detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY)) {
            /* Post-copy's end went unsaid and the VM migrates on. */
            p->incoming = p->activated = false;
            return false;
        }
        return true;
    default:
        /* DEFINED, a pause while the memory arrives, ...  */
        return true;
    }
}

void
libvirt_phase_event(struct libvirt_phase *p, int event, int detail,
                    struct libvirt_marks *m)
{
    m->n = 0;
    if (event == VIR_DOMAIN_EVENT_STARTED) {
        /* A new QEMU: whatever happened to the last one is over. */
        p->paused = p->activated = false;
        p->incoming = detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED;
        if (p->incoming) {
            m->marks[m->n++] = LIBVIRT_MARK_INCOMING;
        }
        return;
    }
    if (p->incoming && incoming_event__(p, event, detail, m)) {
        return;
    }

    switch (event) {
    case VIR_DOMAIN_EVENT_SUSPENDED:
        if (!p->paused && (detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED
                           || detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY)) {
            p->paused = true;
            m->marks[m->n++] = LIBVIRT_MARK_PAUSED;
        }
        break;
    case VIR_DOMAIN_EVENT_RESUMED:
        if (p->paused) {
            /* The migration failed after the pause: libvirt runs the
             * source again. */
            p->paused = false;
            m->marks[m->n++] = LIBVIRT_MARK_FAILED;
        }
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        /* STOPPED/MIGRATED: done; its VIF goes with it. */
        p->paused = false;
        break;
    default:
        break;
    }
}

static bool
name_is__(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE
           && !strcmp((const char *) n->name, name);
}

/* The interfaceid of <interface> 'iface''s openvswitch <virtualport>, or
 * NULL (to free). */
static char *
interface_id__(const xmlNode *iface)
{
    for (const xmlNode *vp = iface->children; vp; vp = vp->next) {
        if (!name_is__(vp, "virtualport")) {
            continue;
        }
        xmlChar *type = xmlGetProp(vp, (const xmlChar *) "type");
        bool ovs = type && !strcmp((const char *) type, "openvswitch");
        xmlFree(type);
        if (!ovs) {
            continue;
        }
        for (const xmlNode *par = vp->children; par; par = par->next) {
            if (!name_is__(par, "parameters")) {
                continue;
            }
            xmlChar *id = xmlGetProp(par, (const xmlChar *) "interfaceid");
            if (id && id[0]) {
                char *s = xstrdup((const char *) id);
                xmlFree(id);
                return s;
            }
            xmlFree(id);
        }
    }
    return NULL;
}

bool
libvirt_phase_parse_xml(const char *xml, char **uuidp, char ***enisp,
                        size_t *n_enisp)
{
    *uuidp = NULL;
    *enisp = NULL;
    *n_enisp = 0;

    xmlDoc *doc = xmlReadMemory(xml, strlen(xml), "domain.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR
                                | XML_PARSE_NOWARNING);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !name_is__(root, "domain")) {
        xmlFreeDoc(doc);
        return false;
    }
    for (const xmlNode *n = root->children; n; n = n->next) {
        if (name_is__(n, "uuid") && !*uuidp) {
            xmlChar *text = xmlNodeGetContent(n);
            *uuidp = xstrdup(text ? (const char *) text : "");
            xmlFree(text);
        } else if (name_is__(n, "devices")) {
            for (const xmlNode *d = n->children; d; d = d->next) {
                char *id = name_is__(d, "interface") ? interface_id__(d)
                                                      : NULL;
                if (id) {
                    *enisp = xrealloc(*enisp,
                                      (*n_enisp + 1) * sizeof **enisp);
                    (*enisp)[(*n_enisp)++] = id;
                }
            }
        }
    }
    xmlFreeDoc(doc);
    return true;
}
