/* Daemon plumbing shared by tetherd and tether-agent (see tether-service.h). */
#include <config.h>

#include "ovs-glue/tether-service.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "daemon.h"
#include "fatal-signal.h"
#include "lib/config-file.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tether_service);

static struct unixctl_server *unixctl;
static struct event *signal_events[3];
static bool exiting;

void
tether_service_merge_config(int *argcp, char ***argvp)
{
    const char *path = config_file_find_arg(*argcp, *argvp);
    if (path) {
        char *err;
        int nargc;
        char **nargv;
        if (config_file_merge(path, *argcp, *argvp, &nargc, &nargv, &err)) {
            ovs_fatal(0, "%s", err);
        }
        /* The merged vector lives as long as the process. */
        *argcp = nargc;
        *argvp = nargv;
    }
}

static void
signal_cb(evutil_socket_t sig, short what OVS_UNUSED, void *aux OVS_UNUSED)
{
    VLOG_INFO("%s received: shutting down", strsignal(sig));
    exiting = true;
    poll_immediate_wake();
}

static void
unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    VLOG_INFO("exit requested through unixctl");
    exiting = true;
    unixctl_command_reply(conn, NULL);
}

void
tether_service_start(struct event_base *base, const char *unixctl_path)
{
    /* Open vSwitch's fatal-signal module claims SIGTERM, SIGINT and SIGHUP
     * the first time it is used; initialize it now so that the libevent
     * handlers installed below take the signals over for good. */
    fatal_ignore_sigpipe();
    fatal_signal_init();
    daemonize_start(false);

    int error = unixctl_server_create(unixctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "cannot create unixctl socket %s",
                  unixctl_path ? unixctl_path : "(default)");
    }
    unixctl_command_register("exit", "", 0, 0, unixctl_exit, NULL);

    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        signal_events[i] = evsignal_new(base, sigs[i], signal_cb, NULL);
        if (!signal_events[i] || evsignal_add(signal_events[i], NULL)) {
            ovs_fatal(0, "cannot handle signal %d", sigs[i]);
        }
    }
}

void
tether_service_ready(void)
{
    daemonize_complete();
}

void
tether_service_run(void)
{
    if (unixctl) {
        unixctl_server_run(unixctl);
    }
}

void
tether_service_wait(void)
{
    if (unixctl) {
        unixctl_server_wait(unixctl);
    }
    if (exiting) {
        poll_immediate_wake();
    }
}

bool
tether_service_exiting(void)
{
    return exiting;
}

void
tether_service_exit(void)
{
    exiting = true;
    poll_immediate_wake();
}

struct unixctl_server *
tether_service_unixctl(void)
{
    return unixctl;
}

void
tether_service_stop(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(signal_events); i++) {
        if (signal_events[i]) {
            event_free(signal_events[i]);
            signal_events[i] = NULL;
        }
    }
    unixctl_server_destroy(unixctl);
    unixctl = NULL;
}
