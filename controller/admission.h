/* Migration admission: the placement rule engine that decides whether an
 * ENI (with the other ENIs of its VM) may move to a host, scores the
 * destinations that may take it, recommends the best ones and plans a
 * host's evacuation.  Pure: no I/O, no logging, no clock; the caller feeds
 * it the configuration and where every ENI is, and asks.
 *
 * The model:
 *
 *   - Hosts, with constraints: maintenance (takes nothing), at most
 *     'max_enis' ENIs (0: no limit), a bandwidth budget in Mb/s (0: none).
 *     A migration's destination counts as used on it from PREPARE on.
 *   - Domains (racks, rows, zones: 'kind' is free text), each a set of
 *     hosts; a host may be in several (one rack, one row, one zone).
 *   - Resource groups, each a set of members: ENI ids or VM UUIDs (a VM
 *     member stands for all of its ENIs).  A group may give each of its
 *     ENIs a bandwidth demand.
 *   - Rules on one group, "must" (hard: a breaking move is refused) or
 *     "should" (soft: a breaking move loses 'weight' points):
 *       . with a 'domain': TOGETHER = the group's ENIs are placed in that
 *         domain, APART = never in it;
 *       . without: TOGETHER = the group's members share one 'scope'
 *         (a host, or one domain of kind 'scope'), APART = no two members
 *         share one.
 *
 * A move is made by a unit: the VM of the ENI (all its ENIs), or the ENI
 * alone if it has no VM.  Its own ENIs never count against it.
 *
 * Score of an admitted destination: 100, minus the weights of the should
 * rules it breaks, minus 50 times its utilisation after the move (the
 * larger of ENIs/max_enis and Mb/s/budget; without limits, n/(n+100)), so
 * emptier hosts rank first.  An optional filter (the CPU check) can refuse
 * a (source, destination) pair with a reason. */
#ifndef CONTROLLER_ADMISSION_H
#define CONTROLLER_ADMISSION_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct json;

enum adm_strength {
    ADM_MUST,                   /* hard: refused if broken */
    ADM_SHOULD,                 /* soft: costs 'weight' points */
};

enum adm_polarity {
    ADM_TOGETHER,               /* affinity */
    ADM_APART,                  /* anti-affinity */
};

struct adm_host_limits {
    bool maintenance;
    unsigned int max_enis;      /* 0: no limit */
    unsigned int bandwidth_mbps;    /* 0: no budget */
};

struct adm_rule_spec {
    const char *id;
    enum adm_strength strength;
    enum adm_polarity polarity;
    const char *group;
    const char *domain;         /* NULL: within the group (see 'scope') */
    const char *scope;          /* NULL or "host", or a domain kind */
    unsigned int weight;        /* should rules: points; 0 means 10 */
};

struct admission *admission_create(void);
void admission_destroy(struct admission *);

/* --- Configuration ------------------------------------------------------
 * Each returns 0 or a positive errno value with a malloc()ed message in
 * '*errp' (if nonnull): EINVAL for a bad field, ENOENT for a reference to
 * nothing, EBUSY for deleting something a rule names. */
int admission_put_domain(struct admission *, const char *id,
                         const char *kind, const char *const *hosts,
                         size_t n_hosts, char **errp);
int admission_delete_domain(struct admission *, const char *id, char **errp);
int admission_put_group(struct admission *, const char *id,
                        const char *const *members, size_t n_members,
                        unsigned int bandwidth_mbps, char **errp);
int admission_delete_group(struct admission *, const char *id, char **errp);
int admission_put_rule(struct admission *, const struct adm_rule_spec *,
                       char **errp);
int admission_delete_rule(struct admission *, const char *id, char **errp);

/* A host that can take ENIs, with its limits (replaced if known). */
void admission_put_host(struct admission *, const char *id,
                        const struct adm_host_limits *);
/* The limits of host 'id', or NULL if it was never put. */
const struct adm_host_limits *admission_get_host(const struct admission *,
                                                 const char *id);
void admission_remove_host(struct admission *, const char *id);

/* --- Where ENIs are -------------------------------------------------------
 * 'host' NULL: not placed.  'dest_host' nonnull while a migration reserves
 * capacity there.  'vm_uuid' NULL or "": the ENI is its own unit. */
void admission_set_eni(struct admission *, const char *eni_id,
                       const char *vm_uuid, const char *host,
                       const char *dest_host);
void admission_remove_eni(struct admission *, const char *eni_id);
size_t admission_n_enis(const struct admission *);

/* --- Decisions ------------------------------------------------------------ */

/* Returns true if the unit of ENIs 'enis' (all its VM's ENIs; none for
 * an unknown ENI) may move from 'src_host' to 'dst_host'; otherwise
 * appends why to 'reason' (one line, naming what is missing). */
typedef bool admission_filter_func(const char *src_host, const char *dst_host,
                                   const char *const *enis, size_t n_enis,
                                   struct ds *reason, void *aux);
void admission_set_filter(struct admission *, admission_filter_func *,
                          void *aux);

/* May 'eni_id''s unit move to 'dest'?  Returns true and the score in
 * '*scorep' (if nonnull), or false with why in '*reasonp' (malloc()ed; the
 * caller frees it).  An unknown ENI is judged as a unit of its own that is
 * not placed anywhere. */
bool admission_check(const struct admission *, const char *eni_id,
                     const char *dest, double *scorep, char **reasonp);

struct adm_candidate {
    char *host;
    double score;
    char *reason;               /* refused: why; admitted: NULL */
};
/* Judges every known host but the unit's own for 'eni_id''s unit: fills
 * '*candsp' (malloc()ed; free with adm_candidates_free()) admitted first,
 * best score first, then the refused ones by host id.  Returns their
 * number. */
size_t admission_recommend(const struct admission *, const char *eni_id,
                           struct adm_candidate **candsp);
void adm_candidates_free(struct adm_candidate *, size_t n);

/* An evacuation plan: every unit placed on 'host' given a destination,
 * greedily (most constrained units first, best score each), must rules
 * hard, should rules in the score; what cannot go anywhere is listed with
 * the reason of its best refusal. */
struct adm_move {
    char *unit;                 /* VM UUID, or the ENI id */
    char **enis;
    size_t n_enis;
    char *dest;                 /* NULL: cannot be placed */
    double score;
    char *reason;               /* NULL if placed */
};
struct adm_plan {
    struct adm_move *moves;
    size_t n_moves;
    size_t n_unplaced;
};
void admission_plan_evacuation(struct admission *, const char *host,
                               struct adm_plan *);
void adm_plan_destroy(struct adm_plan *);

/* --- As JSON (REST API and store) ---------------------------------------- */

/* Parses 'json' as one object of the kind ("domain", "group", "rule",
 * "host") named 'id' and puts it; same errors as the put functions. */
int admission_put_json(struct admission *, const char *kind, const char *id,
                       const struct json *, char **errp);
int admission_delete_kind(struct admission *, const char *kind,
                          const char *id, char **errp);
/* New JSON object of 'kind' named 'id', or NULL if there is none; the list
 * of all of 'kind' as a new JSON array sorted by id. */
struct json *admission_get_json(const struct admission *, const char *kind,
                                const char *id);
struct json *admission_list_json(const struct admission *, const char *kind);
/* The hosts of domain 'id' (NULL if there is no such domain), for the CPU
 * baseline of a domain. */
const char *const *admission_domain_hosts(const struct admission *,
                                          const char *id, size_t *n);
struct json *adm_plan_to_json(const struct adm_plan *);
/* The plan adm_plan_to_json() wrote (moves first, then the unplaced ones)
 * into '*plan' (free with adm_plan_destroy()); false if 'json' is not such
 * a plan ('*plan' then empty). */
bool adm_plan_from_json(const struct json *, struct adm_plan *plan);

#endif /* controller/admission.h */
