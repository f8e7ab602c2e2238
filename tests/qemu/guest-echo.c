/* The guest's workload for tests/qemu: echoes every UDP datagram back to its
 * sender (port 7000) and every byte of every TCP connection (port 7100), so
 * that a peer measures loss, duplicates and connection survival across a
 * live migration.  Built static by mkguest.sh and run by the guest's init. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_PORT 7000
#define TCP_PORT 7100
#define MAX_FDS 64

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
