#!/usr/bin/python3
"""tether's Mininet network tests.  Run one inside run.sh:

    run.sh tests.py NAME        (NAME: see TESTS below; 'list' lists them)

It prints '# ' diagnostics, writes its measurements to
$TETHER_MN_OUT/NAME.json when that is set, and exits 0 (pass) or 1.
check.py runs them all and prints TAP."""
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tethernet  # noqa: E402
from tethernet import DataCenter, Error, log, teardown, wait_until, PY, HERE

# A migration loses nothing: judge_streams() demands 0 lost (README.md,
# "What a migration may lose").  TETHER_MN_LOSS_WINDOW=1 allows losses in
# a window around each pause instead, as tether's contract with a
# hypervisor that gives no pause time (or a source without a relay) is:
# from IN_FLIGHT_MS before the pause (probes on their way) to
# SWITCH_BUDGET_MS after the "paused" marker was committed.
SWITCH_BUDGET_MS = 50
IN_FLIGHT_MS = 20
ZERO_LOSS = os.environ.get('TETHER_MN_LOSS_WINDOW') != '1'
STUN_MS = 100
results = {'migrations': []}


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def mac(i):
    return '02:00:00:00:%02x:%02x' % (i >> 8, i & 0xff)


def ping(vm, ip, count=5):
    out = vm.host.cmd('ping -n -c %d -i 0.05 -W 1 %s' % (count, ip))
    for line in out.splitlines():
        if 'received' in line:
            return int(line.split(',')[1].split()[0])
    return 0


def dc_with_vms(spec, **kw):
    """spec: [(name, hv, ip, vni)].  Returns (dc, {name: vm})."""
    dc = DataCenter(**kw)
    dc.start()
    vms = {}
    for i, (name, hv, ip, vni) in enumerate(spec, 1):
        vms[name] = dc.add_vm(name, hv, ip, mac(i), vni=vni)
    for vm in vms.values():
        dc.wait_bound(vm, vm.hv)
    return dc, vms


def warm(dc, vms):
    """First packets resolve ARP in the VMs and the tunnel neighbours."""
    for a in vms:
        for b in vms:
            if a is not b and a.vni == b.vni:
                ping(a, b.ip, 2)


class Listener:
    def __init__(self, dc, vm, port=7001):
        self.dc, self.vm = dc, vm
        self.out = os.path.join(dc.dir, 'listen-%s-%d.json' % (vm.name, port))
        self.p = vm.popen('listen', [PY, os.path.join(HERE, 'probe.py'),
                                     'udp', '--listen', str(port),
                                     '--out', self.out])
        wait_until(lambda: self.p.lines_seen('ready'), 10, 'listener')

    def stop(self):
        self.p.stop()
        self.vm.procs.remove(self.p)
        with open(self.out) as f:
            return json.load(f)['recv']


def raw_send(vm, **kw):
    argv = [PY, os.path.join(HERE, 'probe.py'), 'raw']
    for k, v in kw.items():
        argv += ['--' + k.replace('_', '-'), str(v)]
    vm.dc.run(vm.host, argv)


def record_streams(dc, streams, name, extra=None):
    for s in streams:
        log(str(s))
        rec = s.to_json()
        rec['test'] = name
        rec['events'] = dc.events
        results['migrations'].append(rec)
    if extra:
        results.update(extra)


def judge_streams(dc, streams, allow_loss=False, report_only=False):
    """0 duplicates always; losses only within a pause window of the
    stream's migrating VM (IN_FLIGHT_MS before its pause to SWITCH_BUDGET_MS
    after its 'paused' marker) with TETHER_MN_LOSS_WINDOW=1, else none.
    report_only: losses are logged, not judged; returns how many were
    outside the windows."""
    ev = dc.events
    outside = 0
    for s in streams:
        check(s.dup == 0, '%s: %d duplicates' % (s, s.dup))
        if allow_loss:
            continue
        windows = []
        for i, (t, txt) in enumerate(ev):
            if txt in ('pause ' + s.dst, 'pause ' + s.src):
                marked = next((t2 for t2, x in ev[i:]
                               if x == 'paused marked ' + txt[6:]), t)
                windows.append((t - IN_FLIGHT_MS * 1e6,
                                marked + SWITCH_BUDGET_MS * 1e6))
        for t0, t1, c in s.gap_times():
            inside = any(w0 <= t0 and t1 <= w1 for w0, w1 in windows)
            near = sorted(ev, key=lambda e: abs(e[0] - t0))[:int(
                os.environ.get("TETHER_MN_NEAR_EVENTS", "2"))]
            log('  %s->%s: %d lost, from %s' % (
                s.src, s.dst, c, ', '.join('%+.1f ms after %s' % (
                    (t0 - t) / 1e6, x) for t, x in near)))
            outside += 0 if inside else c
            if report_only:
                continue
            check(inside and not ZERO_LOSS,
                  '%s: %d lost %s' % (s.src + '->' + s.dst, c,
                                      'outside the switchover window'
                                      if not inside else '(0 allowed)'))
    return outside


# --- tests -------------------------------------------------------------------

def t_connectivity():
    spec = [('vm%d' % i, 'hv%d' % ((i - 1) % 3 + 1), '10.0.0.%d' % (10 + i), 100)
            for i in range(1, 7)]
    dc, vms = dc_with_vms(spec)
    try:
        bad = []
        for a in vms.values():
            for b in vms.values():
                if a is not b and ping(a, b.ip, 3) == 0:
                    bad.append('%s->%s' % (a.name, b.name))
        log('%d pairs, %d unreachable %s' % (30, len(bad), ' '.join(bad)))
        check(not bad, 'unreachable: ' + ' '.join(bad))
    finally:
        teardown(dc)


def t_vni_isolation():
    dc, vms = dc_with_vms([('a', 'hv1', '10.0.0.11', 100),
                           ('b', 'hv2', '10.0.0.12', 100),
                           ('c', 'hv3', '10.0.0.12', 200),
                           ('d', 'hv1', '10.0.0.11', 200)])
    try:
        a, b, c, d = (vms[x] for x in 'abcd')
        warm(dc, vms.values())
        lb, lc = Listener(dc, b), Listener(dc, c)
        raw_send(a, src_mac=a.mac, src_ip=a.ip, dst_mac=b.mac, dst_ip=b.ip,
                 port=7001, count=20)
        raw_send(a, src_mac=a.mac, src_ip=a.ip, dst_mac=c.mac, dst_ip=c.ip,
                 port=7001, count=20)
        raw_send(d, src_mac=d.mac, src_ip=d.ip, dst_mac=c.mac, dst_ip=c.ip,
                 port=7001, count=20)
        raw_send(d, src_mac=d.mac, src_ip=d.ip, dst_mac=b.mac, dst_ip=b.ip,
                 port=7001, count=20)
        time.sleep(0.3)
        rb, rc = lb.stop(), lc.stop()
        nb = len(rb.get('10.0.0.11', []))
        nc = len(rc.get('10.0.0.11', []))
        log('VNI 100 b got %d of 20 (from a; 20 more sent by d in VNI 200 '
            'to its MAC); VNI 200 c got %d of 20 (from d; 20 more sent by a '
            'to its MAC)' % (nb, nc))
        check(nb == 20 and nc == 20, 'each VNI should deliver exactly its own'
              ' 20 datagrams: b %d, c %d' % (nb, nc))
        check(ping(a, '10.0.0.12') > 0 and ping(d, '10.0.0.12') > 0,
              'ping within each VNI')
    finally:
        teardown(dc)


def t_port_security():
    dc, vms = dc_with_vms([('a', 'hv1', '10.0.0.11', 100),
                           ('b', 'hv2', '10.0.0.12', 100),
                           ('x', 'hv3', '10.0.0.13', 100)])
    try:
        a, b, x = vms['a'], vms['b'], vms['x']
        warm(dc, vms.values())
        lb = Listener(dc, b)
        raw_send(a, src_mac=a.mac, src_ip=a.ip, dst_mac=b.mac, dst_ip=b.ip,
                 port=7001, count=10)                      # genuine
        raw_send(a, src_mac=a.mac, src_ip='10.0.0.99', dst_mac=b.mac,
                 dst_ip=b.ip, port=7001, count=10)          # spoofed IP
        raw_send(a, src_mac='02:00:00:00:99:99', src_ip=a.ip, dst_mac=b.mac,
                 dst_ip=b.ip, port=7001, count=10, stream=1)  # spoofed MAC
        raw_send(a, src_mac=a.mac, src_ip=x.ip, dst_mac=b.mac, dst_ip=b.ip,
                 port=7001, count=10, stream=2)  # another ENI's IP
        time.sleep(0.3)
        r = lb.stop()
        got = {k: len(v) for k, v in r.items()}
        log('b received by source: %s (expected 10.0.0.11: 10 only)' % got)
        check(got == {a.ip: 10}, 'spoofed frames delivered: %s' % got)
        # ARP spoofing: a claims x's IP in a gratuitous ARP; b must still
        # reach x.
        arp = ('from socket import *; import struct; s=socket(AF_PACKET,'
               'SOCK_RAW); s.bind(("eth0",0)); m=bytes.fromhex("%s");'
               'ip=inet_aton("%s"); s.send(b"\\xff"*6+m+b"\\x08\\x06"+'
               'struct.pack("!HHBBH",1,0x800,6,4,2)+m+ip+b"\\xff"*6+ip)'
               % (a.mac.replace(':', ''), x.ip))
        dc.run(a.host, [PY, '-c', arp])
        time.sleep(0.1)
        check(ping(b, x.ip) > 0, 'ARP spoof from a took x over')
    finally:
        teardown(dc)


def migration_dc(n_peers=1):
    spec = [('peer%d' % i, 'hv1', '10.0.0.%d' % (10 + i), 100)
            for i in range(1, n_peers + 1)]
    spec.append(('mv', 'hv2', '10.0.0.100', 100))
    return dc_with_vms(spec)


def t_live_migration():
    dc, vms = migration_dc()
    try:
        p, mv = vms['peer1'], vms['mv']
        warm(dc, vms.values())
        srv = mv.popen('tcp-server', [PY, os.path.join(HERE, 'probe.py'),
                                      'tcp-server', '--listen', '7100'])
        wait_until(lambda: srv.lines_seen('ready'), 10, 'tcp server')
        tcp_out = os.path.join(dc.dir, 'tcp.json')
        cli = p.popen('tcp-client', [PY, os.path.join(HERE, 'probe.py'),
                                     'tcp-client', '--to', mv.ip + ':7100',
                                     '--out', tcp_out])
        wait_until(lambda: cli.lines_seen('ready'), 10, 'tcp client')
        dc.start_probes([(p, mv), (mv, p)])
        time.sleep(1)
        t0 = time.monotonic()
        dc.migrate(mv, 'hv3', stun_ms=STUN_MS)
        log('migration hv2 -> hv3 took %.2f s; tetherd switchover %s ms'
            % (time.monotonic() - t0, dc.stat('last_switchover_ms')))
        time.sleep(1.2)
        streams = dc.stop_probes()
        time.sleep(0.3)
        cli.stop()
        with open(tcp_out) as f:
            tcp = json.load(f)
        log('TCP: %s' % tcp)
        record_streams(dc, streams, 'live_migration', {'tcp': tcp})
        judge_streams(dc, streams)
        check(not tcp['reset'] and tcp['errors'] == 0 and
              tcp['echoed'] >= tcp['sent'] - 5, 'TCP connection broke: %s' % tcp)
    finally:
        teardown(dc)


def migrate_all(dc, vms, dst):
    """Migrates every VM of 'vms' to dst at once, a thread each; fails with
    every migration's error."""
    errs = []

    def go(vm):
        try:
            dc.migrate(vm, dst, stun_ms=STUN_MS)
        except Exception as e:
            errs.append('%s: %r' % (vm.name, e))
    th = [threading.Thread(target=go, args=(m,)) for m in vms]
    for t in th:
        t.start()
    for t in th:
        t.join()
    check(not errs, '; '.join(errs))


def t_concurrent_migrations():
    spec = [('peer', 'hv1', '10.0.0.11', 100)]
    spec += [('m%d' % i, 'hv2', '10.0.0.%d' % (100 + i), 100) for i in range(3)]
    dc, vms = dc_with_vms(spec)
    try:
        p = vms['peer']
        movers = [vms['m%d' % i] for i in range(3)]
        warm(dc, vms.values())
        dc.capture()
        before = drop_counters(dc)
        dc.start_probes([(p, m) for m in movers] + [(m, p) for m in movers])
        time.sleep(1)
        migrate_all(dc, movers, 'hv3')
        time.sleep(1.2)
        streams = dc.stop_probes()
        if any(st.lost for st in streams):
            log_drops(dc, before)
        record_streams(dc, streams, 'concurrent_migrations')
        judge_streams(dc, streams)
    finally:
        teardown(dc)


def t_many_migrations():
    """TETHER_MN_MANY (50) VMs migrate hv2 -> hv3 at once, under probes
    to and from a peer on hv1 (1 kHz in all each way): every migration
    completes, every ENI is bound on hv3 with no migration left, 0
    duplicates.  Losses are reported, not judged (README.md, "What the
    tests found")."""
    n = int(os.environ.get('TETHER_MN_MANY', '50'))
    spec = [('peer', 'hv1', '10.0.0.11', 100)]
    spec += [('v%d' % i, 'hv2', '10.0.0.%d' % (100 + i), 100)
             for i in range(n)]
    t0 = time.monotonic()
    dc, vms = dc_with_vms(spec)
    try:
        p = vms['peer']
        movers = [vms['v%d' % i] for i in range(n)]
        log('%d VMs up in %.1f s' % (n + 1, time.monotonic() - t0))
        # Resolve ARP both ways before the probes (in parallel).
        pings = [m.popen('ping', ['ping', '-n', '-c', '2', '-i', '0.2',
                                  '-W', '1', p.ip]) for m in movers]
        for m, pg in zip(movers, pings):
            wait_until(lambda: not pg.alive(), 10, 'ping from ' + m.name)
            m.procs.remove(pg)
        before = drop_counters(dc)
        dc.start_probes([(p, m) for m in movers] + [(m, p) for m in movers],
                        rate=max(1, 1000 // n))
        time.sleep(1)
        t1 = time.monotonic()
        migrate_all(dc, movers, 'hv3')
        log('%d migrations done in %.1f s' % (n, time.monotonic() - t1))
        for m in movers:
            e = dc.eni(m.eni)
            check(e.get('host') == 'hv3' and e.get('migration') is None,
                  '%s: %s' % (m.eni, e))
        time.sleep(1.2)
        streams = dc.stop_probes()
        log_drops(dc, before)
        lost = sum(st.lost for st in streams)
        log('%d streams: %d lost, %d duplicates' % (
            len(streams), lost, sum(st.dup for st in streams)))
        record_streams(dc, [st for st in streams if st.lost or st.dup],
                       'many_migrations')
        outside = judge_streams(dc, streams, report_only=True)
        log('%d lost outside the VMs\' own switchover windows' % outside)
    finally:
        t2 = time.monotonic()
        teardown(dc)
        log('teardown %.1f s' % (time.monotonic() - t2))


def t_ping_pong():
    dc, vms = migration_dc()
    try:
        p, mv = vms['peer1'], vms['mv']
        warm(dc, vms.values())
        dc.start_probes([(p, mv), (mv, p)])
        time.sleep(0.5)
        for dst in ('hv3', 'hv2', 'hv3', 'hv2'):
            dc.migrate(mv, dst, stun_ms=STUN_MS)
            time.sleep(0.3)
        time.sleep(1)
        streams = dc.stop_probes()
        record_streams(dc, streams, 'ping_pong')
        judge_streams(dc, streams)
    finally:
        teardown(dc)


def t_failed_migration():
    dc, vms = migration_dc()
    try:
        p, mv = vms['peer1'], vms['mv']
        warm(dc, vms.values())
        dc.start_probes([(p, mv), (mv, p)])
        time.sleep(0.5)
        dc.migrate(mv, 'hv3', stun_ms=STUN_MS, fail='cancel')
        check(mv.hv == 'hv2', 'VM moved')
        time.sleep(0.5)
        dc.migrate(mv, 'hv3', stun_ms=STUN_MS, fail='dest-dies')
        time.sleep(1)
        streams = dc.stop_probes()
        record_streams(dc, streams, 'failed_migration')
        dc.events = [e for e in dc.events
                     if not e[1].startswith('pause')]  # no window
        judge_streams(dc, streams)
        check(dc.eni(mv.eni).get('host') == 'hv2', 'ENI not back on hv2')
    finally:
        teardown(dc)


def restart_midway(kill):
    dc, vms = migration_dc()
    try:
        p, mv = vms['peer1'], vms['mv']
        warm(dc, vms.values())
        dc.start_probes([(p, mv), (mv, p)])
        time.sleep(0.5)
        dc.migrate(mv, 'hv3', stun_ms=STUN_MS, **kill(dc))
        time.sleep(1.5)
        streams = dc.stop_probes()
        record_streams(dc, streams, kill.__name__)
        # The relay on the source needs neither tetherd nor the
        # destination's agent: nothing is lost.
        judge_streams(dc, streams)
        check(dc.eni(mv.eni).get('host') == 'hv3', 'ENI not on hv3')
        check(ping(p, mv.ip) > 0, 'migrated VM unreachable')
    finally:
        teardown(dc)


def t_tetherd_restart():
    def tetherd_killed(dc):
        def paused():
            dc.mark('tetherd killed')
            dc.tetherd.stop(signal.SIGKILL)
            dc.start_tetherd(restart=True)
            dc.mark('tetherd restarted')
        return {'hooks': {'paused': paused}}
    restart_midway(tetherd_killed)


def t_agent_killed():
    def agent_killed(dc):
        hv = dc.hvs['hv3']

        def incoming():
            dc.mark('agent killed on hv3')
            hv.kill_agent()
            time.sleep(0.5)
            hv.start_agent()
            dc.mark('agent restarted on hv3')
            wait_until(lambda: dc.eni('eni-mv').get('migration') and
                       dc.eni('eni-mv')['migration'].get('phase') ==
                       'prepared', 20, 'prepared after agent restart')
        return {'hooks': {'incoming': incoming}}
    restart_midway(agent_killed)


def t_underlay_link():
    dc, vms = migration_dc()
    try:
        p, mv = vms['peer1'], vms['mv']
        warm(dc, vms.values())
        dc.start_probes([(p, mv), (mv, p)])
        time.sleep(0.5)
        dc.mark('link s1-hv2 down')
        dc.net.configLinkStatus('s1', 'hv2', 'down')
        time.sleep(1)
        dc.mark('link s1-hv2 up')
        dc.net.configLinkStatus('s1', 'hv2', 'up')
        time.sleep(1.5)
        streams = dc.stop_probes()
        record_streams(dc, streams, 'underlay_link')
        cut = [e[0] for e in dc.events if 'link' in e[1]]
        for s in streams:
            check(s.dup == 0, '%s: duplicates' % s)
            for t0, t1, c in s.gap_times():
                check(cut[0] - 5e6 <= t0 and t1 <= cut[1] + 500e6,
                      '%s: %d lost outside the cut (+%.0f ms after restore)'
                      % (s, c, (t1 - cut[1]) / 1e6))
            check(s.lost > 0, '%s: nothing lost while the link was down?' % s)
        check(ping(p, mv.ip) > 0, 'unreachable after restore')
    finally:
        teardown(dc)


def drop_counters(dc):
    """What log_drops() compares with."""
    return {'packet': dc.packet_drops(), 'ovs': dc.ovs_drops(),
            'links': dc.link_drops(),
            'hosts': {h.name: host_counters(dc, h) for h in dc.hvs.values()}}


def log_drops(dc, before):
    """Logs where frames were dropped since drop_counters() gave 'before':
    packet sockets, ovs-vswitchd's drop counters, the hosts' own UDP stacks
    (a Geneve packet not decapsulated), interfaces.  With
    TETHER_MN_COVERAGE=1 also every ovs-vswitchd coverage counter that
    moved."""
    dc.log_packet_drops(before['packet'])
    dc.log_ovs_drops(before['ovs'])
    every = os.environ.get('TETHER_MN_COVERAGE') == '1'
    for h in dc.hvs.values():
        old = before['hosts'][h.name]
        for k, v in sorted(host_counters(dc, h).items()):
            if v > old.get(k, 0) and (every or k.startswith('Udp')):
                log('  %s: %s +%d' % (h.name, k, v - old.get(k, 0)))
    links = before['links']
    for (place, iface), k in sorted(dc.link_drops().items()):
        if k > links.get((place, iface), 0):
            log('  %d dropped by %s on %s (ip -s link; backlog: all '
                'CPUs)' % (k - links.get((place, iface), 0), place, iface))


def host_counters(dc, hv):
    """{name: value}: hv's kernel UDP counters (nstat) and ovs-vswitchd's
    coverage counters."""
    out = {}
    text = dc.run(hv.host, ['nstat', '-a', '-z', '-s'], check=False)
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0].startswith('Udp') and f[1].isdigit():
            out[f[0]] = int(f[1])
    text = dc.run(hv.host, ['ovs-appctl', '-t', '%s/ovs-vswitchd.ctl'
                            % hv.dir, 'coverage/show'], check=False)
    for line in text.splitlines():
        f = line.split()
        if len(f) > 3 and f[-1].isdigit() and f[1].endswith('/sec'):
            out[f[0]] = int(f[-1])
    return out


def t_port_churn():
    """A VM on hv2 and a peer on hv1 probe each other at 1 kHz while
    TETHER_MN_CHURN (10) plain veth ports (no iface-id: tether leaves them
    alone) are added to hv2's br-int every 300 ms and deleted again, as a
    hypervisor does with the VIFs of other VMs: 0 probes lost, 0
    duplicates.  With Open vSwitch's system routes
    (TETHER_MN_SYSTEM_ROUTES=1) 30-40 of ~16,000 are lost here at 20
    changes, the peer->VM ones delivered to hv2's own stack (nstat
    UdpNoPorts): the losses are then reported, not judged."""
    n = int(os.environ.get('TETHER_MN_CHURN', '10'))
    dc, vms = dc_with_vms([('peer', 'hv1', '10.0.0.11', 100),
                           ('b', 'hv2', '10.0.0.12', 100)], n_hv=2)
    try:
        p, b = vms['peer'], vms['b']
        hv = dc.hvs['hv2']
        warm(dc, vms.values())
        before = host_counters(dc, hv)
        dc.start_probes([(p, b), (b, p)])
        time.sleep(0.5)
        for i in range(n):
            dc.mark('add pc%d' % i)
            dc.sh(hv.host, 'ip link add pc%d type veth peer name pp%d; '
                  'ip link set pp%d up; ip link set pc%d up' % (i, i, i, i))
            hv.vsctl('add-port', 'br-int', 'pc%d' % i)
            time.sleep(0.3)
        for i in range(n):
            dc.mark('del pc%d' % i)
            hv.vsctl('del-port', 'br-int', 'pc%d' % i)
            dc.sh(hv.host, 'ip link del pc%d' % i)
            time.sleep(0.3)
        time.sleep(0.3)
        streams = dc.stop_probes()
        after = host_counters(dc, hv)
        for k in sorted(after):
            d = after[k] - before.get(k, 0)
            if d and (k.startswith('Udp') or k.startswith('drop')
                      or k.startswith('datapath_drop')):
                log('  hv2 %s +%d' % (k, d))
        record_streams(dc, streams, 'port_churn')
        for s in streams:
            for t0, t1, lost in s.gap_times():
                near = min(dc.events, key=lambda e: abs(e[0] - t0))
                log('  %s: %d lost from %+.1f ms after "%s"'
                    % (s.src + '->' + s.dst, lost, (t0 - near[0]) / 1e6,
                       near[1]))
        for s in streams:
            check(s.dup == 0, '%s: %d duplicates' % (s, s.dup))
            if not tethernet.SYSTEM_ROUTES:
                check(s.lost == 0, '%s: lost while ports changed' % s)
    finally:
        teardown(dc)


TESTS = [
    ('connectivity', t_connectivity),
    ('vni_isolation', t_vni_isolation),
    ('port_security', t_port_security),
    ('live_migration', t_live_migration),
    ('concurrent_migrations', t_concurrent_migrations),
    ('many_migrations', t_many_migrations),
    ('ping_pong', t_ping_pong),
    ('failed_migration', t_failed_migration),
    ('tetherd_restart', t_tetherd_restart),
    ('agent_killed', t_agent_killed),
    ('underlay_link', t_underlay_link),
    ('port_churn', t_port_churn),
]


def main():
    if len(sys.argv) != 2:
        print('usage: tests.py NAME|list', file=sys.stderr)
        return 2
    if sys.argv[1] == 'list':
        print('\n'.join(n for n, _ in TESTS))
        return 0
    fn = dict(TESTS).get(sys.argv[1])
    if not fn:
        print('no test %s' % sys.argv[1], file=sys.stderr)
        return 2
    ok = False
    try:
        fn()
        ok = True
    except Fail as e:
        log('FAIL: %s' % e)
    except Exception:
        for line in traceback.format_exc().splitlines():
            log(line)
    for dc in DataCenter.instances:
        if ok and not os.environ.get('TETHER_KEEP'):
            shutil.rmtree(dc.dir, ignore_errors=True)
        else:
            log('logs and files: %s' % dc.dir)
    out = os.environ.get('TETHER_MN_OUT')
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, sys.argv[1] + '.json'), 'w') as f:
            json.dump(results, f)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
