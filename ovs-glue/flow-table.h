/* OpenFlow flow and group tables as sets, and the plan that turns one into
 * another.  A flow_table holds flows keyed by (table_id, priority, match)
 * and groups keyed by group_id; tetherd keeps one "desired" table per switch
 * (what its flow computation wants) and one "installed" table (what the
 * switch has), and flow_table_diff() computes the ordered list of flow and
 * group mods that turns "installed" into "desired".  This module does no
 * I/O: of-switch.c sends the plan as one atomic bundle and applies it to the
 * installed table when the switch confirms it.
 *
 * Cookies say who owns a flow.  A cookie is 16 bits of owner class followed
 * by 48 bits of object id (FT_COOKIE(CLASS, ID)):
 *
 *   - Classes 0x0001..0xfeff are tether's own (the flow computation picks
 *     them: one class per kind of object, e.g. ENI, tunnel, port security,
 *     and the object's id below).  flow_table_remove_cookie() with
 *     FT_COOKIE_CLASS_MASK drops one class, with FT_COOKIE_MASK one object.
 *
 *   - Class 0 is "nobody": a flow with cookie 0 on a switch is a leftover
 *     (someone's ovs-ofctl add-flow, an older controller) and reconciliation
 *     deletes it like any other flow of ours that is not desired.
 *
 *   - Classes 0xff00..0xffff (FT_CLASS_FOREIGN_MIN and above) belong to
 *     someone else (an operator's debugging flows, the host agent's local
 *     flows): reconciliation never deletes or modifies them unless a desired
 *     flow has the same key, and they cannot be added to a table here.
 *
 * Groups have no cookie in OpenFlow.  Group ids OFPG_MAX and below from
 * FT_GROUP_FOREIGN_MIN up are foreign in the same way; all other groups on a
 * switch that are not desired are deleted.  A desired group carries a cookie
 * of our own so that flow_table_remove_cookie() removes an object's groups
 * along with its flows.
 *
 * Matches and actions are kept in the canonical form in which the switch
 * reports them back (flow_table_add_flow() runs them through an OpenFlow
 * 1.3 encode and decode), less what depends on the OpenFlow version they
 * were decoded from (which of several equivalent encodings an action came
 * in, e.g. "move" as an NXM reg_move from 1.3 but as a copy_field from
 * 1.5).  So a flow read back from a switch, whichever version the
 * connection speaks, compares equal to the desired flow that installed it,
 * and comparing two flows' actions is a byte compare. */
#ifndef OVS_GLUE_FLOW_TABLE_H
#define OVS_GLUE_FLOW_TABLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-protocol.h"

struct ofpact;
struct ofpbuf;
struct ofputil_flow_stats;
struct ofputil_group_desc;

/* Cookie layout (see above). */
#define FT_COOKIE_ID_BITS 48
#define FT_COOKIE_ID_MASK ((UINT64_C(1) << FT_COOKIE_ID_BITS) - 1)
#define FT_COOKIE_CLASS_MASK (~FT_COOKIE_ID_MASK)
#define FT_COOKIE_MASK UINT64_MAX
#define FT_COOKIE(CLASS, ID) \
    (((uint64_t) (CLASS) << FT_COOKIE_ID_BITS) | ((ID) & FT_COOKIE_ID_MASK))
#define FT_COOKIE_CLASS(COOKIE) ((uint16_t) ((COOKIE) >> FT_COOKIE_ID_BITS))
#define FT_COOKIE_ID(COOKIE) ((COOKIE) & FT_COOKIE_ID_MASK)
#define FT_CLASS_FOREIGN_MIN 0xff00
#define FT_GROUP_FOREIGN_MIN 0xff000000u

bool ft_cookie_is_foreign(uint64_t cookie);
bool ft_group_is_foreign(uint32_t group_id);

/* One flow.  The key is (table_id, priority, match).
 *
 * The match's values and the actions live in a body that the copies of a
 * flow share (a desired flow, the plan's copy of it, the installed flow the
 * plan becomes), and so do equal flows in any table of the process: read-
 * only, and the match is not a minimatch of its own (never
 * minimatch_destroy() it).  So flow tables are for one thread. */
struct ft_body;
struct ft_flow {
    struct hmap_node node;      /* In flow_table's 'flows'. */
    struct hmap_node cookie_node;   /* In flow_table's 'by_cookie'. */
    struct minimatch match;     /* 'flow' and 'mask' point into 'body'. */
    uint64_t cookie;
    const struct ofpact *ofpacts;   /* In 'body'. */
    struct ft_body *body;       /* Shared, reference-counted. */
    uint8_t table_id;
    bool stale;                 /* Not yet added again in a refresh. */
    uint16_t priority;
    uint32_t ofpacts_len;       /* Bounded by an OpenFlow message's size. */
};

/* One group.  The key is group_id. */
struct ft_group {
    struct hmap_node node;      /* In flow_table's 'groups'. */
    uint32_t group_id;
    uint8_t type;               /* OFPGT11_*. */
    uint64_t cookie;            /* Local bookkeeping only; 0 if dumped. */
    struct ovs_list buckets;    /* Contains "struct ofputil_bucket"s. */
};

struct flow_table {
    struct hmap flows;          /* Contains "struct ft_flow"s. */
    struct hmap by_cookie;      /* The same, by cookie ('cookie_node'):
                                 * removing one owner's flows is then not a
                                 * scan of the whole table. */
    struct hmap groups;         /* Contains "struct ft_group"s. */

    /* Change record (flow_table_track_changes()). */
    bool tracking;              /* Record the owners that change. */
    bool all_changed;           /* Too many, or untraceable: assume all. */
    struct hmap changed;        /* Contains "struct ft_owner"s, by cookie. */
};

struct flow_table *flow_table_create(void);
void flow_table_destroy(struct flow_table *);
void flow_table_clear(struct flow_table *);
struct flow_table *flow_table_clone(const struct flow_table *);
void flow_table_swap(struct flow_table *, struct flow_table *);
bool flow_table_equal(const struct flow_table *, const struct flow_table *);

static inline size_t flow_table_n_flows(const struct flow_table *ft)
{
    return hmap_count(&ft->flows);
}
static inline size_t flow_table_n_groups(const struct flow_table *ft)
{
    return hmap_count(&ft->groups);
}

/* Desired-table edits.
 *
 * flow_table_add_flow() adds the flow with key ('table_id', 'priority',
 * 'match'), replacing any flow with that key (a flow equal to it in cookie
 * and actions too is kept as it is: no change).  Returns 0, EINVAL if 'cookie'
 * is foreign, or an OFPERR_* if the flow cannot be expressed in OpenFlow 1.3.
 *
 * flow_table_add_flow_str() does the same for a flow in ovs-ofctl syntax
 * ("table=1,priority=100,in_port=2,arp,actions=controller"); returns NULL or
 * a malloc()'d error message.
 *
 * flow_table_remove_flow() returns true if it removed a flow with that key.
 *
 * flow_table_remove_cookie() removes every flow and group whose cookie
 * matches 'cookie' in the 1-bits of 'mask' and returns how many it removed. */
int flow_table_add_flow(struct flow_table *, uint8_t table_id,
                        uint16_t priority, const struct match *,
                        uint64_t cookie,
                        const struct ofpact *, size_t ofpacts_len);
char *flow_table_add_flow_str(struct flow_table *, uint64_t cookie,
                              const char *) OVS_WARN_UNUSED_RESULT;

/* As flow_table_add_flow() for a match and actions that are already in the
 * canonical form (ovs-glue/flow-build.h builds them so, and a flow mod
 * decoded from OpenFlow 1.3 is): no encode and decode, which is most of
 * flow_table_add_flow()'s cost.  Only the version-dependent details are
 * dropped, as there.
 *
 * With the check on (flow_table_set_check_canonical(), for tests and
 * debugging; it is a process-wide setting), the flow is also run through
 * the OpenFlow 1.3 encode and decode, and one that does not come back the
 * same is not added: returns EPROTO (after a rate-limited log of both
 * forms), or the OFPERR_* of a flow that OpenFlow cannot express. */
int flow_table_add_flow_canonical(struct flow_table *, uint8_t table_id,
                                  uint16_t priority, const struct match *,
                                  uint64_t cookie, const struct ofpact *,
                                  size_t ofpacts_len);
void flow_table_set_check_canonical(bool);
bool flow_table_remove_flow(struct flow_table *, uint8_t table_id,
                            uint16_t priority, const struct match *);
size_t flow_table_remove_cookie(struct flow_table *, uint64_t cookie,
                                uint64_t mask);
/* Recomputing one owner's flows.  flow_table_refresh_begin() marks the
 * flows of owner 'cookie' (the whole cookie) stale and removes its groups;
 * adding a flow that the table has already, with the same cookie and
 * actions, then keeps it as it is and clears the mark (no edit, no change
 * recorded; and flow_table_add_flow_canonical() allocates nothing for it);
 * flow_table_refresh_end() removes the owner's flows still marked and
 * returns how many.  Between the two the stale flows are still in the
 * table.  So recomputing an owner whose flows did not change changes
 * nothing, where flow_table_remove_cookie() and adding them again would
 * replace every flow and record the owner as changed. */
void flow_table_refresh_begin(struct flow_table *, uint64_t cookie);
size_t flow_table_refresh_end(struct flow_table *, uint64_t cookie);
struct ft_flow *flow_table_find_flow(const struct flow_table *,
                                     uint8_t table_id, uint16_t priority,
                                     const struct minimatch *);

/* flow_table_add_group() adds group 'group_id' of 'type' (OFPGT11_*) with
 * copies of 'buckets' (a list of "struct ofputil_bucket"), replacing any
 * group with that id.  flow_table_add_group_str() parses ovs-ofctl's group
 * syntax ("group_id=1,type=all,bucket=output:1,bucket=output:2"). */
int flow_table_add_group(struct flow_table *, uint32_t group_id, uint8_t type,
                         const struct ovs_list *buckets, uint64_t cookie);
char *flow_table_add_group_str(struct flow_table *, uint64_t cookie,
                               const char *) OVS_WARN_UNUSED_RESULT;
bool flow_table_remove_group(struct flow_table *, uint32_t group_id);
struct ft_group *flow_table_find_group(const struct flow_table *,
                                       uint32_t group_id);

/* Installed-table construction from what a switch reports.  The switch's
 * form is the canonical one, but for the version-dependent details (see
 * above), which these drop as flow_table_add_flow() does. */
void flow_table_add_flow_stats(struct flow_table *,
                               const struct ofputil_flow_stats *);
void flow_table_add_group_desc(struct flow_table *,
                               const struct ofputil_group_desc *);

/* Diff and plan.
 *
 * The operations come in this order, which the switch applies within one
 * ordered bundle: groups are added and modified before the flows that may
 * reference them; flows are deleted before groups they may reference. */
enum ft_op_type {
    FT_GROUP_ADD,
    FT_GROUP_MODIFY,
    FT_FLOW_DELETE,             /* delete-strict */
    FT_FLOW_MODIFY,             /* modify-strict: actions changed */
    FT_FLOW_ADD,                /* new flow, or cookie changed (replaces) */
    FT_GROUP_DELETE,
    FT_N_OP_TYPES
};
const char *ft_op_type_to_string(enum ft_op_type);

struct ft_op {
    enum ft_op_type type;
    struct ft_flow *flow;       /* Owned; for FT_FLOW_*. */
    struct ft_group *group;     /* Owned; for FT_GROUP_*. */
};

struct ft_plan {
    struct ft_op *ops;
    size_t n_ops, allocated_ops;
    size_t n[FT_N_OP_TYPES];    /* Number of ops of each type. */
};

/* Initializes 'plan' with the operations that turn 'installed' into
 * 'desired' (copies of the flows and groups involved, so that the tables may
 * change while the plan is in flight).  Flows and groups that compare equal
 * are not touched; foreign ones in 'installed' are left alone. */
void flow_table_diff(const struct flow_table *desired,
                     const struct flow_table *installed, struct ft_plan *);
void ft_plan_destroy(struct ft_plan *);
static inline bool ft_plan_is_empty(const struct ft_plan *plan)
{
    return !plan->n_ops;
}

/* Incremental diffs.
 *
 * A table that tracks its changes records the owners (cookies) whose flows
 * were added, replaced (the old flow's owner and the new one's) or removed
 * since flow_table_forget_changes().  Suppose that when the record was last
 * cleared, 'installed' was about to become equal to 'desired' (the plan of
 * that moment was applied): then the two can differ only in flows of the
 * recorded owners, and flow_table_diff_changes() finds every difference by
 * looking at those owners' flows alone (both tables' cookie indexes), in
 * time proportional to what changed, not to the size of the tables.  Groups
 * are few and are diffed in full.
 *
 * The record gives up ("all changed", and the next diff is a full one) when
 * the table is cleared or swapped, when flow_table_mark_all_changed() says
 * so (the caller's 'installed' was read anew from a switch: the
 * supposition above no longer holds), or when so many owners changed that
 * a full diff costs about as much.
 *
 * flow_table_track_changes() starts the record of 'ft' (in the "all
 * changed" state: the first diff is a full one).  A table that does not
 * track is always "all changed". */
void flow_table_track_changes(struct flow_table *);
void flow_table_mark_all_changed(struct flow_table *);
void flow_table_forget_changes(struct flow_table *);
bool flow_table_all_changed(const struct flow_table *);
size_t flow_table_n_changed(const struct flow_table *);

/* As flow_table_diff(), but looks only at the owners recorded in 'desired'
 * (all of them if it is "all changed").  Does not clear the record. */
void flow_table_diff_changes(const struct flow_table *desired,
                             const struct flow_table *installed,
                             struct ft_plan *);

/* Applies 'plan' to 'installed', as the switch did when it confirmed it.
 * Moves the flows and groups out of 'plan' (destroy it afterwards). */
void ft_plan_apply(struct ft_plan *, struct flow_table *installed);

/* Encodes operation 'op' as an OpenFlow flow_mod or group_mod with 'xid'. */
struct ofpbuf *ft_op_encode(const struct ft_op *, enum ofputil_protocol,
                            uint32_t xid);

#endif /* ovs-glue/flow-table.h */
