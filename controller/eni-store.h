/* tetherd's durable state: ENIs, security groups and hosts, kept in an
 * OVSDB database with tether's own schema (controller/tether.ovsschema),
 * served by an ovsdb-server (standalone; clustered later) and read and
 * written through ovsdb-idl.
 *
 * The store holds the authoritative in-memory copy that the rest of tetherd
 * reads synchronously (lookups never wait on the database), and writes
 * every change through to the database in a transaction:
 *
 *   - API changes (create, update, delete of ENIs and security groups)
 *     complete when the database has committed them: the 'done' callback
 *     then gets 0, or an error with a message, in which case the in-memory
 *     copy is rolled back to what the database holds.  The REST API answers
 *     only then, so an acknowledged change survives kill -9 of tetherd.
 *
 *   - Binding changes (host, ofport, state, epoch, migration phase) are
 *     applied in memory at once and persisted in the background, coalesced;
 *     flows never wait for them.
 *
 * At start-up the store waits for the database's contents (eni_store_is_
 * ready()) and loads them; tetherd computes nothing before that.
 *
 * Run/wait style on ovs-glue/ovs-loop.c. */
#ifndef CONTROLLER_ENI_STORE_H
#define CONTROLLER_ENI_STORE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/eni.h"

struct eni_store;

/* Called when a write has committed ('error' 0) or failed ('error' a
 * positive errno value: EEXIST, ENOENT, EBUSY, EIO, ...; 'msg' says why). */
typedef void eni_store_done_func(int error, const char *msg, void *aux);

/* Called after the in-memory copy of an ENI or security group changed
 * (whoever changed it), with the old and new versions (NULL for none). */
struct eni_store_observer {
    void (*eni_changed)(const struct eni *old, const struct eni *new,
                        void *aux);
    void (*sg_changed)(const struct security_group *old,
                       const struct security_group *new, void *aux);
    void *aux;
};

struct eni_store *eni_store_create(const char *db_remote,
                                   const struct eni_store_observer *);
void eni_store_destroy(struct eni_store *);
void eni_store_run(struct eni_store *);
void eni_store_wait(struct eni_store *);

/* True once the database's contents have been loaded. */
bool eni_store_is_ready(const struct eni_store *);
bool eni_store_is_connected(const struct eni_store *);

/* Lookups and iteration: pointers stay valid until the next change of that
 * object or the next eni_store_run(). */
const struct eni *eni_store_find_eni(const struct eni_store *, const char *id);
const struct eni *eni_store_find_eni_by_key(const struct eni_store *,
                                            uint64_t key);
size_t eni_store_n_enis(const struct eni_store *);
/* Fills '*enis' with a new array (caller frees the array only) of all ENIs
 * sorted by id; returns their number. */
size_t eni_store_list_enis(const struct eni_store *, const struct eni ***enis);
/* Calls 'cb' for every ENI whose 'host' is 'host' (any state), in no
 * particular order. */
void eni_store_for_each_eni_on_host(const struct eni_store *,
                                    const char *host,
                                    void (*cb)(const struct eni *, void *aux),
                                    void *aux);

const struct security_group *eni_store_find_sg(const struct eni_store *,
                                               const char *id);
size_t eni_store_list_sgs(const struct eni_store *,
                          const struct security_group ***sgs);

/* API writes.  'eni' and 'sg' are copied.  eni_store_create_eni() assigns
 * the ENI's key (and ignores binding fields); EEXIST if the id exists.
 * eni_store_update_eni() replaces the API-settable fields and the
 * attachment (vm_uuid) of an existing ENI, keeping key and binding.
 * eni_store_delete_eni() fails with EBUSY while the ENI is bound or
 * migrating.  Security groups: deleting one that an ENI references fails
 * with EBUSY; an ENI naming an unknown group fails with ENOENT. */
void eni_store_create_eni(struct eni_store *, const struct eni *,
                          eni_store_done_func *, void *aux);
void eni_store_update_eni(struct eni_store *, const struct eni *,
                          eni_store_done_func *, void *aux);
void eni_store_delete_eni(struct eni_store *, const char *id,
                          eni_store_done_func *, void *aux);
void eni_store_put_sg(struct eni_store *, const struct security_group *,
                      eni_store_done_func *, void *aux);
void eni_store_delete_sg(struct eni_store *, const char *id,
                         eni_store_done_func *, void *aux);

/* Binding write: replaces the binding fields (state, host, ofport, epoch,
 * phase, dest_host, dest_ofport) of ENI 'id' in memory now and in the
 * database soon.  Returns ENOENT if there is no such ENI. */
int eni_store_set_binding(struct eni_store *, const char *id,
                          enum eni_state, const char *host, int32_t ofport,
                          uint64_t epoch, enum eni_migration_phase,
                          const char *dest_host, int32_t dest_ofport);

/* Hosts, as tetherd's host registry reports them (persisted in the
 * background like bindings). */
struct eni_store_host {
    const char *id;
    const char *hypervisor;
    const char *tunnel_ip;
    const char *tunnel_type;
    const char *bridge;
    bool connected;
    long long int last_heard;       /* wall clock, ms */
};
void eni_store_put_host(struct eni_store *, const struct eni_store_host *);

/* Calls 'cb' for every host the store knows (loaded or put). */
void eni_store_for_each_host(const struct eni_store *,
                             void (*cb)(const struct eni_store_host *,
                                        void *aux),
                             void *aux);

/* Writes not yet committed (binding and host writes included). */
unsigned int eni_store_n_pending(const struct eni_store *);

#endif /* controller/eni-store.h */
