/* Unit tests of the agent's QMP backend (hostagent/qmp.c) against a fake
 * QEMU on a real unix socket: the phases it reports from QEMU's events, and
 * when a source held by pause-before-switchover gets its migrate-continue:
 * on tetherd's confirmation whether that comes before or after QEMU's
 * pre-switchover, after the bounded wait without one, and never on a
 * confirmation that belongs to another migration. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostagent/qmp.h"
#include "timeval.h"

#define ENI "eni-1"

struct fake {
    char dir[64];
    char path[128];
    int listen_fd;
    int fd;                     /* the agent's connection, accepted */
    char rx[65536];             /* what the agent sent */
    size_t rx_len;
    char markers[16][32];       /* the phases reported, in order */
    int n_markers;
    double paused_at;
    struct qmp_backend *qb;
};

static void
marker_cb(const char *eni_id, const char *value, double paused_at, void *aux)
{
    struct fake *f = aux;
    assert_string_equal(eni_id, ENI);
    assert_true(f->n_markers < 16);
    snprintf(f->markers[f->n_markers++], sizeof f->markers[0], "%s",
             value ? value : "-");
    if (value && !strcmp(value, "paused")) {
        f->paused_at = paused_at;
    }
}

/* Reads what the agent sent so far. */
static void
fake_read(struct fake *f)
{
    for (;;) {
        ssize_t n = recv(f->fd, f->rx + f->rx_len,
                         sizeof f->rx - 1 - f->rx_len, MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        f->rx_len += n;
    }
    f->rx[f->rx_len] = '\0';
}

static void
fake_send(struct fake *f, const char *line)
{
    size_t len = strlen(line);
    assert_int_equal(send(f->fd, line, len, MSG_NOSIGNAL), (ssize_t) len);
    assert_int_equal(send(f->fd, "\r\n", 2, MSG_NOSIGNAL), 2);
}

/* Lets the backend handle everything sent to it (one socket round). */
static void
agent_run(struct fake *f)
{
    qmp_backend_run(f->qb);
    fake_read(f);
}

static int
count(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

static int
n_continues(struct fake *f)
{
    return count(f->rx, "migrate-continue");
}

static void
fake_event(struct fake *f, const char *event, const char *status)
{
    char line[256];
    if (status) {
        snprintf(line, sizeof line, "{\"event\":\"%s\",\"data\":"
                 "{\"status\":\"%s\"},\"timestamp\":{\"seconds\":1700000000,"
                 "\"microseconds\":250000}}", event, status);
    } else {
        snprintf(line, sizeof line, "{\"event\":\"%s\",\"timestamp\":"
                 "{\"seconds\":1700000000,\"microseconds\":250000}}", event);
    }
    fake_send(f, line);
    agent_run(f);
}

/* A fake source QEMU (running, no migration yet) that the backend has
 * connected to and greeted. */
static int
setup(void **state, int wait_ms)
{
    struct fake *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test-qmp.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/%s.sock", f->dir, ENI);

    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(f->listen_fd >= 0);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *) &sun,
                          sizeof sun), 0);
    assert_int_equal(listen(f->listen_fd, 1), 0);

    f->qb = qmp_backend_create(marker_cb, f, wait_ms);
    qmp_backend_add(f->qb, ENI, f->path);
    qmp_backend_run(f->qb);                 /* connects */
    f->fd = accept(f->listen_fd, NULL, NULL);
    assert_true(f->fd >= 0);

    fake_send(f, "{\"QMP\":{\"version\":{},\"capabilities\":[]}}");
    agent_run(f);
    assert_non_null(strstr(f->rx, "qmp_capabilities"));
    assert_non_null(strstr(f->rx, "\"events\""));
    assert_non_null(strstr(f->rx, "query-status"));
    fake_send(f, "{\"return\":{}}");
    fake_send(f, "{\"return\":{},\"id\":\"caps\"}");
    fake_send(f, "{\"return\":{\"status\":\"running\",\"running\":true},"
              "\"id\":\"status\"}");
    fake_send(f, "{\"return\":{},\"id\":\"migrate\"}");
    agent_run(f);
    f->rx_len = 0;
    f->rx[0] = '\0';
    *state = f;
    return 0;
}

static int
setup_long_wait(void **state)
{
    return setup(state, 10000);
}

static int
setup_short_wait(void **state)
{
    return setup(state, 50);
}

static int
teardown(void **state)
{
    struct fake *f = *state;
    qmp_backend_destroy(f->qb);
    close(f->fd);
    close(f->listen_fd);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The source migrates up to its STOP. */
static void
migrate_to_stop(struct fake *f)
{
    fake_event(f, "MIGRATION", "setup");
    fake_event(f, "MIGRATION", "active");
    assert_int_equal(f->n_markers, 0);
    fake_event(f, "STOP", NULL);
    assert_int_equal(f->n_markers, 1);
    assert_string_equal(f->markers[0], "paused");
    assert_true(f->paused_at > 1700000000.2 && f->paused_at < 1700000000.3);
}

/* The usual order: QEMU holds the source, then tetherd confirms. */
static void
test_confirm_after_hold(void **state)
{
    struct fake *f = *state;
    migrate_to_stop(f);
    fake_event(f, "MIGRATION", "pre-switchover");
    assert_int_equal(n_continues(f), 0);
    qmp_backend_switchover_ready(f->qb, ENI);
    fake_read(f);
    assert_int_equal(n_continues(f), 1);
    fake_event(f, "MIGRATION", "device");
    fake_event(f, "MIGRATION", "completed");
    agent_run(f);
    assert_int_equal(n_continues(f), 1);
    assert_int_equal(f->n_markers, 1);
}

/* tetherd's confirmation of the "paused" reported at STOP arrives before
 * QEMU's pre-switchover: the hold is released as soon as it starts, not
 * after the bounded wait. */
static void
test_confirm_before_hold(void **state)
{
    struct fake *f = *state;
    migrate_to_stop(f);
    qmp_backend_switchover_ready(f->qb, ENI);
    fake_read(f);
    assert_int_equal(n_continues(f), 0);    /* QEMU would refuse it now */
    fake_event(f, "MIGRATION", "pre-switchover");
    assert_int_equal(n_continues(f), 1);
    fake_event(f, "MIGRATION", "completed");
    agent_run(f);
    assert_int_equal(n_continues(f), 1);
}

/* No confirmation: migrate-continue once the bounded wait is over. */
static void
test_wait_bounded(void **state)
{
    struct fake *f = *state;
    migrate_to_stop(f);
    fake_event(f, "MIGRATION", "pre-switchover");
    long long int start = time_msec();
    while (!n_continues(f) && time_msec() < start + 2000) {
        usleep(5000);
        agent_run(f);
    }
    assert_int_equal(n_continues(f), 1);
    assert_true(time_msec() - start >= 50);
    /* A late confirmation does not send another one. */
    qmp_backend_switchover_ready(f->qb, ENI);
    fake_read(f);
    assert_int_equal(n_continues(f), 1);
}

/* A confirmation that is not for this migration's pause releases nothing:
 * one before the STOP, and one left over from a cancelled migration. */
static void
test_confirm_of_other_migration(void **state)
{
    struct fake *f = *state;
    fake_event(f, "MIGRATION", "setup");
    fake_event(f, "MIGRATION", "active");
    qmp_backend_switchover_ready(f->qb, ENI);   /* no STOP yet */
    fake_event(f, "STOP", NULL);
    qmp_backend_switchover_ready(f->qb, ENI);   /* this one counts... */
    fake_event(f, "MIGRATION", "cancelled");    /* ...but it is cancelled */
    fake_event(f, "RESUME", NULL);
    assert_int_equal(f->n_markers, 2);
    assert_string_equal(f->markers[1], "failed");
    assert_int_equal(n_continues(f), 0);

    /* The next attempt clears "failed" and is held until confirmed. */
    fake_event(f, "MIGRATION", "setup");
    assert_int_equal(f->n_markers, 3);
    assert_string_equal(f->markers[2], "-");
    fake_event(f, "MIGRATION", "active");
    fake_event(f, "STOP", NULL);
    assert_string_equal(f->markers[3], "paused");
    fake_event(f, "MIGRATION", "pre-switchover");
    agent_run(f);
    assert_int_equal(n_continues(f), 0);
    qmp_backend_switchover_ready(f->qb, ENI);
    fake_read(f);
    assert_int_equal(n_continues(f), 1);
}

/* A confirmation for another ENI releases nothing. */
static void
test_confirm_other_eni(void **state)
{
    struct fake *f = *state;
    migrate_to_stop(f);
    qmp_backend_switchover_ready(f->qb, "eni-2");
    fake_event(f, "MIGRATION", "pre-switchover");
    qmp_backend_switchover_ready(f->qb, "eni-2");
    fake_read(f);
    assert_int_equal(n_continues(f), 0);
}

/* The destination side: RESUME is "activated", completed is "completed";
 * a destination never gets migrate-continue. */
static void
test_destination(void **state)
{
    struct fake *f = *state;
    /* The agent reconnects to a new (incoming) QEMU on the same path. */
    close(f->fd);
    agent_run(f);
    long long int start = time_msec();
    f->fd = -1;
    assert_int_equal(fcntl(f->listen_fd, F_SETFL, O_NONBLOCK), 0);
    while (f->fd < 0 && time_msec() < start + 2000) {
        usleep(10000);
        qmp_backend_run(f->qb);
        f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK);
    }
    assert_true(f->fd >= 0);
    fake_send(f, "{\"QMP\":{\"version\":{},\"capabilities\":[]}}");
    agent_run(f);
    fake_send(f, "{\"return\":{\"status\":\"inmigrate\",\"running\":false},"
              "\"id\":\"status\"}");
    agent_run(f);
    fake_event(f, "MIGRATION", "active");
    qmp_backend_switchover_ready(f->qb, ENI);
    fake_event(f, "RESUME", NULL);
    fake_event(f, "MIGRATION", "completed");
    assert_int_equal(f->n_markers, 2);
    assert_string_equal(f->markers[0], "activated");
    assert_string_equal(f->markers[1], "completed");
    assert_int_equal(n_continues(f), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confirm_after_hold,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_before_hold,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_wait_bounded,
                                        setup_short_wait, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_of_other_migration,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_other_eni,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_destination,
                                        setup_long_wait, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
