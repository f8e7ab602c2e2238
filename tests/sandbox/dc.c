/* A tether data center for end-to-end sandbox tests: fabric, tetherd with its
 * database, one tether-agent per hypervisor (see dc.h). */
#define _GNU_SOURCE 1           /* vasprintf, strndup */
#include "tests/sandbox/dc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/sandbox/sandbox.h"

long long
dc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void
dc_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

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

static char *
builddir_path__(const char *rel)
{
    const char *top = getenv("top_builddir");
    return xasprintf__("%s/%s", top ? top : ".", rel);
}

static const char *
dir__(const struct dc *dc)
{
    return sandbox_dir(dc->db);
}

/* Starts 'argv' as a child with OVS_RUNDIR='rundir', stdout and stderr to
 * 'out', dying with us. */
static pid_t
spawn__(char *const argv[], const char *rundir, const char *out)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        setenv("OVS_RUNDIR", rundir, 1);
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static void
stop__(pid_t *pidp, int sig)
{
    if (*pidp > 0) {
        kill(*pidp, sig);
        waitpid(*pidp, NULL, 0);
    }
    *pidp = 0;
}

char *
dc_tetherd_ctl(struct dc *dc, const char *cmd)
{
    char *out = NULL;
    int status = sandbox_run(dc->db, &out, "ovs-appctl --timeout=10 -t "
                             "\"$SB_DIR/tetherd.ctl\" %s 2>/dev/null", cmd);
    if (status) {
        free(out);
        return NULL;
    }
    return out;
}

double
dc_stat(struct dc *dc, const char *name)
{
    char *out = dc_tetherd_ctl(dc, "tetherd/stats");
    double v = -1;
    if (out) {
        size_t len = strlen(name);
        for (char *line = out; line && *line; ) {
            char *next = strchr(line, '\n');
            if (!strncmp(line, name, len) && line[len] == ':') {
                const char *val = line + len + 1;
                val += strspn(val, " ");
                v = (!strncmp(val, "yes", 3) ? 1
                     : !strncmp(val, "no", 2) ? 0
                     : atof(val));
                break;
            }
            line = next ? next + 1 : NULL;
        }
        free(out);
    }
    return v;
}

int
dc_ctl(struct dc *dc, char **outp, const char *fmt, ...)
{
    va_list args;
    char *cmd;

    va_start(args, fmt);
    if (vasprintf(&cmd, fmt, args) < 0) {
        abort();
    }
    va_end(args);

    char *bin = builddir_path__("ctl/tetherctl");
    int status = sandbox_run(dc->db, outp, "'%s' --server=http://127.0.0.1:%d"
                             " --token='%s' %s", bin, dc->api_port, dc->token,
                             cmd);
    free(bin);
    free(cmd);
    return status;
}

/* The text after "\"field\": " in the ENI's JSON, or NULL. */
static char *
eni_json__(struct dc *dc, const char *eni_id, const char *field,
           const char **valp)
{
    char *out = NULL;
    if (dc_ctl(dc, &out, "--format=json eni show '%s'", eni_id)) {
        free(out);
        return NULL;
    }
    char *key = xasprintf__("\"%s\": ", field);
    char *p = strstr(out, key);
    if (!p) {
        free(key);
        free(out);
        return NULL;
    }
    *valp = p + strlen(key);
    free(key);
    return out;
}

char *
dc_eni_host(struct dc *dc, const char *eni_id)
{
    const char *v;
    char *out = eni_json__(dc, eni_id, "host", &v);
    if (!out) {
        return NULL;
    }
    char *host;
    if (*v == '"') {
        host = strndup(v + 1, strcspn(v + 1, "\""));
    } else {
        host = strdup("");
    }
    free(out);
    return host;
}

long long
dc_eni_int(struct dc *dc, const char *eni_id, const char *field)
{
    const char *v;
    char *out = eni_json__(dc, eni_id, field, &v);
    if (!out) {
        return -1;
    }
    long long x = (*v >= '0' && *v <= '9') ? atoll(v) : -1;
    free(out);
    return x;
}

bool
dc_wait_idle(struct dc *dc, int timeout_ms)
{
    long long deadline = dc_now_ms() + timeout_ms;
    do {
        if (dc_stat(dc, "flows_idle") == 1) {
            return true;
        }
        dc_sleep_ms(5);
    } while (dc_now_ms() < deadline);
    fprintf(stderr, "tetherd's flows not idle after %d ms\n", timeout_ms);
    return false;
}

bool
dc_wait_bound(struct dc *dc, const char *eni_id, int hv, int timeout_ms)
{
    const char *want = hv ? fabric_hv_name(dc->fabric, hv) : "";
    long long deadline = dc_now_ms() + timeout_ms;
    char *host = NULL;
    do {
        free(host);
        host = dc_eni_host(dc, eni_id);
        if (host && !strcmp(host, want)
            && dc_stat(dc, "flows_idle") == 1) {
            free(host);
            return true;
        }
        dc_sleep_ms(5);
    } while (dc_now_ms() < deadline);
    fprintf(stderr, "%s: bound to \"%s\", not \"%s\", after %d ms\n",
            eni_id, host ? host : "(no such ENI)", want, timeout_ms);
    free(host);
    return false;
}

bool
dc_wait_hosts_connected(struct dc *dc, int timeout_ms)
{
    long long deadline = dc_now_ms() + timeout_ms;
    do {
        if (dc_stat(dc, "hosts_connected") == dc->n_hvs) {
            return true;
        }
        dc_sleep_ms(10);
    } while (dc_now_ms() < deadline);
    fprintf(stderr, "not every agent connected after %d ms\n", timeout_ms);
    return false;
}

int
dc_start_tetherd(struct dc *dc, const char *extra)
{
    const char *dir = dir__(dc);
    char *bin = builddir_path__("controller/tetherd");
    char *db = xasprintf__("--db=%s", sandbox_db_remote(dc->db));
    char *agent = xasprintf__("--agent-listen=127.0.0.1:%d", dc->agent_port);
    char *of = xasprintf__("--openflow-listen=ptcp:%d:127.0.0.1",
                           dc->openflow_port);
    char *api = xasprintf__("--api-listen=127.0.0.1:%d", dc->api_port);
    char *token = xasprintf__("--api-token-file=%s/api-token", dir);
    char *unixctl = xasprintf__("--unixctl=%s/tetherd.ctl", dir);
    char *pidfile = xasprintf__("--pidfile=%s/tetherd.pid", dir);
    char *log = xasprintf__("--log-file=%s/tetherd.log", dir);
    char *out = xasprintf__("%s/tetherd.out", dir);
    char *argv[] = { bin, db, agent, of, api, token, unixctl, pidfile, log,
                     "--controller-id=dc1", "-vconsole:off",
                     (char *) extra, NULL };

    /* A pidfile left by a kill -9 is stale. */
    unlink(pidfile + strlen("--pidfile="));
    dc->tetherd = spawn__(argv, dir, out);
    for (size_t i = 0; i < 9; i++) {
        free(argv[i]);
    }
    free(out);
    if (dc->tetherd < 0) {
        dc->tetherd = 0;
        return -1;
    }

    long long deadline = dc_now_ms() + 15000;
    while (dc_stat(dc, "db_ready") != 1) {
        int status;
        if (waitpid(dc->tetherd, &status, WNOHANG) == dc->tetherd) {
            fprintf(stderr, "tetherd exited (status %d); see %s/tetherd.out"
                    " and tetherd.log\n", status, dir);
            dc->tetherd = 0;
            return -1;
        }
        if (dc_now_ms() > deadline) {
            fprintf(stderr, "tetherd's store did not load\n");
            return -1;
        }
        dc_sleep_ms(10);
    }
    dc->agent_port = dc_stat(dc, "agent_port");
    dc->api_port = dc_stat(dc, "api_port");
    dc->openflow_port = dc_stat(dc, "openflow_port");
    return 0;
}

void
dc_stop_tetherd(struct dc *dc, int sig)
{
    stop__(&dc->tetherd, sig);
}

int
dc_start_agent(struct dc *dc, int hv)
{
    const char *dir = sandbox_dir(fabric_hv(dc->fabric, hv));
    char *argv[] = {
        builddir_path__("hostagent/tether-agent"),
        xasprintf__("--controller=127.0.0.1:%d", dc->agent_port),
        xasprintf__("--host-id=%s", fabric_hv_name(dc->fabric, hv)),
        xasprintf__("--tunnel-ip=%s", fabric_hv_ip(dc->fabric, hv)),
        xasprintf__("--ovsdb=%s", fabric_hv_db_remote(dc->fabric, hv)),
        xasprintf__("--datapath-type=dummy"),
        xasprintf__("--unixctl=%s/agent.ctl", dir),
        xasprintf__("--pidfile=%s/agent.pid", dir),
        xasprintf__("--log-file=%s/agent.log", dir),
        xasprintf__("-vconsole:off"),
        NULL,                   /* --cpu-flags-file, below */
        NULL,                   /* dc->agent_arg[hv] */
        NULL
    };
    /* A test fakes the host's CPU with a cpuinfo-like file there. */
    char *cpuinfo = xasprintf__("%s/cpuinfo", dir);
    size_t n = sizeof argv / sizeof *argv - 3;
    if (!access(cpuinfo, R_OK)) {
        argv[n++] = xasprintf__("--cpu-flags-file=%s", cpuinfo);
    }
    if (dc->agent_arg[hv]) {
        argv[n++] = xasprintf__("%s", dc->agent_arg[hv]);
    }
    free(cpuinfo);
    char *out = xasprintf__("%s/agent.out", dir);
    dc->agents[hv] = spawn__(argv, dir, out);
    free(out);
    for (size_t i = 0; argv[i]; i++) {
        free(argv[i]);
    }
    if (dc->agents[hv] < 0) {
        dc->agents[hv] = 0;
        return -1;
    }
    return 0;
}

void
dc_stop_agent(struct dc *dc, int hv, int sig)
{
    stop__(&dc->agents[hv], sig);
}

char *
dc_dump_flows(struct dc *dc, int hv)
{
    char *out = NULL;
    if (sandbox_run(fabric_hv(dc->fabric, hv), &out, "ovs-ofctl -O OpenFlow13"
                    " dump-flows br-int | grep -v '_REPLY'")) {
        free(out);
        return NULL;
    }
    return out;
}

/* True once 'hv''s br-int has its tunnel port and tetherd's base flows
 * (the output table). */
static bool
hv_ready__(struct dc *dc, int hv)
{
    if (fabric_ofport(dc->fabric, hv, FABRIC_TUNNEL_PORT) <= 0) {
        return false;
    }
    char *flows = dc_dump_flows(dc, hv);
    bool ok = flows && strstr(flows, "table=60");
    free(flows);
    return ok;
}

struct dc *
dc_create(const char *name, int n_hvs)
{
    if (n_hvs < 1 || n_hvs > DC_MAX_HVS) {
        abort();
    }
    struct dc *dc = calloc(1, sizeof *dc);
    dc->n_hvs = n_hvs;
    dc->fabric = fabric_create(name, n_hvs);
    if (!dc->fabric) {
        goto error;
    }
    const char *top = getenv("top_srcdir");
    char *schema = xasprintf__("%s/controller/tether.ovsschema",
                               top ? top : ".");
    char *dbname = xasprintf__("%s-db", name);
    dc->db = sandbox_create_db(dbname, schema);
    free(dbname);
    free(schema);
    if (!dc->db) {
        goto error;
    }

    snprintf(dc->token, sizeof dc->token, "dc-test-token-%08x%08x",
             (unsigned) random(), (unsigned) getpid());
    char *path = xasprintf__("%s/api-token", dir__(dc));
    FILE *f = fopen(path, "w");
    free(path);
    if (!f) {
        goto error;
    }
    fprintf(f, "%s\n", dc->token);
    fclose(f);

    if (dc_start_tetherd(dc, NULL)) {
        goto error;
    }
    for (int hv = 1; hv <= n_hvs; hv++) {
        if (dc_start_agent(dc, hv)) {
            goto error;
        }
    }
    if (!dc_wait_hosts_connected(dc, 15000)) {
        goto error;
    }
    long long deadline = dc_now_ms() + 15000;
    for (int hv = 1; hv <= n_hvs; hv++) {
        while (!hv_ready__(dc, hv)) {
            if (dc_now_ms() > deadline) {
                fprintf(stderr, "hv%d's br-int not set up by tether\n", hv);
                goto error;
            }
            dc_sleep_ms(10);
        }
    }
    if (!dc_wait_idle(dc, 10000)) {
        goto error;
    }
    return dc;

error:
    dc_destroy(dc);
    return NULL;
}

void
dc_destroy(struct dc *dc)
{
    if (!dc) {
        return;
    }
    for (int hv = 1; hv <= dc->n_hvs; hv++) {
        dc_stop_agent(dc, hv, SIGTERM);
    }
    dc_stop_tetherd(dc, SIGTERM);
    if (dc->db) {
        sandbox_destroy(dc->db);
    }
    fabric_destroy(dc->fabric);
    free(dc);
}

/* Injector: one jsonrpc connection to ovs-vswitchd's unixctl server. */

struct dc_injector {
    int fd;
    unsigned int id;
};

struct dc_injector *
dc_injector_open(struct dc *dc, int hv)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int n = snprintf(sun.sun_path, sizeof sun.sun_path, "%s/ovs-vswitchd.ctl",
                     sandbox_dir(fabric_hv(dc->fabric, hv)));
    if (n >= (int) sizeof sun.sun_path) {
        fprintf(stderr, "%s: socket path too long\n", sun.sun_path);
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        fprintf(stderr, "%s: %s\n", sun.sun_path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    struct dc_injector *inj = calloc(1, sizeof *inj);
    inj->fd = fd;
    return inj;
}

int
dc_read_json(int fd, char *buf, size_t size)
{
    size_t n = 0;
    int depth = 0;
    bool in_string = false, escaped = false, started = false;

    while (n + 1 < size) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0) {
            return r ? errno : EPIPE;
        }
        char c = buf[n++];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            depth++;
            started = true;
        } else if (c == '}' && --depth == 0 && started) {
            buf[n] = '\0';
            return 0;
        }
    }
    return EMSGSIZE;
}

int
dc_inject(struct dc_injector *inj, const char *port, const struct frame *f)
{
    char *hex = frame_to_hex(f);
    char *req = xasprintf__("{\"id\":%u,\"method\":\"netdev-dummy/receive\","
                            "\"params\":[\"%s\",\"%s\"]}", ++inj->id, port,
                            hex);
    size_t len = strlen(req);
    ssize_t w = write(inj->fd, req, len);
    free(req);
    free(hex);
    if (w != (ssize_t) len) {
        return w < 0 ? errno : EIO;
    }
    char reply[4096];
    int error = dc_read_json(inj->fd, reply, sizeof reply);
    if (error) {
        return error;
    }
    if (!strstr(reply, "\"error\":null")) {
        fprintf(stderr, "netdev-dummy/receive %s: %s\n", port, reply);
        return EINVAL;
    }
    return 0;
}

void
dc_injector_close(struct dc_injector *inj)
{
    if (inj) {
        close(inj->fd);
        free(inj);
    }
}
