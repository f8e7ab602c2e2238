/* The durable copy of the admission configuration in the Tether database's
 * Admission_Config table, on its own ovsdb-idl connection (see
 * admission-store.h for the contract).
 *
 * Writes are queued and sent one per transaction, the head of the queue
 * only, so a write never races another on the same key and each is
 * idempotent: a row is found by its (kind, id) in the IDL's replica and
 * updated, or inserted if missing, or deleted.  A transaction that fails
 * with TRY_AGAIN (the connection went away, possibly after the commit) is
 * built again from the replica once the IDL has the database again, which
 * then shows whether the first attempt committed. */
#include <config.h>

#include "controller/admission-store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/tether-idl.h"
#include "coverage.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(admission_store);

COVERAGE_DEFINE(admission_store_txn);
COVERAGE_DEFINE(admission_store_retry);

/* The kinds in load order: a rule names groups and domains. */
static const char *const kinds[] = {
    "domain", "group", "rule", "host", "evacuation",
};

struct write_row {
    char *kind;
    char *id;
    char *value;                /* JSON text; NULL: delete */
};

/* A queued write, from admission_store_write() to its 'done' callback. */
struct store_write {
    struct ovs_list node;       /* in 'queue' */
    struct write_row *rows;
    size_t n_rows;
    admission_store_done_func *done;
    void *aux;
};

struct admission_store {
    struct ovsdb_idl *idl;
    admission_store_load_func *load;
    void *load_aux;
    bool ready;

    struct ovs_list queue;          /* struct store_write; head in 'txn' */
    struct ovsdb_idl_txn *txn;      /* for the head of 'queue', or NULL */
    bool gated;                     /* after TRY_AGAIN: wait for */
    unsigned int gate_seqno;        /*   the IDL's seqno to change */
};

struct admission_store *
admission_store_create(const char *db_remote, admission_store_load_func *load,
                       void *load_aux)
{
    struct admission_store *s = xzalloc(sizeof *s);

    s->idl = ovsdb_idl_create(db_remote, &tetherrec_idl_class, false, true);
    ovsdb_idl_add_table(s->idl, &tetherrec_table_admission_config);
    ovsdb_idl_add_column(s->idl, &tetherrec_admission_config_col_kind);
    ovsdb_idl_add_column(s->idl, &tetherrec_admission_config_col_id);
    ovsdb_idl_add_column(s->idl, &tetherrec_admission_config_col_value);
    s->load = load;
    s->load_aux = load_aux;
    ovs_list_init(&s->queue);
    return s;
}

static void
write_destroy__(struct store_write *w)
{
    for (size_t i = 0; i < w->n_rows; i++) {
        free(w->rows[i].kind);
        free(w->rows[i].id);
        free(w->rows[i].value);
    }
    free(w->rows);
    free(w);
}

/* Pending writes are dropped and their callbacks never called. */
void
admission_store_destroy(struct admission_store *s)
{
    if (!s) {
        return;
    }
    if (s->txn) {
        ovsdb_idl_txn_destroy(s->txn);
    }
    ovsdb_idl_destroy(s->idl);
    struct store_write *w;
    LIST_FOR_EACH_POP (w, node, &s->queue) {
        write_destroy__(w);
    }
    free(s);
}

/* --- Loading --------------------------------------------------------------- */

static size_t
kind_rank__(const char *kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        if (!strcmp(kind, kinds[i])) {
            return i;
        }
    }
    return ARRAY_SIZE(kinds);
}

static int
compare_rows__(const void *a_, const void *b_)
{
    const struct tetherrec_admission_config *a
        = *(const struct tetherrec_admission_config *const *) a_;
    const struct tetherrec_admission_config *b
        = *(const struct tetherrec_admission_config *const *) b_;
    size_t ka = kind_rank__(a->kind), kb = kind_rank__(b->kind);
    return ka != kb ? (ka < kb ? -1 : 1) : strcmp(a->id, b->id);
}

void
admission_store_reload(struct admission_store *s)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct tetherrec_admission_config *row;
    size_t n = 0, allocated = 0;
    const struct tetherrec_admission_config **rows = NULL;

    TETHERREC_ADMISSION_CONFIG_FOR_EACH (row, s->idl) {
        if (n >= allocated) {
            rows = x2nrealloc(rows, &allocated, sizeof *rows);
        }
        rows[n++] = row;
    }
    if (n > 1) {
        qsort(rows, n, sizeof *rows, compare_rows__);
    }
    for (size_t i = 0; i < n; i++) {
        struct json *value = json_from_string(rows[i]->value);
        if (value->type == JSON_STRING) {
            VLOG_WARN_RL(&rl, "%s %s: stored value is not JSON (%s); "
                         "skipped", rows[i]->kind, rows[i]->id,
                         json_string(value));
        } else if (s->load) {
            s->load(rows[i]->kind, rows[i]->id, value, s->load_aux);
        }
        json_destroy(value);
    }
    VLOG_INFO("loaded %"PRIuSIZE" admission configuration rows", n);
    free(rows);
}

/* --- Writing --------------------------------------------------------------- */

void
admission_store_write(struct admission_store *s,
                      const struct admission_store_row *rows, size_t n,
                      admission_store_done_func *done, void *aux)
{
    struct store_write *w = xzalloc(sizeof *w);
    w->rows = xcalloc(n, sizeof *w->rows);
    w->n_rows = n;
    for (size_t i = 0; i < n; i++) {
        w->rows[i].kind = xstrdup(rows[i].kind);
        w->rows[i].id = xstrdup(rows[i].id);
        w->rows[i].value = (rows[i].value
                            ? json_to_string(rows[i].value, JSSF_SORT)
                            : NULL);
    }
    w->done = done;
    w->aux = aux;
    ovs_list_push_back(&s->queue, &w->node);
}

static const struct tetherrec_admission_config *
find_row__(const struct admission_store *s, const char *kind, const char *id)
{
    const struct tetherrec_admission_config *row;
    TETHERREC_ADMISSION_CONFIG_FOR_EACH (row, s->idl) {
        if (!strcmp(row->id, id) && !strcmp(row->kind, kind)) {
            return row;
        }
    }
    return NULL;
}

/* Builds and sends the transaction of the head of the queue. */
static void
start_txn__(struct admission_store *s)
{
    struct store_write *w = CONTAINER_OF(ovs_list_front(&s->queue),
                                         struct store_write, node);
    s->txn = ovsdb_idl_txn_create(s->idl);
    for (size_t i = 0; i < w->n_rows; i++) {
        const struct write_row *wr = &w->rows[i];
        const struct tetherrec_admission_config *row
            = find_row__(s, wr->kind, wr->id);
        if (!wr->value) {
            if (row) {
                tetherrec_admission_config_delete(row);
            }
        } else {
            if (!row) {
                struct tetherrec_admission_config *new
                    = tetherrec_admission_config_insert(s->txn);
                tetherrec_admission_config_set_kind(new, wr->kind);
                tetherrec_admission_config_set_id(new, wr->id);
                row = new;
            }
            if (strcmp(row->value ? row->value : "", wr->value)) {
                tetherrec_admission_config_set_value(row, wr->value);
            }
        }
    }
    ovsdb_idl_txn_add_comment(s->txn, "tetherd: admission %s %s%s",
                              w->rows[0].kind, w->rows[0].id,
                              w->n_rows > 1 ? " and more" : "");
    COVERAGE_INC(admission_store_txn);
}

/* The head's transaction ended with 'status': pops and finishes the head,
 * or keeps it for another try. */
static void
txn_done__(struct admission_store *s, enum ovsdb_idl_txn_status status)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char *msg = NULL;
    int error = 0;

    if (status == TXN_TRY_AGAIN) {
        COVERAGE_INC(admission_store_retry);
        s->gated = true;
        s->gate_seqno = ovsdb_idl_get_seqno(s->idl);
    } else if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
        const char *e = ovsdb_idl_txn_get_error(s->txn);
        msg = xasprintf("database refused the write: %s (%s)",
                        e ? e : "unknown error",
                        ovsdb_idl_txn_status_to_string(status));
        error = EIO;
    }
    ovsdb_idl_txn_destroy(s->txn);
    s->txn = NULL;
    if (status == TXN_TRY_AGAIN) {
        return;
    }

    struct store_write *w = CONTAINER_OF(ovs_list_pop_front(&s->queue),
                                         struct store_write, node);
    if (error) {
        VLOG_WARN_RL(&rl, "admission %s %s: %s", w->rows[0].kind,
                     w->rows[0].id, msg);
    }
    if (w->done) {
        w->done(error, msg, w->aux);     /* may queue more */
    }
    write_destroy__(w);
    free(msg);
}

void
admission_store_run(struct admission_store *s)
{
    ovsdb_idl_run(s->idl);
    if (!s->ready && ovsdb_idl_has_ever_connected(s->idl)) {
        s->ready = true;
        admission_store_reload(s);
    }
    /* Each pass finishes at most what completed, then starts the next. */
    for (int i = 0; i < 16 && s->ready; i++) {
        if (!s->txn) {
            if (ovs_list_is_empty(&s->queue)
                || (s->gated
                    && ovsdb_idl_get_seqno(s->idl) == s->gate_seqno)) {
                break;
            }
            s->gated = false;
            start_txn__(s);
        }
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(s->txn);
        if (status == TXN_INCOMPLETE) {
            break;
        }
        txn_done__(s, status);
    }
}

void
admission_store_wait(struct admission_store *s)
{
    ovsdb_idl_wait(s->idl);
    if (s->txn) {
        ovsdb_idl_txn_wait(s->txn);
    } else if (s->ready && !ovs_list_is_empty(&s->queue)
               && !(s->gated
                    && ovsdb_idl_get_seqno(s->idl) == s->gate_seqno)) {
        poll_immediate_wake();
    }
}

bool
admission_store_is_ready(const struct admission_store *s)
{
    return s->ready;
}

size_t
admission_store_n_pending(const struct admission_store *s)
{
    return ovs_list_size(&s->queue);
}
