#!/usr/bin/python3
"""Records every frame an interface sends or receives, with the kernel's
timestamps, until SIGTERM: a debugging aid for the Mininet tier (no
tcpdump here).  Runs in the interface's namespace.

  capture.py IFACE FILE

FILE holds one record per frame: struct '<qBH' (CLOCK_REALTIME ns, the
packet type: 0 to this host, 1 broadcast, 2 multicast, 3 other host,
4 outgoing; the frame's length) followed by the frame.  read_records()
reads it back."""
import signal
import socket
import struct
import sys

ETH_P_ALL = 3
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
REC = struct.Struct('<qBH')


def read_records(path):
    """[(ns, pkttype, frame)]"""
    out = []
    with open(path, 'rb') as f:
        data = f.read()
    i = 0
    while i + REC.size <= len(data):
        ns, kind, n = REC.unpack_from(data, i)
        i += REC.size
        out.append((ns, kind, data[i:i + n]))
        i += n
    return out


def main():
    iface, path = sys.argv[1:3]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((iface, 0))
    out = open(path, 'wb')

    def stop(*_):
        out.close()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print('ready', flush=True)
    while True:
        data, anc, _, addr = s.recvmsg(65535, 64)
        ns = 0
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', val[:16])
                ns = sec * 1000000000 + nsec
        out.write(REC.pack(ns, addr[2], len(data)) + data)


if __name__ == '__main__':
    main()
