/* Internals of the admission rule engine shared by admission.c (the model
 * and the decisions) and admission-json.c (its objects as JSON).  Not for
 * use outside those two files; controller/admission.h is the contract. */
#ifndef CONTROLLER_ADMISSION_PRIVATE_H
#define CONTROLLER_ADMISSION_PRIVATE_H 1

#include "controller/admission.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "sset.h"

struct adm_domain {
    char *id;
    char *kind;
    struct sset hosts;
    const char **host_array;    /* sorted, for admission_domain_hosts() */
};

struct adm_group {
    char *id;
    struct sset members;        /* ENI ids and VM UUIDs */
    unsigned int bandwidth_mbps;    /* per ENI */
    size_t n_placed;            /* ENIs of the group placed on a host */
};

struct adm_rule {
    char *id;
    enum adm_strength strength;
    enum adm_polarity polarity;
    char *group_id;
    char *domain_id;            /* NULL: within the group */
    char *scope;                /* NULL: host */
    unsigned int weight;
    struct adm_group *group;    /* resolved */
    struct adm_domain *domain;  /* resolved; NULL if 'domain_id' NULL */
};

struct adm_host {
    char *id;
    struct adm_host_limits lim;
    bool configured;            /* put (not only named by an ENI/domain) */
    size_t n_enis;              /* placed here or reserved by a migration */
    unsigned long long bw_used;
    struct adm_domain **domains;
    size_t n_domains;
};

struct admission {
    struct shash domains;       /* id -> adm_domain */
    struct shash groups;        /* id -> adm_group */
    struct shash rules;         /* id -> adm_rule */
    struct shash hosts;         /* id -> adm_host */
    struct shash enis;          /* id -> adm_eni */
    struct shash units;         /* VM UUID -> adm_unit */
    struct shash member_index;  /* member -> adm_group_list */
    struct hmap counts;         /* adm_count: ENIs of a group per place */
    admission_filter_func *filter;
    void *filter_aux;
};

/* An ENI and where it is. */
struct adm_eni {
    char *id;
    char *vm;                   /* NULL: its own unit */
    struct adm_host *host;      /* NULL: not placed */
    struct adm_host *dest;      /* migration reserving capacity, or NULL */
    struct adm_group **groups;
    size_t n_groups;
    unsigned int bw;            /* largest demand of its groups */
};

/* The ENIs of one VM. */
struct adm_unit {
    struct adm_eni **enis;
    size_t n, allocated;
};

struct adm_group_list {
    struct adm_group **groups;
    size_t n;
};


/* Adds ('sign' 1) or takes away (-1) ENI 'e' from the counts. */
void adm_account__(struct admission *, struct adm_eni *e, int sign);
/* ENIs of group 'g' placed at 'loc' (an adm_host or adm_domain; NULL: 0). */
size_t adm_count_get__(const struct admission *, const struct adm_group *g,
                       const void *loc);

void admission_rule_describe__(const struct adm_rule *, struct ds *);

#endif /* controller/admission-private.h */
