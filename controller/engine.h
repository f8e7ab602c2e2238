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

struct host_registry;
struct physical;

struct engine *engine_create(struct host_registry *, struct physical *);
void engine_destroy(struct engine *);

/* The store the engine works on; the store's observer must be
 * engine_store_observer()'s. */
void engine_set_store(struct engine *, struct eni_store *);
struct eni_store_observer engine_store_observer(struct engine *);

/* The callbacks to give the agent server, and the server (to ask agents
 * for a resync once the store has loaded). */
struct agent_server_cbs engine_agent_cbs(struct engine *);
void engine_set_agent_server(struct engine *, struct agent_server *);

void engine_run(struct engine *);

struct engine_stats {
    unsigned long long vif_reports;
    unsigned long long unknown_enis;    /* VIFs naming no known ENI */
    unsigned long long refused;         /* binding refused (MAC mismatch) */
    unsigned long long stale;           /* unplugs from a host not bound */
    unsigned long long moves;           /* ENI bound to a new host */
};
void engine_get_stats(const struct engine *, struct engine_stats *);

#endif /* controller/engine.h */
