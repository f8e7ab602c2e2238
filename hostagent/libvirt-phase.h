/* The pure half of tether-agent's libvirt backend (libvirt-events.c): what
 * one of libvirt's domain events means for a migration on this host, and
 * which ENIs a domain's XML plugs.  No libvirt connection, no Open vSwitch:
 * unit-tested (tests/unit/test-libvirt-phase.c). */
#ifndef HOSTAGENT_LIBVIRT_PHASE_H
#define HOSTAGENT_LIBVIRT_PHASE_H 1

#include <stdbool.h>
#include <stddef.h>

/* A domain's migration, as far as this host's events tell it. */
struct libvirt_phase {
    bool incoming;      /* started here by a migration, not yet over */
    bool activated;     /* ... and resumed here ("activated" said) */
    bool paused;        /* paused here for an outgoing migration */
};

/* What the agent writes on the domain's VIFs (external_ids:
 * tether-migration), if anything. */
enum libvirt_mark {
    LIBVIRT_MARK_NONE,          /* nothing changes */
    LIBVIRT_MARK_INCOMING,      /* "incoming" (before the VIF is reported) */
    LIBVIRT_MARK_PAUSED,        /* "paused", at the event's arrival */
    LIBVIRT_MARK_ACTIVATED,     /* "activated" */
    LIBVIRT_MARK_COMPLETED,     /* "completed" */
    LIBVIRT_MARK_FAILED,        /* "failed" */
};

const char *libvirt_mark_value(enum libvirt_mark);

/* The event of VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, passed as 'event' to
 * libvirt_phase_event() (the lifecycle events are virDomainEventType's). */
#define LIBVIRT_PHASE_JOB_COMPLETED 1000

/* The markers one event gives, in order (a pre-copy destination's resume
 * is both "activated" and "completed"). */
struct libvirt_marks {
    enum libvirt_mark marks[2];
    size_t n;
};

/* Applies libvirt's event 'event' (a virDomainEventType, or
 * LIBVIRT_PHASE_JOB_COMPLETED) with detail 'detail' (its
 * virDomainEvent*DetailType) to the domain's '*p' and stores the markers to
 * write in '*m'.  A domain that is not incoming is this host's own: its
 * SUSPENDED/MIGRATED or /POSTCOPY is the pause of an outgoing migration,
 * and a RESUMED after that pause its failure. */
void libvirt_phase_event(struct libvirt_phase *p, int event, int detail,
                         struct libvirt_marks *m);

/* Reads domain XML 'xml': stores its <uuid> in '*uuidp' (NULL if none) and
 * the interfaceid of every <interface> whose <virtualport
 * type='openvswitch'> has one (libvirt writes it as the OVS Interface's
 * external_ids:iface-id, i.e. the ENI id) in '*enisp', '*n_enisp'.  The
 * caller frees them.  Returns false (nothing stored) if 'xml' is not a
 * <domain>. */
bool libvirt_phase_parse_xml(const char *xml, char **uuidp, char ***enisp,
                             size_t *n_enisp);

#endif /* hostagent/libvirt-phase.h */
