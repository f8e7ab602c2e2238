#!/usr/bin/python3
"""One VM's NIC backend on one hypervisor: what QEMU's tap backend does.

Runs inside the VM's network namespace.  It moves frames between the
hypervisor-side link (a veth whose peer is the VIF on that hypervisor's
br-int) and the guest's NIC (the peer of the guest's eth0).  A stopped
process (SIGSTOP: the VM paused on this hypervisor) reads nothing, so what
the hypervisor delivers meanwhile waits in this process's socket queue, the
way frames wait in a paused QEMU's tap queue; SIGCONT (the VM runs here)
delivers them to the guest in order.  Killing it discards them, as a
migration's completion discards the source's queue.

Guest output that arrived while stopped is dropped on SIGCONT: a paused
guest emits nothing.  With --announce, every SIGCONT after the first start
sends QEMU's 5 self-announcement RARPs (+0, +50, +200, +450, +800 ms) on the
hypervisor side.
"""
import argparse
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


def packet_socket(ifname, rcvbuf):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    s.bind((ifname, 0))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--guest', required=True, help='guest-side interface')
    ap.add_argument('--host', required=True, help='hypervisor-side interface')
    ap.add_argument('--announce', metavar='MAC', help='RARPs on every resume')
    ap.add_argument('--start-paused', action='store_true')
    ap.add_argument('--rcvbuf', type=int, default=16 << 20)
    a = ap.parse_args()

    g = packet_socket(a.guest, a.rcvbuf)
    h = packet_socket(a.host, a.rcvbuf)
    rd, wr = os.pipe()
    os.set_blocking(wr, False)
    os.set_blocking(rd, False)
    signal.set_wakeup_fd(wr)
    state = {'resumed': False}

    def on_cont(signum, frame):
        state['resumed'] = True
    signal.signal(signal.SIGCONT, on_cont)
    signal.signal(signal.SIGTERM, lambda *x: sys.exit(0))
    print('ready', flush=True)
    if a.start_paused:
        os.kill(os.getpid(), signal.SIGSTOP)
    announce = []
    while True:
        if state['resumed']:
            state['resumed'] = False
            drain(g)
            print('resumed', flush=True)
            if a.announce:
                now = time.monotonic()
                announce = [now + ms / 1000.0 for ms in ANNOUNCE_MS]
        timeout = None
        if announce:
            timeout = max(0.0, announce[0] - time.monotonic())
        r, _, _ = select.select([h, g, rd], [], [], timeout)
        if h in r:                      # hypervisor -> guest, in order
            while True:
                try:
                    data, addr = h.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    g.send(data)
        if g in r:                      # guest -> hypervisor
            while True:
                try:
                    data, addr = g.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    try:
                        h.send(data)
                    except OSError:
                        pass
        if rd in r:
            try:
                os.read(rd, 512)
            except BlockingIOError:
                pass
        while announce and announce[0] <= time.monotonic():
            announce.pop(0)
            h.send(rarp(a.announce))


if __name__ == '__main__':
    main()
