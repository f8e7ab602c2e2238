/* tetherd's OpenFlow controller endpoint: listens for switches (ptcp:,
 * pssl:, punix:) and connects out to them (tcp:, ssl:, unix:), negotiates
 * OpenFlow 1.3 to 1.5, keeps each connection alive with echo probes (rconn),
 * learns each switch's datapath id from its features reply and hands the
 * connection to that dpid's of_switch (of-switch.h), which reconciles and
 * programs its tables.  Runs in Open vSwitch's run()/wait() style on
 * ovs-glue/ovs-loop.c.
 *
 * of_switch records are per datapath id and outlive connections: the caller
 * may create one (of_server_get_switch()) and fill its desired table before
 * the switch ever connects, and a switch that reconnects, to this server or
 * to a new one, finds its desired table there and is reconciled against it.
 * A second connection from a dpid replaces the first. */
#ifndef OVS_GLUE_OF_SERVER_H
#define OVS_GLUE_OF_SERVER_H 1

#include <stdint.h>

#include "ovs-glue/of-switch.h"

struct of_server;

struct of_server_cbs {
    /* A switch connected and identified itself; reconciliation starts. */
    void (*switch_up)(struct of_switch *, void *aux);
    /* Reconciliation after a connection finished (0) or failed. */
    void (*switch_synced)(struct of_switch *, int error, void *aux);
    /* The switch's connection went away (its tables stay). */
    void (*switch_down)(struct of_switch *, void *aux);
    /* A packet-in from a connected switch. */
    void (*packet_in)(struct of_switch *, const struct of_packet_in *,
                      void *aux);
};

/* Any callback may be NULL.  'cbs' must outlive the server. */
struct of_server *of_server_create(const struct of_server_cbs *, void *aux);
void of_server_destroy(struct of_server *);

/* Inactivity probe interval in seconds (default 5; 0 disables): a switch
 * silent that long is sent an echo request, and is disconnected if it
 * stays silent as long again.  Applies to connections made afterward. */
void of_server_set_probe_interval(struct of_server *, int seconds);

/* Listens on 'target' ("ptcp:6653", "punix:/run/x.sock", "pssl:..."). Returns
 * 0 or a positive errno value. */
int of_server_listen(struct of_server *, const char *target);

/* Connects to a switch at 'target' ("tcp:10.0.0.1:6653", "unix:..."),
 * reconnecting with backoff whenever the connection drops. */
void of_server_connect(struct of_server *, const char *target);

/* Returns the record for 'dpid', creating a disconnected one if there is
 * none (of_server_find_switch() returns NULL instead). */
struct of_switch *of_server_get_switch(struct of_server *, uint64_t dpid);
struct of_switch *of_server_find_switch(const struct of_server *,
                                        uint64_t dpid);

/* If 'hold' is true, switch records created from now on (by a connection
 * or by of_server_get_switch()) start held (see of_switch_set_held()): the
 * caller releases each once its desired table is complete. */
void of_server_hold_new_switches(struct of_server *, bool hold);

void of_server_run(struct of_server *);
void of_server_wait(struct of_server *);

/* How many times of_server_run() left a connection unread because the
 * loop's last round found its socket idle (ovs_loop_fd_ready()), and how
 * many times it read one. */
void of_server_recv_counts(const struct of_server *,
                           unsigned long long *skipped,
                           unsigned long long *read);

#endif /* ovs-glue/of-server.h */
