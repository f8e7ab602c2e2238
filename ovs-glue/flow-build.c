/* A flow's match and actions built directly in canonical form: see
 * flow-build.h.  Each function sets what ovs-ofctl's parser sets for the
 * same text (lib/ofp-flow.c parse_ofp_str__(), lib/ofp-actions.c parse_*())
 * after an OpenFlow 1.3 round trip, e.g. "controller(max_len=N)" is an
 * output to OFPP_CONTROLLER. */
#include <config.h>

#include "ovs-glue/flow-build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "openflow/nicira-ext.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-errors.h"
#include "ovs-glue/flow-table.h"
#include "packets.h"
#include "util.h"

void
flow_build_init(struct flow_build *fb, uint8_t table_id, uint16_t priority)
{
    fb->table_id = table_id;
    fb->priority = priority;
    match_init_catchall(&fb->match);
    ofpbuf_use_stub(&fb->ofpacts, fb->stub, sizeof fb->stub);
    fb->error = NULL;
}

void
flow_build_uninit(struct flow_build *fb)
{
    if (fb) {
        ofpbuf_uninit(&fb->ofpacts);
        free(fb->error);
        fb->error = NULL;
    }
}

static void OVS_PRINTF_FORMAT(2, 3)
fb_error__(struct flow_build *fb, const char *format, ...)
{
    if (!fb->error) {
        va_list args;

        va_start(args, format);
        fb->error = xvasprintf(format, args);
        va_end(args);
    }
}

char *
flow_build_add(struct flow_build *fb, struct flow_table *ft, uint64_t cookie)
{
    char *error = fb->error;

    fb->error = NULL;
    if (!error) {
        /* As the decoder does: checks the actions against the match (their
         * prerequisites) and fills in what they record of it (whether a
         * set_field sees a VLAN header). */
        struct ofpact_check_params cp = {
            .match = &fb->match,
            .max_ports = OFPP_MAX,
            .table_id = fb->table_id,
            .n_tables = 255,
        };
        enum ofperr err = ofpacts_check(fb->ofpacts.data, fb->ofpacts.size,
                                        &cp);
        if (err) {
            error = xasprintf("table %d, priority %d: actions: %s",
                              fb->table_id, fb->priority,
                              ofperr_to_string(err));
        }
    }
    if (!error) {
        int err = flow_table_add_flow_canonical(ft, fb->table_id,
                                                fb->priority, &fb->match,
                                                cookie, fb->ofpacts.data,
                                                fb->ofpacts.size);
        if (err) {
            error = xasprintf("table %d, priority %d: %s", fb->table_id,
                              fb->priority,
                              (err == EINVAL ? "foreign cookie"
                               : err == EPROTO ? "not in canonical form"
                               : ofperr_to_string(err)));
        }
    }
    flow_build_uninit(fb);
    return error;
}

/* Match. */

void
fb_match_proto(struct flow_build *fb, uint16_t dl_type, uint8_t nw_proto)
{
    match_set_dl_type(&fb->match, htons(dl_type));
    if (nw_proto) {
        match_set_nw_proto(&fb->match, nw_proto);
    }
    match_set_default_packet_type(&fb->match);
}

/* Stores 'x' in 'v' as field 'mf' holds it (network byte order). */
static void
fb_int_value__(const struct mf_field *mf, uint64_t x, union mf_value *v)
{
    memset(v, 0, sizeof *v);
    switch (mf->n_bytes) {
    case 1:
        v->u8 = x;
        break;
    case 2:
        v->be16 = htons(x);
        break;
    case 4:
        v->be32 = htonl(x);
        break;
    case 8:
        v->be64 = htonll(x);
        break;
    default:
        OVS_NOT_REACHED();
    }
}

static void
fb_set__(struct flow_build *fb, const struct mf_field *mf,
         const union mf_value *value, const union mf_value *mask)
{
    char *error = NULL;

    mf_set(mf, value, mask, &fb->match, &error);
    if (error) {
        fb_error__(fb, "%s: %s", mf->name, error);
        free(error);
    }
    /* A field with prerequisites implies Ethernet, as in the parser. */
    match_add_ethernet_prereq(&fb->match, mf);
}

void
fb_match_int(struct flow_build *fb, enum mf_field_id id, uint64_t value)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v;

    fb_int_value__(mf, value, &v);
    fb_set__(fb, mf, &v, &exact_match_mask);
}

void
fb_match_int_masked(struct flow_build *fb, enum mf_field_id id,
                    uint64_t value, uint64_t mask)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v, m;

    fb_int_value__(mf, value, &v);
    fb_int_value__(mf, mask, &m);
    fb_set__(fb, mf, &v, &m);
}

void
fb_match_mac(struct flow_build *fb, enum mf_field_id id, const char *mac)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v;

    memset(&v, 0, sizeof v);
    if (!mac || !eth_addr_from_string(mac, &v.mac)) {
        fb_error__(fb, "%s: bad MAC \"%s\"", mf->name, mac ? mac : "");
        return;
    }
    fb_set__(fb, mf, &v, &exact_match_mask);
}

void
fb_match_mac_masked(struct flow_build *fb, enum mf_field_id id,
                    struct eth_addr value, struct eth_addr mask)
{
    union mf_value v, m;

    memset(&v, 0, sizeof v);
    memset(&m, 0, sizeof m);
    v.mac = value;
    m.mac = mask;
    fb_set__(fb, mf_from_id(id), &v, &m);
}

/* Parses 'ip' (with a prefix length or not) for field 'mf' into 'v' and
 * 'm'.  Returns false on error (recorded). */
static bool
fb_parse_ip__(struct flow_build *fb, const struct mf_field *mf,
              const char *ip, union mf_value *v, union mf_value *m)
{
    char *error = NULL;

    memset(v, 0, sizeof *v);
    memset(m, 0, sizeof *m);
    if (!ip) {
        error = xstrdup("missing address");
    } else if (mf->n_bytes == 4) {
        unsigned int plen;
        error = ip_parse_cidr(ip, &v->be32, &plen);
        if (!error) {
            m->be32 = be32_prefix_mask(plen);
        }
    } else if (mf->n_bytes == 16) {
        unsigned int plen;
        error = ipv6_parse_cidr(ip, &v->ipv6, &plen);
        if (!error) {
            m->ipv6 = ipv6_create_mask(plen);
        }
    } else {
        OVS_NOT_REACHED();
    }
    if (error) {
        fb_error__(fb, "%s: %s", mf->name, error);
        free(error);
        return false;
    }
    return true;
}

void
fb_match_ip(struct flow_build *fb, enum mf_field_id id, const char *ip)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v, m;

    if (fb_parse_ip__(fb, mf, ip, &v, &m)) {
        fb_set__(fb, mf, &v, &m);
    }
}

/* Actions. */

void
fb_resubmit(struct flow_build *fb, uint8_t table_id)
{
    struct ofpact_resubmit *r = ofpact_put_RESUBMIT(&fb->ofpacts);

    r->in_port = OFPP_IN_PORT;
    r->table_id = table_id;
    r->with_ct_orig = false;
}

void
fb_ct(struct flow_build *fb, bool commit, int recirc_table,
      enum mf_field_id zone)
{
    struct ofpact_conntrack *oc = ofpact_put_CT(&fb->ofpacts);

    oc->flags = commit ? NX_CT_F_COMMIT : 0;
    oc->recirc_table = recirc_table < 0 ? NX_CT_RECIRC_NONE : recirc_table;
    oc->zone_src.field = mf_from_id(zone);
    oc->zone_src.ofs = 0;
    oc->zone_src.n_bits = 16;
    oc->zone_imm = 0;
    oc->alg = 0;
    ofpact_finish_CT(&fb->ofpacts, &oc);
}

void
fb_output(struct flow_build *fb, ofp_port_t port)
{
    struct ofpact_output *o = ofpact_put_OUTPUT(&fb->ofpacts);

    o->port = port;
    o->max_len = port == OFPP_CONTROLLER ? UINT16_MAX : 0;
}

void
fb_controller(struct flow_build *fb, uint16_t max_len)
{
    struct ofpact_output *o = ofpact_put_OUTPUT(&fb->ofpacts);

    o->port = OFPP_CONTROLLER;
    o->max_len = max_len;
}

void
fb_output_reg(struct flow_build *fb, enum mf_field_id id, unsigned int ofs,
              unsigned int n_bits)
{
    struct ofpact_output_reg *o = ofpact_put_OUTPUT_REG(&fb->ofpacts);

    o->max_len = UINT16_MAX;
    o->src.field = mf_from_id(id);
    o->src.ofs = ofs;
    o->src.n_bits = n_bits;
}

void
fb_set_int(struct flow_build *fb, enum mf_field_id id, uint64_t value)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v;

    fb_int_value__(mf, value, &v);
    ofpact_put_set_field(&fb->ofpacts, mf, &v, NULL);
}

void
fb_set_mac(struct flow_build *fb, enum mf_field_id id, const char *mac)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v;

    memset(&v, 0, sizeof v);
    if (!mac || !eth_addr_from_string(mac, &v.mac)) {
        fb_error__(fb, "set %s: bad MAC \"%s\"", mf->name, mac ? mac : "");
        return;
    }
    ofpact_put_set_field(&fb->ofpacts, mf, &v, NULL);
}

void
fb_set_ip(struct flow_build *fb, enum mf_field_id id, const char *ip)
{
    const struct mf_field *mf = mf_from_id(id);
    union mf_value v, m;

    if (fb_parse_ip__(fb, mf, ip, &v, &m)) {
        ofpact_put_set_field(&fb->ofpacts, mf, &v, NULL);
    }
}

void
fb_move(struct flow_build *fb, enum mf_field_id src, enum mf_field_id dst)
{
    struct ofpact_reg_move *m = ofpact_put_REG_MOVE(&fb->ofpacts);

    m->src.field = mf_from_id(src);
    m->src.ofs = 0;
    m->src.n_bits = m->src.field->n_bits;
    m->dst.field = mf_from_id(dst);
    m->dst.ofs = 0;
    m->dst.n_bits = m->dst.field->n_bits;
}

void
fb_push_vlan(struct flow_build *fb, uint16_t tpid)
{
    ofpact_put_PUSH_VLAN(&fb->ofpacts)->ethertype = htons(tpid);
}

void
fb_pop_vlan(struct flow_build *fb)
{
    ofpact_put_STRIP_VLAN(&fb->ofpacts);
}
