/* tether-agent's QMP backend: follows the QEMU processes of this hypervisor
 * on their QMP sockets and turns their own events (MIGRATION, STOP, RESUME)
 * into the migration phases of the generic input, the tether-migration
 * marker on the VM's VIF (see docs/architecture.md, "Live migration"). */
#ifndef HOSTAGENT_QMP_H
#define HOSTAGENT_QMP_H 1

#include <stdbool.h>

/* Called to set (or with 'value' NULL, remove) the tether-migration marker
 * of ENI 'eni_id''s VIF on this host; 'paused_at' is the time of QEMU's STOP
 * (Unix time, seconds) for "paused", else 0. */
typedef void qmp_marker_func(const char *eni_id, const char *value,
                             double paused_at, void *aux);

/* 'switchover_wait_ms': how long a source QEMU held in "pre-switchover"
 * (QEMU's pause-before-switchover capability, set by whoever starts the
 * migration) is kept there after its STOP was reported as "paused", before
 * the agent sends migrate-continue: the time tetherd gets to switch remote
 * hosts over.  The network can never hold a migration longer than that. */
struct qmp_backend *qmp_backend_create(qmp_marker_func *, void *aux,
                                       int switchover_wait_ms);
void qmp_backend_destroy(struct qmp_backend *);

/* Follows the QMP socket 'path' of the QEMU that runs ENI 'eni_id''s VM,
 * reconnecting whenever it goes away (QEMU restarted, a new incoming
 * QEMU on the same path). */
void qmp_backend_add(struct qmp_backend *, const char *eni_id,
                     const char *path);

/* Follows every socket "ENI_ID.sock" that appears in directory 'dir' (the
 * hypervisor's QEMUs give the agent a QMP monitor there). */
void qmp_backend_add_dir(struct qmp_backend *, const char *dir);

/* Parses a --qmp argument: "ENI_ID:PATH" or a directory.  Returns NULL or
 * an error message (to free). */
char *qmp_backend_parse(struct qmp_backend *, const char *arg);

/* tetherd confirmed ENI 'eni_id''s switchover on every bridge: a source
 * QEMU held in "pre-switchover" for it gets its migrate-continue now. */
void qmp_backend_switchover_ready(struct qmp_backend *, const char *eni_id);

void qmp_backend_run(struct qmp_backend *);
void qmp_backend_wait(struct qmp_backend *);

#endif /* hostagent/qmp.h */
