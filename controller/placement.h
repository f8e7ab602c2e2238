/* tetherd's migration admission service: keeps the admission rule engine
 * (admission.h) and the hosts' CPU feature sets (cpu-features.h) in step
 * with the host registry and the ENI store, decides the engine's question
 * "may this PREPARE go ahead?" (must rules, host constraints, CPU features
 * the VM may use: those of its source host), answers the REST API's
 * admission endpoints, and follows evacuations in progress.
 *
 * The configuration (domains, groups, rules, host limits) is held in
 * memory only: a restarted tetherd starts with none. */
#ifndef CONTROLLER_PLACEMENT_H
#define CONTROLLER_PLACEMENT_H 1

#include <stdbool.h>

#include "controller/eni-store.h"

struct eni;
struct host_registry;
struct json;

struct placement *placement_create(struct host_registry *);
void placement_destroy(struct placement *);

/* The store whose ENIs are placed; 'obs' is the observer the store would
 * otherwise get: it is replaced by one that tells this module first and
 * then calls 'obs'. */
void placement_set_store(struct placement *, struct eni_store *);
struct eni_store_observer placement_chain_observer(
    struct placement *, const struct eni_store_observer *obs);

/* engine_admit_func (engine.h). */
bool placement_admit(const struct eni *, const char *dest_host,
                     char **reasonp, void *placement);

/* rest_admission_source's handler (rest.h). */
int placement_rest(void *placement, const char *method, const char *what,
                   const char *id, const struct json *body,
                   struct json **replyp);

#endif /* controller/placement.h */
