/* tetherd's core: what happens between an agent's report and the flows.  It
 * takes the agent server's callbacks (hosts up and down, bridge status,
 * VIF events, resyncs), applies the binding rules (binding.h) to the ENIs
 * of the store (eni-store.h), and feeds every change of ENIs, security
 * groups and hosts to the data path manager (physical.h).  It owns no
 * socket; tetherd.c creates the pieces and runs them. */
#ifndef CONTROLLER_ENGINE_H
#define CONTROLLER_ENGINE_H 1

#include "controller/agent-server.h"
#include "controller/eni-store.h"

#include "controller/binding.h"

struct host_registry;
struct of_packet_in;
struct of_switch;
struct physical;

struct engine_options {
    enum binding_mode mode;             /* make- or break-before-make */
    unsigned int migration_timeout_ms;  /* stuck before activation: roll back */
};

struct engine *engine_create(struct host_registry *, struct physical *,
                             const struct engine_options *);
void engine_destroy(struct engine *);

/* The store the engine works on; the store's observer must be
 * engine_store_observer()'s. */
void engine_set_store(struct engine *, struct eni_store *);
struct eni_store_observer engine_store_observer(struct engine *);

/* The callbacks to give the agent server, and the server (to ask agents
 * for a resync once the store has loaded). */
struct agent_server_cbs engine_agent_cbs(struct engine *);
void engine_set_agent_server(struct engine *, struct agent_server *);

/* A packet-in from a bridge: the VM's announcement (RARP, GARP, NA) on a
 * migration's destination VIF activates the migration. */
void engine_packet_in(struct engine *, struct of_switch *,
                      const struct of_packet_in *);

/* Migration admission: asked before a PREPARE of 'eni' to 'dest_host' is
 * applied.  Returns true to admit it, or false with a malloc()ed reason in
 * '*reasonp'; a refused prepare leaves the binding as it is, is counted,
 * and the destination's agent is sent REFUSE_MIGRATION with the reason. */
typedef bool engine_admit_func(const struct eni *, const char *dest_host,
                               char **reasonp, void *aux);
void engine_set_admission(struct engine *, engine_admit_func *, void *aux);

void engine_run(struct engine *);
void engine_wait(struct engine *);

struct engine_stats {
    unsigned long long vif_reports;
    unsigned long long unknown_enis;    /* VIFs naming no known ENI */
    unsigned long long refused;         /* binding refused (MAC mismatch) */
    unsigned long long stale;           /* unplugs from a host not bound */
    unsigned long long moves;           /* ENI bound to a new host */
    unsigned long long migrations;      /* prepared */
    unsigned long long commits;         /* migrations committed */
    unsigned long long rollbacks;       /* migrations rolled back */
    unsigned long long timeouts;        /* of which stuck past the limit */
    unsigned long long announcements;   /* activations by packet-in */
    unsigned long long admission_refusals;  /* prepares refused */
};
void engine_get_stats(const struct engine *, struct engine_stats *);
size_t engine_n_migrations(const struct engine *);

/* The migrations in progress as a new JSON array (the caller frees it) of
 * {"eni", "phase", "source_host", "dest_host", "epoch", "elapsed_ms",
 * "phase_ms"}, sorted by ENI id: the REST API's GET /v1/migrations. */
struct json *engine_migrations_json(void *engine);

#endif /* controller/engine.h */
