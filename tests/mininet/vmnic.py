#!/usr/bin/python3
"""One VM's NIC backend on one hypervisor: what QEMU's tap backend does.

Runs inside the VM's network namespace.  It moves frames between the
hypervisor-side link (a veth whose peer is the VIF on that hypervisor's
br-int) and the guest's NIC (the peer of the guest's eth0).  It takes what
the hypervisor delivers from the VIF itself, in the hypervisor's namespace
(a packet socket there, "outgoing" frames): the kernel queues a frame to
that socket, with its timestamp, in the same call that hands it to the
VIF, the way a tap queues it for QEMU, and that is the stamp the agent's
relay judges the frame by.  (The veth's far end would queue it to a CPU's
input backlog first, which on a loaded host can wait for hundreds of
microseconds.)  A stopped
process (SIGSTOP: the VM paused on this hypervisor) reads nothing, so what
the hypervisor delivers meanwhile waits in this process's socket queue, the
way frames wait in a paused QEMU's tap queue; SIGCONT (the VM runs here)
delivers them to the guest in order.  Killing it discards them, as a
migration's completion discards the source's queue.

SIGUSR1 pauses it the way QEMU stops for a migration's switchover: it
takes the time T (CLOCK_REALTIME, the pause's stamp), forwards what the
guest had sent, then hands the guest every frame the VIF got before T and
keeps back those it got at or after T (the guest gets them first if it
resumes here), prints "paused T" and stops itself: QEMU reads its tap until
it stops and then stamps STOP.  It waits PAUSE_GRACE_S for frames stamped
before T that were not queued yet.  (A SIGSTOP from outside, as this
harness once did, stopped a backend that lagged behind its queue by frames
a real QEMU would have read long before; stamping after it stopped lost
them.)

Guest output that arrived while stopped is dropped on SIGCONT: a paused
guest emits nothing.  With --announce, every SIGCONT after the first start
sends QEMU's 5 self-announcement RARPs (+0, +50, +200, +450, +800 ms) on the
hypervisor side.
"""
import argparse
import ctypes
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
ANNOUNCE_MS = (0, 50, 200, 450, 800)
SO_TIMESTAMPNS = 35                     # also SCM_TIMESTAMPNS (x86-64)
CLONE_NEWNET = 0x40000000
PAUSE_GRACE_S = 0.002


def packet_socket(ifname, rcvbuf, netns=None, receive=True):
    """A packet socket on ifname, in network namespace 'netns' (a path
    like /proc/PID/ns/net) if given; one that receives nothing unless
    'receive'."""
    if netns:
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open('/proc/self/ns/net', os.O_RDONLY)
        other = os.open(netns, os.O_RDONLY)
        try:
            if libc.setns(other, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), 'setns ' + netns)
            try:
                return packet_socket(ifname, rcvbuf, None, receive)
            finally:
                if libc.setns(own, CLONE_NEWNET):
                    raise OSError(ctypes.get_errno(), 'setns back')
        finally:
            os.close(own)
            os.close(other)
    proto = socket.htons(ETH_P_ALL) if receive else 0
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, proto)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((ifname, 0))     # 0: the protocol given to socket()
    s.setblocking(False)
    drain(s)            # frames of other interfaces caught before bind()
    return s


def drain(s):
    n = 0
    while True:
        try:
            s.recv(65535)
            n += 1
        except BlockingIOError:
            return n


def rarp(mac):
    m = bytes.fromhex(mac.replace(':', ''))
    frame = b'\xff' * 6 + m + struct.pack('!H', 0x8035)
    frame += struct.pack('!HHBBH', 1, 0x0800, 6, 4, 3) + m + b'\0' * 4 + m + b'\0' * 4
    return frame + b'\0' * (60 - len(frame))


def recv_stamped(s):
    """(frame, address, kernel stamp in Unix ns or None); raises
    BlockingIOError when nothing is queued."""
    data, anc, _, addr = s.recvmsg(65535, 64)
    for level, kind, val in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack('qq', val[:16])
            return data, addr, sec * 1000000000 + nsec
    return data, addr, None


DEBUG = os.environ.get('TETHER_VMNIC_DEBUG') == '1'


def probe_seq(frame):
    """A probe.py datagram's sequence number, or None."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return None
    off = 14 + (frame[14] & 15) * 4 + 8
    if len(frame) < off + 20:
        return None
    return struct.unpack('!IQQ', frame[off:off + 20])[1]


def pause_(v, g, t):
    """Hands the guest what reached the VIF before t; returns the frames
    that arrived at or after it, in order (see above)."""
    held = []
    end = time.monotonic() + PAUSE_GRACE_S
    while True:
        try:
            data, addr, ts = recv_stamped(v)
        except BlockingIOError:
            left = end - time.monotonic()
            if left <= 0:
                return held
            select.select([v], [], [], left)
            continue
        if addr[2] != PACKET_OUTGOING:
            continue
        if ts is not None and ts < t:
            g.send(data)
        else:
            held.append(data)
        if DEBUG:
            print('pause-frame %s %d %s' % (
                'fwd' if ts is not None and ts < t else 'held', ts or 0,
                probe_seq(data)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--guest', required=True, help='guest-side interface')
    ap.add_argument('--host', required=True, help='hypervisor-side interface')
    ap.add_argument('--vif', required=True,
                    help='its peer, the VIF, in the hypervisor\'s namespace')
    ap.add_argument('--vif-netns', required=True, metavar='PATH',
                    help='that namespace (/proc/PID/ns/net)')
    ap.add_argument('--announce', metavar='MAC', help='RARPs on every resume')
    ap.add_argument('--start-paused', action='store_true')
    ap.add_argument('--rcvbuf', type=int, default=16 << 20)
    a = ap.parse_args()

    g = packet_socket(a.guest, a.rcvbuf)
    h = packet_socket(a.host, a.rcvbuf, receive=False)
    v = packet_socket(a.vif, a.rcvbuf, a.vif_netns)
    rd, wr = os.pipe()
    os.set_blocking(wr, False)
    os.set_blocking(rd, False)
    signal.set_wakeup_fd(wr)
    state = {'resumed': False}

    def on_cont(signum, frame):
        state['resumed'] = True
    signal.signal(signal.SIGCONT, on_cont)

    def on_usr1(signum, frame):
        state['pause'] = True
    signal.signal(signal.SIGUSR1, on_usr1)
    send_errors = {}                    # errno -> frames not forwarded

    def on_term(*_):
        if send_errors:
            print('send errors (frames dropped): %s' % ', '.join(
                '%s %d' % (os.strerror(e), n)
                for e, n in sorted(send_errors.items())), flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    print('ready', flush=True)
    if a.start_paused:
        os.kill(os.getpid(), signal.SIGSTOP)
    announce = []
    debug_left = [0]
    while True:
        if state['resumed']:
            state['resumed'] = False
            drain(g)
            print('resumed', flush=True)
            debug_left = [40]
            if a.announce:
                now = time.monotonic()
                announce = [now + ms / 1000.0 for ms in ANNOUNCE_MS]
        timeout = None
        if announce:
            timeout = max(0.0, announce[0] - time.monotonic())
        r, _, _ = select.select([v, g, rd], [], [], timeout)
        if rd in r:
            try:
                os.read(rd, 512)
            except BlockingIOError:
                pass
        pause = state.pop('pause', False)
        if pause:
            # The pause's stamp, as QEMU's STOP: in whole microseconds,
            # which is what the marker carries.
            paused_at = time.time_ns() // 1000 * 1000
        if g in r or pause:             # guest -> hypervisor
            while True:
                try:
                    data, addr = g.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    try:
                        h.send(data)
                    except OSError as e:
                        send_errors[e.errno] = send_errors.get(e.errno, 0) + 1
        if v in r and not pause:        # hypervisor -> guest, in order
            while True:
                try:
                    data, addr = v.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    g.send(data)
                    if DEBUG and debug_left[0] > 0:
                        debug_left[0] -= 1
                        print('resume-frame %s' % probe_seq(data), flush=True)
        if pause:
            held = pause_(v, g, paused_at)
            print('paused %d.%06d' % divmod(paused_at // 1000, 1000000),
                  flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
            for data in held:           # resumed here: the guest's first
                g.send(data)
            continue
        while announce and announce[0] <= time.monotonic():
            announce.pop(0)
            h.send(rarp(a.announce))


if __name__ == '__main__':
    main()
