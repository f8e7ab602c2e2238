/* The sandbox harness: starts a private ovsdb-server and ovs-vswitchd in a
 * temporary directory for one test and runs OVS tools against them.  See
 * sandbox.h for the contract. */
#define _GNU_SOURCE 1           /* vasprintf, pipe2, nftw */
#include "tests/sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sandbox {
    char *dir;                  /* $TMPDIR/tether-sb-<name>-XXXXXX */
    char *db_remote;            /* "unix:<dir>/db.sock" */
    char *db_sock;              /* "<dir>/db.sock" */
    pid_t ovsdb_pid;            /* 0 if not running */
    pid_t vswitchd_pid;         /* 0 if not running */
};

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

static const char *
getenv_or__(const char *name, const char *dflt)
{
    const char *value = getenv(name);
    return value && value[0] ? value : dflt;
}

/* In a freshly forked child: the sandbox's environment, default signal
 * dispositions and mask, no inherited file descriptors beyond 0..2. */
static void
child_setup__(const struct sandbox *sb, bool die_with_parent)
{
    sigset_t none;
    struct rlimit rl;
    const char *path = getenv_or__("PATH", "/usr/bin:/bin");

    if (die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            signal(sig, SIG_DFL);
        }
    }

    long max_fd = (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 65536
                   ? (long) rl.rlim_cur : 65536);
    for (int fd = 3; fd < max_fd; fd++) {
        close(fd);
    }

    setenv("OVS_RUNDIR", sb->dir, 1);
    setenv("OVS_DBDIR", sb->dir, 1);
    setenv("OVS_LOGDIR", sb->dir, 1);
    setenv("OVS_SYSCONFDIR", sb->dir, 1);
    setenv("SB_DIR", sb->dir, 1);
    setenv("SB_DB", sb->db_remote, 1);
    setenv("SB_VSWITCHD_CTL", xasprintf__("%s/ovs-vswitchd.ctl", sb->dir), 1);
    setenv("SB_OVSDB_CTL", xasprintf__("%s/ovsdb-server.ctl", sb->dir), 1);
    /* The daemons live in sbin, which a non-root PATH may lack. */
    setenv("PATH", xasprintf__("%s:/usr/sbin:/sbin", path), 1);
}

/* Redirects fd 'target' of a child to 'file' (appending), or to /dev/null. */
static void
child_redirect__(int target, const char *file)
{
    int fd = (file
              ? open(file, O_WRONLY | O_CREAT | O_APPEND, 0644)
              : open("/dev/null", target ? O_WRONLY : O_RDONLY));
    if (fd >= 0 && fd != target) {
        dup2(fd, target);
        close(fd);
    }
}

/* Waits up to 'ms' milliseconds for child 'pid' to exit.  Returns its wait
 * status, or -1 if it is still running (or cannot be waited for). */
static int
wait_child__(pid_t pid, int ms)
{
    long long deadline = now_ms__() + ms;

    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return status;
        } else if (r < 0 && errno != EINTR) {
            return -1;
        } else if (now_ms__() >= deadline) {
            return -1;
        }
        sleep_ms__(10);
    }
}

static int
exit_code__(int status)
{
    return (WIFEXITED(status) ? WEXITSTATUS(status)
            : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
            : -1);
}

/* Stops child '*pidp' (SIGTERM; SIGKILL if it is still there after 5 s)
 * and sets '*pidp' to 0. */
static void
stop_child__(pid_t *pidp)
{
    if (*pidp > 0) {
        kill(*pidp, SIGTERM);
        if (wait_child__(*pidp, 5000) == -1) {
            kill(*pidp, SIGKILL);
            wait_child__(*pidp, 5000);
        }
    }
    *pidp = 0;
}

/* Starts 'argv' as a daemon child of this process with its output in
 * <dir>/<argv[0] basename>.out.  Returns its pid, or 0 on failure. */
static pid_t
spawn_daemon__(const struct sandbox *sb, char *const argv[])
{
    const char *base = strrchr(argv[0], '/');
    char *out = xasprintf__("%s/%s.out", sb->dir, base ? base + 1 : argv[0]);
    pid_t pid = fork();

    if (pid < 0) {
        fprintf(stderr, "sandbox: fork: %s\n", strerror(errno));
        free(out);
        return 0;
    } else if (!pid) {
        child_setup__(sb, true);
        child_redirect__(0, NULL);
        child_redirect__(1, out);
        child_redirect__(2, out);
        execvp(argv[0], argv);
        fprintf(stderr, "sandbox: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(out);
    return pid;
}

/* Waits until something accepts connections on unix socket 'path', for at
 * most 10 s or until child 'pid' exits.  Returns 0 or an errno value. */
static int
wait_for_socket__(const char *path, pid_t pid, const char *what)
{
    long long deadline = now_ms__() + 10000;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof sun.sun_path) {
        fprintf(stderr, "sandbox: %s: socket path too long (set TMPDIR to "
                "a shorter directory)\n", path);
        return ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return errno;
        }
        int error = connect(fd, (struct sockaddr *) &sun, sizeof sun)
                    ? errno : 0;
        close(fd);
        if (!error) {
            return 0;
        }

        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "sandbox: %s exited (status %d) before "
                    "listening on %s\n", what, exit_code__(status), path);
            return ECHILD;
        } else if (now_ms__() >= deadline) {
            fprintf(stderr, "sandbox: %s not listening on %s after 10 s\n",
                    what, path);
            return ETIMEDOUT;
        }
        sleep_ms__(10);
    }
}

int
sandbox_start_ovsdb(struct sandbox *sb)
{
    if (sb->ovsdb_pid) {
        return 0;
    }

    char *remote = xasprintf__("--remote=punix:%s", sb->db_sock);
    char *pidfile = xasprintf__("--pidfile=%s/ovsdb-server.pid", sb->dir);
    char *unixctl = xasprintf__("--unixctl=%s/ovsdb-server.ctl", sb->dir);
    char *logfile = xasprintf__("--log-file=%s/ovsdb-server.log", sb->dir);
    char *db = xasprintf__("%s/conf.db", sb->dir);
    char *argv[] = {
        (char *) getenv_or__("OVSDB_SERVER", "/usr/sbin/ovsdb-server"),
        remote, pidfile, unixctl, logfile, "--no-chdir", db, NULL,
    };

    /* A socket left behind by a killed server would be mistaken for a live
     * one below. */
    unlink(sb->db_sock);
    sb->ovsdb_pid = spawn_daemon__(sb, argv);
    int error = (!sb->ovsdb_pid ? EAGAIN
                 : wait_for_socket__(sb->db_sock, sb->ovsdb_pid,
                                     "ovsdb-server"));
    if (error && sb->ovsdb_pid) {
        stop_child__(&sb->ovsdb_pid);
    }

    free(remote);
    free(pidfile);
    free(unixctl);
    free(logfile);
    free(db);
    return error;
}

int
sandbox_stop_ovsdb(struct sandbox *sb)
{
    if (!sb->ovsdb_pid) {
        return 0;
    }
    stop_child__(&sb->ovsdb_pid);
    return 0;
}

static int
start_vswitchd__(struct sandbox *sb)
{
    char *pidfile = xasprintf__("--pidfile=%s/ovs-vswitchd.pid", sb->dir);
    char *unixctl = xasprintf__("--unixctl=%s/ovs-vswitchd.ctl", sb->dir);
    char *logfile = xasprintf__("--log-file=%s/ovs-vswitchd.log", sb->dir);
    char *argv[] = {
        (char *) getenv_or__("OVS_VSWITCHD", "/usr/sbin/ovs-vswitchd"),
        "--enable-dummy", "--disable-system", "--disable-system-route",
        pidfile, unixctl, logfile, "--no-chdir", sb->db_remote, NULL,
    };
    int error = 0;

    sb->vswitchd_pid = spawn_daemon__(sb, argv);
    if (!sb->vswitchd_pid) {
        error = EAGAIN;
    } else {
        /* "ovs-vsctl init" waits until ovs-vswitchd has applied the
         * database, so the daemon is fully up once it returns. */
        int status = sandbox_run(sb, NULL, SANDBOX_VSCTL " init");
        if (status) {
            fprintf(stderr, "sandbox: ovs-vswitchd did not come up "
                    "(ovs-vsctl init: %d); see %s/ovs-vswitchd.log\n",
                    status, sb->dir);
            error = ETIMEDOUT;
        }
    }
    free(pidfile);
    free(unixctl);
    free(logfile);
    return error;
}

static struct sandbox *sandbox_create__(const char *name,
                                        const char *schema, bool vswitchd);

struct sandbox *
sandbox_create(const char *name)
{
    return sandbox_create__(name, getenv_or__("OVS_SCHEMA",
                                              "/usr/share/openvswitch/"
                                              "vswitch.ovsschema"), true);
}

struct sandbox *
sandbox_create_db(const char *name, const char *schema)
{
    return sandbox_create__(name, schema, false);
}

static struct sandbox *
sandbox_create__(const char *name, const char *schema, bool vswitchd)
{
    struct sandbox *sb = calloc(1, sizeof *sb);
    char *template = xasprintf__("%s/tether-sb-%s-XXXXXX",
                                 getenv_or__("TMPDIR", "/tmp"), name);

    if (!mkdtemp(template)) {
        fprintf(stderr, "sandbox: mkdtemp %s: %s\n", template,
                strerror(errno));
        free(template);
        free(sb);
        return NULL;
    }
    sb->dir = template;
    sb->db_sock = xasprintf__("%s/db.sock", sb->dir);
    sb->db_remote = xasprintf__("unix:%s", sb->db_sock);

    if (sandbox_run(sb, NULL, "ovsdb-tool create \"$SB_DIR/conf.db\" '%s'",
                    schema)) {
        fprintf(stderr, "sandbox: cannot create %s/conf.db from %s\n",
                sb->dir, schema);
        goto error;
    }
    if (sandbox_start_ovsdb(sb) || (vswitchd && start_vswitchd__(sb))) {
        goto error;
    }
    return sb;

error:
    sandbox_destroy(sb);
    return NULL;
}

static int
remove_entry__(const char *path, const struct stat *st, int flag,
               struct FTW *ftw)
{
    if (remove(path)) {
        fprintf(stderr, "sandbox: remove %s: %s\n", path, strerror(errno));
    }
    return 0;
}

void
sandbox_destroy(struct sandbox *sb)
{
    if (!sb) {
        return;
    }
    stop_child__(&sb->vswitchd_pid);
    stop_child__(&sb->ovsdb_pid);
    if (!strcmp(getenv_or__("TETHER_KEEP_SANDBOX", "0"), "1")) {
        fprintf(stderr, "sandbox: kept %s\n", sb->dir);
    } else {
        nftw(sb->dir, remove_entry__, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(sb->dir);
    free(sb->db_sock);
    free(sb->db_remote);
    free(sb);
}

const char *
sandbox_dir(const struct sandbox *sb)
{
    return sb->dir;
}

const char *
sandbox_db_remote(const struct sandbox *sb)
{
    return sb->db_remote;
}

int
sandbox_run(struct sandbox *sb, char **outp, const char *fmt, ...)
{
    va_list args;
    char *cmd;
    int pipefd[2] = { -1, -1 };

    va_start(args, fmt);
    if (vasprintf(&cmd, fmt, args) < 0) {
        abort();
    }
    va_end(args);

    if (outp) {
        *outp = NULL;
        if (pipe2(pipefd, O_CLOEXEC)) {
            fprintf(stderr, "sandbox: pipe: %s\n", strerror(errno));
            free(cmd);
            return -1;
        }
    }

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "sandbox: fork: %s\n", strerror(errno));
        free(cmd);
        if (outp) {
            close(pipefd[0]);
            close(pipefd[1]);
        }
        return -1;
    } else if (!pid) {
        if (outp) {
            dup2(pipefd[1], 1);
        }
        child_setup__(sb, false);
        child_redirect__(0, NULL);
        execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
        _exit(127);
    }
    free(cmd);

    if (outp) {
        size_t len = 0, size = 256;
        char *buf = malloc(size);

        close(pipefd[1]);
        for (;;) {
            if (len + 1 >= size) {
                size *= 2;
                buf = realloc(buf, size);
            }
            ssize_t n = read(pipefd[0], buf + len, size - len - 1);
            if (n > 0) {
                len += n;
            } else if (!n || errno != EINTR) {
                break;
            }
        }
        close(pipefd[0]);
        buf[len] = '\0';
        *outp = buf;
    }

    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return exit_code__(status);
}
