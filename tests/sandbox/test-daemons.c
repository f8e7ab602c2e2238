/* Sandbox tests of the daemons themselves: a real tetherd and a real
 * tether-agent (the built binaries) register over TCP, and a raw client that
 * speaks the protocol wrongly in every way is refused with the right Error
 * while tetherd keeps serving and its host registry stays as it was. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/wire.h"
#include "tests/sandbox/sandbox.h"

static struct sandbox *sb;
static pid_t tetherd_pid;
static int agent_port;

static char *
path_in_builddir(const char *rel)
{
    const char *top = getenv("top_builddir");
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", top ? top : ".", rel);
    return p;
}

static pid_t
spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Runs an ovs-appctl command against tetherd and returns its output. */
static char *
tetherd_ctl(const char *cmd)
{
    char *out = NULL;
    int status = sandbox_run(sb, &out, "ovs-appctl -t \"$SB_DIR/tetherd.ctl\" "
                             "%s", cmd);
    if (status) {
        free(out);
        return NULL;
    }
    return out;
}

static long long
stat_value(const char *name)
{
    char *out = tetherd_ctl("tetherd/stats");
    long long v = -1;
    if (out) {
        char *p = strstr(out, name);
        if (p) {
            v = atoll(p + strlen(name) + 2);
        }
        free(out);
    }
    return v;
}

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits up to 'ms' for tetherd/hosts to contain 'needle'. */
static bool
wait_for_hosts(const char *needle, int ms)
{
    long long deadline = now_ms() + ms;
    do {
        char *out = tetherd_ctl("tetherd/hosts");
        bool found = out && strstr(out, needle);
        free(out);
        if (found) {
            return true;
        }
        usleep(20 * 1000);
    } while (now_ms() < deadline);
    return false;
}

static int
setup(void **state)
{
    (void) state;
    sb = sandbox_create("daemons");
    if (!sb) {
        return -1;
    }
    char unixctl[4096], pidfile[4096], logfile[4096];
    snprintf(unixctl, sizeof unixctl, "--unixctl=%s/tetherd.ctl",
             sandbox_dir(sb));
    snprintf(pidfile, sizeof pidfile, "--pidfile=%s/tetherd.pid",
             sandbox_dir(sb));
    snprintf(logfile, sizeof logfile, "--log-file=%s/tetherd.log",
             sandbox_dir(sb));
    char *bin = path_in_builddir("controller/tetherd");
    char *argv[] = { bin, "--agent-listen=127.0.0.1:0", unixctl, pidfile,
                     logfile, "--hello-timeout=400",
                     "--openflow-target=tcp:127.0.0.1:6653",
                     "--openflow-listen=ptcp:0:127.0.0.1",
                     "--api-listen=127.0.0.1:0",
                     "--heartbeat-interval=200", "-vconsole:off",
                     "--controller-id=test-dc", NULL };
    setenv("OVS_RUNDIR", sandbox_dir(sb), 1);
    tetherd_pid = spawn(argv);
    free(bin);

    long long deadline = now_ms() + 10000;
    while ((agent_port = stat_value("agent_port")) <= 0) {
        if (now_ms() > deadline) {
            fprintf(stderr, "tetherd did not come up\n");
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
        kill(tetherd_pid, SIGTERM);
        waitpid(tetherd_pid, NULL, 0);
    }
    sandbox_destroy(sb);
    return 0;
}

static int
connect_raw(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(agent_port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void
send_msg(int fd, int type, const ProtobufCMessage *pb)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(tether_wire_encode_alloc(type, pb, &buf, &len), 0);
    assert_int_equal(write(fd, buf, len), (ssize_t) len);
    free(buf);
}

static void
send_hello(int fd, const char *host_id)
{
    Tether__Hello h = TETHER__HELLO__INIT;
    h.host_id = (char *) host_id;
    h.hypervisor = "generic";
    h.tunnel_ip = "192.0.2.9";
    h.tunnel_type = "geneve";
    h.bridge = "br-int";
    send_msg(fd, TETHER_MSG_HELLO, &h.base);
}

/* Reads frames until one of 'type' arrives (returned, caller clears) or the
 * connection ends (returns a message with pb NULL). */
static struct tether_msg
recv_type(int fd, int type)
{
    static uint8_t buf[65536];
    static size_t n;
    static int buf_fd = -1;
    struct tether_msg msg = { 0, NULL };

    if (buf_fd != fd) {
        buf_fd = fd;
        n = 0;
    }
    for (;;) {
        struct tether_wire_header hdr;
        size_t frame_len;
        char err[TETHER_WIRE_ERRLEN];
        if (n >= TETHER_WIRE_HDR_LEN
            && !tether_wire_peek(buf, n, &hdr, &frame_len, err)
            && frame_len <= n) {
            assert_int_equal(tether_wire_decode(buf, frame_len, &msg, err),
                             0);
            memmove(buf, buf + frame_len, n - frame_len);
            n -= frame_len;
            if ((int) msg.type == type) {
                return msg;
            }
            tether_msg_clear(&msg);
            continue;
        }
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r <= 0) {
            msg.pb = NULL;
            return msg;
        }
        n += r;
    }
}

/* Expects the next Error from 'fd' to carry 'code', then EOF. */
static void
expect_refusal(int fd, int code, const char *reason)
{
    struct tether_msg msg = recv_type(fd, TETHER_MSG_ERROR);
    assert_non_null(msg.pb);
    const Tether__Error *e = (const Tether__Error *) msg.pb;
    assert_int_equal(e->code, code);
    if (!strstr(e->message, reason)) {
        fail_msg("error \"%s\" lacks \"%s\"", e->message, reason);
    }
    tether_msg_clear(&msg);
    char c;
    assert_int_equal(read(fd, &c, 1), 0);
}

static void
test_agent_registers(void **state)
{
    (void) state;
    char port[64], unixctl[4096];
    snprintf(port, sizeof port, "--controller=127.0.0.1:%d", agent_port);
    snprintf(unixctl, sizeof unixctl, "--unixctl=%s/agent.ctl",
             sandbox_dir(sb));
    char *bin = path_in_builddir("hostagent/tether-agent");
    char ovsdb[4096];
    snprintf(ovsdb, sizeof ovsdb, "--ovsdb=%s", sandbox_db_remote(sb));
    char *argv[] = { bin, port, "--host-id=hv1", "--tunnel-ip=192.0.2.11",
                     "--hypervisor=generic", unixctl, ovsdb,
                     "--datapath-type=dummy", "-vconsole:off", NULL };
    pid_t agent = spawn(argv);
    free(bin);

    assert_true(wait_for_hosts("hv1 connected", 10000));

    /* The agent sets up br-int with tetherd's OpenFlow target and a tunnel
     * port, then reports a VIF the "hypervisor" plugs. */
    char *br = NULL;
    long long deadline = now_ms() + 10000;
    for (;;) {
        free(br);
        br = NULL;
        sandbox_run(sb, &br, SANDBOX_VSCTL " get-controller br-int; "
                    SANDBOX_VSCTL " get bridge br-int fail_mode; "
                    SANDBOX_VSCTL " get interface tether-tun type");
        if ((br && strstr(br, "tcp:127.0.0.1:6653")
             && strstr(br, "secure") && strstr(br, "geneve"))
            || now_ms() > deadline) {
            break;
        }
        usleep(20 * 1000);
    }
    assert_non_null(br);
    assert_non_null(strstr(br, "tcp:127.0.0.1:6653"));
    assert_non_null(strstr(br, "secure"));
    assert_non_null(strstr(br, "geneve"));
    free(br);

    long long vifs_before = stat_value("vif_events");
    assert_int_equal(sandbox_run(sb, NULL, SANDBOX_VSCTL " add-port br-int "
                                 "vm1-tap -- set interface vm1-tap type=dummy "
                                 "external_ids:iface-id=eni-vm1 "
                                 "external_ids:attached-mac=\\\"02:00:00:00:00:01\\\" "
                                 "external_ids:vm-uuid="
                                 "123e4567-e89b-12d3-a456-426614174000"), 0);
    deadline = now_ms() + 10000;
    while (stat_value("vif_events") <= vifs_before && now_ms() < deadline) {
        usleep(20 * 1000);
    }
    assert_int_equal(stat_value("vif_events"), vifs_before + 1);
    char *out = NULL;
    assert_int_equal(sandbox_run(sb, &out, "ovs-appctl -t \"$SB_DIR/agent.ctl\""
                                 " agent/status"), 0);
    assert_non_null(strstr(out, "registered: yes"));
    assert_non_null(strstr(out, "controller_id: test-dc"));
    free(out);
    assert_true(stat_value("resyncs") >= 1);

    /* SIGTERM: the agent exits cleanly and tetherd notices at once. */
    kill(agent, SIGTERM);
    int status;
    assert_int_equal(waitpid(agent, &status, 0), agent);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(wait_for_hosts("hv1 disconnected", 5000));
}

static void
test_report_for_other_host_refused(void **state)
{
    (void) state;
    long long before = stat_value("auth_refusals");
    int fd = connect_raw();
    send_hello(fd, "hv-honest");
    struct tether_msg reply = recv_type(fd, TETHER_MSG_HELLO_REPLY);
    assert_non_null(reply.pb);
    assert_true(((Tether__HelloReply *) reply.pb)->accepted);
    tether_msg_clear(&reply);

    Tether__Vif vif = TETHER__VIF__INIT;
    vif.eni_id = "eni-1";
    vif.mac = "02:00:00:00:00:01";
    vif.bridge = "br-int";
    vif.ofport = 3;
    Tether__VifEvent ev = TETHER__VIF_EVENT__INIT;
    ev.kind = TETHER__VIF_EVENT__KIND__PLUGGED;
    ev.host_id = "hv-victim";
    ev.vif = &vif;
    send_msg(fd, TETHER_MSG_VIF_EVENT, &ev.base);
    expect_refusal(fd, TETHER_WIRE_EAUTH, "hv-victim");
    close(fd);

    assert_int_equal(stat_value("auth_refusals"), before + 1);
    assert_false(wait_for_hosts("hv-victim", 0));
}

static void
test_message_before_hello(void **state)
{
    (void) state;
    int fd = connect_raw();
    Tether__Heartbeat hb = TETHER__HEARTBEAT__INIT;
    send_msg(fd, TETHER_MSG_HEARTBEAT, &hb.base);
    expect_refusal(fd, TETHER_WIRE_ESTATE, "before hello");
    close(fd);
}

static void
test_garbage_and_bad_version(void **state)
{
    (void) state;
    int fd = connect_raw();
    assert_int_equal(write(fd, "SSH-2.0-OpenSSH\r\n", 17), 17);
    expect_refusal(fd, TETHER_WIRE_EBADMAGIC, "magic");
    close(fd);

    fd = connect_raw();
    uint8_t hdr[8] = { 0x54, 0x48, 9, TETHER_MSG_HELLO, 0, 0, 0, 0 };
    assert_int_equal(write(fd, hdr, 8), 8);
    expect_refusal(fd, TETHER_WIRE_EVERSION, "version");
    close(fd);

    /* tetherd is unharmed. */
    assert_true(stat_value("agent_port") == agent_port);
}

static void
test_hello_and_heartbeat_timeouts(void **state)
{
    (void) state;
    long long start = now_ms();
    int fd = connect_raw();
    expect_refusal(fd, TETHER_WIRE_ESTATE, "no hello");
    assert_true(now_ms() - start >= 350);
    close(fd);

    fd = connect_raw();
    send_hello(fd, "hv-silent");
    assert_true(wait_for_hosts("hv-silent connected", 5000));
    start = now_ms();
    expect_refusal(fd, TETHER_WIRE_ESTATE, "heartbeat timeout");
    assert_true(now_ms() - start >= 400);
    close(fd);
    assert_true(wait_for_hosts("hv-silent disconnected", 5000));
}

static void
test_sigterm_exits_cleanly(void **state)
{
    (void) state;
    char pidfile[4096];
    struct stat st;
    snprintf(pidfile, sizeof pidfile, "%s/tetherd.pid", sandbox_dir(sb));
    assert_int_equal(stat(pidfile, &st), 0);

    kill(tetherd_pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(tetherd_pid, &status, 0), tetherd_pid);
    tetherd_pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_not_equal(stat(pidfile, &st), 0);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_registers),
        cmocka_unit_test(test_report_for_other_host_refused),
        cmocka_unit_test(test_message_before_hello),
        cmocka_unit_test(test_garbage_and_bad_version),
        cmocka_unit_test(test_hello_and_heartbeat_timeouts),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("daemons", tests, setup, teardown);
}
