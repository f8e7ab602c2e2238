/* tetherd's migration admission service: keeps the admission rule engine
 * (admission.h) and the hosts' CPU feature sets (cpu-features.h) in step
 * with the host registry and the ENI store, decides the engine's question
 * "may this PREPARE go ahead?" (must rules, host constraints, CPU features
 * the VM may use: what the CPU definition its ENIs carry allows, by
 * default everything its source host has), answers the REST API's
 * admission endpoints, and follows evacuations in progress.
 *
 * The configuration (domains, groups, rules, host limits, evacuations
 * started) is durable: kept in the database's Admission_Config table
 * through controller/admission-store.h, loaded at start-up (nothing is
 * admitted and the endpoints answer 503 until then), and every API change
 * is written in a transaction whose commit the REST reply waits for.  A
 * change is applied in memory when it is made (so reads and decisions may
 * see it a few milliseconds before it is durable); if the database refuses
 * it, the request gets 500 and memory is reloaded from the database. */
#ifndef CONTROLLER_PLACEMENT_H
#define CONTROLLER_PLACEMENT_H 1

#include <stdbool.h>

#include "controller/eni-store.h"
#include "controller/rest.h"

struct eni;
struct host_registry;
struct json;

/* 'db_remote' NULL: the configuration is in memory only. */
struct placement *placement_create(struct host_registry *,
                                   const char *db_remote);
void placement_destroy(struct placement *);
void placement_run(struct placement *);
void placement_wait(struct placement *);
/* True once the configuration is loaded (at once without a database). */
bool placement_is_ready(const struct placement *);

/* The store whose ENIs are placed; 'obs' is the observer the store would
 * otherwise get: it is replaced by one that tells this module first and
 * then calls 'obs'. */
void placement_set_store(struct placement *, struct eni_store *);
struct eni_store_observer placement_chain_observer(
    struct placement *, const struct eni_store_observer *obs);

/* engine_admit_func (engine.h). */
bool placement_admit(const struct eni *, const char *dest_host,
                     char **reasonp, void *placement);

/* rest_cpu_checker's 'check' (rest.h): a VM's CPU definition is libvirt
 * <cpu> XML that lib/cpu-xml.h reads and, if it names a model, a model
 * libvirt knows (400 if not, 503 if libvirt is unavailable). */
int placement_check_cpu(void *placement, const char *xml,
                        char **normalizedp, char **errp);

/* rest_admission_source's handler (rest.h). */
int placement_rest(void *placement, const char *method, const char *what,
                   const char *id, const struct json *body,
                   struct json **replyp, rest_admission_done_func *,
                   void *req);

#endif /* controller/placement.h */
