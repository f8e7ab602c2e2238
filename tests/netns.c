/* A private network namespace with veth pairs (see netns.h). */
#include <config.h>

#include "tests/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void
write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, s, strlen(s)) < 0) {
            /* Not fatal: a sysctl this kernel lacks. */
        }
        close(fd);
    }
}

/* Runs 'cmd' with the shell; true if it succeeded. */
static bool
run(const char *cmd)
{
    int status = system(cmd);
    return status != -1 && WIFEXITED(status) && !WEXITSTATUS(status);
}

/* An interface name that is safe to put in a shell command. */
static bool
valid_ifname(const char *name)
{
    size_t len = strlen(name);
    if (!len || len >= IF_NAMESIZE) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == '.')) {
            return false;
        }
    }
    return true;
}

bool
netns_enter_private(void)
{
    if (geteuid() != 0) {
        errno = EPERM;
        return false;
    }
    if (unshare(CLONE_NEWNET)) {
        return false;
    }
    /* No IPv6 autoconfiguration: its router solicitations would reach the
     * interfaces the caller reads. */
    write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    if (!run("ip link set lo up")) {
        errno = ENOSYS;                 /* no ip(8), most likely */
        return false;
    }
    return true;
}

int
veth_create(const char *a, const char *b)
{
    char cmd[256];

    if (!valid_ifname(a) || !valid_ifname(b)) {
        errno = EINVAL;
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "ip link add %s type veth peer name %s"
             " && ip link set %s up && ip link set %s up", a, b, a, b);
    if (!run(cmd) || !if_nametoindex(a) || !if_nametoindex(b)) {
        errno = ENODEV;
        return -1;
    }
    return 0;
}

void
veth_delete(const char *a)
{
    char cmd[128];

    if (valid_ifname(a)) {
        snprintf(cmd, sizeof cmd, "ip link del %s 2>/dev/null", a);
        run(cmd);
    }
}

int
packet_socket_on(const char *ifname, int protocol)
{
    unsigned int ifindex = if_nametoindex(ifname);
    if (!ifindex) {
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(protocol));
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(protocol);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

int
packet_socket_rx_on(const char *ifname, int rcvbuf)
{
    int fd = packet_socket_on(ifname, ETH_P_ALL);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one)) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
#ifdef PACKET_IGNORE_OUTGOING
    /* packet_recv() skips them anyway where this is not supported. */
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
    if (rcvbuf > 0
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                      sizeof rcvbuf)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    return fd;
}

ssize_t
packet_recv(int fd, unsigned char *buf, size_t size, int *vid)
{
    for (;;) {
        union {
            char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
            struct cmsghdr align;
        } cmsg_buf;
        struct sockaddr_ll from;
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        struct msghdr msg = {
            .msg_name = &from, .msg_namelen = sizeof from,
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = &cmsg_buf, .msg_controllen = sizeof cmsg_buf,
        };
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (from.sll_pkttype == PACKET_OUTGOING) {
            continue;                   /* this socket's own */
        }
        *vid = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_PACKET
                && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof aux);
                if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                    *vid = aux.tp_vlan_tci & 0xfff;
                }
            }
        }
        if (*vid < 0 && n >= 16 && buf[12] == 0x81 && buf[13] == 0x00) {
            *vid = ((buf[14] << 8) | buf[15]) & 0xfff;
            memmove(buf + 12, buf + 16, n - 16);
            n -= 4;
        }
        return n;
    }
}
