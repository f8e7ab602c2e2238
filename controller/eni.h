/* The objects tetherd manages, as plain C structs: elastic network
 * interfaces (ENIs), security groups and their rules, and an ENI's binding
 * to the host whose VIF carries it.  Shared vocabulary of the store
 * (eni-store.c), the REST API (rest-*.c), the flow computation (flows.c) and
 * the binding logic; this header has no behaviour beyond constructors,
 * destructors, copies and checks.
 *
 * Strings are owned by the struct that holds them (malloc()ed, freed by the
 * _destroy/_clear functions).  Addresses are kept as the canonical text the
 * API accepted ("02:00:00:00:00:01", "10.0.0.5", "fd00::5"), already checked
 * with lib/validate.h. */
#ifndef CONTROLLER_ENI_H
#define CONTROLLER_ENI_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest VNI a Geneve or VXLAN header carries. */
#define ENI_VNI_MAX 0xffffffu

/* Longest CPU definition an ENI carries. */
#define ENI_CPU_MAX 16384

/* --- Security groups ------------------------------------------------------ */

enum sg_direction {
    SG_INGRESS,                 /* traffic to the ENI */
    SG_EGRESS,                  /* traffic from the ENI */
};

enum sg_ethertype {
    SG_IPV4,
    SG_IPV6,
};

/* One rule: traffic matching it is allowed (security groups only allow;
 * everything else is denied, replies to allowed connections pass). */
struct sg_rule {
    enum sg_direction direction;
    enum sg_ethertype ethertype;
    uint8_t protocol;           /* IP protocol; 0 = any (then no ports) */
    uint16_t port_min;          /* TCP/UDP port range; 0..0 = any port */
    uint16_t port_max;
    char *remote_cidr;          /* "10.0.0.0/8"; NULL if remote_group */
    char *remote_group;         /* a security group id; NULL if cidr */
};

struct security_group {
    char *id;                   /* "sg-..." */
    char *name;
    char *description;
    struct sg_rule *rules;
    size_t n_rules;
};

void security_group_destroy(struct security_group *);
struct security_group *security_group_clone(const struct security_group *);
/* Checks 'sg''s fields and rules; returns NULL or a malloc()ed message
 * naming the offending field ("rules[2].port_max: below port_min"). */
char *security_group_check(const struct security_group *);

/* --- ENIs ----------------------------------------------------------------- */

/* Where an ENI is in its life. */
enum eni_state {
    ENI_DETACHED,               /* no VM; no flows anywhere */
    ENI_ATTACHING,              /* attached to a VM; its VIF not seen yet */
    ENI_BOUND,                  /* its VIF is up on 'host' at 'ofport' */
    ENI_MIGRATING,              /* live migration in progress (see below) */
};
const char *eni_state_to_string(enum eni_state);

/* Phases of a live migration (issue: make-before-break); ENI_MIGRATING only. */
enum eni_migration_phase {
    ENI_MIG_NONE,
    ENI_MIG_PREPARED,           /* destination pre-wired; remotes -> source */
    ENI_MIG_SWITCHOVER,         /* source paused; remotes -> both */
    ENI_MIG_ACTIVATED,          /* VM runs on destination; remotes -> dest */
};
const char *eni_migration_phase_to_string(enum eni_migration_phase);

struct eni {
    /* Identity and addressing, set through the API. */
    char *id;                   /* "eni-..." (lib/validate.h eni id) */
    uint64_t key;               /* unique, nonzero, < 2^48, never reused:
                                 * names the ENI in flow cookies */
    char *mac;
    char *primary_ipv4;         /* may be NULL */
    char **secondary_ipv4s;
    size_t n_secondary_ipv4s;
    char **ipv6s;
    size_t n_ipv6s;
    uint32_t vni;               /* 1..ENI_VNI_MAX */
    char **security_groups;     /* security group ids */
    size_t n_security_groups;
    bool source_dest_check;     /* true: port security on (the default) */
    char *description;

    /* Attachment, set through the API (attach/detach). */
    char *vm_uuid;              /* NULL when detached */

    /* The VM's CPU definition, for migration admission: a libvirt <cpu>
     * element in its normalized form (lib/cpu-xml.h cpu_xml_format()), or
     * NULL for the default, host-passthrough (the VM may use everything
     * its host has).  Set through the API, which checks it. */
    char *cpu;

    /* Binding, learned from the agents' VIF reports. */
    enum eni_state state;
    char *host;                 /* host whose VIF carries it; NULL if none */
    int32_t ofport;             /* on 'host''s integration bridge; -1 */
    uint64_t epoch;             /* bumped on every binding change */

    /* Live migration (state ENI_MIGRATING). */
    enum eni_migration_phase phase;
    char *dest_host;
    int32_t dest_ofport;

    long long int created;      /* wall clock, ms */
    long long int updated;
};

struct eni *eni_create(void);           /* zeroed, ofports -1, sdc on */
void eni_destroy(struct eni *);
struct eni *eni_clone(const struct eni *);

/* Checks the API-settable fields (id, mac, ips, vni, sg ids, sizes);
 * returns NULL or a malloc()ed message naming the field. */
char *eni_check(const struct eni *);

/* True if the ENI has flows anywhere (it is bound or migrating). */
bool eni_is_wired(const struct eni *);

/* Calls 'cb' for every IPv4 and IPv6 address of 'eni'. */
void eni_for_each_ip(const struct eni *,
                     void (*cb)(const char *ip, bool is_ipv6, void *aux),
                     void *aux);

#endif /* controller/eni.h */
