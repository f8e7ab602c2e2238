#!/usr/bin/python3
"""Sequenced UDP probes and a long-lived TCP connection, run inside VMs.

  probe.py udp --listen PORT [--to IP:PORT]... [--rate HZ] --out FILE
      sends one datagram per period to each --to (sequence number, send
      time on CLOCK_MONOTONIC, which every namespace shares) and records
      every arrival (source, sequence, send time, arrival time).  On SIGTERM
      or SIGINT it writes FILE (JSON) and exits.  A stopped sender (a paused
      VM) does not catch up on the periods it missed.
  probe.py tcp-server --listen PORT
  probe.py tcp-client --to IP:PORT --out FILE [--interval-ms MS]
      a connection carrying a numbered line every interval, echoed back; the
      client checks every echo and on SIGTERM writes FILE: lines sent,
      echoed, errors, the longest wait for an echo, whether it was reset.
"""
import argparse
import json
import select
import signal
import socket
import struct
import sys
import time

HDR = struct.Struct('!IQQ')     # stream id, sequence, send time (ns)


class Stop(Exception):
    pass


def on_stop(*_):
    raise Stop()


SO_RCVBUFFORCE = getattr(socket, 'SO_RCVBUFFORCE', 33)


def udp_rcvbuf_errors():
    """The namespace's UDP RcvbufErrors (datagrams dropped because a
    socket's receive buffer was full): lost here, not in the network."""
    try:
        with open('/proc/net/snmp') as f:
            rows = [line.split() for line in f if line.startswith('Udp:')]
        return int(rows[1][rows[0].index('RcvbufErrors')])
    except (OSError, ValueError, IndexError):
        return 0


def udp(a):
    sending = [not a.wait_go]

    def go(*_):
        sending[0] = True
    signal.signal(signal.SIGUSR2, go)

    def quiet(*_):
        sending[0] = False
    signal.signal(signal.SIGUSR1, quiet)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:                        # past net.core.rmem_max (root: the tests)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rcvbuf0 = udp_rcvbuf_errors()
    send_errors = 0
    s.bind(('0.0.0.0', a.listen))
    s.setblocking(False)
    dests = []
    for d in a.to or []:
        ip, port = d.rsplit(':', 1)
        dests.append((ip, int(port)))
    sent = [0] * len(dests)
    recv = {}
    period = 1.0 / a.rate
    nxt = time.monotonic()
    pad = b'\0' * max(0, a.size - HDR.size)
    print('ready', flush=True)
    try:
        while True:
            now = time.monotonic()
            if dests and sending[0] and now - nxt > 0.05:
                nxt = now                   # stopped meanwhile: no catch-up
            if dests and sending[0] and now >= nxt:
                ns = time.monotonic_ns()
                for i, d in enumerate(dests):
                    try:
                        s.sendto(HDR.pack(a.stream, sent[i], ns) + pad, d)
                        sent[i] += 1
                    except OSError:
                        sent[i] += 1        # counted: lost on the way
                        send_errors += 1
                nxt += period
            timeout = (max(0.0, nxt - time.monotonic())
                       if dests and sending[0] else 1.0)
            r, _, _ = select.select([s], [], [], timeout)
            if r:
                while True:
                    try:
                        data, addr = s.recvfrom(2048)
                    except BlockingIOError:
                        break
                    if len(data) < HDR.size:
                        continue
                    stream, seq, sent_ns = HDR.unpack_from(data)
                    recv.setdefault(addr[0], []).append(
                        (seq, sent_ns, time.monotonic_ns()))
    except Stop:
        pass
    with open(a.out, 'w') as f:
        json.dump({'sent': {'%s:%d' % d: sent[i] for i, d in enumerate(dests)},
                   'period_ns': int(period * 1e9), 'recv': recv,
                   'send_errors': send_errors,
                   'rcvbuf_errors': udp_rcvbuf_errors() - rcvbuf0}, f)


def tcp_server(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', a.listen))
    ls.listen(4)
    print('ready', flush=True)
    conns = []
    try:
        while True:
            r, _, _ = select.select([ls] + conns, [], [])
            for c in r:
                if c is ls:
                    conns.append(ls.accept()[0])
                    continue
                try:
                    data = c.recv(65536)
                except OSError:
                    data = b''
                if not data:
                    conns.remove(c)
                    c.close()
                else:
                    c.sendall(data)
    except Stop:
        pass


def tcp_client(a):
    ip, port = a.to.rsplit(':', 1)
    c = socket.create_connection((ip, int(port)), timeout=10)
    c.setblocking(False)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    res = {'sent': 0, 'echoed': 0, 'errors': 0, 'reset': False,
           'max_wait_ms': 0.0}
    buf = b''
    pending = {}
    nxt = time.monotonic()
    print('ready', flush=True)
    try:
        while True:
            now = time.monotonic()
            if now >= nxt:
                line = b'%d\n' % res['sent']
                pending[res['sent']] = now
                try:
                    c.sendall(line)
                except BlockingIOError:
                    pass
                except OSError:
                    res['reset'] = True
                    break
                res['sent'] += 1
                nxt = max(nxt + a.interval_ms / 1000.0, now)
            r, _, _ = select.select([c], [], [], max(0, nxt - time.monotonic()))
            if r:
                try:
                    data = c.recv(65536)
                except OSError:
                    res['reset'] = True
                    break
                if not data:
                    res['reset'] = True
                    break
                buf += data
                while b'\n' in buf:
                    line, buf = buf.split(b'\n', 1)
                    n = int(line)
                    if n != res['echoed']:
                        res['errors'] += 1
                    t = pending.pop(n, None)
                    if t is not None:
                        res['max_wait_ms'] = max(res['max_wait_ms'],
                                                 (time.monotonic() - t) * 1000)
                    res['echoed'] = n + 1
    except Stop:
        pass
    with open(a.out, 'w') as f:
        json.dump(res, f)


def raw(a):
    """Sends --count UDP frames built by hand (any source MAC and IP)."""
    def csum(b):
        if len(b) % 2:
            b += b'\0'
        t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
        while t >> 16:
            t = (t & 0xffff) + (t >> 16)
        return ~t & 0xffff
    mac = lambda m: bytes.fromhex(m.replace(':', ''))
    ip = socket.inet_aton
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    for n in range(a.count):
        payload = HDR.pack(a.stream, n, time.monotonic_ns())
        udp_ = struct.pack('!HHHH', 4000, a.port, 8 + len(payload), 0) + payload
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp_), n, 0, 64,
                          17, 0, ip(a.src_ip), ip(a.dst_ip))
        hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
        frame = mac(a.dst_mac) + mac(a.src_mac) + b'\x08\x00' + hdr + udp_
        s.send(frame)
        time.sleep(0.002)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['udp', 'tcp-server', 'tcp-client', 'raw'])
    ap.add_argument('--listen', type=int, default=7000)
    ap.add_argument('--to', action='append')
    ap.add_argument('--rate', type=float, default=1000.0)
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--stream', type=int, default=0)
    ap.add_argument('--interval-ms', type=float, default=10.0)
    ap.add_argument('--out')
    ap.add_argument('--dev', default='eth0')
    ap.add_argument('--port', type=int, default=7000)
    ap.add_argument('--count', type=int, default=10)
    for f in ('src-mac', 'src-ip', 'dst-mac', 'dst-ip'):
        ap.add_argument('--' + f)
    ap.add_argument('--wait-go', action='store_true',
                    help='send only after SIGUSR2')
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    if a.mode == 'udp':
        udp(a)
    elif a.mode == 'raw':
        raw(a)
    elif a.mode == 'tcp-server':
        tcp_server(a)
    else:
        a.to = a.to[0]
        tcp_client(a)


if __name__ == '__main__':
    main()
