/* tetherd's inventory of hypervisor hosts: who each one is (from its agent's
 * Hello), where its tunnel ends, whether its agent is connected and when it
 * was last heard from.  Held in memory; the durable registry arrives with the
 * ENI store.  Pure bookkeeping: no I/O, no logging, time passed in as 'now'
 * (milliseconds on any monotonic clock). */
#ifndef CONTROLLER_HOST_REGISTRY_H
#define CONTROLLER_HOST_REGISTRY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/validate.h"

struct host {
    char id[TETHER_HOST_ID_MAX + 1];
    char *hypervisor;
    char *hostname;
    char *tunnel_ip;
    char *tunnel_type;
    char *bridge;
    char *agent_version;
    char **capabilities;
    size_t n_capabilities;
    uint64_t boot_id;
    char *cpu_model;                /* "" if not reported */
    char **cpu_flags;
    size_t n_cpu_flags;

    uint64_t datapath_id;           /* its bridge's, 0 while unknown */
    int32_t tunnel_ofport;          /* -1 while unknown */
    int32_t relay_ofport;           /* 0 if none, -1 while unknown */

    bool connected;
    long long int connected_at;     /* when the current session began */
    long long int last_heard;       /* last message from its agent */
    unsigned long long n_sessions;  /* sessions accepted so far */
};

/* What an agent says of its host in its Hello. */
struct host_hello {
    const char *id;
    const char *hypervisor;
    const char *hostname;
    const char *tunnel_ip;
    const char *tunnel_type;
    const char *bridge;
    const char *agent_version;
    char *const *capabilities;
    size_t n_capabilities;
    uint64_t boot_id;
    const char *cpu_model;
    char *const *cpu_flags;
    size_t n_cpu_flags;
};

struct host_registry;

struct host_registry *host_registry_create(void);
void host_registry_destroy(struct host_registry *);

/* Records 'hello' for the host it names, creating the host if it is new
 * (then '*is_newp' is true), and marks it connected at 'now'.  Returns the
 * host, or NULL if out of memory (the registry is then unchanged). */
struct host *host_registry_hello(struct host_registry *,
                                 const struct host_hello *hello,
                                 long long int now, bool *is_newp);

struct host *host_registry_find(const struct host_registry *, const char *id);
void host_registry_heard(struct host *, long long int now);
void host_registry_disconnected(struct host *, long long int now);

/* Records the bridge status the host's agent reported. */
void host_registry_set_bridge(struct host *, uint64_t datapath_id,
                              int32_t tunnel_ofport, int32_t relay_ofport);
struct host *host_registry_find_by_dpid(const struct host_registry *,
                                        uint64_t datapath_id);

size_t host_registry_count(const struct host_registry *);
size_t host_registry_count_connected(const struct host_registry *);

/* Returns the 'i'th host in id order (0 <= i < count), for listings. */
struct host *host_registry_at(const struct host_registry *, size_t i);

#endif /* controller/host-registry.h */
