/* Sequenced UDP probes between VMs (vm.h), for measuring what a live
 * migration loses: one VM sends numbered probes to another at a fixed rate
 * (1 kHz by default) from the VM world's thread, and every arrival is
 * recorded (sequence number, time, which of the receiver's streams), so a
 * test can tell the loss window and the duplicates.
 *
 * Semantics:
 *
 *   - A probe is sent only while the sending VM runs; a paused VM sends
 *     nothing and uses up no sequence numbers (a paused guest's timers do
 *     not fire), and on resume it starts again at its rate without catching
 *     up.  If the world's thread is late (a loaded machine) the probes due
 *     are sent at once, up to 100 (then it skips ahead and counts it).
 *
 *   - Payload: "TPRB", flow id, sequence number, send time (all
 *     big-endian), UDP port 7 -> port 'udp_port'.  Only the flow's own
 *     probes, arriving at the flow's receiver, are counted.
 *
 *   - After probe_stop() (sending stops, then it waits up to 'drain_ms' for
 *     what is in flight) the result counts every sequence number sent:
 *     lost = sent but never received; dup = extra receptions. */
#ifndef TESTS_SANDBOX_PROBE_H
#define TESTS_SANDBOX_PROBE_H 1

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct vm_world;

struct probe_result {
    uint64_t sent;
    uint64_t received;          /* distinct sequence numbers */
    uint64_t lost;              /* sent - received */
    uint64_t dup;               /* receptions beyond the first */
    uint64_t max_gap;           /* longest run of lost sequence numbers */
    int64_t first_lost, last_lost;  /* -1 if none */
    int64_t first_lost_ns, last_lost_ns;    /* when they were sent (0) */
    uint64_t per_gen[8];        /* first receptions by the receiver's
                                 * attachment generation (mod 8) */
    uint64_t skipped;           /* sends skipped because far behind */
    double loss_ms;             /* lost / rate, in ms */
};

/* Starts a flow of probes from 'from' to 'to' at 'rate_hz' (1000 if 0). */
struct probe *probe_start(struct vm_world *, struct vm *from, struct vm *to,
                          int rate_hz, uint16_t udp_port);
/* Stops sending, waits for the probes in flight (at most 'drain_ms'; it
 * returns as soon as every probe arrived), fills '*r'. */
void probe_stop(struct probe *, int drain_ms, struct probe_result *r);
/* The result so far, without stopping. */
void probe_peek(struct probe *, struct probe_result *r);
/* The number of lost probes of a stopped probe that were sent outside
 * every window [win[i][0], win[i][1]] (vm_now_ns() times). */
uint64_t probe_lost_outside(const struct probe *, const int64_t (*win)[2],
                            size_t n);
/* Frees a stopped probe. */
void probe_destroy(struct probe *);

/* Writes one line describing 'r' ("sent ... lost ... dup ...") after
 * 'prefix' to 'f'. */
void probe_print(const char *prefix, const struct probe_result *, FILE *f);

#endif /* tests/sandbox/probe.h */
