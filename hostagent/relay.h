/* The migration relay of a source hypervisor: the last piece of
 * make-before-break.
 *
 * When a live migration's source VM pauses, every frame that reaches its
 * VIF afterwards waits in a queue that the VM will never read again (it
 * resumes on the destination) and is lost with the source QEMU -- unless
 * it also reaches the destination.  Reprogramming every remote host at the
 * pause cannot close that gap: the pause is only known after it happened,
 * and the round trip through tetherd takes milliseconds.  So the source
 * host keeps a copy of what it delivers to the VIF of a VM that may pause:
 *
 *   - From the moment tetherd pre-wires the destination (PREPARED) until it
 *     commits or rolls back, the source's br-int tees every unicast frame
 *     it delivers to the VIF (port P) to the relay port, tagged with VLAN
 *     P (flows.h: P must be 1..4094).
 *
 *   - This module reads the relay port in a thread of its own, stamps each
 *     frame with when its VIF got it (relay_set_vif(); else with its own
 *     arrival; CLOCK_REALTIME, the clock of QEMU's event timestamps) and
 *     keeps the last RELAY_RING_FRAMES frames.
 *
 *   - When the hypervisor reports that P's VM paused at time T
 *     (relay_start()), the thread writes back into the relay port every
 *     kept frame of P that arrived at or after T, in order, and from then
 *     on every new frame of P as it arrives; br-int sends what comes back
 *     from the relay port with VLAN P through the tunnel to the
 *     destination, whose VIF queues it until the VM resumes there.  Frames
 *     that arrived before T were the source VM's, so nothing is delivered
 *     twice; frames after T reach the destination, so nothing is lost.
 *
 *   - If the source resumes (the migration failed), relay_stop(): the
 *     source VM reads its own queue, which still holds everything.
 *
 * Two kinds of relay port: an "internal" port (a tap on system and netdev
 * datapaths), read and written with an AF_PACKET socket whose kernel
 * timestamps are taken when br-int writes the frame, and, for the dummy
 * datapath of the sandbox tests, a netdev-dummy stream (options:pstream)
 * that the thread connects to and stamps as it reads.
 *
 * All functions are called from the agent's main thread. */
#ifndef HOSTAGENT_RELAY_H
#define HOSTAGENT_RELAY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_RING_FRAMES 4096
#define RELAY_MAX_VID 4094

struct relay;

/* 'ifname' (type "internal") or, if 'stream_path' is nonnull, the unix
 * socket of a dummy port's pstream.  The thread (re)connects on its own. */
struct relay *relay_create(const char *ifname, const char *stream_path);
void relay_destroy(struct relay *);

/* Port 'ofport''s VM paused at 'since_ns' (CLOCK_REALTIME): relay what
 * arrived for it since then, and what arrives from now on. */
void relay_start(struct relay *, int32_t ofport, int64_t since_ns);
/* Stops relaying for 'ofport' (its VM runs there again, or the port is
 * new). */
void relay_stop(struct relay *, int32_t ofport);

/* Port 'ofport' is the VIF 'ifname' (NULL: no longer a VIF).  While br-int
 * tees 'ofport''s frames to the relay, the thread also captures what the
 * VIF itself is given, with kernel timestamps, and judges a frame by when
 * the VIF got it rather than when its copy reached the relay port (system
 * and netdev datapaths; the dummy stream has no such interface). */
void relay_set_vif(struct relay *, int32_t ofport, const char *ifname);

struct relay_stats {
    uint64_t frames;        /* read from the relay port */
    uint64_t relayed;       /* written back toward a destination */
    uint64_t dropped;       /* unreadable, untagged or too long */
    uint64_t vif_stamped;   /* judged by the VIF's own stamp */
    uint64_t vif_unstamped; /* relayed before its VIF copy was seen */
    bool connected;
};
void relay_get_stats(struct relay *, struct relay_stats *);

/* A VIF's recent delivery stamps, by frame hash (the thread's; exposed for
 * tests). */
#define RELAY_VIF_STAMPS 1024
struct relay_stamp {
    uint64_t hash;
    int64_t ts;
    bool used;
};
struct relay_stamps {
    struct relay_stamp e[RELAY_VIF_STAMPS];
    size_t head;            /* next slot to write */
    size_t tail;            /* oldest kept */
    size_t n;
};
/* The hash of an Ethernet frame, without its 802.1Q tag if 'tagged' (the
 * relay's copy carries one, the VIF's does not). */
uint64_t relay_frame_hash(const unsigned char *, size_t len, bool tagged);
void relay_stamps_add(struct relay_stamps *, uint64_t hash, int64_t ts);
/* Finds the oldest unused stamp of 'hash', marks it used, stores it in
 * '*ts'. */
bool relay_stamps_take(struct relay_stamps *, uint64_t hash, int64_t *ts);

#endif /* hostagent/relay.h */
