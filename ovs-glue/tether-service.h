/* What every tether daemon does around its own work: merges a --config file
 * into the command line, daemonizes (--pidfile, --detach via Open vSwitch's
 * daemon library), serves unixctl (ovs-appctl -t SOCKET exit, vlog/set, and
 * the daemon's own commands), and turns SIGTERM/SIGINT into an orderly exit
 * of the main loop instead of Open vSwitch's fatal-signal exit. */
#ifndef OVS_GLUE_TETHER_SERVICE_H
#define OVS_GLUE_TETHER_SERVICE_H 1

#include <stdbool.h>

struct event_base;
struct unixctl_server;

/* If 'argv' has --config=FILE, replaces '*argcp' and '*argvp' with FILE's
 * options followed by the command line's (which thus override).  Exits with
 * a message naming the file and line on error. */
void tether_service_merge_config(int *argcp, char ***argvp);

/* Daemonizes as the parsed daemon options say and opens the unixctl socket
 * at 'unixctl_path' (NULL: the default in $OVS_RUNDIR).  Exits on failure. */
void tether_service_start(struct event_base *, const char *unixctl_path);

/* Tells the parent of a --detach'ed daemon that start-up succeeded. */
void tether_service_ready(void);

void tether_service_run(void);
void tether_service_wait(void);
bool tether_service_exiting(void);
void tether_service_exit(void);            /* request an orderly exit */
struct unixctl_server *tether_service_unixctl(void);
void tether_service_stop(void);            /* close unixctl, drop signal events */

#endif /* ovs-glue/tether-service.h */
