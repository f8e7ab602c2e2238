/* Internals shared by the ENI store's two files: eni-store.c (the in-memory
 * copy and the API) and eni-store-db.c (rows, load and transactions).  Not
 * for use outside eni-store*.c; controller/eni-store.h is the contract with
 * the rest of tetherd. */
#ifndef CONTROLLER_ENI_STORE_PRIVATE_H
#define CONTROLLER_ENI_STORE_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/eni-store.h"
#include "controller/eni.h"
#include "hindex.h"
#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/uuid.h"
#include "sset.h"

struct ovsdb_idl;
struct ovsdb_idl_txn;

struct stored_eni {
    struct hmap_node id_node;   /* in 'enis_by_id' */
    struct hmap_node key_node;  /* in 'enis_by_key' */
    struct hindex_node host_node;   /* in 'enis_by_host' iff eni->host */
    struct ovs_list dirty_node; /* in 'dirty_enis' iff 'dirty' */
    bool dirty;                 /* binding not yet written */
    struct uuid uuid;           /* its row's */
    struct eni *eni;
};

struct stored_sg {
    struct hmap_node node;      /* in 'sgs', by id */
    struct uuid uuid;           /* its row's */
    struct security_group *sg;
};

/* How many ENIs and rules of other groups name security group 'id',
 * whether or not it exists. */
struct sg_ref {
    struct hmap_node node;      /* in 'sg_refs' */
    char *id;
    unsigned int n;
};

struct stored_host {
    struct hmap_node node;      /* in 'hosts' */
    struct ovs_list dirty_node; /* in 'dirty_hosts' iff 'dirty' */
    bool dirty;
    struct uuid uuid;           /* its row's (inserted with it if new) */
    struct eni_store_host h;    /* strings owned */
};

enum op_type {
    OP_CREATE_ENI, OP_UPDATE_ENI, OP_DELETE_ENI, OP_PUT_SG, OP_DELETE_SG,
};

/* An API write, from the call to its 'done' callback. */
struct store_op {
    struct ovs_list node;       /* in 'queued', 'batch' or 'finished' */
    enum op_type type;
    char *id;                   /* the ENI's or group's id */
    struct eni *eni;            /* OP_CREATE_ENI, OP_UPDATE_ENI */
    struct security_group *sg;  /* OP_PUT_SG */
    struct uuid uuid;           /* its row's (chosen when inserted) */
    bool solo;                  /* goes alone in its transaction */
    int error;                  /* result, once in 'finished' */
    char *msg;
    eni_store_done_func *done;
    void *aux;
};

enum txn_kind { TXN_NONE, TXN_API, TXN_BACKGROUND };

struct eni_store {
    struct ovsdb_idl *idl;
    struct eni_store_observer observer;
    bool ready;                 /* contents loaded */

    struct hmap enis_by_id, enis_by_key, sgs, sg_refs, hosts;
    struct hindex enis_by_host;     /* by eni->host: a host's resync looks
                                     * up its ENIs, not all of them */
    uint64_t next_key;          /* next ENI key to hand out */

    struct ovs_list queued;     /* struct store_op, not yet sent */
    struct ovs_list batch;      /* struct store_op in 'txn' (TXN_API) */
    struct ovs_list finished;   /* struct store_op, callback due */

    struct ovs_list dirty_enis;     /* struct stored_eni */
    struct ovs_list dirty_hosts;    /* struct stored_host */
    size_t n_ops;                   /* ops in 'queued' and 'batch' */
    size_t n_dirty;                 /* in 'dirty_enis' and 'dirty_hosts' */
    struct sset bg_enis, bg_hosts;  /* ids written by 'txn' (background) */

    struct ovsdb_idl_txn *txn;      /* in flight, or NULL */
    enum txn_kind txn_kind, last_kind;
    bool gated;                 /* after TRY_AGAIN: wait for 'gate_seqno' */
    unsigned int gate_seqno;    /*   to change (a reconnect reloads) */
    long long int bg_retry_at;  /* after a background error, else 0 */
};

/* eni-store.c: canonical forms. */
int compare_rules__(const void *a_, const void *b_);

/* eni-store.c: the in-memory copy. */
struct stored_eni *find_eni__(const struct eni_store *, const char *id);
struct stored_sg *find_sg__(const struct eni_store *, const char *id);
struct stored_host *find_host__(const struct eni_store *, const char *id);
void notify_eni__(const struct eni_store *, const struct eni *old,
                  const struct eni *new);
void notify_sg__(const struct eni_store *, const struct security_group *old,
                 const struct security_group *new);
/* Takes ownership of 'e'. */
struct stored_eni *insert_eni__(struct eni_store *, struct eni *e,
                                const struct uuid *);
void mark_eni_dirty__(struct eni_store *, struct stored_eni *);
void mark_host_dirty__(struct eni_store *, struct stored_host *);
/* Puts 'sg' in memory (taking ownership), replacing any group with its
 * id. */
void put_sg__(struct eni_store *, struct security_group *sg,
              const struct uuid *, bool notify);
void set_host__(struct eni_store_host *dst, const struct eni_store_host *src);

/* eni-store.c: API ops. */
void op_destroy__(struct store_op *);
char *msg__(const char *fmt, ...) OVS_PRINTF_FORMAT(1, 2);
/* Checks 'op' against memory.  Returns 0, or an errno value and a message
 * in '*msgp'. */
int check_op__(const struct eni_store *, const struct store_op *,
               char **msgp);
/* Applies committed 'op' to memory, taking what it owns. */
void apply_op__(struct eni_store *, struct store_op *);

#endif /* controller/eni-store-private.h */
