/* tetherd's data path manager: keeps, for every host, the desired OpenFlow
 * tables of its integration bridge in step with the ENIs, security groups
 * and hosts (computed by flows.c), and has each bridge catch up through its
 * of_switch (one atomic bundle per host per round, barrier-confirmed).
 *
 * Changes come in through physical_set_*() and physical_remove_*() at any
 * time; physical_run() turns everything that arrived since the last round
 * into the smallest set of per-host edits (flows.c's work list), commits
 * every host it touched, and measures the round: from its first change to
 * the last host's barrier reply ("flows confirmed on every affected
 * switch").  A host's table is computed in full once its bridge's datapath
 * id and tunnel port are known; until then changes for it are skipped (its
 * full computation covers them). */
#ifndef CONTROLLER_PHYSICAL_H
#define CONTROLLER_PHYSICAL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eni;
struct of_server;
struct of_switch;
struct security_group;

struct physical *physical_create(struct of_server *);
void physical_destroy(struct physical *);

/* What a host's agent reported: its tunnel IP, its bridge's datapath id
 * (0 unknown), tunnel port (-1 unknown) and migration relay port (0 none,
 * -1 unknown: unchanged). */
void physical_set_host(struct physical *, const char *host,
                       const char *tunnel_ip, uint64_t dpid,
                       int32_t tunnel_ofport, int32_t relay_ofport);

/* Make-before-break through the source's relay (flows.h); off in the
 * break-before-make comparison mode. */
void physical_set_relay(struct physical *, bool enabled);

void physical_set_eni(struct physical *, const struct eni *);

/* A migration to 'dest' in 'vni' is being prepared: sends one frame (that
 * every receiver drops) through the tunnel from 'dest' to every other host
 * of 'vni' and back, so that each bridge resolves its underlay neighbour
 * now rather than drop the VM's first frames after it resumes.  Then, if
 * 'dest_ofport' > 0, one frame to 'mac' straight into that VIF: a
 * hypervisor waiting for an incoming migration takes the first frame of
 * its queue and loses it (QEMU does: it reads one while it may not deliver
 * it and drops it at the switchover), so that frame should not be one of
 * the VM's.  The VM, if it ever sees it, drops it (a local experimental
 * EtherType from the zero MAC). */
void physical_warm_tunnels(struct physical *, const char *dest,
                           uint32_t vni, const char *mac,
                           int32_t dest_ofport);
void physical_remove_eni(struct physical *, uint64_t key);
void physical_set_sg(struct physical *, const struct security_group *);
void physical_remove_sg(struct physical *, const char *id);

/* Nothing is computed or committed until the caller says that what it has
 * fed in (ENIs, groups, hosts' tunnel IPs, from the store) is complete. */
void physical_set_ready(struct physical *);

void physical_run(struct physical *);
void physical_wait(struct physical *);

/* Marks the round being gathered (the next physical_run()) as carrying a
 * migration's switchover or activation, so that its time is also recorded
 * under that name. */
enum physical_tag {
    PHYSICAL_TAG_SWITCHOVER = 1 << 0,
    PHYSICAL_TAG_ACTIVATE = 1 << 1,
};
void physical_tag_round(struct physical *, enum physical_tag);

/* Rounds are numbered from 1.  The number of the round that will carry the
 * changes made so far (the next physical_run() makes one, if need be an
 * empty one), and the highest number such that it and every round before it
 * are confirmed on every switch they were for: a bridge that was not
 * connected when a round had changes for it counts once it is back and
 * reconciled (or after 5 s: a host that stays away holds nothing back). */
uint64_t physical_next_round(struct physical *);
uint64_t physical_confirmed_round(struct physical *);

/* The host whose bridge 'sw' is, or NULL. */
const char *physical_host_of_switch(const struct physical *,
                                    const struct of_switch *);

/* True when no change waits to be computed or confirmed, and every
 * connected bridge of a known host has been reconciled. */
bool physical_is_idle(const struct physical *);

struct physical_stats {
    unsigned long long rounds;          /* rounds that committed something */
    unsigned long long commits;         /* per-host commits */
    unsigned long long commit_errors;
    double last_round_ms;               /* first change -> last barrier */
    double max_round_ms;
    unsigned int last_round_hosts;
    unsigned long long switchovers;     /* rounds tagged switchover */
    double last_switchover_ms;
    double switchover_ms_p50;           /* over the last 1024 */
    double switchover_ms_p99;
};
void physical_get_stats(const struct physical *, struct physical_stats *);

/* Flow and group mods sent to all bridges so far, by kind (enum
 * ft_op_type), summed over the bridges' of_switch counters. */
void physical_count_mods(const struct physical *,
                         unsigned long long n_ops[], size_t n);

#endif /* controller/physical.h */
