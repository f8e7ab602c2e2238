/* Constructors, copies and checks of tetherd's objects (see eni.h). */
#define _GNU_SOURCE 1   /* vasprintf() */
#include "controller/eni.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/validate.h"

#define ENI_MAX_IPS 64
#define ENI_MAX_SGS 16
#define SG_MAX_RULES 256
#define TEXT_MAX 256

static char * __attribute__((format(printf, 1, 2)))
msg__(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, args) < 0) {
        s = NULL;
    }
    va_end(args);
    return s;
}

static char *
dup__(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char **
dup_array__(char *const *a, size_t n)
{
    if (!n) {
        return NULL;
    }
    char **d = calloc(n, sizeof *d);
    for (size_t i = 0; d && i < n; i++) {
        d[i] = dup__(a[i]);
    }
    return d;
}

static void
free_array__(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i]);
    }
    free(a);
}

const char *
eni_state_to_string(enum eni_state s)
{
    switch (s) {
    case ENI_DETACHED: return "detached";
    case ENI_ATTACHING: return "attaching";
    case ENI_BOUND: return "bound";
    case ENI_MIGRATING: return "migrating";
    }
    return "unknown";
}

const char *
eni_migration_phase_to_string(enum eni_migration_phase p)
{
    switch (p) {
    case ENI_MIG_NONE: return "none";
    case ENI_MIG_PREPARED: return "prepared";
    case ENI_MIG_SWITCHOVER: return "switchover";
    case ENI_MIG_ACTIVATED: return "activated";
    }
    return "unknown";
}

/* --- Security groups ---------------------------------------------------- */

void
security_group_destroy(struct security_group *sg)
{
    if (!sg) {
        return;
    }
    for (size_t i = 0; i < sg->n_rules; i++) {
        free(sg->rules[i].remote_cidr);
        free(sg->rules[i].remote_group);
    }
    free(sg->rules);
    free(sg->id);
    free(sg->name);
    free(sg->description);
    free(sg);
}

struct security_group *
security_group_clone(const struct security_group *sg)
{
    struct security_group *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->id = dup__(sg->id);
    c->name = dup__(sg->name);
    c->description = dup__(sg->description);
    if (sg->n_rules) {
        c->rules = calloc(sg->n_rules, sizeof *c->rules);
        for (size_t i = 0; c->rules && i < sg->n_rules; i++) {
            c->rules[i] = sg->rules[i];
            c->rules[i].remote_cidr = dup__(sg->rules[i].remote_cidr);
            c->rules[i].remote_group = dup__(sg->rules[i].remote_group);
        }
        c->n_rules = c->rules ? sg->n_rules : 0;
    }
    return c;
}

/* True if 's' is "ADDR/LEN" of the family 'ethertype' says. */
static bool
valid_cidr__(const char *s, enum sg_ethertype ethertype)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    if (!slash || slash - s >= (int) sizeof addr || !slash[1]
        || strspn(slash + 1, "0123456789") != strlen(slash + 1)
        || strlen(slash + 1) > 3) {
        return false;
    }
    memcpy(addr, s, slash - s);
    addr[slash - s] = '\0';
    int len = atoi(slash + 1);
    unsigned char buf[16];
    if (ethertype == SG_IPV4) {
        return inet_pton(AF_INET, addr, buf) == 1 && len <= 32;
    } else {
        return inet_pton(AF_INET6, addr, buf) == 1 && len <= 128;
    }
}

char *
security_group_check(const struct security_group *sg)
{
    if (!sg->id || !tether_valid_eni_id(sg->id)) {
        return msg__("id: \"%s\" is not a valid id", sg->id ? sg->id : "");
    }
    if (sg->name && strlen(sg->name) > TEXT_MAX) {
        return msg__("name: longer than %d characters", TEXT_MAX);
    }
    if (sg->description && strlen(sg->description) > TEXT_MAX) {
        return msg__("description: longer than %d characters", TEXT_MAX);
    }
    if (sg->n_rules > SG_MAX_RULES) {
        return msg__("rules: more than %d", SG_MAX_RULES);
    }
    for (size_t i = 0; i < sg->n_rules; i++) {
        const struct sg_rule *r = &sg->rules[i];
        if (r->direction != SG_INGRESS && r->direction != SG_EGRESS) {
            return msg__("rules[%zu].direction: must be ingress or egress",
                         i);
        }
        if (r->ethertype != SG_IPV4 && r->ethertype != SG_IPV6) {
            return msg__("rules[%zu].ethertype: must be IPv4 or IPv6", i);
        }
        bool ports = r->protocol == 6 || r->protocol == 17
                     || r->protocol == 132;
        if (!ports && (r->port_min || r->port_max)) {
            return msg__("rules[%zu]: ports only apply to tcp, udp and "
                         "sctp", i);
        }
        if (r->port_max < r->port_min) {
            return msg__("rules[%zu].port_max: %u is below port_min %u", i,
                         r->port_max, r->port_min);
        }
        if (!!r->remote_cidr == !!r->remote_group) {
            return msg__("rules[%zu]: give exactly one of remote_cidr and "
                         "remote_group", i);
        }
        if (r->remote_cidr && !valid_cidr__(r->remote_cidr, r->ethertype)) {
            return msg__("rules[%zu].remote_cidr: \"%s\" is not an %s CIDR",
                         i, r->remote_cidr,
                         r->ethertype == SG_IPV4 ? "IPv4" : "IPv6");
        }
        if (r->remote_group && !tether_valid_eni_id(r->remote_group)) {
            return msg__("rules[%zu].remote_group: \"%s\" is not a valid id",
                         i, r->remote_group);
        }
    }
    return NULL;
}

/* --- ENIs ---------------------------------------------------------------- */

struct eni *
eni_create(void)
{
    struct eni *e = calloc(1, sizeof *e);
    if (e) {
        e->source_dest_check = true;
        e->ofport = -1;
        e->dest_ofport = -1;
    }
    return e;
}

void
eni_destroy(struct eni *e)
{
    if (!e) {
        return;
    }
    free(e->id);
    free(e->mac);
    free(e->primary_ipv4);
    free_array__(e->secondary_ipv4s, e->n_secondary_ipv4s);
    free_array__(e->ipv6s, e->n_ipv6s);
    free_array__(e->security_groups, e->n_security_groups);
    free(e->description);
    free(e->vm_uuid);
    free(e->cpu);
    free(e->host);
    free(e->dest_host);
    free(e);
}

struct eni *
eni_clone(const struct eni *e)
{
    struct eni *c = malloc(sizeof *c);
    if (!c) {
        return NULL;
    }
    *c = *e;
    c->id = dup__(e->id);
    c->mac = dup__(e->mac);
    c->primary_ipv4 = dup__(e->primary_ipv4);
    c->secondary_ipv4s = dup_array__(e->secondary_ipv4s,
                                     e->n_secondary_ipv4s);
    c->ipv6s = dup_array__(e->ipv6s, e->n_ipv6s);
    c->security_groups = dup_array__(e->security_groups,
                                     e->n_security_groups);
    c->description = dup__(e->description);
    c->vm_uuid = dup__(e->vm_uuid);
    c->cpu = dup__(e->cpu);
    c->host = dup__(e->host);
    c->dest_host = dup__(e->dest_host);
    return c;
}

static bool
valid_ipv4__(const char *s)
{
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1;
}

static bool
valid_ipv6__(const char *s)
{
    struct in6_addr a;
    return s && inet_pton(AF_INET6, s, &a) == 1;
}

char *
eni_check(const struct eni *e)
{
    if (!e->id || !tether_valid_eni_id(e->id)) {
        return msg__("id: \"%s\" is not a valid ENI id (1 to %d of A-Z a-z "
                     "0-9 . _ : -)", e->id ? e->id : "", TETHER_ENI_ID_MAX);
    }
    if (!e->mac || !tether_parse_mac(e->mac, NULL)) {
        return msg__("mac: \"%s\" is not a MAC address",
                     e->mac ? e->mac : "");
    }
    uint8_t mac[6];
    tether_parse_mac(e->mac, mac);
    if (mac[0] & 1) {
        return msg__("mac: %s is a multicast address", e->mac);
    }
    if (e->primary_ipv4 && !valid_ipv4__(e->primary_ipv4)) {
        return msg__("primary_ipv4: \"%s\" is not an IPv4 address",
                     e->primary_ipv4);
    }
    if (e->n_secondary_ipv4s + e->n_ipv6s > ENI_MAX_IPS) {
        return msg__("more than %d addresses", ENI_MAX_IPS);
    }
    for (size_t i = 0; i < e->n_secondary_ipv4s; i++) {
        if (!valid_ipv4__(e->secondary_ipv4s[i])) {
            return msg__("secondary_ipv4s[%zu]: \"%s\" is not an IPv4 "
                         "address", i, e->secondary_ipv4s[i]);
        }
    }
    for (size_t i = 0; i < e->n_ipv6s; i++) {
        if (!valid_ipv6__(e->ipv6s[i])) {
            return msg__("ipv6s[%zu]: \"%s\" is not an IPv6 address", i,
                         e->ipv6s[i]);
        }
    }
    if (e->vni < 1 || e->vni > ENI_VNI_MAX) {
        return msg__("vni: %u is not in 1..%u", e->vni, ENI_VNI_MAX);
    }
    if (e->n_security_groups > ENI_MAX_SGS) {
        return msg__("security_groups: more than %d", ENI_MAX_SGS);
    }
    for (size_t i = 0; i < e->n_security_groups; i++) {
        if (!tether_valid_eni_id(e->security_groups[i])) {
            return msg__("security_groups[%zu]: \"%s\" is not a valid id", i,
                         e->security_groups[i]);
        }
    }
    if (e->description && strlen(e->description) > TEXT_MAX) {
        return msg__("description: longer than %d characters", TEXT_MAX);
    }
    if (e->vm_uuid && !tether_valid_uuid(e->vm_uuid)) {
        return msg__("vm_uuid: \"%s\" is not a UUID", e->vm_uuid);
    }
    if (e->cpu && strlen(e->cpu) > ENI_CPU_MAX) {
        return msg__("cpu: longer than %d characters", ENI_CPU_MAX);
    }
    return NULL;
}

bool
eni_is_wired(const struct eni *e)
{
    return e->state == ENI_BOUND || e->state == ENI_MIGRATING;
}

void
eni_for_each_ip(const struct eni *e,
                void (*cb)(const char *ip, bool is_ipv6, void *aux),
                void *aux)
{
    if (e->primary_ipv4) {
        cb(e->primary_ipv4, false, aux);
    }
    for (size_t i = 0; i < e->n_secondary_ipv4s; i++) {
        cb(e->secondary_ipv4s[i], false, aux);
    }
    for (size_t i = 0; i < e->n_ipv6s; i++) {
        cb(e->ipv6s[i], true, aux);
    }
}
