/* Marks VIFs for the hypervisor: writes external_ids:tether-migration-
 * refused=<reason> on the Interface rows whose iface-id is an ENI whose
 * migration tetherd refused, so that the hypervisor (or whoever drives the
 * migration) sees why.  Its own OVSDB connection, so that its writes never
 * wait on (or collide with) the bridge set-up's transaction. */
#ifndef HOSTAGENT_VIF_MARKER_H
#define HOSTAGENT_VIF_MARKER_H 1

struct vif_marker *vif_marker_create(const char *db_remote);
void vif_marker_destroy(struct vif_marker *);

/* Queues the mark for 'eni_id'; written once its VIF is found. */
void vif_marker_refused(struct vif_marker *, const char *eni_id,
                        const char *reason);

void vif_marker_run(struct vif_marker *);
void vif_marker_wait(struct vif_marker *);

#endif /* hostagent/vif-marker.h */
