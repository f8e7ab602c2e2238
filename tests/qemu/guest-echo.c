/* The guest's workload for tests/qemu: echoes every UDP datagram back to its
 * sender (port 7000) and every byte of every TCP connection (port 7100), so
 * that a peer measures loss, duplicates and connection survival across a
 * live migration.  A datagram that begins with "TETHER-BCAST" makes it send
 * one broadcast (255.255.255.255, port 7001, out of eth0) instead: a frame
 * from the VM's MAC that every host of its network sees, as a learning
 * switch would learn it.  Built static by mkguest.sh and run by the guest's
 * init. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_PORT 7000
#define TCP_PORT 7100
#define BCAST_PORT 7001
#define BCAST_MAGIC "TETHER-BCAST"
#define MAX_FDS 64

static void
send_broadcast(void)
{
    static const char msg[] = "tether-bcast";
    struct sockaddr_in to;
    int one = 1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0) {
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(BCAST_PORT);
    to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
    if (sendto(fd, msg, sizeof msg - 1, 0, (struct sockaddr *) &to,
               sizeof to) < 0) {
        perror("guest-echo: broadcast");
    }
    close(fd);
}

static int
bound_socket(int type, int port)
{
    struct sockaddr_in sin;
    int one = 1;
    int fd = socket(AF_INET, type, 0);

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin)
        || (type == SOCK_STREAM && listen(fd, 8))) {
        close(fd);
        return -1;
    }
    return fd;
}

int
main(void)
{
    struct pollfd pfd[MAX_FDS];
    int n = 2;
    char buf[65536];

    pfd[0].fd = bound_socket(SOCK_DGRAM, UDP_PORT);
    pfd[1].fd = bound_socket(SOCK_STREAM, TCP_PORT);
    if (pfd[0].fd < 0 || pfd[1].fd < 0) {
        perror("guest-echo: socket");
        return 1;
    }
    /* What waits in the tap while the VM is paused arrives at once when it
     * resumes, and the guest kernel, slow after a migration (TCG translates
     * everything anew), queues it faster than this program runs: the
     * default receive buffer (~100 small datagrams) overflowed there and
     * counted as loss that the network did not cause. */
    int rcvbuf = 8 << 20;
    if (setsockopt(pfd[0].fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                   sizeof rcvbuf)) {
        setsockopt(pfd[0].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    for (int i = 0; i < MAX_FDS; i++) {
        pfd[i].events = POLLIN;
    }
    printf("guest-echo: udp %d tcp %d\n", UDP_PORT, TCP_PORT);
    fflush(stdout);
    for (;;) {
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 1;
        }
        if (pfd[0].revents & POLLIN) {
            for (;;) {
                struct sockaddr_in from;
                socklen_t len = sizeof from;
                ssize_t r = recvfrom(pfd[0].fd, buf, sizeof buf, MSG_DONTWAIT,
                                     (struct sockaddr *) &from, &len);
                if (r < 0) {
                    break;
                }
                if (r >= (ssize_t) strlen(BCAST_MAGIC)
                    && !memcmp(buf, BCAST_MAGIC, strlen(BCAST_MAGIC))) {
                    send_broadcast();
                    continue;
                }
                sendto(pfd[0].fd, buf, r, 0, (struct sockaddr *) &from, len);
            }
        }
        if (pfd[1].revents & POLLIN && n < MAX_FDS) {
            int c = accept(pfd[1].fd, NULL, NULL);
            if (c >= 0) {
                pfd[n].fd = c;
                pfd[n].revents = 0;
                n++;
            }
        }
        for (int i = 2; i < n; i++) {
            if (!pfd[i].revents) {
                continue;
            }
            ssize_t r = read(pfd[i].fd, buf, sizeof buf);
            if (r > 0 && write(pfd[i].fd, buf, r) == r) {
                continue;
            }
            close(pfd[i].fd);
            pfd[i--] = pfd[--n];
            pfd[n].events = POLLIN;
        }
    }
}
