/* Sandbox tests of the agent protocol over TLS with mutual certificates: a
 * real tether-agent registers with a real tetherd; an agent whose certificate
 * names another host, one whose certificate comes from another CA, and a
 * client speaking plain TCP are all refused and change nothing. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/sandbox/sandbox.h"

static struct sandbox *sb;
static pid_t tetherd_pid;
static int port;

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static char *
ctl(const char *target, const char *cmd)
{
    char *out = NULL;
    if (sandbox_run(sb, &out, "ovs-appctl -t \"$SB_DIR/%s.ctl\" %s", target,
                    cmd)) {
        free(out);
        return NULL;
    }
    return out;
}

static long long
stat_value(const char *name)
{
    char *out = ctl("tetherd", "tetherd/stats");
    long long v = -1;
    char *p = out ? strstr(out, name) : NULL;
    if (p) {
        v = atoll(p + strlen(name) + 2);
    }
    free(out);
    return v;
}

static bool
wait_stat_above(const char *name, long long value, int ms)
{
    long long deadline = now_ms() + ms;
    while (stat_value(name) <= value) {
        if (now_ms() > deadline) {
            return false;
        }
        usleep(20 * 1000);
    }
    return true;
}

static pid_t
spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void
stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static char *
fmt(const char *f, const char *a)
{
    char *s = malloc(4096);
    snprintf(s, 4096, f, a);
    return s;
}

/* Starts a tether-agent for 'host' with the key and certificate files named
 * 'cert' (in the sandbox dir), CA 'ca'. */
static pid_t
start_agent(const char *host, const char *cert, const char *ca)
{
    const char *dir = sandbox_dir(sb);
    char controller[64], key_arg[4096], cert_arg[4096], ca_arg[4096];
    char unixctl[4096], host_arg[128];
    snprintf(controller, sizeof controller, "--controller=ssl:127.0.0.1:%d",
             port);
    snprintf(key_arg, sizeof key_arg, "--private-key=%s/%s.key", dir, cert);
    snprintf(cert_arg, sizeof cert_arg, "--certificate=%s/%s.crt", dir, cert);
    snprintf(ca_arg, sizeof ca_arg, "--ca-cert=%s/%s.crt", dir, ca);
    snprintf(unixctl, sizeof unixctl, "--unixctl=%s/agent-%s.ctl", dir, host);
    snprintf(host_arg, sizeof host_arg, "--host-id=%s", host);
    char *bin = fmt("%s/hostagent/tether-agent", getenv("top_builddir"));
    char ovsdb[4096];
    snprintf(ovsdb, sizeof ovsdb, "--ovsdb=%s", sandbox_db_remote(sb));
    char *argv[] = { bin, controller, host_arg, "--tunnel-ip=192.0.2.1",
                     key_arg, cert_arg, ca_arg, unixctl, ovsdb,
                     "--datapath-type=dummy", "-vconsole:off", NULL };
    pid_t pid = spawn(argv);
    free(bin);
    return pid;
}

static int
setup(void **state)
{
    (void) state;
    sb = sandbox_create("tls");
    if (!sb) {
        return -1;
    }
    /* A CA, certificates for tetherd, hv1 and hv2, and a rogue CA with its
     * own "hv1". */
    if (sandbox_run(sb, NULL,
        "set -e; cd \"$SB_DIR\"; "
        "ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
        "for ca in ca rogue; do "
        "  openssl req -x509 $ec -keyout $ca.key -out $ca.crt "
        "    -subj /CN=$ca-test-ca -days 2 2>/dev/null; done; "
        "for n in tetherd:ca hv1:ca hv2:ca rogue-hv1:rogue; do "
        "  name=${n%%:*}; ca=${n#*:}; cn=${name#rogue-}; "
        "  openssl req $ec -keyout $name.key -out $name.csr -subj /CN=$cn "
        "    2>/dev/null; "
        "  openssl x509 -req -in $name.csr -CA $ca.crt -CAkey $ca.key "
        "    -CAcreateserial -out $name.crt -days 2 2>/dev/null; done")) {
        return -1;
    }

    const char *dir = sandbox_dir(sb);
    char *bin = fmt("%s/controller/tetherd", getenv("top_builddir"));
    char *key = fmt("--private-key=%s/tetherd.key", dir);
    char *cert = fmt("--certificate=%s/tetherd.crt", dir);
    char *ca = fmt("--ca-cert=%s/ca.crt", dir);
    char *unixctl = fmt("--unixctl=%s/tetherd.ctl", dir);
    char *argv[] = { bin, "--agent-listen=ssl:127.0.0.1:0", key, cert, ca,
                     unixctl, "--openflow-target=tcp:127.0.0.1:6653",
                     "--openflow-listen=ptcp:0:127.0.0.1",
                     "--api-listen=127.0.0.1:0",
                     "-vconsole:off", NULL };
    tetherd_pid = spawn(argv);
    free(bin); free(key); free(cert); free(ca); free(unixctl);

    long long deadline = now_ms() + 10000;
    while ((port = stat_value("agent_port")) <= 0) {
        if (now_ms() > deadline) {
            return -1;
        }
        usleep(20 * 1000);
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    if (tetherd_pid > 0) {
        stop(tetherd_pid);
    }
    sandbox_destroy(sb);
    return 0;
}

static void
test_agent_registers_over_tls(void **state)
{
    (void) state;
    pid_t agent = start_agent("hv1", "hv1", "ca");
    long long deadline = now_ms() + 10000;
    bool ok = false;
    while (!ok && now_ms() < deadline) {
        char *out = ctl("tetherd", "tetherd/hosts");
        ok = out && strstr(out, "hv1 connected");
        free(out);
        usleep(20 * 1000);
    }
    stop(agent);
    assert_true(ok);
}

static void
test_certificate_for_another_host(void **state)
{
    (void) state;
    long long before = stat_value("auth_refusals");
    pid_t agent = start_agent("hv3", "hv2", "ca");
    bool refused = wait_stat_above("auth_refusals", before, 10000);
    stop(agent);
    assert_true(refused);
    char *out = ctl("tetherd", "tetherd/hosts");
    assert_non_null(out);
    assert_null(strstr(out, "hv3"));
    assert_null(strstr(out, "hv2"));
    free(out);
}

static void
test_certificate_from_another_ca(void **state)
{
    (void) state;
    long long before = stat_value("sessions_failed");
    long long hellos = stat_value("hellos");
    pid_t agent = start_agent("hv1", "rogue-hv1", "ca");
    bool failed = wait_stat_above("sessions_failed", before, 10000);
    stop(agent);
    assert_true(failed);
    assert_int_equal(stat_value("hellos"), hellos);
}

static void
test_plain_tcp_to_tls_port(void **state)
{
    (void) state;
    long long before = stat_value("sessions_failed");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    static const char hello[] = "TH\x01\x01\0\0\0\0";
    assert_int_equal(write(fd, hello, 8), 8);
    assert_true(wait_stat_above("sessions_failed", before, 10000));
    close(fd);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_registers_over_tls),
        cmocka_unit_test(test_certificate_for_another_host),
        cmocka_unit_test(test_certificate_from_another_ca),
        cmocka_unit_test(test_plain_tcp_to_tls_port),
    };
    return cmocka_run_group_tests_name("tls", tests, setup, teardown);
}
