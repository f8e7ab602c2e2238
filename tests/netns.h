/* A private network namespace with veth pairs, and AF_PACKET sockets on
 * them, for the tests and benchmarks that need real interfaces (the
 * migration relay's, hostagent/relay.c).  Root only.
 *
 * Contract:
 *
 *   - netns_enter_private() moves the calling thread into a network
 *     namespace of its own, with "lo" up and IPv6 off (its router
 *     solicitations would otherwise reach every interface).  Threads and
 *     processes it starts afterwards are in it too; threads that already
 *     run are not, so call it first.  Returns false, with errno set, if
 *     not root or if the kernel refuses (a caller then skips).
 *
 *   - veth_create() and veth_delete() run ip(8); names are checked (at
 *     most IF_NAMESIZE - 1 letters, digits, '-', '_', '.').
 *
 *   - packet_socket_on() and packet_socket_rx_on() return a socket or -1
 *     with errno set.  packet_recv() reads one frame a peer sent (the
 *     socket's own "outgoing" frames are skipped) without blocking, with
 *     its 802.1Q tag, if any, taken off: the kernel takes it off into the
 *     auxiliary data on receive (veth's VLAN offload), and a tag still in
 *     the frame is removed the same way. */
#ifndef TESTS_NETNS_H
#define TESTS_NETNS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

bool netns_enter_private(void);

/* Creates the veth pair 'a' <-> 'b', both up.  Returns 0 or -1. */
int veth_create(const char *a, const char *b);
/* Deletes the veth pair of 'a' (and so its peer). */
void veth_delete(const char *a);

/* An AF_PACKET socket bound to 'ifname' that only sends ('protocol' 0) or
 * also receives every frame ('protocol' ETH_P_ALL). */
int packet_socket_on(const char *ifname, int protocol);
/* An AF_PACKET socket bound to 'ifname' that receives every frame a peer
 * sends it, with PACKET_AUXDATA (for the VLAN tag), without its own
 * outgoing frames where the kernel allows it, and with 'rcvbuf' bytes of
 * receive buffer if 'rcvbuf' is positive. */
int packet_socket_rx_on(const char *ifname, int rcvbuf);

/* Reads one frame from 'fd' (packet_socket_rx_on()) into 'buf' without
 * blocking.  Returns its length without its VLAN tag, with '*vid' its VLAN
 * ID or -1 if it had none; or -1 with errno EAGAIN if nothing is left (or
 * another errno).  A frame longer than 'size' is cut short. */
ssize_t packet_recv(int fd, unsigned char *buf, size_t size, int *vid);

#endif /* tests/netns.h */
