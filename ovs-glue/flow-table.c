/* Flow and group tables and the diff between two of them: see
 * flow-table.h.  All OpenFlow encoding and decoding is libopenvswitch's. */
#include <config.h>

#include "ovs-glue/flow-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "flow.h"
#include "tun-metadata.h"
#include "byte-order.h"
#include "hash.h"
#include "openflow/openflow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

COVERAGE_DEFINE(flow_table_add);
COVERAGE_DEFINE(flow_table_add_unchanged);
COVERAGE_DEFINE(flow_table_diff_full);
COVERAGE_DEFINE(flow_table_diff_incremental);
COVERAGE_DEFINE(flow_table_diff_op);

/* An owner whose flows changed (flow_table_track_changes()). */
struct ft_owner {
    struct hmap_node node;      /* In flow_table's 'changed', by cookie. */
    uint64_t cookie;
};

/* The change record gives up (the next diff is a full one) beyond this many
 * owners, or a quarter of the table's flows if that is more: the
 * incremental diff then costs about what a full one does. */
#define FT_CHANGED_MIN 1024

static void ft_note_change__(struct flow_table *, uint64_t cookie);

bool
ft_cookie_is_foreign(uint64_t cookie)
{
    return FT_COOKIE_CLASS(cookie) >= FT_CLASS_FOREIGN_MIN;
}

bool
ft_group_is_foreign(uint32_t group_id)
{
    return group_id >= FT_GROUP_FOREIGN_MIN && group_id <= OFPG_MAX;
}

/* Brings 'ofpacts' (nested ones too) into the canonical form in which
 * ofpacts_equal(), a byte compare, is true exactly when two action lists
 * mean the same:
 *
 *   - Every action's 'raw' is reset to "none", as the parser leaves it.
 *     The decoder records in 'raw' which of several equivalent wire
 *     encodings an action arrived in, and that depends on the OpenFlow
 *     version, not on the action: "move" decodes as NXAST_REG_MOVE from
 *     OpenFlow 1.3 but as copy_field from 1.5, and a masked set_field as
 *     reg_load from 1.3 but as set_field from 1.5.  A desired flow
 *     canonicalized through 1.3 and the same flow dumped by a switch that
 *     speaks 1.5 would otherwise never compare equal.  With no 'raw', the
 *     encoder picks its default encoding for the connection's version,
 *     which means the same.
 *
 *   - The padding after the value and the mask of a set_field is zeroed:
 *     the decoder leaves those bytes uninitialized. */
static void
ft_ofpacts_normalize__(struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofpact *a;

    OFPACT_FOR_EACH_FLATTENED (a, ofpacts, ofpacts_len) {
        a->raw = (uint8_t) -1;
        if (a->type == OFPACT_SET_FIELD) {
            struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            size_t n = sf->field->n_bytes;
            size_t pad = ROUND_UP(n, OFPACT_ALIGNTO) - n;

            memset((uint8_t *) sf->value + n, 0, pad);
            memset((uint8_t *) ofpact_set_field_mask(sf) + n, 0, pad);
        }
    }
}

static void
ft_buckets_normalize__(struct ovs_list *buckets)
{
    struct ofputil_bucket *b;

    LIST_FOR_EACH (b, list_node, buckets) {
        ft_ofpacts_normalize__(b->ofpacts, b->ofpacts_len);
    }
}

/* Flows. */

static uint32_t
ft_flow_hash__(uint8_t table_id, uint16_t priority,
               const struct minimatch *match)
{
    return minimatch_hash(match, hash_2words(table_id, priority));
}

/* A flow's body: the values of its match (the miniflow and the minimask,
 * as minimatch_init() lays them out) and its actions, in one allocation
 * that every copy of the flow shares -- the desired flow, the plan's copy of
 * it and the installed flow that the plan becomes -- and every equal flow in
 * a table (ft_flow_intern__()), so that a flow held by both tables of a
 * switch, or by many switches, is stored once.  Immutable once built. */
struct ft_body {
    struct hmap_node node;      /* In 'ft_bodies', if 'interned'. */
    uint32_t ref_cnt;
    unsigned int size : 31;     /* Bytes in 'data'. */
    unsigned int interned : 1;
    uint64_t data[];            /* flow, mask, then the actions. */
};

/* The bodies of the flows in tables, by content: a flow that several
 * switches carry (an ENI's delivery and ARP/ND flows on every host of its
 * VNI) or that is read back from a switch is stored once.  Process-wide;
 * flow tables are used from one thread. */
static struct hmap ft_bodies = HMAP_INITIALIZER(&ft_bodies);

/* The bytes of a miniflow with the maps of 'maps' and its values. */
static size_t
ft_mf_size__(const struct miniflow *maps)
{
    return sizeof *maps + MINIFLOW_VALUES_SIZE(miniflow_n_values(maps));
}

/* The bytes of a body with room for a match with the maps of 'maps' (the
 * flow's and the mask's maps are the mask's, as in minimatch_init()) and
 * for 'ofpacts_len' bytes of actions. */
static size_t
ft_body_size__(const struct miniflow *maps, size_t ofpacts_len)
{
    size_t size = 2 * ft_mf_size__(maps) + ROUND_UP(ofpacts_len,
                                                    OFPACT_ALIGNTO);
    ovs_assert(size <= INT32_MAX);
    return size;
}

/* Initializes 'b' ('size' bytes from ft_body_size__() for the same maps
 * and actions' length): one reference, the maps written, the padding after
 * the actions zeroed (bodies are compared byte for byte). */
static void
ft_body_init__(struct ft_body *b, const struct miniflow *maps, size_t size,
               size_t ofpacts_len)
{
    size_t mf_size = ft_mf_size__(maps);
    char *p = (char *) b->data;

    b->ref_cnt = 1;
    b->interned = false;
    b->size = size;
    *(struct miniflow *) p = *maps;
    ((struct minimask *) (p + mf_size))->masks = *maps;
    if (size > 2 * mf_size + ofpacts_len) {
        memset(p + 2 * mf_size + ofpacts_len, 0,
               size - 2 * mf_size - ofpacts_len);
    }
}

/* Points 'f''s match and actions ('f->ofpacts_len' bytes) into 'b'. */
static void
ft_flow_bind__(struct ft_flow *f, struct ft_body *b)
{
    char *p = (char *) b->data;
    size_t mf_size = ft_mf_size__((const struct miniflow *) p);

    f->body = b;
    f->match.flow = (struct miniflow *) p;
    f->match.mask = (struct minimask *) (p + mf_size);
    f->ofpacts = (f->ofpacts_len
                  ? (const struct ofpact *) (p + 2 * mf_size) : NULL);
}

/* Allocates a flow with a body of its own (see ft_body_size__()).  The
 * caller fills in the match's values, its 'tun_md', the actions and the
 * rest of the flow. */
static struct ft_flow *
ft_flow_alloc__(const struct miniflow *maps, size_t ofpacts_len)
{
    size_t size = ft_body_size__(maps, ofpacts_len);
    struct ft_body *b = xmalloc(sizeof *b + size);
    struct ft_flow *f = xmalloc(sizeof *f);

    ft_body_init__(b, maps, size, ofpacts_len);
    f->ofpacts_len = ofpacts_len;
    ft_flow_bind__(f, b);
    f->match.tun_md = NULL;
    f->stale = false;
    return f;
}

/* Writes 'match''s values and 'f->ofpacts_len' bytes of 'ofpacts' into
 * the body that 'f' is bound to (built for 'match''s maps). */
static void
ft_flow_fill__(struct ft_flow *f, const struct match *match,
               const struct ofpact *ofpacts)
{
    miniflow_init(f->match.flow, &match->flow);
    minimask_init(f->match.mask, &match->wc);
    if (f->ofpacts_len) {
        memcpy(CONST_CAST(struct ofpact *, f->ofpacts), ofpacts,
               f->ofpacts_len);
    }
}

/* A new flow with a body of its own holding 'match' and 'ofpacts'. */
static struct ft_flow *
ft_flow_from_match__(const struct match *match,
                     const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct miniflow maps;

    miniflow_map_init(&maps, &match->wc.masks);
    struct ft_flow *f = ft_flow_alloc__(&maps, ofpacts_len);
    ft_flow_fill__(f, match, ofpacts);
    f->match.tun_md = tun_metadata_allocation_clone(&match->tun_md);
    return f;
}

/* The same from a minimatch. */
static struct ft_flow *
ft_flow_from_minimatch__(const struct minimatch *match,
                         const struct ofpact *ofpacts, size_t ofpacts_len)
{
    const struct miniflow *maps = &match->mask->masks;
    size_t data_size = MINIFLOW_VALUES_SIZE(miniflow_n_values(maps));
    struct ft_flow *f = ft_flow_alloc__(maps, ofpacts_len);

    memcpy(miniflow_values(f->match.flow),
           miniflow_get_values(match->flow), data_size);
    memcpy(miniflow_values(&f->match.mask->masks),
           miniflow_get_values(&match->mask->masks), data_size);
    f->match.tun_md = tun_metadata_allocation_clone(match->tun_md);
    if (ofpacts_len) {
        memcpy(CONST_CAST(struct ofpact *, f->ofpacts), ofpacts,
               ofpacts_len);
    }
    return f;
}

static void
ft_body_unref__(struct ft_body *b)
{
    if (b && !--b->ref_cnt) {
        if (b->interned) {
            hmap_remove(&ft_bodies, &b->node);
        }
        free(b);
    }
}

static void
ft_flow_free__(struct ft_flow *f)
{
    if (f) {
        free(f->match.tun_md);
        ft_body_unref__(f->body);
        free(f);
    }
}

/* A copy of 'src' that shares its body. */
static struct ft_flow *
ft_flow_clone__(const struct ft_flow *src)
{
    struct ft_flow *f = xmalloc(sizeof *f);

    f->match.flow = src->match.flow;
    f->match.mask = src->match.mask;
    f->match.tun_md = tun_metadata_allocation_clone(src->match.tun_md);
    f->table_id = src->table_id;
    f->priority = src->priority;
    f->cookie = src->cookie;
    f->ofpacts = src->ofpacts;
    f->ofpacts_len = src->ofpacts_len;
    f->body = src->body;
    f->body->ref_cnt++;
    f->stale = false;
    return f;
}

/* The interned body with the bytes of 'b' and hash 'hash', if any. */
static struct ft_body *
ft_body_find__(const struct ft_body *b, uint32_t hash)
{
    struct ft_body *o;

    HMAP_FOR_EACH_WITH_HASH (o, node, hash, &ft_bodies) {
        if (o->size == b->size && !memcmp(o->data, b->data, b->size)) {
            return o;
        }
    }
    return NULL;
}

static void
ft_body_intern__(struct ft_body *b, uint32_t hash)
{
    hmap_insert(&ft_bodies, &b->node, hash);
    b->interned = true;
}

/* Makes 'f', about to enter a table, share the body of an equal flow that
 * is already in one, or makes its body the one that later equal flows
 * share. */
static void
ft_flow_intern__(struct ft_flow *f)
{
    struct ft_body *b = f->body;

    if (b->interned) {
        return;
    }

    uint32_t hash = hash_bytes64(b->data, b->size, 0);
    struct ft_body *o = ft_body_find__(b, hash);
    if (o) {
        o->ref_cnt++;
        ft_body_unref__(b);
        ft_flow_bind__(f, o);
    } else {
        ft_body_intern__(b, hash);
    }
}

/* Both action lists are in canonical form (ft_ofpacts_normalize__()), so
 * a byte compare suffices: this runs for every flow of a switch at each
 * reconciliation. */
static bool
ft_flow_same_value__(const struct ft_flow *a, const struct ft_flow *b)
{
    return ofpacts_equal(a->ofpacts, a->ofpacts_len,
                         b->ofpacts, b->ofpacts_len);
}

/* The flow of 'ft' with the key whose hash is 'hash', if any. */
static struct ft_flow *
ft_find__(const struct flow_table *ft, uint8_t table_id, uint16_t priority,
          const struct minimatch *match, uint32_t hash)
{
    struct ft_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &ft->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

struct ft_flow *
flow_table_find_flow(const struct flow_table *ft, uint8_t table_id,
                     uint16_t priority, const struct minimatch *match)
{
    return ft_find__(ft, table_id, priority, match,
                     ft_flow_hash__(table_id, priority, match));
}

/* Puts 'f' (its key's hash 'hash') into 'ft' in place of 'old', the flow
 * with its key or NULL, and frees 'old'; or, if 'old' is the same flow
 * (cookie and actions too), keeps 'old' and frees 'f'. */
static void
ft_put__(struct flow_table *ft, struct ft_flow *f, struct ft_flow *old,
         uint32_t hash)
{
    if (!old) {
        hmap_insert(&ft->flows, &f->node, hash);
        hmap_insert(&ft->by_cookie, &f->cookie_node, hash_uint64(f->cookie));
        ft_note_change__(ft, f->cookie);
    } else if (old->cookie == f->cookie && ft_flow_same_value__(old, f)) {
        old->stale = false;     /* The same flow: no edit. */
        ft_flow_free__(f);
    } else {
        hmap_replace(&ft->flows, &old->node, &f->node);
        hmap_remove(&ft->by_cookie, &old->cookie_node);
        hmap_insert(&ft->by_cookie, &f->cookie_node, hash_uint64(f->cookie));
        ft_note_change__(ft, old->cookie);
        ft_note_change__(ft, f->cookie);
        ft_flow_free__(old);
    }
}

/* Inserts 'f' into 'ft', replacing (and freeing) any flow with its key. */
static void
flow_table_insert_flow__(struct flow_table *ft, struct ft_flow *f)
{
    uint32_t hash = ft_flow_hash__(f->table_id, f->priority, &f->match);

    ft_flow_intern__(f);
    ft_put__(ft, f, ft_find__(ft, f->table_id, f->priority, &f->match, hash),
             hash);
}

static void
flow_table_remove_flow__(struct flow_table *ft, struct ft_flow *f)
{
    ft_note_change__(ft, f->cookie);
    hmap_remove(&ft->flows, &f->node);
    hmap_remove(&ft->by_cookie, &f->cookie_node);
    ft_flow_free__(f);
}

/* Turns 'fm' (an add with match, priority, table, cookie and actions) into a
 * flow in the form a switch reports it: encoded and decoded with OpenFlow
 * 1.3. */
static int
ft_flow_canonicalize__(const struct ofputil_flow_mod *fm, struct ft_flow **fp)
{
    enum ofputil_protocol p = OFPUTIL_P_OF13_OXM;
    struct ofputil_flow_mod fm2;
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts;
    struct ofpbuf *msg;
    enum ofperr error;

    msg = ofputil_encode_flow_mod(fm, p);
    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    error = ofputil_decode_flow_mod(&fm2, msg->data, p, NULL, NULL, &ofpacts,
                                    OFPP_MAX, 255);
    ofpbuf_delete(msg);
    if (error) {
        ofpbuf_uninit(&ofpacts);
        return error;
    }

    struct ft_flow *f = ft_flow_from_minimatch__(&fm2.match, ofpacts.data,
                                                 ofpacts.size);
    minimatch_destroy(&fm2.match);
    f->table_id = fm->table_id;
    f->priority = fm->priority;
    f->cookie = ntohll(fm->new_cookie);
    ofpbuf_uninit(&ofpacts);
    ft_ofpacts_normalize__(CONST_CAST(struct ofpact *, f->ofpacts),
                           f->ofpacts_len);
    *fp = f;
    return 0;
}

static void
ft_flow_mod_init__(struct ofputil_flow_mod *fm, uint16_t command,
                   uint8_t table_id, uint16_t priority, uint64_t cookie,
                   const struct ofpact *ofpacts, size_t ofpacts_len)
{
    memset(fm, 0, sizeof *fm);
    fm->priority = priority;
    fm->cookie = htonll(0);
    fm->cookie_mask = htonll(0);
    fm->new_cookie = command == OFPFC_ADD ? htonll(cookie) : OVS_BE64_MAX;
    fm->modify_cookie = false;
    fm->table_id = table_id;
    fm->command = command;
    fm->buffer_id = UINT32_MAX;
    fm->out_port = OFPP_ANY;
    fm->out_group = OFPG_ANY;
    fm->ofpacts = CONST_CAST(struct ofpact *, ofpacts);
    fm->ofpacts_len = ofpacts_len;
}

int
flow_table_add_flow(struct flow_table *ft, uint8_t table_id,
                    uint16_t priority, const struct match *match,
                    uint64_t cookie,
                    const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofputil_flow_mod fm;
    struct ft_flow *f;
    int error;

    if (ft_cookie_is_foreign(cookie)) {
        return EINVAL;
    }
    ft_flow_mod_init__(&fm, OFPFC_ADD, table_id, priority, cookie,
                       ofpacts, ofpacts_len);
    minimatch_init(&fm.match, match);
    error = ft_flow_canonicalize__(&fm, &f);
    minimatch_destroy(&fm.match);
    if (!error) {
        COVERAGE_INC(flow_table_add);
        flow_table_insert_flow__(ft, f);
    }
    return error;
}

static bool check_canonical;

void
flow_table_set_check_canonical(bool check)
{
    check_canonical = check;
}

static void
ft_flow_format__(const struct ft_flow *f, struct ds *s)
{
    struct ofpact_format_params fp = { .s = s };

    ds_put_format(s, "table=%d,", f->table_id);
    minimatch_format(&f->match, NULL, NULL, s, f->priority);
    ds_put_cstr(s, ",actions=");
    ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
}

/* With the check on: 0 if 'f' is what the OpenFlow 1.3 round trip makes of
 * it, else an error (see flow_table_add_flow_canonical()). */
static int
ft_flow_check_canonical__(const struct ft_flow *f)
{
    struct ofputil_flow_mod fm;
    struct ft_flow *c;
    int error;

    ft_flow_mod_init__(&fm, OFPFC_ADD, f->table_id, f->priority, f->cookie,
                       f->ofpacts, f->ofpacts_len);
    fm.match = f->match;        /* Borrowed: encoding only reads it. */
    error = ft_flow_canonicalize__(&fm, &c);
    if (error) {
        return error;
    }
    if (!minimatch_equal(&c->match, &f->match)
        || !ofpacts_equal(c->ofpacts, c->ofpacts_len,
                          f->ofpacts, f->ofpacts_len)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
        struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;

        ft_flow_format__(f, &a);
        ft_flow_format__(c, &b);
        VLOG_WARN_RL(&rl, "flow not in canonical form: %s (canonical: %s)",
                     ds_cstr(&a), ds_cstr(&b));
        ds_destroy(&a);
        ds_destroy(&b);
        error = EPROTO;
    }
    ft_flow_free__(c);
    return error;
}

int
flow_table_add_flow_canonical(struct flow_table *ft, uint8_t table_id,
                              uint16_t priority, const struct match *match,
                              uint64_t cookie, const struct ofpact *ofpacts,
                              size_t ofpacts_len)
{
    if (ft_cookie_is_foreign(cookie)) {
        return EINVAL;
    }

    /* The body is built in 'stub' first: a flow that the table has already
     * (a refresh, flow_table_refresh_begin()) costs no allocation, and one
     * whose body is in another table costs the flow's alone. */
    uint64_t stub[2048 / 8];
    struct miniflow maps;
    miniflow_map_init(&maps, &match->wc.masks);
    size_t size = ft_body_size__(&maps, ofpacts_len);
    struct ft_body *b = (sizeof *b + size <= sizeof stub
                         ? (struct ft_body *) stub
                         : xmalloc(sizeof *b + size));
    struct ft_flow tmp;

    ft_body_init__(b, &maps, size, ofpacts_len);
    tmp.ofpacts_len = ofpacts_len;
    ft_flow_bind__(&tmp, b);
    ft_flow_fill__(&tmp, match, ofpacts);
    tmp.match.tun_md = (match->tun_md.valid
                        ? CONST_CAST(struct tun_metadata_allocation *,
                                     &match->tun_md)
                        : NULL);    /* Borrowed. */
    ft_ofpacts_normalize__(CONST_CAST(struct ofpact *, tmp.ofpacts),
                           ofpacts_len);
    tmp.table_id = table_id;
    tmp.priority = priority;
    tmp.cookie = cookie;
    tmp.stale = false;

    int error = check_canonical ? ft_flow_check_canonical__(&tmp) : 0;
    if (error) {
        goto out;
    }

    uint32_t key_hash = ft_flow_hash__(table_id, priority, &tmp.match);
    struct ft_flow *old = ft_find__(ft, table_id, priority, &tmp.match,
                                    key_hash);
    if (old && old->cookie == cookie && ft_flow_same_value__(old, &tmp)) {
        COVERAGE_INC(flow_table_add_unchanged);
        old->stale = false;
        goto out;
    }

    uint32_t hash = hash_bytes64(b->data, size, 0);
    struct ft_body *shared = ft_body_find__(b, hash);
    if (shared) {
        shared->ref_cnt++;
    } else {
        if (b == (struct ft_body *) stub) {
            shared = xmemdup(b, sizeof *b + size);
        } else {
            shared = b;
            b = NULL;
        }
        ft_body_intern__(shared, hash);
    }

    struct ft_flow *f = xmalloc(sizeof *f);
    *f = tmp;
    ft_flow_bind__(f, shared);
    f->match.tun_md = tun_metadata_allocation_clone(&match->tun_md);
    COVERAGE_INC(flow_table_add);
    ft_put__(ft, f, old, key_hash);

out:
    if (b != (struct ft_body *) stub) {
        free(b);
    }
    return error;
}

char *
flow_table_add_flow_str(struct flow_table *ft, uint64_t cookie,
                        const char *s)
{
    enum ofputil_protocol usable;
    struct ofputil_flow_mod fm;
    struct ft_flow *f;
    char *error;

    if (ft_cookie_is_foreign(cookie)) {
        return xasprintf("cookie %#"PRIx64" belongs to a foreign class",
                         cookie);
    }
    error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL, OFPFC_ADD, &usable);
    if (error) {
        return error;
    }
    fm.new_cookie = htonll(cookie);
    if (fm.table_id == 0xff) {
        fm.table_id = 0;        /* No "table=": table 0, as ovs-ofctl. */
    }
    int err = ft_flow_canonicalize__(&fm, &f);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    if (err) {
        return xasprintf("%s: %s", s, ofperr_to_string(err));
    }
    COVERAGE_INC(flow_table_add);
    flow_table_insert_flow__(ft, f);
    return NULL;
}

bool
flow_table_remove_flow(struct flow_table *ft, uint8_t table_id,
                       uint16_t priority, const struct match *match)
{
    struct ofputil_flow_mod fm;
    struct ft_flow *c, *f;

    /* Canonicalize the key the way flow_table_add_flow() did. */
    ft_flow_mod_init__(&fm, OFPFC_ADD, table_id, priority, 0, NULL, 0);
    minimatch_init(&fm.match, match);
    if (ft_flow_canonicalize__(&fm, &c)) {
        minimatch_destroy(&fm.match);
        return false;
    }
    minimatch_destroy(&fm.match);
    f = flow_table_find_flow(ft, table_id, priority, &c->match);
    ft_flow_free__(c);
    if (f) {
        flow_table_remove_flow__(ft, f);
        return true;
    }
    return false;
}

void
flow_table_add_flow_stats(struct flow_table *ft,
                          const struct ofputil_flow_stats *fs)
{
    struct ft_flow *f = ft_flow_from_match__(&fs->match, fs->ofpacts,
                                             fs->ofpacts_len);
    f->table_id = fs->table_id;
    f->priority = fs->priority;
    f->cookie = ntohll(fs->cookie);
    ft_ofpacts_normalize__(CONST_CAST(struct ofpact *, f->ofpacts),
                           f->ofpacts_len);
    flow_table_insert_flow__(ft, f);
}

/* Groups. */

static void
ft_group_free__(struct ft_group *g)
{
    if (g) {
        ofputil_bucket_list_destroy(&g->buckets);
        free(g);
    }
}

static struct ft_group *
ft_group_create__(uint32_t group_id, uint8_t type, uint64_t cookie,
                  const struct ovs_list *buckets)
{
    struct ft_group *g = xmalloc(sizeof *g);

    g->group_id = group_id;
    g->type = type;
    g->cookie = cookie;
    ovs_list_init(&g->buckets);
    if (buckets) {
        ofputil_bucket_clone_list(&g->buckets, buckets, NULL);
    }
    return g;
}

static struct ft_group *
ft_group_clone__(const struct ft_group *src)
{
    return ft_group_create__(src->group_id, src->type, src->cookie,
                             &src->buckets);
}

static bool
ft_group_same_value__(const struct ft_group *a, const struct ft_group *b)
{
    if (a->type != b->type
        || ovs_list_size(&a->buckets) != ovs_list_size(&b->buckets)) {
        return false;
    }

    const struct ovs_list *na = ovs_list_front(&a->buckets);
    const struct ovs_list *nb = ovs_list_front(&b->buckets);
    for (; na != &a->buckets; na = na->next, nb = nb->next) {
        const struct ofputil_bucket *ba, *bb;
        ba = CONTAINER_OF(na, struct ofputil_bucket, list_node);
        bb = CONTAINER_OF(nb, struct ofputil_bucket, list_node);
        if (ba->weight != bb->weight || ba->watch_port != bb->watch_port
            || ba->watch_group != bb->watch_group
            || !ofpacts_equal(ba->ofpacts, ba->ofpacts_len,
                              bb->ofpacts, bb->ofpacts_len)) {
            return false;
        }
    }
    return true;
}

struct ft_group *
flow_table_find_group(const struct flow_table *ft, uint32_t group_id)
{
    struct ft_group *g;

    HMAP_FOR_EACH_WITH_HASH (g, node, hash_int(group_id, 0), &ft->groups) {
        if (g->group_id == group_id) {
            return g;
        }
    }
    return NULL;
}

static void
flow_table_insert_group__(struct flow_table *ft, struct ft_group *g)
{
    struct ft_group *old = flow_table_find_group(ft, g->group_id);

    if (old) {
        hmap_replace(&ft->groups, &old->node, &g->node);
        ft_group_free__(old);
    } else {
        hmap_insert(&ft->groups, &g->node, hash_int(g->group_id, 0));
    }
}

/* Encodes 'g' as a group_mod with 'command' for 'version'.  The buckets are
 * lent to the group_mod for the encoding and given back. */
static struct ofpbuf *
ft_group_encode__(struct ft_group *g, uint16_t command,
                  enum ofp_version version)
{
    struct ofputil_group_mod gm;
    struct ofpbuf *msg;

    memset(&gm, 0, sizeof gm);
    gm.command = command;
    gm.type = g->type;
    gm.group_id = g->group_id;
    gm.command_bucket_id = OFPG15_BUCKET_ALL;
    ovs_list_init(&gm.buckets);
    if (command != OFPGC11_DELETE) {
        ovs_list_push_back_all(&gm.buckets, &g->buckets);
    }
    msg = ofputil_encode_group_mod(version, &gm, NULL, -1);
    ovs_list_push_back_all(&g->buckets, &gm.buckets);
    return msg;
}

int
flow_table_add_group(struct flow_table *ft, uint32_t group_id, uint8_t type,
                     const struct ovs_list *buckets, uint64_t cookie)
{
    struct ofputil_group_mod gm;
    struct ft_group *g;
    struct ofpbuf *msg;
    enum ofperr error;

    if (ft_group_is_foreign(group_id) || group_id > OFPG_MAX
        || ft_cookie_is_foreign(cookie)) {
        return EINVAL;
    }

    /* Canonicalize the buckets through an OpenFlow 1.3 group_mod. */
    g = ft_group_create__(group_id, type, cookie, buckets);
    msg = ft_group_encode__(g, OFPGC11_ADD, OFP13_VERSION);
    error = ofputil_decode_group_mod(msg->data, &gm);
    ofpbuf_delete(msg);
    if (error) {
        ft_group_free__(g);
        return error;
    }
    ofputil_bucket_list_destroy(&g->buckets);
    ovs_list_init(&g->buckets);
    ovs_list_push_back_all(&g->buckets, &gm.buckets);
    ofputil_uninit_group_mod(&gm);
    ft_buckets_normalize__(&g->buckets);

    COVERAGE_INC(flow_table_add);
    flow_table_insert_group__(ft, g);
    return 0;
}

char *
flow_table_add_group_str(struct flow_table *ft, uint64_t cookie,
                         const char *s)
{
    enum ofputil_protocol usable;
    struct ofputil_group_mod gm;
    char *error;

    error = parse_ofp_group_mod_str(&gm, OFPGC11_ADD, s, NULL, NULL,
                                    &usable);
    if (error) {
        return error;
    }
    int err = flow_table_add_group(ft, gm.group_id, gm.type, &gm.buckets,
                                   cookie);
    ofputil_uninit_group_mod(&gm);
    return (err == EINVAL
            ? xasprintf("%s: foreign group id or cookie", s)
            : err ? xasprintf("%s: %s", s, ofperr_to_string(err))
            : NULL);
}

bool
flow_table_remove_group(struct flow_table *ft, uint32_t group_id)
{
    struct ft_group *g = flow_table_find_group(ft, group_id);

    if (g) {
        hmap_remove(&ft->groups, &g->node);
        ft_group_free__(g);
        return true;
    }
    return false;
}

void
flow_table_add_group_desc(struct flow_table *ft,
                          const struct ofputil_group_desc *gd)
{
    struct ft_group *g = ft_group_create__(gd->group_id, gd->type, 0,
                                           &gd->buckets);
    ft_buckets_normalize__(&g->buckets);
    flow_table_insert_group__(ft, g);
}

/* Tables. */

struct flow_table *
flow_table_create(void)
{
    struct flow_table *ft = xmalloc(sizeof *ft);

    hmap_init(&ft->flows);
    hmap_init(&ft->by_cookie);
    hmap_init(&ft->groups);
    ft->tracking = false;
    ft->all_changed = true;
    hmap_init(&ft->changed);
    return ft;
}

void
flow_table_clear(struct flow_table *ft)
{
    struct ft_flow *f;
    struct ft_group *g;

    flow_table_mark_all_changed(ft);
    hmap_clear(&ft->by_cookie);
    HMAP_FOR_EACH_POP (f, node, &ft->flows) {
        ft_flow_free__(f);
    }
    HMAP_FOR_EACH_POP (g, node, &ft->groups) {
        ft_group_free__(g);
    }
}

void
flow_table_destroy(struct flow_table *ft)
{
    if (ft) {
        flow_table_clear(ft);
        hmap_destroy(&ft->flows);
        hmap_destroy(&ft->by_cookie);
        hmap_destroy(&ft->groups);
        hmap_destroy(&ft->changed);
        free(ft);
    }
}

struct flow_table *
flow_table_clone(const struct flow_table *src)
{
    struct flow_table *ft = flow_table_create();
    const struct ft_flow *f;
    const struct ft_group *g;

    hmap_reserve(&ft->flows, hmap_count(&src->flows));
    hmap_reserve(&ft->by_cookie, hmap_count(&src->flows));
    HMAP_FOR_EACH (f, node, &src->flows) {
        struct ft_flow *c = ft_flow_clone__(f);
        hmap_insert(&ft->flows, &c->node, f->node.hash);
        hmap_insert(&ft->by_cookie, &c->cookie_node, f->cookie_node.hash);
    }
    HMAP_FOR_EACH (g, node, &src->groups) {
        struct ft_group *c = ft_group_clone__(g);
        hmap_insert(&ft->groups, &c->node, g->node.hash);
    }
    return ft;
}

/* Exchanges the contents of 'a' and 'b': a flow computation may build a
 * complete new desired table and swap it in.  Each keeps its own change
 * tracking, and all of each has changed. */
void
flow_table_swap(struct flow_table *a, struct flow_table *b)
{
    hmap_swap(&a->flows, &b->flows);
    hmap_swap(&a->by_cookie, &b->by_cookie);
    hmap_swap(&a->groups, &b->groups);
    flow_table_mark_all_changed(a);
    flow_table_mark_all_changed(b);
}

bool
flow_table_equal(const struct flow_table *a, const struct flow_table *b)
{
    const struct ft_flow *f;
    const struct ft_group *g;

    if (hmap_count(&a->flows) != hmap_count(&b->flows)
        || hmap_count(&a->groups) != hmap_count(&b->groups)) {
        return false;
    }
    HMAP_FOR_EACH (f, node, &a->flows) {
        const struct ft_flow *o = flow_table_find_flow(b, f->table_id,
                                                       f->priority,
                                                       &f->match);
        if (!o || o->cookie != f->cookie || !ft_flow_same_value__(f, o)) {
            return false;
        }
    }
    HMAP_FOR_EACH (g, node, &a->groups) {
        const struct ft_group *o = flow_table_find_group(b, g->group_id);
        if (!o || !ft_group_same_value__(g, o)) {
            return false;
        }
    }
    return true;
}

size_t
flow_table_remove_cookie(struct flow_table *ft, uint64_t cookie,
                         uint64_t mask)
{
    struct ft_flow *f;
    struct ft_group *g;
    size_t n = 0;

    if (mask == FT_COOKIE_MASK) {
        /* One owner: its flows through the cookie index. */
        struct hmap_node *node = hmap_first_with_hash(&ft->by_cookie,
                                                      hash_uint64(cookie));
        while (node) {
            struct hmap_node *next = hmap_next_with_hash(node);
            f = CONTAINER_OF(node, struct ft_flow, cookie_node);
            if (f->cookie == cookie) {
                flow_table_remove_flow__(ft, f);
                n++;
            }
            node = next;
        }
    } else {
        HMAP_FOR_EACH_SAFE (f, node, &ft->flows) {
            if (!((f->cookie ^ cookie) & mask)) {
                flow_table_remove_flow__(ft, f);
                n++;
            }
        }
    }
    HMAP_FOR_EACH_SAFE (g, node, &ft->groups) {
        if (!((g->cookie ^ cookie) & mask)) {
            hmap_remove(&ft->groups, &g->node);
            ft_group_free__(g);
            n++;
        }
    }
    return n;
}

void
flow_table_refresh_begin(struct flow_table *ft, uint64_t cookie)
{
    struct ft_flow *f;
    struct ft_group *g;

    HMAP_FOR_EACH_WITH_HASH (f, cookie_node, hash_uint64(cookie),
                             &ft->by_cookie) {
        if (f->cookie == cookie) {
            f->stale = true;
        }
    }
    HMAP_FOR_EACH_SAFE (g, node, &ft->groups) {
        if (g->cookie == cookie) {
            hmap_remove(&ft->groups, &g->node);
            ft_group_free__(g);
        }
    }
}

size_t
flow_table_refresh_end(struct flow_table *ft, uint64_t cookie)
{
    struct hmap_node *node = hmap_first_with_hash(&ft->by_cookie,
                                                  hash_uint64(cookie));
    size_t n = 0;

    while (node) {
        struct hmap_node *next = hmap_next_with_hash(node);
        struct ft_flow *f = CONTAINER_OF(node, struct ft_flow, cookie_node);
        if (f->cookie == cookie && f->stale) {
            flow_table_remove_flow__(ft, f);
            n++;
        }
        node = next;
    }
    return n;
}

/* Change record. */

void
flow_table_track_changes(struct flow_table *ft)
{
    ft->tracking = true;
    flow_table_mark_all_changed(ft);
}

static void
ft_changed_clear__(struct flow_table *ft)
{
    struct ft_owner *o;

    HMAP_FOR_EACH_POP (o, node, &ft->changed) {
        free(o);
    }
    hmap_shrink(&ft->changed);
}

void
flow_table_mark_all_changed(struct flow_table *ft)
{
    ft->all_changed = true;
    if (!hmap_is_empty(&ft->changed)) {
        ft_changed_clear__(ft);
    }
}

void
flow_table_forget_changes(struct flow_table *ft)
{
    ft->all_changed = !ft->tracking;
    ft_changed_clear__(ft);
}

bool
flow_table_all_changed(const struct flow_table *ft)
{
    return !ft->tracking || ft->all_changed;
}

size_t
flow_table_n_changed(const struct flow_table *ft)
{
    return (flow_table_all_changed(ft) ? hmap_count(&ft->flows)
            : hmap_count(&ft->changed));
}

/* Records that the flows of owner 'cookie' in 'ft' changed. */
static void
ft_note_change__(struct flow_table *ft, uint64_t cookie)
{
    if (!ft->tracking || ft->all_changed) {
        return;
    }

    uint32_t hash = hash_uint64(cookie);
    struct ft_owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash, &ft->changed) {
        if (o->cookie == cookie) {
            return;
        }
    }
    if (hmap_count(&ft->changed) >= MAX(FT_CHANGED_MIN,
                                        hmap_count(&ft->flows) / 4)) {
        flow_table_mark_all_changed(ft);
        return;
    }
    o = xmalloc(sizeof *o);
    o->cookie = cookie;
    hmap_insert(&ft->changed, &o->node, hash);
}

/* Plans. */

const char *
ft_op_type_to_string(enum ft_op_type type)
{
    switch (type) {
    case FT_GROUP_ADD: return "group-add";
    case FT_GROUP_MODIFY: return "group-modify";
    case FT_FLOW_DELETE: return "flow-delete";
    case FT_FLOW_MODIFY: return "flow-modify";
    case FT_FLOW_ADD: return "flow-add";
    case FT_GROUP_DELETE: return "group-delete";
    case FT_N_OP_TYPES: break;
    }
    return "<invalid>";
}

static void
ft_plan_push__(struct ft_plan *plan, enum ft_op_type type,
               struct ft_flow *flow, struct ft_group *group)
{
    if (plan->n_ops >= plan->allocated_ops) {
        plan->ops = x2nrealloc(plan->ops, &plan->allocated_ops,
                               sizeof *plan->ops);
    }
    plan->ops[plan->n_ops++] = (struct ft_op) {
        .type = type, .flow = flow, .group = group,
    };
    plan->n[type]++;
    COVERAGE_INC(flow_table_diff_op);
}

/* Installed flow 'i': deleted if no desired flow has its key. */
static void
ft_diff_installed_flow__(const struct flow_table *desired,
                         const struct ft_flow *i, struct ft_plan *plan)
{
    if (!ft_cookie_is_foreign(i->cookie)
        && !flow_table_find_flow(desired, i->table_id, i->priority,
                                 &i->match)) {
        ft_plan_push__(plan, FT_FLOW_DELETE, ft_flow_clone__(i), NULL);
    }
}

/* Desired flow 'd': added if not installed or installed with another
 * cookie, modified if installed with other actions. */
static void
ft_diff_desired_flow__(const struct ft_flow *d,
                       const struct flow_table *installed,
                       struct ft_plan *plan)
{
    const struct ft_flow *i = flow_table_find_flow(installed, d->table_id,
                                                   d->priority, &d->match);
    if (!i || i->cookie != d->cookie) {
        ft_plan_push__(plan, FT_FLOW_ADD, ft_flow_clone__(d), NULL);
    } else if (!ft_flow_same_value__(d, i)) {
        ft_plan_push__(plan, FT_FLOW_MODIFY, ft_flow_clone__(d), NULL);
    }
}

static void
ft_diff_groups__(const struct flow_table *desired,
                 const struct flow_table *installed, struct ft_plan *plan)
{
    const struct ft_group *dg, *ig;

    HMAP_FOR_EACH (dg, node, &desired->groups) {
        ig = flow_table_find_group(installed, dg->group_id);
        if (!ig) {
            ft_plan_push__(plan, FT_GROUP_ADD, NULL, ft_group_clone__(dg));
        } else if (!ft_group_same_value__(dg, ig)) {
            ft_plan_push__(plan, FT_GROUP_MODIFY, NULL, ft_group_clone__(dg));
        }
    }
    HMAP_FOR_EACH (ig, node, &installed->groups) {
        if (!ft_group_is_foreign(ig->group_id)
            && !flow_table_find_group(desired, ig->group_id)) {
            ft_plan_push__(plan, FT_GROUP_DELETE, NULL, ft_group_clone__(ig));
        }
    }
}

/* The diffs produce their operations in no particular order: sorts them
 * stably by type, the order in which the switch must apply them. */
static void
ft_plan_sort__(struct ft_plan *plan)
{
    size_t start[FT_N_OP_TYPES];
    size_t pos = 0;
    bool sorted = true;

    for (size_t k = 1; k < plan->n_ops; k++) {
        if (plan->ops[k - 1].type > plan->ops[k].type) {
            sorted = false;
            break;
        }
    }
    if (sorted) {
        return;
    }
    for (int t = 0; t < FT_N_OP_TYPES; t++) {
        start[t] = pos;
        pos += plan->n[t];
    }
    struct ft_op *ops = xmalloc(plan->n_ops * sizeof *ops);
    for (size_t k = 0; k < plan->n_ops; k++) {
        ops[start[plan->ops[k].type]++] = plan->ops[k];
    }
    free(plan->ops);
    plan->ops = ops;
    plan->allocated_ops = plan->n_ops;
}

void
flow_table_diff(const struct flow_table *desired,
                const struct flow_table *installed, struct ft_plan *plan)
{
    const struct ft_flow *d, *i;

    COVERAGE_INC(flow_table_diff_full);
    memset(plan, 0, sizeof *plan);
    ft_diff_groups__(desired, installed, plan);
    HMAP_FOR_EACH (i, node, &installed->flows) {
        ft_diff_installed_flow__(desired, i, plan);
    }
    HMAP_FOR_EACH (d, node, &desired->flows) {
        ft_diff_desired_flow__(d, installed, plan);
    }
    ft_plan_sort__(plan);
}

/* Why looking at the recorded owners suffices (see flow-table.h): when the
 * record was cleared, 'installed' became equal to 'desired' (less foreign
 * flows).  A key whose flow differs now was added, replaced or removed in
 * 'desired' since.  If 'desired' has it, its current owner was recorded
 * (the last edit of the key put it there): the second loop finds it.  If
 * not, the owner it had when the record was cleared -- the owner that
 * 'installed' has -- was recorded by the first edit of the key: the first
 * loop finds it in 'installed'. */
void
flow_table_diff_changes(const struct flow_table *desired,
                        const struct flow_table *installed,
                        struct ft_plan *plan)
{
    const struct ft_owner *o;

    if (flow_table_all_changed(desired)) {
        flow_table_diff(desired, installed, plan);
        return;
    }

    COVERAGE_INC(flow_table_diff_incremental);
    memset(plan, 0, sizeof *plan);
    ft_diff_groups__(desired, installed, plan);
    HMAP_FOR_EACH (o, node, &desired->changed) {
        uint32_t hash = hash_uint64(o->cookie);
        const struct ft_flow *f;

        HMAP_FOR_EACH_WITH_HASH (f, cookie_node, hash, &installed->by_cookie) {
            if (f->cookie == o->cookie) {
                ft_diff_installed_flow__(desired, f, plan);
            }
        }
        HMAP_FOR_EACH_WITH_HASH (f, cookie_node, hash, &desired->by_cookie) {
            if (f->cookie == o->cookie) {
                ft_diff_desired_flow__(f, installed, plan);
            }
        }
    }
    ft_plan_sort__(plan);
}

void
ft_plan_destroy(struct ft_plan *plan)
{
    if (plan) {
        for (size_t k = 0; k < plan->n_ops; k++) {
            ft_flow_free__(plan->ops[k].flow);
            ft_group_free__(plan->ops[k].group);
        }
        free(plan->ops);
        memset(plan, 0, sizeof *plan);
    }
}

void
ft_plan_apply(struct ft_plan *plan, struct flow_table *installed)
{
    for (size_t k = 0; k < plan->n_ops; k++) {
        struct ft_op *op = &plan->ops[k];
        struct ft_flow *f;

        switch (op->type) {
        case FT_FLOW_ADD:
        case FT_FLOW_MODIFY:
            flow_table_insert_flow__(installed, op->flow);
            op->flow = NULL;
            break;
        case FT_FLOW_DELETE:
            f = flow_table_find_flow(installed, op->flow->table_id,
                                     op->flow->priority, &op->flow->match);
            if (f) {
                flow_table_remove_flow__(installed, f);
            }
            break;
        case FT_GROUP_ADD:
        case FT_GROUP_MODIFY:
            flow_table_insert_group__(installed, op->group);
            op->group = NULL;
            break;
        case FT_GROUP_DELETE:
            flow_table_remove_group(installed, op->group->group_id);
            break;
        case FT_N_OP_TYPES:
        default:
            OVS_NOT_REACHED();
        }
    }
}

struct ofpbuf *
ft_op_encode(const struct ft_op *op, enum ofputil_protocol protocol,
             uint32_t xid)
{
    enum ofp_version version = ofputil_protocol_to_ofp_version(protocol);
    struct ofputil_flow_mod fm;
    struct ofpbuf *msg;

    switch (op->type) {
    case FT_FLOW_ADD:
    case FT_FLOW_MODIFY:
    case FT_FLOW_DELETE: {
        const struct ft_flow *f = op->flow;
        uint16_t command = (op->type == FT_FLOW_ADD ? OFPFC_ADD
                            : op->type == FT_FLOW_MODIFY ? OFPFC_MODIFY_STRICT
                            : OFPFC_DELETE_STRICT);
        bool del = op->type == FT_FLOW_DELETE;
        ft_flow_mod_init__(&fm, command, f->table_id, f->priority, f->cookie,
                           del ? NULL : f->ofpacts, del ? 0 : f->ofpacts_len);
        fm.match = f->match;    /* Borrowed: encoding only reads it. */
        msg = ofputil_encode_flow_mod(&fm, protocol);
        break;
    }
    case FT_GROUP_ADD:
    case FT_GROUP_MODIFY:
    case FT_GROUP_DELETE: {
        uint16_t command = (op->type == FT_GROUP_ADD ? OFPGC11_ADD
                            : op->type == FT_GROUP_MODIFY ? OFPGC11_MODIFY
                            : OFPGC11_DELETE);
        msg = ft_group_encode__(op->group, command, version);
        break;
    }
    case FT_N_OP_TYPES:
    default:
        OVS_NOT_REACHED();
    }
    ((struct ofp_header *) msg->data)->xid = htonl(xid);
    return msg;
}
