/* The durable copy of tetherd's migration admission configuration: rows of
 * the Tether database's Admission_Config table (controller/tether.ovsschema),
 * one per domain, resource group, placement rule, host with limits and
 * evacuation started, each a (kind, id) key and its JSON text.
 *
 * The store knows nothing of what the JSON means (controller/placement.c
 * does): it loads the rows once the database has sent them, and writes
 * changes in transactions, one write (of one or more rows) per transaction,
 * in the order they were made; a write's 'done' callback runs once the
 * database has committed it, so whoever waits for it (the REST API) answers
 * only with the change durable.
 *
 * It opens its own ovsdb-idl connection to the database tetherd's ENI store
 * uses (controller/eni-store.c does not share its IDL), and monitors only
 * Admission_Config.  tetherd is the table's only writer: the store does not
 * follow changes made by others once loaded.
 *
 * Run/wait style on ovs-glue/ovs-loop.c. */
#ifndef CONTROLLER_ADMISSION_STORE_H
#define CONTROLLER_ADMISSION_STORE_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;

/* Called for every row at load: 'kind' is "domain", "group", "rule",
 * "host" or "evacuation"; 'value' the row's JSON (never NULL: a row whose
 * text is not JSON is skipped with a warning).  Rows come by kind in that
 * order (rules after the groups and domains they name), by id within a
 * kind. */
typedef void admission_store_load_func(const char *kind, const char *id,
                                       const struct json *value, void *aux);

/* Called when a write has committed ('error' 0) or the database refused it
 * ('error' EIO, 'msg' says why). */
typedef void admission_store_done_func(int error, const char *msg,
                                       void *aux);

struct admission_store *admission_store_create(
    const char *db_remote, admission_store_load_func *, void *load_aux);
void admission_store_destroy(struct admission_store *);
void admission_store_run(struct admission_store *);
void admission_store_wait(struct admission_store *);

/* True once the rows have been loaded (and the load callback called). */
bool admission_store_is_ready(const struct admission_store *);

/* One row of a write: 'value' NULL deletes the row (if there is one). */
struct admission_store_row {
    const char *kind;
    const char *id;
    const struct json *value;
};

/* Queues a write of 'n' rows (copied) with distinct keys, to be committed
 * as one transaction after the writes queued before it.  'done' may be
 * NULL (a write nobody waits for).  A write interrupted by the loss of the
 * connection is sent again once the store has reconnected. */
void admission_store_write(struct admission_store *,
                           const struct admission_store_row *, size_t n,
                           admission_store_done_func *done, void *aux);

/* Calls the load callback again for every row the database now holds
 * (after the caller cleared its copy), e.g. when a write was refused. */
void admission_store_reload(struct admission_store *);

/* Writes queued or in flight. */
size_t admission_store_n_pending(const struct admission_store *);

#endif /* controller/admission-store.h */
