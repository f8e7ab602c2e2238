/* VMs on dummy ports' streams and the hypervisor's side of live migration,
 * for sandbox tests and benchmarks (see vm.h). */
#define _GNU_SOURCE 1           /* ppoll, vasprintf */
#include "tests/sandbox/vm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tests/sandbox/dc.h"
#include "tests/sandbox/fabric.h"
#include "tests/sandbox/sandbox.h"

#define VM_MAX 256
#define HOOK_MAX 512
#define SCHED_MAX 16
#define WAIT_MS 10000

/* One port of a VM and the test's end of its stream. */
struct vm_att {
    int hv;                     /* 0: none */
    char port[32];
    char path[256];             /* the pstream's socket */
    int fd;                     /* -1: not connected or discarded */
    unsigned int gen;           /* which plug of this VM */
    bool eof;                   /* ovs-vswitchd closed it (port deleted) */
    size_t rxlen;
    uint8_t rxbuf[2 + FRAME_MAX];

    /* The tap queue of a VM that does not run on this attachment (paused
     * here, or not started here yet): what arrives waits here, up to
     * TAP_QUEUE frames (a tap's default txqueuelen), and is read by the VM
     * when it runs here, or lost with the attachment. */
    struct frame *held;         /* TAP_QUEUE, allocated on first use */
    size_t n_held, held_head;
};

#define TAP_QUEUE 1000

struct vm_sched {
    int64_t t_ns;
    struct frame frame;
};

struct vm {
    struct vm_world *world;
    char name[16], eni[64], mac[18], ip[16], uuid[40];

    /* att[0] is where the VM lives (the source during a migration),
     * att[1] the destination while a migration is in progress. */
    struct vm_att att[2];
    int active;                 /* index of the attachment the VM runs on */
    bool running;
    bool src_paused;            /* source paused for a migration */
    unsigned int next_gen;

    struct vm_sched sched[SCHED_MAX];   /* frames to send later (RARPs) */
    size_t n_sched;

    unsigned long long tx_errors;
};

struct rx_hook {
    vm_rx_hook *func;
    void *aux;
};

struct tick_hook {
    vm_tick_hook *func;
    void *aux;
    int64_t next_ns;
};

struct vm_world {
    struct dc *dc;
    pthread_t thread;
    pthread_mutex_t mutex;
    bool stop;
    unsigned long long change;  /* bumped when VMs' streams change */

    struct vm *vms[VM_MAX];
    size_t n_vms;
    struct rx_hook rx_hooks[HOOK_MAX];
    size_t n_rx_hooks;
    struct tick_hook tick_hooks[HOOK_MAX];
    size_t n_tick_hooks;
    int64_t max_late_ns;
};

int64_t
vm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
sleep_until_ns__(int64_t t)
{
    struct timespec ts = { t / 1000000000LL, t % 1000000000LL };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)
           == EINTR) {
        continue;
    }
}

void
vm_world_lock(struct vm_world *w)
{
    pthread_mutex_lock(&w->mutex);
}

void
vm_world_unlock(struct vm_world *w)
{
    pthread_mutex_unlock(&w->mutex);
}

/* --- The world's thread -------------------------------------------------- */

static int
send_frame__(struct vm *vm, const struct frame *f)
{
    struct vm_att *a = &vm->att[vm->active];
    uint8_t buf[2 + FRAME_MAX];

    if (a->fd < 0) {
        vm->tx_errors++;
        return ENOTCONN;
    }
    buf[0] = f->len >> 8;
    buf[1] = f->len;
    memcpy(buf + 2, f->data, f->len);
    size_t len = f->len + 2;
    ssize_t n = send(a->fd, buf, len, MSG_NOSIGNAL);
    if (n != (ssize_t) len) {
        /* A blocking stream socket sends all of it unless broken. */
        vm->tx_errors++;
        return n < 0 ? errno : EIO;
    }
    return 0;
}

static void
deliver__(struct vm_world *w, struct vm *vm, const struct vm_att *a,
          const struct frame *f)
{
    int64_t t = vm_now_ns();
    for (size_t i = 0; i < w->n_rx_hooks; i++) {
        w->rx_hooks[i].func(w->rx_hooks[i].aux, vm, a->gen, f, t);
    }
}

/* The VM runs on 'a': it reads what waited in its tap queue first. */
static void
deliver_held__(struct vm_world *w, struct vm *vm, struct vm_att *a)
{
    while (a->n_held) {
        deliver__(w, vm, a, &a->held[a->held_head]);
        a->held_head = (a->held_head + 1) % TAP_QUEUE;
        a->n_held--;
    }
}

/* Reads what is waiting on 'vm''s attachment 'a': whole frames go to the
 * receive hooks if 'deliver', else to the attachment's tap queue. */
static void
read_att__(struct vm_world *w, struct vm *vm, struct vm_att *a, bool deliver)
{

    while (a->fd >= 0 && !a->eof) {
        size_t need = (a->rxlen < 2 ? 2 - a->rxlen
                       : 2 + ((a->rxbuf[0] << 8) | a->rxbuf[1]) - a->rxlen);
        ssize_t n = recv(a->fd, a->rxbuf + a->rxlen, need, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                a->eof = true;
            }
            return;
        } else if (n == 0) {
            a->eof = true;
            return;
        }
        a->rxlen += n;
        if (a->rxlen == 2) {
            size_t flen = (a->rxbuf[0] << 8) | a->rxbuf[1];
            if (flen > FRAME_MAX) {
                fprintf(stderr, "vm %s: frame of %zu bytes on %s\n",
                        vm->name, flen, a->port);
                a->eof = true;
                return;
            }
        } else if (a->rxlen > 2
                   && a->rxlen == 2 + (size_t) ((a->rxbuf[0] << 8)
                                                | a->rxbuf[1])) {
            struct frame f;
            f.len = a->rxlen - 2;
            memcpy(f.data, a->rxbuf + 2, f.len);
            a->rxlen = 0;
            if (deliver) {
                deliver_held__(w, vm, a);
                deliver__(w, vm, a, &f);
            } else if (a->n_held < TAP_QUEUE) {
                if (!a->held) {
                    a->held = malloc(TAP_QUEUE * sizeof *a->held);
                    if (!a->held) {
                        continue;       /* dropped, as by a full queue */
                    }
                }
                a->held[(a->held_head + a->n_held) % TAP_QUEUE] = f;
                a->n_held++;
            }
        }
    }
}

/* Reads what is waiting on 'vm''s active stream, handing whole frames to
 * the receive hooks. */
static void
read_frames__(struct vm_world *w, struct vm *vm)
{
    struct vm_att *a = &vm->att[vm->active];
    deliver_held__(w, vm, a);
    read_att__(w, vm, a, true);
}

static void *
world_main__(void *w_)
{
    struct vm_world *w = w_;
    struct pollfd fds[2 * VM_MAX];
    struct vm *fd_vms[2 * VM_MAX];
    int fd_att[2 * VM_MAX];

    prctl(PR_SET_TIMERSLACK, 1UL);
    /* Real-time priority if allowed (keeps 1 kHz on a loaded machine); the
     * thread sleeps in ppoll() between deadlines. */
    struct sched_param sp = { .sched_priority = 10 };
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    vm_world_lock(w);
    while (!w->stop) {
        int64_t now = vm_now_ns();

        /* Tick hooks whose deadline has come. */
        for (size_t i = 0; i < w->n_tick_hooks; i++) {
            struct tick_hook *h = &w->tick_hooks[i];
            if (now >= h->next_ns) {
                int64_t late = now - h->next_ns;
                if (late > w->max_late_ns) {
                    w->max_late_ns = late;
                }
                h->func(h->aux, now, &h->next_ns);
            }
        }

        /* Scheduled frames of running VMs; the next deadline. */
        int64_t wake = now + 5000000;
        for (size_t i = 0; i < w->n_tick_hooks; i++) {
            if (w->tick_hooks[i].next_ns < wake) {
                wake = w->tick_hooks[i].next_ns;
            }
        }
        size_t n = 0;
        for (size_t i = 0; i < w->n_vms; i++) {
            struct vm *vm = w->vms[i];

            /* Every attachment is read: a running VM's active one by the
             * VM, the others into their tap queues. */
            for (int k = 0; k < 2; k++) {
                struct vm_att *a = &vm->att[k];
                if (a->fd >= 0 && !a->eof) {
                    fds[n].fd = a->fd;
                    fds[n].events = POLLIN;
                    fds[n].revents = 0;
                    fd_att[n] = k;
                    fd_vms[n++] = vm;
                }
            }
            if (!vm->running) {
                continue;
            }
            deliver_held__(w, vm, &vm->att[vm->active]);
            for (size_t j = 0; j < vm->n_sched; ) {
                if (vm->sched[j].t_ns <= now) {
                    send_frame__(vm, &vm->sched[j].frame);
                    vm->sched[j] = vm->sched[--vm->n_sched];
                } else {
                    if (vm->sched[j].t_ns < wake) {
                        wake = vm->sched[j].t_ns;
                    }
                    j++;
                }
            }
        }
        unsigned long long change = w->change;
        vm_world_unlock(w);

        int64_t dt = wake - vm_now_ns();
        if (dt < 0) {
            dt = 0;
        }
        struct timespec ts = { dt / 1000000000LL, dt % 1000000000LL };
        int retval = ppoll(fds, n, &ts, NULL);

        vm_world_lock(w);
        if (retval > 0 && change == w->change) {
            for (size_t i = 0; i < n; i++) {
                struct vm *vm = fd_vms[i];
                struct vm_att *a = &vm->att[fd_att[i]];
                if (fds[i].revents && a->fd == fds[i].fd) {
                    read_att__(w, vm, a, (vm->running
                                          && fd_att[i] == vm->active));
                }
            }
        }
    }
    vm_world_unlock(w);
    return NULL;
}

struct vm_world *
vm_world_create(struct dc *dc)
{
    struct vm_world *w = calloc(1, sizeof *w);
    w->dc = dc;
    pthread_mutex_init(&w->mutex, NULL);
    if (pthread_create(&w->thread, NULL, world_main__, w)) {
        fprintf(stderr, "vm: pthread_create failed\n");
        free(w);
        return NULL;
    }
    return w;
}

static void
close_att__(struct vm_att *a)
{
    if (a->fd >= 0) {
        close(a->fd);
    }
    free(a->held);              /* its tap queue is lost with it */
    memset(a, 0, sizeof *a);
    a->fd = -1;
}

void
vm_world_destroy(struct vm_world *w)
{
    if (!w) {
        return;
    }
    vm_world_lock(w);
    w->stop = true;
    vm_world_unlock(w);
    pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->n_vms; i++) {
        close_att__(&w->vms[i]->att[0]);
        close_att__(&w->vms[i]->att[1]);
        free(w->vms[i]);
    }
    pthread_mutex_destroy(&w->mutex);
    free(w);
}

void
vm_world_add_rx_hook(struct vm_world *w, vm_rx_hook *func, void *aux)
{
    vm_world_lock(w);
    if (w->n_rx_hooks >= HOOK_MAX) {
        abort();
    }
    w->rx_hooks[w->n_rx_hooks++] = (struct rx_hook) { func, aux };
    vm_world_unlock(w);
}

void
vm_world_remove_rx_hook(struct vm_world *w, vm_rx_hook *func, void *aux)
{
    vm_world_lock(w);
    for (size_t i = 0; i < w->n_rx_hooks; i++) {
        if (w->rx_hooks[i].func == func && w->rx_hooks[i].aux == aux) {
            memmove(&w->rx_hooks[i], &w->rx_hooks[i + 1],
                    (--w->n_rx_hooks - i) * sizeof *w->rx_hooks);
            break;
        }
    }
    vm_world_unlock(w);
}

void
vm_world_add_tick_hook(struct vm_world *w, vm_tick_hook *func, void *aux,
                       int64_t first_ns)
{
    vm_world_lock(w);
    if (w->n_tick_hooks >= HOOK_MAX) {
        abort();
    }
    w->tick_hooks[w->n_tick_hooks++] = (struct tick_hook) { func, aux,
                                                            first_ns };
    vm_world_unlock(w);
}

void
vm_world_remove_tick_hook(struct vm_world *w, vm_tick_hook *func, void *aux)
{
    vm_world_lock(w);
    for (size_t i = 0; i < w->n_tick_hooks; i++) {
        if (w->tick_hooks[i].func == func && w->tick_hooks[i].aux == aux) {
            memmove(&w->tick_hooks[i], &w->tick_hooks[i + 1],
                    (--w->n_tick_hooks - i) * sizeof *w->tick_hooks);
            break;
        }
    }
    vm_world_unlock(w);
}

int64_t
vm_world_max_late_ns(struct vm_world *w)
{
    vm_world_lock(w);
    int64_t late = w->max_late_ns;
    vm_world_unlock(w);
    return late;
}

/* --- Hypervisor operations ------------------------------------------------ */

static char * __attribute__((format(printf, 1, 2)))
xasprintf__(const char *fmt, ...)
{
    va_list args;
    char *s;

    va_start(args, fmt);
    if (vasprintf(&s, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    return s;
}

/* Appends printf-formatted text to '*s'. */
static void __attribute__((format(printf, 2, 3)))
append__(char **s, const char *fmt, ...)
{
    va_list args;
    char *more, *old = *s;

    va_start(args, fmt);
    if (vasprintf(&more, fmt, args) < 0) {
        abort();
    }
    va_end(args);
    *s = xasprintf__("%s%s", old ? old : "", more);
    free(old);
    free(more);
}

static struct sandbox *
hv_sb__(const struct vm_world *w, int hv)
{
    return fabric_hv(w->dc->fabric, hv);
}

/* Runs the OVSDB operations 'ops' (a comma-separated list of JSON objects)
 * in one transaction on 'hv''s ovsdb-server, over a fresh unix socket
 * connection.  Every "mutate" must have changed exactly one row. */
static int
ovsdb_transact__(struct vm_world *w, int hv, const char *ops)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/db.sock",
             sandbox_dir(hv_sb__(w, hv)));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int error = errno;
        fprintf(stderr, "vm: %s: %s\n", sun.sun_path, strerror(error));
        if (fd >= 0) {
            close(fd);
        }
        return error;
    }
    char *req = xasprintf__("{\"id\":1,\"method\":\"transact\",\"params\":"
                            "[\"Open_vSwitch\",%s]}", ops);
    size_t len = strlen(req);
    int error = 0;
    if (write(fd, req, len) != (ssize_t) len) {
        error = errno ? errno : EIO;
        fprintf(stderr, "vm: transact write: %s\n", strerror(error));
    } else {
        char reply[8192];
        error = dc_read_json(fd, reply, sizeof reply);
        if (error) {
            fprintf(stderr, "vm: transact reply: %s\n", strerror(error));
        } else {
            /* Success has exactly one "error", the top-level null. */
            const char *e = strstr(reply, "\"error\":");
            if (!e || strncmp(e, "\"error\":null", 12)
                || strstr(e + 1, "\"error\":")
                || strstr(reply, "\"count\":0")) {
                fprintf(stderr, "vm: transaction on hv%d failed: %s\n"
                        "  request: %s\n", hv, reply, req);
                error = EPROTO;
            }
        }
    }
    free(req);
    close(fd);
    return error;
}

/* The OVSDB operation that sets (or, 'value' NULL, removes)
 * tether-migration on interface 'port', with tether-paused-at='paused_at'
 * if that is nonnull (else without it), as QEMU's STOP event carries the
 * time of the pause. */
static char *
marker_op__(const char *port, const char *value, const char *paused_at)
{
    char *op = xasprintf__(
        "{\"op\":\"mutate\",\"table\":\"Interface\","
        "\"where\":[[\"name\",\"==\",\"%s\"]],\"mutations\":["
        "[\"external_ids\",\"delete\",[\"set\",[\"tether-migration\","
        "\"tether-paused-at\"]]]", port);
    if (value) {
        append__(&op, ",[\"external_ids\",\"insert\",[\"map\","
                 "[[\"tether-migration\",\"%s\"]", value);
        if (paused_at) {
            append__(&op, ",[\"tether-paused-at\",\"%s\"]", paused_at);
        }
        append__(&op, "]]]");
    }
    append__(&op, "]}");
    return op;
}

/* Sets marker 'value' on attachment 'which' of each of 'n' VMs, one
 * transaction per hypervisor. */
static int
set_markers_at__(struct vm **vms, size_t n, int which, const char *value,
                 const char *paused_at)
{
    if (!n) {
        return 0;
    }
    struct vm_world *w = vms[0]->world;
    for (int hv = 1; hv <= w->dc->n_hvs; hv++) {
        char *ops = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct vm_att *a = &vms[i]->att[which];
            if (a->hv == hv) {
                char *op = marker_op__(a->port, value, paused_at);
                append__(&ops, "%s%s", ops ? "," : "", op);
                free(op);
            }
        }
        if (ops) {
            int error = ovsdb_transact__(w, hv, ops);
            free(ops);
            if (error) {
                return error;
            }
        }
    }
    return 0;
}

static int
set_markers__(struct vm **vms, size_t n, int which, const char *value)
{
    return set_markers_at__(vms, n, which, value, NULL);
}

/* Plugs a port for each of 'n' VMs on 'hv' (one ovs-vsctl call) into their
 * attachment 'which', with 'marker' (may be NULL), and connects the streams.
 * The VMs' running state is not changed. */
static int
plug__(struct vm **vms, size_t n, int which, int hv, const char *marker)
{
    struct vm_world *w = vms[0]->world;
    struct sandbox *sb = hv_sb__(w, hv);
    char *cmd = xasprintf__(SANDBOX_VSCTL);

    for (size_t i = 0; i < n; i++) {
        struct vm *vm = vms[i];
        struct vm_att a;
        memset(&a, 0, sizeof a);
        a.fd = -1;
        a.hv = hv;
        a.gen = vm->next_gen++;
        snprintf(a.port, sizeof a.port, "%s-%u", vm->name, a.gen);
        snprintf(a.path, sizeof a.path, "%s/%s.vm", sandbox_dir(sb), a.port);
        if (strlen(a.path) + 1 > sizeof ((struct sockaddr_un *) 0)->sun_path) {
            fprintf(stderr, "vm: %s: socket path too long\n", a.path);
            free(cmd);
            return ENAMETOOLONG;
        }
        unlink(a.path);
        append__(&cmd, " -- add-port br-int '%s' -- set interface '%s'"
                 " type=dummy 'options:pstream=\"punix:%s\"'"
                 " 'external_ids:iface-id=\"%s\"'"
                 " 'external_ids:attached-mac=\"%s\"'"
                 " 'external_ids:vm-uuid=\"%s\"'"
                 " external_ids:iface-status=active",
                 a.port, a.port, a.path, vm->eni, vm->mac, vm->uuid);
        if (marker) {
            append__(&cmd, " external_ids:tether-migration=%s", marker);
        }
        vm_world_lock(w);
        vm->att[which] = a;
        w->change++;
        vm_world_unlock(w);
    }
    int status = sandbox_run(sb, NULL, "%s", cmd);
    if (status) {
        fprintf(stderr, "vm: plug on hv%d failed (status %d): %s\n",
                hv, status, cmd);
        free(cmd);
        return EIO;
    }
    free(cmd);

    /* Connect every stream. */
    int64_t deadline = vm_now_ns() + WAIT_MS * 1000000LL;
    for (size_t i = 0; i < n; i++) {
        struct vm_att *a = &vms[i]->att[which];
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        strcpy(sun.sun_path, a->path);
        for (;;) {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0 && !connect(fd, (struct sockaddr *) &sun,
                                    sizeof sun)) {
                vm_world_lock(w);
                a->fd = fd;
                w->change++;
                vm_world_unlock(w);
                break;
            }
            int error = errno;
            if (fd >= 0) {
                close(fd);
            }
            if (vm_now_ns() > deadline) {
                fprintf(stderr, "vm: %s: %s\n", a->path, strerror(error));
                return error;
            }
            sleep_until_ns__(vm_now_ns() + 2000000);
        }
    }

    /* Wait until ovs-vswitchd has accepted every stream (until then the
     * port's frames go nowhere; netdev-dummy/conn-state knows nothing of
     * passive streams): each VM sends one frame no pipeline accepts
     * (EtherType 0x88b5, dropped by port security), and ovs-vswitchd reads
     * a stream only once it has accepted it, so the port's rx counter
     * tells. */
    struct frame hello;
    memset(&hello, 0, sizeof hello);
    hello.len = 60;
    for (size_t i = 0; i < n; i++) {
        struct vm *vm = vms[i];
        struct vm_att *a = &vm->att[which];
        sscanf(vm->mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &hello.data[6],
               &hello.data[7], &hello.data[8], &hello.data[9],
               &hello.data[10], &hello.data[11]);
        memcpy(hello.data, hello.data + 6, 6);
        hello.data[12] = 0x88;
        hello.data[13] = 0xb5;
        vm_world_lock(w);
        int saved = vm->active;
        vm->active = which;
        int error = send_frame__(vm, &hello);
        vm->active = saved;
        vm_world_unlock(w);
        if (error) {
            fprintf(stderr, "vm: %s: send: %s\n", a->port, strerror(error));
            return error;
        }
    }
    for (;;) {
        char *out = NULL;
        bool all = true;
        bool late = vm_now_ns() > deadline;
        if (sandbox_run(sb, &out, "ovs-ofctl -O OpenFlow13 --names dump-ports br-int")) {
            all = false;
        }
        for (size_t i = 0; all && i < n; i++) {
            const char *port = vms[i]->att[which].port;
            char *quoted = xasprintf__("\"%s\": rx pkts=", port);
            char *plain = xasprintf__(" %s: rx pkts=", port);
            const char *p = strstr(out, quoted);
            size_t skip = strlen(quoted);
            if (!p) {
                p = strstr(out, plain);
                skip = strlen(plain);
            }
            if (!p || atoi(p + skip) < 1) {
                all = false;
            }
            free(quoted);
            free(plain);
        }
        if (all) {
            free(out);
            return 0;
        }
        if (late) {
            fprintf(stderr, "vm: hv%d did not accept the VM streams; "
                    "its ports:\n%s", hv, out ? out : "(nothing)\n");
            free(out);
            return ETIMEDOUT;
        }
        free(out);
        sleep_until_ns__(vm_now_ns() + 5000000);
    }
}

/* Deletes attachment 'which' of each of 'n' VMs: the stream is closed
 * unread first (what waits there is lost), then the ports are deleted, one
 * ovs-vsctl call per hypervisor. */
static int
unplug__(struct vm **vms, size_t n, int which)
{
    if (!n) {
        return 0;
    }
    struct vm_world *w = vms[0]->world;
    char *cmds[DC_MAX_HVS + 1] = { NULL };

    vm_world_lock(w);
    for (size_t i = 0; i < n; i++) {
        struct vm_att *a = &vms[i]->att[which];
        if (a->hv) {
            append__(&cmds[a->hv], " -- --if-exists del-port br-int '%s'",
                     a->port);
        }
        close_att__(a);
    }
    w->change++;
    vm_world_unlock(w);

    int error = 0;
    for (int hv = 1; hv <= w->dc->n_hvs; hv++) {
        if (cmds[hv]) {
            int status = sandbox_run(hv_sb__(w, hv), NULL, SANDBOX_VSCTL "%s",
                                     cmds[hv]);
            if (status) {
                fprintf(stderr, "vm: unplug on hv%d failed: %s\n", hv,
                        cmds[hv]);
                error = EIO;
            }
            free(cmds[hv]);
        }
    }
    return error;
}

/* --- VMs ---------------------------------------------------------------- */

struct vm *
vm_create(struct vm_world *w, const char *name, const char *eni_id,
          const char *mac, const char *ip, int hv)
{
    struct vm *vm = calloc(1, sizeof *vm);
    vm->world = w;
    snprintf(vm->name, sizeof vm->name, "%s", name);
    snprintf(vm->eni, sizeof vm->eni, "%s", eni_id);
    snprintf(vm->mac, sizeof vm->mac, "%s", mac);
    snprintf(vm->ip, sizeof vm->ip, "%s", ip);
    snprintf(vm->uuid, sizeof vm->uuid, "5e0c0000-0000-4000-8000-%012x",
             (unsigned) (random() & 0xffffff) ^ (unsigned) getpid());
    vm->att[0].fd = vm->att[1].fd = -1;

    vm_world_lock(w);
    if (w->n_vms >= VM_MAX) {
        abort();
    }
    w->vms[w->n_vms++] = vm;
    w->change++;
    vm_world_unlock(w);

    if (plug__(&vm, 1, 0, hv, NULL)) {
        vm_destroy(vm);
        return NULL;
    }
    vm_world_lock(w);
    vm->active = 0;
    vm->running = true;
    vm_world_unlock(w);
    return vm;
}

void
vm_destroy(struct vm *vm)
{
    if (!vm) {
        return;
    }
    struct vm_world *w = vm->world;
    vm_world_lock(w);
    vm->running = false;
    vm_world_unlock(w);
    unplug__(&vm, 1, 1);
    unplug__(&vm, 1, 0);
    vm_world_lock(w);
    for (size_t i = 0; i < w->n_vms; i++) {
        if (w->vms[i] == vm) {
            w->vms[i] = w->vms[--w->n_vms];
            break;
        }
    }
    w->change++;
    vm_world_unlock(w);
    free(vm);
}

const char *vm_name(const struct vm *vm) { return vm->name; }
const char *vm_eni(const struct vm *vm) { return vm->eni; }
const char *vm_mac(const struct vm *vm) { return vm->mac; }
const char *vm_ip(const struct vm *vm) { return vm->ip; }
int vm_hv(const struct vm *vm) { return vm->att[vm->active].hv; }
const char *vm_port(const struct vm *vm) { return vm->att[vm->active].port; }

bool
vm_is_running(const struct vm *vm)
{
    return vm->running;
}

const char *
vm_source_port(const struct vm *vm)
{
    return vm->att[0].hv ? vm->att[0].port : NULL;
}

const char *
vm_dest_port(const struct vm *vm)
{
    return vm->att[1].hv ? vm->att[1].port : NULL;
}

int
vm_dest_hv(const struct vm *vm)
{
    return vm->att[1].hv;
}

void
vm_freeze(struct vm *vm, bool frozen)
{
    vm_world_lock(vm->world);
    vm->running = !frozen;
    vm->world->change++;
    vm_world_unlock(vm->world);
}

int
vm_send_locked(struct vm *vm, const struct frame *f)
{
    return vm->running ? send_frame__(vm, f) : EAGAIN;
}

int
vm_send(struct vm *vm, const struct frame *f)
{
    vm_world_lock(vm->world);
    int error = vm_send_locked(vm, f);
    vm_world_unlock(vm->world);
    return error;
}

unsigned long long
vm_tx_errors(const struct vm *vm)
{
    return vm->tx_errors;
}

int
vm_set_marker(struct vm *vm, bool dest, const char *value)
{
    if (!vm->att[dest].hv) {
        fprintf(stderr, "vm %s: no %s port\n", vm->name,
                dest ? "destination" : "source");
        return ENOENT;
    }
    return set_markers__(&vm, 1, dest, value);
}

/* --- Migration ---------------------------------------------------------- */

int
vm_mig_plug_dest(struct vm **vms, size_t n, int dest_hv)
{
    for (size_t i = 0; i < n; i++) {
        if (vms[i]->att[1].hv || vms[i]->att[0].hv == dest_hv) {
            fprintf(stderr, "vm %s: already migrating, or on hv%d\n",
                    vms[i]->name, dest_hv);
            return EINVAL;
        }
    }
    return n ? plug__(vms, n, 1, dest_hv, "incoming") : 0;
}

int
vm_mig_pause_source(struct vm **vms, size_t n)
{
    if (!n) {
        return 0;
    }
    struct vm_world *w = vms[0]->world;
    vm_world_lock(w);
    for (size_t i = 0; i < n; i++) {
        /* A running guest reads its queue as frames arrive: what is in the
         * socket now arrived before the pause, and this VM reads it (the
         * world's thread may be behind). */
        if (vms[i]->running) {
            read_frames__(w, vms[i]);
        }
        vms[i]->running = false;
        vms[i]->src_paused = true;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    vm_world_unlock(w);
    char paused_at[32];
    snprintf(paused_at, sizeof paused_at, "%lld.%06ld",
             (long long) now.tv_sec, now.tv_nsec / 1000);
    return set_markers_at__(vms, n, 0, "paused", paused_at);
}

/* QEMU's announcements after RESUME. */
static const int rarp_ms[] = { 0, 50, 200, 450, 800 };

int
vm_mig_resume_dest(struct vm **vms, size_t n)
{
    if (!n) {
        return 0;
    }
    struct vm_world *w = vms[0]->world;
    int64_t now = vm_now_ns();
    vm_world_lock(w);
    for (size_t i = 0; i < n; i++) {
        struct vm *vm = vms[i];
        vm->active = 1;
        vm->running = true;
        vm->n_sched = 0;
        for (size_t j = 0; j < sizeof rarp_ms / sizeof *rarp_ms; j++) {
            struct vm_sched *s = &vm->sched[vm->n_sched++];
            s->t_ns = now + rarp_ms[j] * 1000000LL;
            frame_rarp(&s->frame, vm->mac);
        }
    }
    w->change++;
    vm_world_unlock(w);
    return set_markers__(vms, n, 1, "activated");
}

int
vm_mig_complete(struct vm **vms, size_t n)
{
    if (!n) {
        return 0;
    }
    struct vm_world *w = vms[0]->world;
    int error = set_markers__(vms, n, 1, "completed");
    /* The source VM is gone: its stream's unread frames with it. */
    int error2 = unplug__(vms, n, 0);
    vm_world_lock(w);
    for (size_t i = 0; i < n; i++) {
        struct vm *vm = vms[i];
        vm->att[0] = vm->att[1];
        memset(&vm->att[1], 0, sizeof vm->att[1]);
        vm->att[1].fd = -1;
        vm->active = 0;
        vm->src_paused = false;
    }
    w->change++;
    vm_world_unlock(w);
    return error ? error : error2;
}

/* The source resumes (reading what waited in its queue) and its key is
 * removed. */
static int
resume_source__(struct vm **vms, size_t n)
{
    struct vm_world *w = vms[0]->world;
    size_t m = 0;
    struct vm *paused[VM_MAX];

    vm_world_lock(w);
    for (size_t i = 0; i < n; i++) {
        struct vm *vm = vms[i];
        if (vm->src_paused) {
            paused[m++] = vm;
        }
        vm->active = 0;
        vm->running = true;
        vm->src_paused = false;
    }
    w->change++;
    vm_world_unlock(w);
    return set_markers__(paused, m, 0, NULL);
}

int
vm_mig_fail(struct vm **vms, size_t n)
{
    if (!n) {
        return 0;
    }
    int error = set_markers__(vms, n, 1, "failed");
    int error2 = resume_source__(vms, n);
    int error3 = unplug__(vms, n, 1);
    return error ? error : error2 ? error2 : error3;
}

int
vm_mig_dest_dies(struct vm **vms, size_t n)
{
    if (!n) {
        return 0;
    }
    int error = unplug__(vms, n, 1);
    int error2 = resume_source__(vms, n);
    return error ? error : error2;
}

int
vm_migrate_many(struct vm **vms, size_t n, int dest_hv, int stun_ms,
                int precopy_ms, enum vm_migrate_mode mode,
                struct vm_migrate_report *r)
{
    struct vm_migrate_report dummy;
    int error;

    if (!r) {
        r = &dummy;
    }
    memset(r, 0, sizeof *r);
    if (!precopy_ms) {
        precopy_ms = 200;
    }

    error = vm_mig_plug_dest(vms, n, dest_hv);
    if (error) {
        return error;
    }
    r->plugged = vm_now_ns();
    sleep_until_ns__(r->plugged + precopy_ms * 1000000LL);

    if (mode == VM_MIGRATE_DEST_DIES_EARLY) {
        error = vm_mig_dest_dies(vms, n);
        r->rolled_back = vm_now_ns();
        return error;
    }

    r->paused = vm_now_ns();
    error = vm_mig_pause_source(vms, n);
    if (error) {
        return error;
    }
    r->paused_marked = vm_now_ns();

    if (mode == VM_MIGRATE_DEST_DIES) {
        sleep_until_ns__(r->paused + stun_ms / 2 * 1000000LL);
        error = vm_mig_dest_dies(vms, n);
        r->rolled_back = vm_now_ns();
        return error;
    }
    sleep_until_ns__(r->paused + stun_ms * 1000000LL);
    if (mode == VM_MIGRATE_FAIL_AFTER_PAUSE) {
        error = vm_mig_fail(vms, n);
        r->rolled_back = vm_now_ns();
        return error;
    }

    r->resumed = vm_now_ns();
    error = vm_mig_resume_dest(vms, n);
    if (error) {
        return error;
    }
    r->completed = vm_now_ns();
    return vm_mig_complete(vms, n);
}

int
vm_migrate(struct vm *vm, int dest_hv, int stun_ms, int precopy_ms,
           enum vm_migrate_mode mode, struct vm_migrate_report *r)
{
    return vm_migrate_many(&vm, 1, dest_hv, stun_ms, precopy_ms, mode, r);
}
