/* tether-agent's libvirt backend: follows the domains of the libvirt daemon
 * at a URI through its domain events (lifecycle, job completed) and turns
 * them into the migration phases of the generic input, the
 * tether-migration marker on the VM's VIFs (see docs/architecture.md,
 * "Live migration"; the meaning of each event is libvirt-phase.c's).  It
 * also tells local-ovs whether a new VIF of a libvirt domain is a
 * migration's destination: libvirt plugs that tap without tether's
 * "incoming", so such a VIF is held back until its domain is known.
 *
 * libvirt's client runs on the agent's own poll loop (virEventRegisterImpl
 * with poll_fd_wait()/poll_timer_wait()): no thread.  The connection is
 * read-only and re-opened whenever the daemon goes away. */
#ifndef HOSTAGENT_LIBVIRT_EVENTS_H
#define HOSTAGENT_LIBVIRT_EVENTS_H 1

#include "hostagent/local-ovs.h"
#include "hostagent/qmp.h"

/* Called when a held VIF may now be reported (local_ovs_gate_recheck()). */
typedef void libvirt_events_classified_func(void *aux);

/* Follows libvirt at 'uri' (e.g. qemu:///system).  'marker_cb' sets the
 * markers (the QMP backend's callback type: the same writes). */
struct libvirt_events *libvirt_events_create(
    const char *uri, qmp_marker_func *marker_cb,
    libvirt_events_classified_func *classified_cb, void *aux);
void libvirt_events_destroy(struct libvirt_events *);

void libvirt_events_run(struct libvirt_events *);
void libvirt_events_wait(struct libvirt_events *);

/* A local_ovs_gate_func: what to do with a new, unmarked VIF whose
 * external_ids:vm-id (libvirt's) is 'vm_uuid'.  LOCAL_OVS_GATE_INCOMING
 * while that domain is an incoming migration here; LOCAL_OVS_GATE_REPORT
 * once it is known to be anything else (booted here, running, or no
 * domain of this libvirt); LOCAL_OVS_GATE_HOLD until then, e.g. while
 * libvirt is starting it (its STARTED event, which says "migrated" or not,
 * comes once the tap is plugged).  A VIF that appears while libvirt is
 * unreachable is reported as it is. */
enum local_ovs_gate libvirt_events_vif_gate(const char *vm_uuid, void *le);

#endif /* hostagent/libvirt-events.h */
