/* A data center of dummy-datapath hypervisors on one underlay switch, for
 * sandbox tests.  See fabric.h for the topology and the contract. */
#define _GNU_SOURCE 1           /* open_memstream, asprintf */
#include "tests/sandbox/fabric.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sandbox/sandbox.h"

struct fabric_hv {
    struct sandbox *sb;
    char name[16];              /* "hv<i>" */
    char ip[32];                /* "192.168.0.<i>" */
    char mac[32];               /* br-phy's: "02:00:c0:a8:00:<i>" */
};

struct fabric {
    struct sandbox *underlay;   /* br-fabric */
    int n_hvs;
    struct fabric_hv *hvs;      /* hvs[0] is "hv1" */
};

static long long
now_ms__(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
sleep_ms__(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static const struct fabric_hv *
hv__(const struct fabric *f, int hv)
{
    if (hv < 1 || hv > f->n_hvs) {
        fprintf(stderr, "fabric: no hypervisor %d (have 1..%d)\n",
                hv, f->n_hvs);
        abort();
    }
    return &f->hvs[hv - 1];
}

/* Runs printf-formatted 'fmt' in sandbox 'sb' with its stdout discarded (or
 * stored in '*outp'), reporting a failure with 'what'.  Returns 0 or EIO. */
static int __attribute__((format(printf, 4, 5)))
run__(struct sandbox *sb, char **outp, const char *what, const char *fmt, ...)
{
    va_list args;
    char *cmd, *out = NULL;

    va_start(args, fmt);
    if (vasprintf(&cmd, fmt, args) < 0) {
        abort();
    }
    va_end(args);

    int status = sandbox_run(sb, &out, "%s", cmd);
    if (status) {
        fprintf(stderr, "fabric: %s failed (status %d): %s\n%s",
                what, status, cmd, out ? out : "");
    }
    if (outp && !status) {
        *outp = out;
    } else {
        free(out);
        if (outp) {
            *outp = NULL;
        }
    }
    free(cmd);
    return status ? EIO : 0;
}

/* Sets up br-fabric with one listening port per hypervisor. */
static int
create_underlay__(struct fabric *f)
{
    char *cmd;
    size_t size;
    FILE *s = open_memstream(&cmd, &size);

    fprintf(s, SANDBOX_VSCTL " add-br br-fabric -- set bridge br-fabric "
            "datapath_type=dummy fail_mode=secure");
    for (int i = 1; i <= f->n_hvs; i++) {
        fprintf(s, " -- add-port br-fabric hv%d -- set interface hv%d "
                "type=dummy 'options:pstream=\"punix:%s/hv%d.sock\"'",
                i, i, sandbox_dir(f->underlay), i);
    }
    fprintf(s, " && ovs-ofctl add-flow br-fabric actions=NORMAL");
    fclose(s);

    int error = run__(f->underlay, NULL, "underlay set-up", "%s", cmd);
    free(cmd);
    return error;
}

/* Sets up hypervisor 'hv' (whose sandbox runs): br-phy on the underlay with
 * its tunnel IP, route and neighbors, and an empty br-int. */
static int
create_hv__(struct fabric *f, int hv)
{
    const struct fabric_hv *h = hv__(f, hv);
    char *cmd;
    size_t size;
    FILE *s = open_memstream(&cmd, &size);

    fprintf(s, SANDBOX_VSCTL
            " set open_vswitch . external_ids:system-id=%s"
            " external_ids:hostname=%s"
            " -- add-br br-phy -- set bridge br-phy datapath_type=dummy"
            " fail_mode=secure 'other-config:hwaddr=\"%s\"'"
            " -- add-port br-phy underlay -- set interface underlay"
            " type=dummy 'options:stream=\"unix:%s/%s.sock\"'"
            " -- add-br br-int -- set bridge br-int datapath_type=dummy"
            " fail_mode=secure"
            " && ovs-ofctl add-flow br-phy actions=NORMAL"
            " && " SANDBOX_APPCTL " netdev-dummy/ip4addr br-phy %s/24"
            " >/dev/null"
            " && " SANDBOX_APPCTL " ovs/route/add %s/24 br-phy >/dev/null",
            h->name, h->name, h->mac, sandbox_dir(f->underlay), h->name,
            h->ip, h->ip);
    for (int j = 1; j <= f->n_hvs; j++) {
        if (j != hv) {
            fprintf(s, " && " SANDBOX_APPCTL " tnl/neigh/set br-phy %s %s"
                    " >/dev/null", hv__(f, j)->ip, hv__(f, j)->mac);
        }
    }
    fclose(s);

    int error = run__(h->sb, NULL, "hypervisor set-up", "%s", cmd);
    free(cmd);
    return error;
}

/* Waits until every hypervisor's underlay port has connected to br-fabric.
 * (Only the connecting side reports a state; the listening side's is always
 * "unknown".) */
static int
wait_links__(struct fabric *f)
{
    long long deadline = now_ms__() + 10000;

    for (int i = 1; i <= f->n_hvs; i++) {
        for (;;) {
            char *out = NULL;
            bool up = (!sandbox_run(hv__(f, i)->sb, &out, SANDBOX_APPCTL
                                    " netdev-dummy/conn-state underlay")
                       && strstr(out, "connected")
                       && !strstr(out, "disconnected"));
            free(out);
            if (up) {
                break;
            } else if (now_ms__() >= deadline) {
                fprintf(stderr, "fabric: hv%d's underlay link not "
                        "connected after 10 s\n", i);
                return ETIMEDOUT;
            }
            sleep_ms__(2);
        }
    }
    return 0;
}

struct fabric *
fabric_create(const char *name, int n_hvs)
{
    struct fabric *f;
    char *sb_name;

    if (n_hvs < 1 || n_hvs > 250) {
        fprintf(stderr, "fabric: %d hypervisors (1..250 please)\n", n_hvs);
        return NULL;
    }
    f = calloc(1, sizeof *f);
    f->n_hvs = n_hvs;
    f->hvs = calloc(n_hvs, sizeof *f->hvs);
    for (int i = 1; i <= n_hvs; i++) {
        struct fabric_hv *h = &f->hvs[i - 1];
        snprintf(h->name, sizeof h->name, "hv%d", i);
        snprintf(h->ip, sizeof h->ip, "192.168.0.%d", i & 0xff);
        snprintf(h->mac, sizeof h->mac, "02:00:c0:a8:00:%02x", i & 0xff);
    }

    if (asprintf(&sb_name, "%s-ul", name) < 0) {
        abort();
    }
    f->underlay = sandbox_create(sb_name);
    free(sb_name);
    if (!f->underlay) {
        goto error;
    }
    /* The links are unix sockets in the underlay's directory: a path too
     * long for sun_path would only show up as a link that never connects. */
    if (strlen(sandbox_dir(f->underlay)) + sizeof "/hv250.sock" > 108) {
        fprintf(stderr, "fabric: %s: too long for unix socket paths (set "
                "TMPDIR to a shorter directory)\n",
                sandbox_dir(f->underlay));
        goto error;
    }
    if (create_underlay__(f)) {
        goto error;
    }

    for (int i = 1; i <= n_hvs; i++) {
        struct fabric_hv *h = &f->hvs[i - 1];

        if (asprintf(&sb_name, "%s-%s", name, h->name) < 0) {
            abort();
        }
        h->sb = sandbox_create(sb_name);
        free(sb_name);
        if (!h->sb || create_hv__(f, i)) {
            goto error;
        }
    }
    if (wait_links__(f)) {
        goto error;
    }
    return f;

error:
    fabric_destroy(f);
    return NULL;
}

void
fabric_destroy(struct fabric *f)
{
    if (!f) {
        return;
    }
    for (int i = 0; i < f->n_hvs; i++) {
        sandbox_destroy(f->hvs[i].sb);
    }
    sandbox_destroy(f->underlay);
    free(f->hvs);
    free(f);
}

int
fabric_n_hvs(const struct fabric *f)
{
    return f->n_hvs;
}

struct sandbox *
fabric_hv(const struct fabric *f, int hv)
{
    return hv__(f, hv)->sb;
}

const char *
fabric_hv_name(const struct fabric *f, int hv)
{
    return hv__(f, hv)->name;
}

const char *
fabric_hv_ip(const struct fabric *f, int hv)
{
    return hv__(f, hv)->ip;
}

const char *
fabric_hv_mac(const struct fabric *f, int hv)
{
    return hv__(f, hv)->mac;
}

const char *
fabric_hv_db_remote(const struct fabric *f, int hv)
{
    return sandbox_db_remote(hv__(f, hv)->sb);
}

struct sandbox *
fabric_underlay(const struct fabric *f)
{
    return f->underlay;
}

int
fabric_link_set(struct fabric *f, int hv, bool up)
{
    const char *name = hv__(f, hv)->name;
    const char *no = up ? "" : "no-";

    /* OFPPC_NO_RECV and OFPPC_NO_FWD: NORMAL neither takes frames from the
     * port nor sends any to it, in both directions at once. */
    return run__(f->underlay, NULL, up ? "link up" : "link down",
                 "ovs-ofctl mod-port br-fabric %s %sreceive"
                 " && ovs-ofctl mod-port br-fabric %s %sforward",
                 name, no, name, no);
}

int
fabric_ofport(struct fabric *f, int hv, const char *port)
{
    char *out = NULL;
    int ofport = -1;

    if (!sandbox_run(hv__(f, hv)->sb, &out, SANDBOX_VSCTL
                     " get interface '%s' ofport 2>/dev/null", port)) {
        ofport = atoi(out);
    }
    free(out);
    return ofport > 0 ? ofport : -1;
}

int
fabric_add_tunnel(struct fabric *f, int hv, const char *name,
                  const char *type)
{
    const struct fabric_hv *h = hv__(f, hv);

    /* No options:local_ip: see fabric.h. */
    name = name ? name : FABRIC_TUNNEL_PORT;
    if (run__(h->sb, NULL, "tunnel port",
              SANDBOX_VSCTL " add-port br-int '%s' -- set interface '%s'"
              " type=%s options:remote_ip=flow options:key=flow",
              name, name, type)) {
        return -1;
    }
    return fabric_ofport(f, hv, name);
}

char *
fabric_vif_pcap(const struct fabric *f, int hv, const char *vm_name,
                bool to_vm)
{
    char *path;

    if (asprintf(&path, "%s/%s-%s.pcap", sandbox_dir(hv__(f, hv)->sb),
                 vm_name, to_vm ? "tx" : "rx") < 0) {
        abort();
    }
    return path;
}

int
fabric_add_vif(struct fabric *f, int hv, const char *vm_name,
               const char *eni_id, const char *mac, const char *vm_uuid)
{
    char *tx = fabric_vif_pcap(f, hv, vm_name, true);
    char *rx = fabric_vif_pcap(f, hv, vm_name, false);
    int error = run__(hv__(f, hv)->sb, NULL, "VIF plug",
                      SANDBOX_VSCTL " add-port br-int '%s'"
                      " -- set interface '%s' type=dummy"
                      " 'options:tx_pcap=\"%s\"' 'options:rxq_pcap=\"%s\"'"
                      " 'external_ids:iface-id=\"%s\"'"
                      " 'external_ids:attached-mac=\"%s\"'"
                      " 'external_ids:vm-uuid=\"%s\"'"
                      " external_ids:iface-status=active",
                      vm_name, vm_name, tx, rx, eni_id, mac, vm_uuid);
    free(tx);
    free(rx);
    return error ? -1 : fabric_ofport(f, hv, vm_name);
}

int
fabric_del_vif(struct fabric *f, int hv, const char *vm_name)
{
    return run__(hv__(f, hv)->sb, NULL, "VIF unplug",
                 SANDBOX_VSCTL " del-port br-int '%s'", vm_name);
}

int
fabric_inject(struct fabric *f, int hv, const char *port,
              const struct frame *frame)
{
    char *hex = frame_to_hex(frame);
    int error = run__(hv__(f, hv)->sb, NULL, "inject",
                      SANDBOX_APPCTL " netdev-dummy/receive '%s' %s",
                      port, hex);
    free(hex);
    return error;
}

int
fabric_inject_flow(struct fabric *f, int hv, const char *port,
                   const char *flow)
{
    return run__(hv__(f, hv)->sb, NULL, "inject",
                 SANDBOX_APPCTL " netdev-dummy/receive '%s' '%s'",
                 port, flow);
}

static int
count__(const struct fabric *f, int hv, const char *vm_name, bool to_vm,
        frame_match_func *match, const void *aux)
{
    char *path = fabric_vif_pcap(f, hv, vm_name, to_vm);
    int n = pcap_count(path, match, aux);
    free(path);
    return n;
}

int
fabric_vif_count_rx(const struct fabric *f, int hv, const char *vm_name,
                    frame_match_func *match, const void *aux)
{
    return count__(f, hv, vm_name, true, match, aux);
}

int
fabric_vif_count_tx(const struct fabric *f, int hv, const char *vm_name,
                    frame_match_func *match, const void *aux)
{
    return count__(f, hv, vm_name, false, match, aux);
}

int
fabric_vif_wait_rx(const struct fabric *f, int hv, const char *vm_name,
                   frame_match_func *match, const void *aux,
                   int n, int timeout_ms)
{
    long long deadline = now_ms__() + timeout_ms;

    for (;;) {
        int count = fabric_vif_count_rx(f, hv, vm_name, match, aux);
        if ((n > 0 && count >= n) || now_ms__() >= deadline) {
            return count;
        }
        sleep_ms__(5);
    }
}
