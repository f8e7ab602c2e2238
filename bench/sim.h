/* Simulated hypervisors for the data-center scale benchmarks: many OpenFlow
 * switches (sim-switches.c) and many tether-agents (sim-agents.c) in one
 * light, single-threaded process, so that one machine can stand for 1,000
 * hypervisors in front of a real tetherd.
 *
 * Both speak the real protocols over TCP to tetherd: the switches OpenFlow
 * 1.3 through libopenvswitch's encoders and decoders (features, echo,
 * bundles, flow mods, barriers, flow and group dumps, with a per-switch
 * flow table so that a dump after a tetherd restart returns what was
 * installed), the agents tether's protocol through proto/wire.h (Hello,
 * BridgeStatus, Resync, VifEvent with migration markers, heartbeats, Acks).
 *
 * The loop (sim_loop_*) is a plain epoll loop with persistent registrations
 * rather than ovs-glue/ovs-loop.c's poll_block(), which re-registers every
 * fd on every round: with 2,000 sockets that alone would cost milliseconds
 * per round and swamp the latencies being measured.  The loop accounts its
 * own busy time (everything but epoll_wait()) so that benchmarks can say
 * how much of a figure is the simulator's. */
#ifndef BENCH_SIM_H
#define BENCH_SIM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Loop ------------------------------------------------------------------ */

struct sim_conn;
typedef void sim_input_func(struct sim_conn *, void *aux);

/* A non-blocking TCP connection with an output queue. */
struct sim_conn {
    int fd;                     /* -1 while not connected */
    bool connecting;
    bool want_out;
    uint8_t *rx;                /* unconsumed input */
    size_t rx_len, rx_alloc;
    uint8_t *tx;                /* queued output, from tx_ofs */
    size_t tx_ofs, tx_len, tx_alloc;
    sim_input_func *input;      /* called after reading: consume rx */
    void (*closed)(struct sim_conn *, void *aux);
    void *aux;
};

void sim_loop_init(void);
/* Runs the loop once, waiting at most 'timeout_ms' for I/O. */
void sim_loop_once(int timeout_ms);
long long sim_now_us(void);
/* Microseconds spent outside epoll_wait() since the process started. */
long long sim_busy_us(void);

/* Connects 'c' to 127.0.0.1:'port' (non-blocking).  Returns 0 or errno. */
int sim_conn_open(struct sim_conn *, int port);
void sim_conn_close(struct sim_conn *);
void sim_conn_send(struct sim_conn *, const void *, size_t);
/* Drops the first 'n' bytes of input. */
void sim_conn_consume(struct sim_conn *, size_t n);

/* --- Switches -------------------------------------------------------------- */

struct sim_switch_stats {
    unsigned long long flow_mods;       /* applied, in bundles or not */
    unsigned long long bundles;         /* committed */
    unsigned long long flow_dumps;      /* flow stats requests answered */
    unsigned long long connects;
};

/* Creates 'n' switches with datapath ids 'dpid0' + i, connecting to
 * tetherd's OpenFlow port (and reconnecting whenever it goes away). */
void sim_switches_create(int n, uint64_t dpid0, int port);
void sim_switches_run(void);            /* reconnects */
int sim_switches_n_connected(void);
/* Switch 'i''s time (sim_now_us()) of its latest barrier reply that
 * confirmed a committed bundle, 0 if none yet. */
long long sim_switch_confirmed_us(int i);
size_t sim_switch_n_flows(int i);
void sim_switch_get_stats(int i, struct sim_switch_stats *);
void sim_switches_get_stats(struct sim_switch_stats *);  /* sums */

/* --- Agents ---------------------------------------------------------------- */

struct sim_vif {
    char *eni_id;
    char *mac;
    int32_t ofport;
    const char *migration;      /* "", "incoming", "paused", ... */
};

/* Creates 'n' agents, host ids "hv0000".., each reporting its bridge as
 * datapath id 'dpid0' + i with tunnel ofport 1, connecting to tetherd's
 * agent port (and reconnecting). */
void sim_agents_create(int n, uint64_t dpid0, int port);
const char *sim_agent_host_id(int i);
void sim_agents_run(void);              /* heartbeats, reconnects */
int sim_agents_n_registered(void);

/* The agent's VIFs (reported in every Resync). */
void sim_agent_add_vif(int i, const char *eni_id, const char *mac,
                       int32_t ofport, const char *migration);
struct sim_vif *sim_agent_find_vif(int i, const char *eni_id);
void sim_agent_remove_vif(int i, const char *eni_id);
/* Sends VifEvent 'kind' (1 plugged, 2 changed, 3 unplugged) for 'vif'. */
void sim_agent_send_vif_event(int i, int kind, const struct sim_vif *);

#endif /* bench/sim.h */
