/* Internals shared by flows.c (pipeline, ENI and VNI flows), flows-sg.c
 * (security group flows) and flows-ctx.c (the index and the work sets).
 * Nothing outside controller/flows*.c includes this; the contract is
 * flows.h. */
#ifndef CONTROLLER_FLOWS_PRIVATE_H
#define CONTROLLER_FLOWS_PRIVATE_H 1

#include <stdint.h>

#include "controller/flows.h"
#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "sset.h"

struct eni;
struct flow_build;

/* A reference to an ENI copy owned by flows_ctx's 'enis', in a hmap hashed
 * by its key. */
struct fc_ref {
    struct hmap_node node;
    const struct eni *eni;
};

/* A host: its tunnel IP and the ENIs with a VIF on it. */
struct fc_host {
    char *ip;                   /* NULL if not known yet */
    int32_t relay_ofport;       /* 0: none, -1: not reported yet */
    struct hmap enis;           /* struct fc_ref */
};

/* A VNI: its wired ENIs, and per host the ENIs with a VIF there. */
struct fc_vni {
    struct hmap_node node;      /* in flows_ctx's 'vnis', by vni */
    uint32_t vni;
    struct hmap enis;           /* struct fc_ref: wired ENIs */
    struct shash hosts;         /* host id -> struct hmap of fc_ref */
};

/* The members of one security group in one VNI.  Every lookup of members
 * is for one VNI (a remote_group matches members of the same VNI only), and
 * the implicit default group has every group-less ENI of the data center as
 * a member: without this level, an ENI's ingress rule or a change to one
 * member walked all of them, O(ENIs^2) in all. */
struct fc_sg_vni {
    struct hmap_node node;      /* in fc_sg's 'vnis', by vni */
    uint32_t vni;
    struct hmap members;        /* struct fc_ref */
};

/* A security group id: the group (if known), its members (any state) by
 * VNI and the ids of the groups whose rules name it as remote_group. */
struct fc_sg {
    struct security_group *sg;  /* NULL if only referred to */
    struct hmap vnis;           /* struct fc_sg_vni, never empty ones */
    struct sset referrers;
};

struct fc_eni {
    struct hmap_node node;      /* in flows_ctx's 'enis', by key */
    struct eni *eni;            /* owned copy */
};

struct flows_ctx {
    struct hmap enis;           /* struct fc_eni */
    struct shash hosts;         /* host id -> struct fc_host */
    struct hmap vnis;           /* struct fc_vni */
    struct shash sgs;           /* sg id -> struct fc_sg */
    bool relay_disabled;        /* flows_ctx_set_relay() */
};

const struct fc_vni *fc_vni_find(const struct flows_ctx *, uint32_t vni);
const struct fc_sg *fc_sg_find(const struct flows_ctx *, const char *id);
/* The members of 's' in 'vni' (struct fc_ref), or NULL if it has none. */
const struct hmap *fc_sg_members(const struct fc_sg *, uint32_t vni);

/* The VIF of 'eni' on 'host': its ofport, or -1 if it has none there. */
int32_t flows_eni_local_port(const struct eni *, const char *host);

/* Adds the flow built in 'fb' (ovs-glue/flow-build.h) with 'cookie' to
 * 'ft' and uninitializes 'fb'; logs and counts a failure. */
void flows_add_built(struct flow_table *, uint64_t cookie,
                     struct flow_build *fb);

/* The part of flows_add_eni() with cookie class FLOWS_CLASS_ENI. */
void flows_add_eni_main(struct flow_table *, const struct flows_host *,
                        const struct eni *, const struct flows_ctx *);

#endif /* controller/flows-private.h */
