/* tether-agent's QMP backend (see qmp.h): plain non-blocking unix sockets
 * on the agent's poll loop, one per QEMU, and Open vSwitch's JSON parser.
 *
 * What QEMU says and what the agent makes of it (QEMU 7.2, migration events
 * enabled by the agent with migrate-set-capabilities events=true):
 *
 *   source QEMU     MIGRATION setup, active, [pre-switchover, device,]
 *                   STOP (before pre-switchover), completed | failed |
 *                   cancelled; RESUME if it runs again
 *   destination     (query-status "inmigrate") MIGRATION active, RESUME,
 *                   completed | failed
 *
 *   source STOP while migrating            -> "paused"
 *   source pre-switchover                  -> migrate-continue after
 *                                             switchover_wait_ms
 *   source failed / cancelled              -> "failed" (cleared at the next
 *                                             migration's setup)
 *   source RESUME after "paused" (no fail) -> marker removed (runs again)
 *   destination RESUME                     -> "activated"
 *   destination completed                  -> "completed"
 *   destination failed, or its QEMU gone
 *   in the middle of the incoming migration -> "failed"
 *
 * The destination's "incoming" is written by whoever creates its VIF (the
 * hypervisor, as libvirt does), in the same transaction. */
#include <config.h>

#include "hostagent/qmp.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(qmp);

#define QMP_RETRY_MS 200
#define QMP_SOCK_SUFFIX ".sock"

struct qmp_conn {
    char *eni_id;
    char *path;
    bool from_dir;              /* found in a --qmp directory */
    int fd;                     /* -1: not connected */
    long long int retry_at;     /* next connection attempt */
    struct ds rx;               /* received, not yet a whole line */
    struct ds tx;               /* to send */

    /* What this QEMU is doing. */
    bool incoming;              /* waiting for / in an incoming migration */
    bool incoming_active;       /* ... which has started */
    bool migrating;             /* an outgoing migration is in progress */
    bool paused_marked;         /* we said "paused" for it */
    bool failed_marked;         /* we said "failed" for it */
    long long int continue_at;  /* LLONG_MAX: no migrate-continue due */
    bool switchover_confirmed;  /* tetherd confirmed this migration's
                                 * switchover before QEMU's pre-switchover
                                 * reached us */
};

struct qmp_backend {
    struct qmp_conn **conns;
    size_t n_conns;
    char **dirs;
    size_t n_dirs;
    int inotify_fd;             /* -1: no directory followed */
    qmp_marker_func *marker_cb;
    void *aux;
    int switchover_wait_ms;
};

struct qmp_backend *
qmp_backend_create(qmp_marker_func *cb, void *aux, int switchover_wait_ms)
{
    struct qmp_backend *qb = xzalloc(sizeof *qb);
    qb->marker_cb = cb;
    qb->aux = aux;
    qb->switchover_wait_ms = switchover_wait_ms;
    qb->inotify_fd = -1;
    return qb;
}

static void
conn_close__(struct qmp_conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    ds_clear(&c->rx);
    ds_clear(&c->tx);
}

static void
conn_destroy__(struct qmp_conn *c)
{
    conn_close__(c);
    ds_destroy(&c->rx);
    ds_destroy(&c->tx);
    free(c->eni_id);
    free(c->path);
    free(c);
}

void
qmp_backend_destroy(struct qmp_backend *qb)
{
    if (!qb) {
        return;
    }
    for (size_t i = 0; i < qb->n_conns; i++) {
        conn_destroy__(qb->conns[i]);
    }
    free(qb->conns);
    for (size_t i = 0; i < qb->n_dirs; i++) {
        free(qb->dirs[i]);
    }
    free(qb->dirs);
    if (qb->inotify_fd >= 0) {
        close(qb->inotify_fd);
    }
    free(qb);
}

static struct qmp_conn *
find_conn__(const struct qmp_backend *qb, const char *path)
{
    for (size_t i = 0; i < qb->n_conns; i++) {
        if (!strcmp(qb->conns[i]->path, path)) {
            return qb->conns[i];
        }
    }
    return NULL;
}

static struct qmp_conn *
add_conn__(struct qmp_backend *qb, const char *eni_id, const char *path,
           bool from_dir)
{
    struct qmp_conn *c = xzalloc(sizeof *c);
    c->eni_id = xstrdup(eni_id);
    c->path = xstrdup(path);
    c->from_dir = from_dir;
    c->fd = -1;
    c->retry_at = LLONG_MIN;
    c->continue_at = LLONG_MAX;
    ds_init(&c->rx);
    ds_init(&c->tx);
    qb->conns = xrealloc(qb->conns, (qb->n_conns + 1) * sizeof *qb->conns);
    qb->conns[qb->n_conns++] = c;
    VLOG_INFO("ENI %s: following QEMU's QMP socket %s", eni_id, path);
    return c;
}

void
qmp_backend_add(struct qmp_backend *qb, const char *eni_id, const char *path)
{
    if (!find_conn__(qb, path)) {
        add_conn__(qb, eni_id, path, false);
    }
}

/* Adds a connection for every ENI_ID.sock in the directories, and makes
 * the disconnected ones try again now. */
static void
scan_dirs__(struct qmp_backend *qb)
{
    for (size_t i = 0; i < qb->n_dirs; i++) {
        DIR *d = opendir(qb->dirs[i]);
        struct dirent *de;

        if (!d) {
            continue;
        }
        while ((de = readdir(d)) != NULL) {
            size_t len = strlen(de->d_name);
            size_t sl = strlen(QMP_SOCK_SUFFIX);
            if (len <= sl || strcmp(de->d_name + len - sl, QMP_SOCK_SUFFIX)) {
                continue;
            }
            char *path = xasprintf("%s/%s", qb->dirs[i], de->d_name);
            struct qmp_conn *c = find_conn__(qb, path);
            if (!c) {
                char *eni = xmemdup0(de->d_name, len - sl);
                add_conn__(qb, eni, path, true);
                free(eni);
            } else if (c->fd < 0) {
                c->retry_at = LLONG_MIN;
            }
            free(path);
        }
        closedir(d);
    }
}

void
qmp_backend_add_dir(struct qmp_backend *qb, const char *dir)
{
    if (qb->inotify_fd < 0) {
        qb->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (qb->inotify_fd < 0) {
            VLOG_WARN("inotify: %s (QMP directories are rescanned every "
                      "%d ms)", ovs_strerror(errno), QMP_RETRY_MS);
        }
    }
    if (qb->inotify_fd >= 0
        && inotify_add_watch(qb->inotify_fd, dir,
                             IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
        VLOG_WARN("%s: inotify: %s", dir, ovs_strerror(errno));
    }
    qb->dirs = xrealloc(qb->dirs, (qb->n_dirs + 1) * sizeof *qb->dirs);
    qb->dirs[qb->n_dirs++] = xstrdup(dir);
    VLOG_INFO("following QEMU QMP sockets ENI_ID%s in %s", QMP_SOCK_SUFFIX,
              dir);
    scan_dirs__(qb);
}

char *
qmp_backend_parse(struct qmp_backend *qb, const char *arg)
{
    struct stat st;
    const char *colon = strchr(arg, ':');

    if (!stat(arg, &st) && S_ISDIR(st.st_mode)) {
        qmp_backend_add_dir(qb, arg);
        return NULL;
    }
    if (!colon || colon == arg || !colon[1]) {
        return xasprintf("--qmp: \"%s\" is neither ENI_ID:PATH nor a "
                         "directory", arg);
    }
    char *eni = xmemdup0(arg, colon - arg);
    qmp_backend_add(qb, eni, colon + 1);
    free(eni);
    return NULL;
}

static void
conn_send__(struct qmp_conn *c, const char *cmd)
{
    VLOG_DBG("ENI %s: QMP send %s", c->eni_id, cmd);
    ds_put_format(&c->tx, "%s\r\n", cmd);
}

static void
conn_flush__(struct qmp_conn *c)
{
    while (c->fd >= 0 && c->tx.length) {
        ssize_t n = send(c->fd, c->tx.string, c->tx.length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                VLOG_WARN("ENI %s: %s: send: %s", c->eni_id, c->path,
                          ovs_strerror(errno));
                conn_close__(c);
                c->retry_at = time_msec() + QMP_RETRY_MS;
            }
            return;
        }
        memmove(c->tx.string, c->tx.string + n, c->tx.length - n);
        c->tx.length -= n;
        c->tx.string[c->tx.length] = '\0';
    }
}

static void
set_marker_at__(struct qmp_backend *qb, struct qmp_conn *c,
                const char *value, double paused_at)
{
    VLOG_INFO("ENI %s: QEMU migration phase -> tether-migration=%s",
              c->eni_id, value ? value : "(removed)");
    qb->marker_cb(c->eni_id, value, paused_at, qb->aux);
}

static void
set_marker__(struct qmp_backend *qb, struct qmp_conn *c, const char *value)
{
    set_marker_at__(qb, c, value, 0);
}

/* The time of a QMP event ("timestamp": {"seconds", "microseconds"}), Unix
 * seconds, or 0. */
static double
event_time__(const struct shash *o)
{
    const struct json *ts = shash_find_data(o, "timestamp");
    if (!ts || ts->type != JSON_OBJECT) {
        return 0;
    }
    const struct json *sec = shash_find_data(json_object(ts), "seconds");
    const struct json *usec = shash_find_data(json_object(ts),
                                              "microseconds");
    if (!sec || sec->type != JSON_INTEGER || !usec
        || usec->type != JSON_INTEGER) {
        return 0;
    }
    return json_integer(sec) + json_integer(usec) / 1e6;
}

static void send_continue__(struct qmp_conn *);

static void
handle_migration__(struct qmp_backend *qb, struct qmp_conn *c,
                   const char *status)
{
    if (c->incoming) {
        if (!strcmp(status, "active")) {
            c->incoming_active = true;
        } else if (!strcmp(status, "completed")) {
            set_marker__(qb, c, "completed");
            c->incoming = c->incoming_active = false;
        } else if (!strcmp(status, "failed")
                   || !strcmp(status, "cancelled")) {
            set_marker__(qb, c, "failed");
            c->incoming = c->incoming_active = false;
        }
        return;
    }

    if (!strcmp(status, "setup") || !strcmp(status, "active")) {
        if (!c->migrating && c->failed_marked) {
            set_marker__(qb, c, NULL);      /* the last attempt's "failed" */
        }
        if (!c->migrating) {
            c->paused_marked = c->failed_marked = false;
            c->switchover_confirmed = false;
        }
        c->migrating = true;
    } else if (!strcmp(status, "pre-switchover")) {
        c->continue_at = time_msec() + qb->switchover_wait_ms;
        if (c->switchover_confirmed) {
            /* QEMU says STOP, then (at least a millisecond later)
             * pre-switchover: tetherd's confirmation of the "paused" we
             * reported at STOP can come first. */
            VLOG_INFO("ENI %s: tetherd confirmed the switchover before "
                      "QEMU's pre-switchover, migrate-continue now",
                      c->eni_id);
            send_continue__(c);
        }
    } else if (!strcmp(status, "completed")) {
        c->migrating = false;
        c->continue_at = LLONG_MAX;
        c->switchover_confirmed = false;
    } else if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
        if (c->migrating) {
            set_marker__(qb, c, "failed");
            c->failed_marked = true;
        }
        c->migrating = false;
        c->continue_at = LLONG_MAX;
        c->switchover_confirmed = false;
    }
}

static void
handle_event__(struct qmp_backend *qb, struct qmp_conn *c, const char *event,
               const struct json *data, double time)
{
    if (!strcmp(event, "MIGRATION")) {
        const struct json *st = (data && data->type == JSON_OBJECT
                                 ? shash_find_data(json_object(data),
                                                   "status") : NULL);
        if (st && st->type == JSON_STRING) {
            VLOG_INFO("ENI %s: QEMU MIGRATION %s%s", c->eni_id,
                      json_string(st), c->incoming ? " (incoming)" : "");
            handle_migration__(qb, c, json_string(st));
        }
    } else if (!strcmp(event, "STOP")) {
        VLOG_INFO("ENI %s: QEMU STOP%s", c->eni_id,
                  c->migrating ? " (migrating)" : "");
        if (!c->incoming && c->migrating && !c->paused_marked) {
            /* QEMU stamps STOP after the vCPUs and the NIC's queue
             * stopped: the agent's relay sends on what arrived since. */
            set_marker_at__(qb, c, "paused", time);
            c->paused_marked = true;
        }
    } else if (!strcmp(event, "RESUME")) {
        VLOG_INFO("ENI %s: QEMU RESUME%s", c->eni_id,
                  c->incoming ? " (incoming)" : "");
        if (c->incoming) {
            set_marker__(qb, c, "activated");
        } else if (c->paused_marked && !c->failed_marked) {
            set_marker__(qb, c, NULL);      /* the source runs again */
            c->paused_marked = false;
        }
    }
}

static void
handle_return__(struct qmp_backend *qb, struct qmp_conn *c, const char *id,
                const struct json *ret)
{
    const struct json *st = (ret && ret->type == JSON_OBJECT
                             ? shash_find_data(json_object(ret), "status")
                             : NULL);
    const char *s = st && st->type == JSON_STRING ? json_string(st) : NULL;

    if (!strcmp(id, "status") && s) {
        c->incoming = !strcmp(s, "inmigrate");
        VLOG_INFO("ENI %s: QEMU %s (%s)", c->eni_id, s,
                  c->incoming ? "destination of a migration" : "running here");
    } else if (!strcmp(id, "migrate") && s && !c->incoming) {
        /* Connected in the middle of an outgoing migration. */
        if (!strcmp(s, "setup") || !strcmp(s, "active")
            || !strcmp(s, "pre-switchover") || !strcmp(s, "device")) {
            c->migrating = true;
            handle_migration__(qb, c, s);
        }
    }
}

static void
handle_message__(struct qmp_backend *qb, struct qmp_conn *c,
                 const char *line)
{
    struct json *j = json_from_string(line);

    if (j->type != JSON_OBJECT) {
        VLOG_WARN("ENI %s: bad QMP message: %s", c->eni_id,
                  j->type == JSON_STRING ? json_string(j) : line);
        json_destroy(j);
        return;
    }
    const struct shash *o = json_object(j);
    const struct json *ev = shash_find_data(o, "event");
    const struct json *id = shash_find_data(o, "id");

    if (shash_find(o, "QMP")) {
        conn_send__(c, "{\"execute\":\"qmp_capabilities\"}");
        conn_send__(c, "{\"execute\":\"migrate-set-capabilities\","
                    "\"arguments\":{\"capabilities\":[{\"capability\":"
                    "\"events\",\"state\":true}]},\"id\":\"caps\"}");
        conn_send__(c, "{\"execute\":\"query-status\",\"id\":\"status\"}");
        conn_send__(c, "{\"execute\":\"query-migrate\",\"id\":\"migrate\"}");
    } else if (ev && ev->type == JSON_STRING) {
        handle_event__(qb, c, json_string(ev), shash_find_data(o, "data"),
                       event_time__(o));
    } else if (id && id->type == JSON_STRING && shash_find(o, "return")) {
        handle_return__(qb, c, json_string(id), shash_find_data(o, "return"));
    } else if (shash_find(o, "error")) {
        /* e.g. setting capabilities while a migration runs: harmless. */
        VLOG_DBG("ENI %s: QMP error: %s", c->eni_id, line);
    }
    json_destroy(j);
}

static void
conn_lost__(struct qmp_backend *qb, struct qmp_conn *c, const char *why)
{
    VLOG_INFO("ENI %s: QMP %s: %s", c->eni_id, c->path, why);
    if (c->incoming && c->incoming_active) {
        /* The destination QEMU died in the middle of the migration. */
        set_marker__(qb, c, "failed");
    }
    conn_close__(c);
    c->incoming = c->incoming_active = c->migrating = false;
    c->paused_marked = c->failed_marked = false;
    c->continue_at = LLONG_MAX;
    c->switchover_confirmed = false;
    c->retry_at = time_msec() + QMP_RETRY_MS;
}

static void
conn_read__(struct qmp_backend *qb, struct qmp_conn *c)
{
    for (;;) {
        char buf[4096];
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                conn_lost__(qb, c, ovs_strerror(errno));
            }
            return;
        } else if (!n) {
            conn_lost__(qb, c, "closed");
            return;
        }
        ds_put_buffer(&c->rx, buf, n);

        char *nl;
        while (c->fd >= 0 && (nl = memchr(c->rx.string, '\n', c->rx.length))) {
            *nl = '\0';
            if (nl > c->rx.string) {
                handle_message__(qb, c, c->rx.string);
            }
            size_t used = nl + 1 - c->rx.string;
            memmove(c->rx.string, nl + 1, c->rx.length - used);
            c->rx.length -= used;
            c->rx.string[c->rx.length] = '\0';
        }
        if (c->fd < 0) {
            return;
        }
        if (c->rx.length > 1024 * 1024) {
            conn_lost__(qb, c, "QMP message too long");
            return;
        }
    }
}

/* Tries to connect 'c'; returns false if it should be forgotten. */
static bool
conn_connect__(struct qmp_conn *c)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(c->path) >= sizeof sun.sun_path) {
        VLOG_WARN_ONCE("%s: path too long for a unix socket", c->path);
        c->retry_at = LLONG_MAX;
        return true;
    }
    strcpy(sun.sun_path, c->path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int error = errno;
        if (fd >= 0) {
            close(fd);
        }
        c->retry_at = time_msec() + QMP_RETRY_MS;
        return !(c->from_dir && error == ENOENT);
    }
    c->fd = fd;
    VLOG_INFO("ENI %s: connected to QMP %s", c->eni_id, c->path);
    return true;
}

/* Lets a source held in "pre-switchover" go on. */
static void
send_continue__(struct qmp_conn *c)
{
    conn_send__(c, "{\"execute\":\"migrate-continue\",\"arguments\":"
                "{\"state\":\"pre-switchover\"},\"id\":\"continue\"}");
    c->continue_at = LLONG_MAX;
}

void
qmp_backend_switchover_ready(struct qmp_backend *qb, const char *eni_id)
{
    for (size_t i = 0; qb && i < qb->n_conns; i++) {
        struct qmp_conn *c = qb->conns[i];
        if (!strcmp(c->eni_id, eni_id) && c->fd >= 0
            && c->continue_at != LLONG_MAX) {
            long long int left = c->continue_at - time_msec();
            VLOG_INFO("ENI %s: tetherd confirmed the switchover, "
                      "migrate-continue (%lld ms before the wait's end)",
                      c->eni_id, left > 0 ? left : 0);
            send_continue__(c);
            conn_flush__(c);
        } else if (!strcmp(c->eni_id, eni_id) && c->fd >= 0
                   && c->migrating && c->paused_marked
                   && !c->switchover_confirmed) {
            /* Not held yet: remembered for QEMU's pre-switchover. */
            VLOG_INFO("ENI %s: tetherd confirmed the switchover; QEMU not "
                      "in pre-switchover yet", c->eni_id);
            c->switchover_confirmed = true;
        }
    }
}

void
qmp_backend_run(struct qmp_backend *qb)
{
    long long int now = time_msec();

    if (qb->inotify_fd >= 0) {
        char buf[4096];
        bool changed = false;
        while (read(qb->inotify_fd, buf, sizeof buf) > 0) {
            changed = true;
        }
        if (changed) {
            scan_dirs__(qb);
        }
    } else if (qb->n_dirs) {
        scan_dirs__(qb);
    }

    for (size_t i = 0; i < qb->n_conns; ) {
        struct qmp_conn *c = qb->conns[i];
        if (c->fd < 0 && now >= c->retry_at && !conn_connect__(c)) {
            VLOG_INFO("ENI %s: %s gone", c->eni_id, c->path);
            conn_destroy__(c);
            qb->conns[i] = qb->conns[--qb->n_conns];
            continue;
        }
        if (c->fd >= 0) {
            conn_read__(qb, c);
        }
        if (c->fd >= 0 && now >= c->continue_at) {
            VLOG_INFO("ENI %s: switchover wait over, migrate-continue",
                      c->eni_id);
            send_continue__(c);
        }
        conn_flush__(c);
        i++;
    }
}

void
qmp_backend_wait(struct qmp_backend *qb)
{
    if (qb->inotify_fd >= 0) {
        poll_fd_wait(qb->inotify_fd, POLLIN);
    } else if (qb->n_dirs) {
        poll_timer_wait(QMP_RETRY_MS);
    }
    for (size_t i = 0; i < qb->n_conns; i++) {
        struct qmp_conn *c = qb->conns[i];
        if (c->fd >= 0) {
            poll_fd_wait(c->fd, c->tx.length ? POLLIN | POLLOUT : POLLIN);
            if (c->continue_at != LLONG_MAX) {
                poll_timer_wait_until(c->continue_at);
            }
        } else if (c->retry_at != LLONG_MAX) {
            poll_timer_wait_until(c->retry_at);
        }
    }
}
