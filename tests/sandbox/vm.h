/* VMs for sandbox tests and benchmarks of live migration: a VM is the test's
 * end of a unix stream connected to a dummy port's pstream on a hypervisor's
 * br-int, and a migration is what a hypervisor does to it (a second port on
 * another hypervisor, pause, resume, completion or failure), including the
 * external_ids:tether-migration markers tether-agent follows.
 *
 * The model:
 *
 *   - A VM has one or two "attachments": a port on some hypervisor's br-int
 *     (type=dummy, options:pstream=punix:<hvdir>/<port>.vm, external_ids
 *     iface-id, attached-mac, vm-uuid, iface-status=active and optionally
 *     tether-migration) and the test's connected end of that stream.
 *     netdev-dummy frames each packet as a 2-byte big-endian length and the
 *     Ethernet frame, both ways.
 *
 *   - All VMs of a vm_world are driven by one thread (the world's), which
 *     reads the streams of running VMs as frames arrive, hands every frame
 *     to the world's receive hooks with its arrival time, and calls the
 *     world's tick hooks at their deadlines (clock_nanosleep-grade timing:
 *     ppoll on absolute CLOCK_MONOTONIC deadlines, timer slack 1 ns), so
 *     probe senders keep 1 kHz on a loaded machine (probe.h).
 *
 *   - A running VM reads and writes its active attachment.  A paused VM
 *     reads nothing: what reaches any attachment it does not run on waits in
 *     that attachment's tap queue (1,000 frames, a tap's default
 *     txqueuelen; the world's thread moves frames there from the stream so
 *     that a slow test step cannot overflow the socket instead), exactly as
 *     in a paused guest's tap queue, and is read first when the VM runs
 *     there.  Discarding an attachment loses its queue, as when the source
 *     QEMU goes away.
 *
 *   - Migration (vm_migrate(), or the steps for many VMs at once):
 *     plug the destination port with tether-migration=incoming (the VM paused
 *     there; its stream connected), pre-copy, pause the source (read what
 *     already reached it, stop its I/O, then set tether-migration=paused
 *     with tether-paused-at, the time it stopped, on the source port, as
 *     QEMU's STOP event carries it), stun, resume on
 *     the destination (start its I/O, set tether-migration=activated, send
 *     RARPs at +0, +50, +200, +450, +800 ms as QEMU does), complete (set
 *     tether-migration=completed on the destination, discard the source
 *     stream, delete the source port).  Failures: after the pause (set
 *     failed on the destination, resume the source and remove its key,
 *     delete the destination port), or the destination dying (its port
 *     deleted) before activation, before or after the pause.
 *
 *   - Markers are written with one OVSDB transaction per hypervisor and
 *     step over a direct JSON-RPC connection to its ovsdb-server (no
 *     process started: ~1 ms), ports are added and deleted with ovs-vsctl.
 *
 * Functions that fail say why on stderr and return a positive errno value
 * (or NULL).  Call everything but the hooks from one thread (the test's). */
#ifndef TESTS_SANDBOX_VM_H
#define TESTS_SANDBOX_VM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/sandbox/pcap.h"

struct dc;
struct vm;
struct vm_world;

/* --- The world: the thread that runs every VM's I/O. -------------------- */

struct vm_world *vm_world_create(struct dc *);
/* Stops the thread, closes every stream (ports are left to dc_destroy()). */
void vm_world_destroy(struct vm_world *);

/* Called by the world's thread, with the world locked, for every frame a
 * running VM reads: 'att' is the attachment's generation (vm_attachment_gen:
 * which stream), 't_ns' the arrival time (CLOCK_MONOTONIC). */
typedef void vm_rx_hook(void *aux, struct vm *, unsigned int att,
                        const struct frame *, int64_t t_ns);
/* Called by the world's thread, with the world locked, at or just after
 * '*next_ns' (CLOCK_MONOTONIC); it sets '*next_ns' to its next deadline. */
typedef void vm_tick_hook(void *aux, int64_t now_ns, int64_t *next_ns);

/* Hooks are added and removed from the test's thread; removal returns
 * only when the world's thread no longer runs the hook. */
void vm_world_add_rx_hook(struct vm_world *, vm_rx_hook *, void *aux);
void vm_world_remove_rx_hook(struct vm_world *, vm_rx_hook *, void *aux);
void vm_world_add_tick_hook(struct vm_world *, vm_tick_hook *, void *aux,
                            int64_t first_ns);
void vm_world_remove_tick_hook(struct vm_world *, vm_tick_hook *, void *aux);

/* For hooks and for the test: the world's lock (hooks run with it held). */
void vm_world_lock(struct vm_world *);
void vm_world_unlock(struct vm_world *);

/* Largest lateness of a tick hook call so far, in ns (how well the thread
 * kept time). */
int64_t vm_world_max_late_ns(struct vm_world *);

int64_t vm_now_ns(void);

/* --- VMs ---------------------------------------------------------------- */

/* Creates VM 'name' (short: it names ports) with ENI 'eni_id' ('mac',
 * IPv4 'ip'), plugs it on hypervisor 'hv' and connects its stream; the VM
 * runs.  Returns NULL on failure. */
struct vm *vm_create(struct vm_world *, const char *name, const char *eni_id,
                     const char *mac, const char *ip, int hv);
/* Unplugs the VM wherever it has ports and forgets it. */
void vm_destroy(struct vm *);

const char *vm_name(const struct vm *);
const char *vm_eni(const struct vm *);
const char *vm_mac(const struct vm *);
const char *vm_ip(const struct vm *);
/* The hypervisor the VM runs on (or is paused on): its active
 * attachment's. */
int vm_hv(const struct vm *);
/* The port name of the VM's active attachment. */
const char *vm_port(const struct vm *);
bool vm_is_running(const struct vm *);

/* Pauses ('frozen' true) or resumes the VM where it is, touching nothing in
 * OVS: no marker, no port change (a guest stopped outside any migration). */
void vm_freeze(struct vm *, bool frozen);

/* Sends 'frame' from the VM now if it runs (returns 0), else EAGAIN.  From
 * a hook (world locked) use vm_send_locked(). */
int vm_send(struct vm *, const struct frame *);
int vm_send_locked(struct vm *, const struct frame *);

/* Frames the VM could not send (socket error) so far. */
unsigned long long vm_tx_errors(const struct vm *);

/* --- Migration ---------------------------------------------------------- */

enum vm_migrate_mode {
    VM_MIGRATE_OK,                  /* completes */
    VM_MIGRATE_FAIL_AFTER_PAUSE,    /* "failed" after the stun; source back */
    VM_MIGRATE_DEST_DIES,           /* destination port gone during stun */
    VM_MIGRATE_DEST_DIES_EARLY,     /* destination port gone while prepared */
};

/* Timing of one migration (CLOCK_MONOTONIC ns; 0: did not happen). */
struct vm_migrate_report {
    int64_t plugged;            /* destination port plugged, stream up */
    int64_t paused;             /* source stopped reading and writing */
    int64_t paused_marked;      /* "paused" committed to the source OVSDB */
    int64_t resumed, completed, rolled_back;
};

/* Migrates 'vm' to hypervisor 'dest_hv' the way a hypervisor does (see
 * the top of this file): pre-copy 'precopy_ms' (200 if 0), stun 'stun_ms'.
 * Fills '*report' if nonnull.  Returns 0 or a positive errno value. */
int vm_migrate(struct vm *, int dest_hv, int stun_ms, int precopy_ms,
               enum vm_migrate_mode, struct vm_migrate_report *);

/* The same for 'n' VMs at once (every step done for all, one OVSDB
 * transaction per hypervisor and step). */
int vm_migrate_many(struct vm **, size_t n, int dest_hv, int stun_ms,
                    int precopy_ms, enum vm_migrate_mode,
                    struct vm_migrate_report *);

/* The steps, for tests of odd orders.  Each applies to 'n' VMs. */
int vm_mig_plug_dest(struct vm **, size_t n, int dest_hv);
int vm_mig_pause_source(struct vm **, size_t n);
int vm_mig_resume_dest(struct vm **, size_t n);
int vm_mig_complete(struct vm **, size_t n);
int vm_mig_fail(struct vm **, size_t n);        /* failed, source resumes */
int vm_mig_dest_dies(struct vm **, size_t n);   /* dest port deleted; the
                                                 * source resumes if it was
                                                 * paused */

/* Sets (or with NULL 'value' removes) external_ids:tether-migration on the
 * VM's source ('dest' false) or destination ('dest' true) port: a raw
 * marker, for tests of stale and reordered markers. */
int vm_set_marker(struct vm *, bool dest, const char *value);

/* Port name of the VM's source / destination attachment (NULL if none). */
const char *vm_source_port(const struct vm *);
const char *vm_dest_port(const struct vm *);
int vm_dest_hv(const struct vm *);

#endif /* tests/sandbox/vm.h */
