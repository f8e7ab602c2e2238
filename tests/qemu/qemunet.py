"""qemunet: tether's real-hypervisor tier.  QEMU (TCG) guests on the
hypervisors of tests/mininet's DataCenter: each hypervisor namespace has its
own ovsdb-server, ovs-vswitchd (netdev) and tether-agent, the agent
following the local QEMUs' QMP sockets (--qmp=DIR); the guest's tap is
plugged on br-int as a hypervisor does (iface-id, attached-mac, and
"incoming" on a migration's destination); live migrations run over QMP on
a link of their own.  Run inside tests/mininet/run.sh."""
import json
import os
import re
import signal as sig_
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'mininet'))
import tethernet                                        # noqa: E402
from tethernet import (DataCenter, Error, log, teardown, wait_until,  # noqa
                       Stream, PY)

MN = os.path.join(HERE, '..', 'mininet')
MIG_PORT = 4444
# What a crashed guest kernel prints on its console (the known TCG
# destination crash, ~1 in 7 migrations): such a run is rerun, not counted.
CRASH_RE = re.compile(r'Kernel panic|BUG: |Oops|general protection fault|'
                      r'invalid opcode|RIP: 00')


class GuestCrashed(Error):
    pass


class Qmp:
    """The test's own QMP monitor of one QEMU (the agent has another):
    commands, and every event stamped on arrival (CLOCK_MONOTONIC ns)."""

    def __init__(self, path, timeout=20):
        wait_until(lambda: os.path.exists(path), timeout, 'QMP ' + path)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        wait_until(lambda: self.s.connect_ex(path) == 0, timeout,
                   'QMP connect ' + path)
        self.f = self.s.makefile('rb')
        self.events = []
        self.replies = {}
        self.cv = threading.Condition()
        self.n = 0
        json.loads(self.f.readline())           # greeting
        self.t = threading.Thread(target=self.reader, daemon=True)
        self.t.start()
        self.cmd('qmp_capabilities')

    def reader(self):
        try:
            for line in self.f:
                t = time.monotonic_ns()
                m = json.loads(line)
                with self.cv:
                    if 'event' in m:
                        self.events.append((t, m['event'], m.get('data', {})))
                    elif 'id' in m:
                        self.replies[m['id']] = m
                    self.cv.notify_all()
        except (OSError, ValueError):
            pass
        with self.cv:
            self.events.append((time.monotonic_ns(), 'QMP_CLOSED', {}))
            self.cv.notify_all()

    def cmd(self, name, timeout=10, check=True, **args):
        with self.cv:
            self.n += 1
            i = self.n
        msg = {'execute': name, 'id': i}
        if args:
            msg['arguments'] = args
        self.s.sendall(json.dumps(msg).encode() + b'\n')
        with self.cv:
            if not self.cv.wait_for(lambda: i in self.replies, timeout):
                raise Error('QMP %s: no reply' % name)
            r = self.replies.pop(i)
        if check and 'error' in r:
            raise Error('QMP %s: %s' % (name, r['error']))
        return r.get('return', r.get('error'))

    def wait_event(self, pred, timeout, what):
        """Waits for an event pred(name, data) is true for; returns
        (time, name, data)."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for e in self.events:
                    if pred(e[1], e[2]):
                        return e
                left = end - time.monotonic()
                if left <= 0:
                    raise Error('timed out waiting for QMP ' + what)
                self.cv.wait(left)

    def find(self, name, status=None):
        with self.cv:
            for e in self.events:
                if e[1] == name and (status is None or
                                     e[2].get('status') == status):
                    return e
        return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class QHypervisor(tethernet.Hypervisor):
    """A hypervisor whose agent follows its QEMUs' QMP sockets."""

    def start_agent(self):
        self.qmp_dir = os.path.join(self.dir, 'qmp')
        os.makedirs(self.qmp_dir, exist_ok=True)
        extra = ['--qmp=' + self.qmp_dir]
        sw = os.environ.get('TETHER_QMP_SWITCHOVER_WAIT')
        if sw:
            extra.append('--qmp-switchover-wait=' + sw)
        self.procs['agent'] = self.dc.spawn(
            self.host, 'tether-agent@' + self.name,
            [self.dc.bin('hostagent/tether-agent'),
             '--controller=%s:6650' % self.ctl_ip, '--host-id=' + self.name,
             '--tunnel-ip=' + self.tunnel_ip,
             '--ovsdb=unix:%s/db.sock' % self.dir, '--datapath-type=netdev',
             '--hypervisor=qemu',
             '--openflow-target=tcp:%s:6653' % self.ctl_ip,
             '--unixctl=%s/agent.ctl' % self.dir,
             '--log-file=%s/tether-agent.log' % self.dir, '--no-chdir',
             '-vconsole:off'] + extra, env=self.env())


class Qemu:
    """One QEMU process of a guest on one hypervisor."""

    def __init__(self, guest, hv, n, incoming):
        self.guest, self.hv, self.n = guest, hv, n
        self.tap = 'tg%d' % n
        d = guest.dc.dir
        self.console = os.path.join(d, 'console-%s-%d.log' % (guest.name, n))
        self.ctl = os.path.join(d, 'qmp-%s-%d.sock' % (guest.name, n))
        agent_sock = os.path.join(hv.dir, 'qmp', guest.eni + '.sock')
        argv = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '128',
                '-nodefaults', '-no-user-config', '-display', 'none',
                '-no-reboot', '-kernel', guest.dc.vmlinuz,
                '-initrd', guest.dc.initrd, '-append',
                'console=ttyS0 quiet panic=-1 tether.ip=%s/24' % guest.ip,
                '-serial', 'file:' + self.console,
                '-netdev', 'tap,id=n0,ifname=%s,script=no,downscript=no'
                % self.tap,
                '-device', 'virtio-net-pci,netdev=n0,mac=%s,csum=off'
                % guest.mac,
                '-qmp', 'unix:%s,server=on,wait=off' % self.ctl]
        if guest.dc.tether:
            argv += ['-qmp', 'unix:%s,server=on,wait=off' % agent_sock]
        if incoming:
            argv += ['-incoming', 'defer']
        self.p = guest.dc.spawn(hv.host, 'qemu-%s-%d@%s' % (guest.name, n,
                                                           hv.name), argv)
        self.qmp = Qmp(self.ctl)
        self.qmp.cmd('migrate-set-capabilities', capabilities=[
            {'capability': 'events', 'state': True}])
        hv.host.cmd('ip link set %s up' % self.tap)

    def plug(self, incoming):
        args = ['add-port', 'br-int', self.tap, '--', 'set', 'interface',
                self.tap, 'external_ids:iface-id=' + self.guest.eni,
                'external_ids:attached-mac="%s"' % self.guest.mac,
                'external_ids:iface-status=active']
        if incoming and self.guest.dc.tether:
            args.append('external_ids:tether-migration=incoming')
        self.hv.vsctl(*args)

    def console_text(self):
        try:
            with open(self.console, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def status(self):
        """QMP's run state ('running', 'paused', ...), or '?'."""
        try:
            r = self.qmp.cmd('query-status', timeout=2, check=False)
        except Exception:
            return '?'
        return r.get('status', '?') if isinstance(r, dict) else '?'

    def crashed(self):
        return bool(CRASH_RE.search(self.console_text()))

    def tap_packets(self):
        return tap_packets(self.guest.dc, self.hv, self.tap)

    def stop(self):
        self.qmp.close()
        self.p.stop(sig_.SIGKILL)
        self.hv.vsctl('--if-exists', 'del-port', 'br-int', self.tap)


def tap_packets(dc, hv, tap):
    """(read by QEMU, written by QEMU, dropped at the tap): the tx, rx and
    tx-dropped counters of tap 'tap' on hypervisor 'hv'.  The kernel counts
    a frame for the guest in tx when QEMU reads it off the tap's queue, and
    in tx-dropped when it arrives to a full queue (1,000 frames): a QEMU
    that does not read its tap any more shows in the second."""
    try:
        ln = json.loads(dc.run(hv.host, ['ip', '-j', '-s', 'link', 'show',
                                         tap], check=False) or '[]')
    except (OSError, ValueError):
        ln = []
    st = ln[0].get('stats64', {}) if ln else {}
    return (st.get('tx', {}).get('packets', 0),
            st.get('rx', {}).get('packets', 0),
            st.get('tx', {}).get('dropped', 0))


class Guest:
    def __init__(self, dc, name, ip, mac):
        self.dc, self.name, self.ip, self.mac = dc, name, ip, mac
        self.eni = 'eni-' + name
        self.qemu = None

    def boot(self, hv):
        self.qemu = Qemu(self, self.dc.hvs[hv], self.dc.next_n(), False)
        self.qemu.plug(False)
        wait_until(lambda: 'tether-guest: ready' in self.qemu.console_text(),
                   60, 'guest %s to boot' % self.name)
        if self.dc.tether:
            self.dc.wait_bound(self, hv, timeout=30)
        return self

    @property
    def hv(self):
        return self.qemu.hv.name

    # What diagnose_unreachable() asks of a guest (lvnet.LvGuest too).
    def tap(self):
        return self.qemu.tap

    def tap_packets(self):
        return self.qemu.tap_packets()

    def run_state(self):
        return self.qemu.status()

    def crashed(self):
        return self.qemu.crashed()

    def console_text(self):
        return self.qemu.console_text()


class QemuDataCenter(DataCenter):
    """DataCenter whose hypervisors run QEMU guests.  tether=False: the same
    hypervisors without tether (agents stopped, br-int an OVS NORMAL
    learning switch, VXLAN ports in a star from hv1): the comparison."""

    def __init__(self, tether=True, **kw):
        kw.setdefault('n_hv', 3)
        super().__init__(**kw)
        self.tether = tether
        self.n_qemu = 0
        self.lock = threading.Lock()    # migrations may run in threads
        self.guests = {}
        cache = os.environ.get('TETHER_QEMU_CACHE') or os.path.join(
            self.build, 'tests', 'qemu', 'cache')
        out = subprocess.check_output([os.path.join(HERE, 'mkguest.sh'),
                                       cache], text=True).split()
        self.vmlinuz, self.initrd = out

    def next_n(self):
        with self.lock:
            self.n_qemu += 1
            return self.n_qemu

    def start(self):
        old = tethernet.Hypervisor
        tethernet.Hypervisor = QHypervisor
        try:
            super().start()
        finally:
            tethernet.Hypervisor = old
        # The migration link: hv2 <-> hv3 (and hv1), 10.99.0.N.
        for name in ['migbr'] + ['mx%d' % hv.n for hv in self.hvs.values()]:
            subprocess.call(['ip', 'link', 'del', name],   # an earlier DC's
                            stderr=subprocess.DEVNULL)
        for hv in self.hvs.values():
            subprocess.check_call(['ip', 'link', 'add', 'mx%d' % hv.n,
                                   'type', 'veth', 'peer', 'name', 'mig',
                                   'netns', str(hv.host.pid)])
            hv.host.cmd('ip addr add 10.99.0.%d/24 dev mig; ip link set mig up'
                        % hv.n)
        subprocess.check_call(['ip', 'link', 'add', 'migbr', 'type',
                               'bridge'])
        for hv in self.hvs.values():
            subprocess.check_call(['ip', 'link', 'set', 'mx%d' % hv.n,
                                   'master', 'migbr', 'up'])
        subprocess.check_call(['ip', 'link', 'set', 'migbr', 'up'])
        if not self.tether:
            self.to_learning_switch()
        return self

    def to_learning_switch(self):
        for hv in self.hvs.values():
            hv.kill_agent(sig_.SIGTERM)
        self.tetherd.stop()
        for hv in self.hvs.values():
            hv.vsctl('del-controller', 'br-int', '--', 'set-fail-mode',
                     'br-int', 'standalone', '--', '--if-exists', 'del-port',
                     'br-int', 'tether-tun')
            peers = ([2, 3] if hv.n == 1 else [1])
            for p in peers:
                hv.vsctl('add-port', 'br-int', 'vx%d' % p, '--', 'set',
                         'interface', 'vx%d' % p, 'type=vxlan',
                         'options:remote_ip=192.168.0.%d' % p)
            mgmt = 'unix:%s/br-int.mgmt' % hv.dir
            self.run(hv.host, ['ovs-ofctl', '-O', 'OpenFlow13', 'del-flows',
                               mgmt])
            self.run(hv.host, ['ovs-ofctl', '-O', 'OpenFlow13', 'add-flow',
                               mgmt, 'priority=0,actions=NORMAL'])

    def add_guest(self, name, hv, ip, mac):
        if self.tether:
            self.tctl('eni', 'create', '--id=eni-' + name, '--mac=' + mac,
                      '--ip=' + ip, '--vni=100')
        g = self.guests[name] = Guest(self, name, ip, mac)
        return g.boot(hv)

    def add_peer(self, name, hv, ip, mac):
        """A namespace VM (tests/mininet's kind) that talks to the guests."""
        vm = self.add_vm(name, hv, ip, mac, create_eni=self.tether)
        if self.tether:
            self.wait_bound(vm, hv)
        return vm

    def migrate(self, guest, dst, fail=None, pause_before_switchover=False,
                timeout=60):
        """Live-migrates guest to hypervisor dst over QMP.  fail: None,
        'cancel' (migrate_cancel half-way through the pre-copy) or
        'dest-dies' (the destination QEMU SIGKILLed half-way).  Returns a
        dict of timings (ns, CLOCK_MONOTONIC) and outcome."""
        src = guest.qemu
        dhv = self.hvs[dst]
        self.mark('plug %s on %s' % (guest.name, dst))
        dq = Qemu(guest, dhv, self.next_n(), True)
        dq.plug(True)
        if self.tether:
            self.wait_phase(guest, 'prepared', timeout=10)
        dq.qmp.cmd('migrate-incoming', uri='tcp:10.99.0.%d:%d'
                   % (dhv.n, MIG_PORT))
        caps = [{'capability': 'pause-before-switchover',
                 'state': bool(pause_before_switchover)}]
        src.qmp.cmd('migrate-set-capabilities', capabilities=caps)
        n_ev = len(src.qmp.events)
        t0 = time.monotonic_ns()
        self.mark('migrate %s to %s' % (guest.name, dst))
        src.qmp.cmd('migrate', uri='tcp:10.99.0.%d:%d' % (dhv.n, MIG_PORT))
        res = {'t_start': t0, 'src': src.hv.name, 'dst': dst}
        if fail:
            # Half-way through the pre-copy: the guest still runs.
            src.qmp.wait_event(lambda e, d: e == 'MIGRATION' and
                               d.get('status') == 'active', 10, 'active')
            time.sleep(0.15)
            self.mark('fail %s: %s' % (guest.name, fail))
            if fail == 'cancel':
                src.qmp.cmd('migrate_cancel')
            else:
                dq.p.stop(sig_.SIGKILL)
            end = src.qmp.wait_event(
                lambda e, d: e == 'MIGRATION' and d.get('status') in
                ('cancelled', 'failed', 'completed'), timeout, 'end')
            res['outcome'] = end[2]['status']
            # The hypervisor cleans the destination up (as libvirt does).
            dq.stop()
            if self.tether:
                self.wait_bound(guest, src.hv.name)
            res['t_end'] = time.monotonic_ns()
            return res
        end = src.qmp.wait_event(
            lambda e, d: e == 'MIGRATION' and d.get('status') in
            ('completed', 'failed', 'cancelled'), timeout, 'migration end')
        res['outcome'] = end[2]['status']
        if res['outcome'] != 'completed':
            dq.stop()
            raise Error('migration %s' % res['outcome'])
        try:
            resume = dq.qmp.wait_event(lambda e, d: e == 'RESUME', 10,
                                       'RESUME on the destination')
        except Error:
            resume = None
        stop = next((e for e in src.qmp.events[n_ev:] if e[1] == 'STOP'),
                    None)
        if stop and resume:
            res['stun_ms'] = (resume[0] - stop[0]) / 1e6
            res['t_stop'], res['t_resume'] = stop[0], resume[0]
            with self.lock:
                self.events.append((stop[0], 'pause ' + guest.name))
                self.events.append((resume[0], 'resume %s on %s'
                                    % (guest.name, dst)))
        q = src.qmp.cmd('query-migrate', check=False) or {}
        res['qmp_downtime_ms'] = q.get('downtime') if isinstance(q, dict) \
            else None
        res['total_ms'] = q.get('total-time') if isinstance(q, dict) else None
        # The hypervisor removes the source once done.
        src.stop()
        guest.qemu = dq
        if self.tether:
            try:
                self.wait_bound(guest, dst, timeout=20)
            except Error:
                if dq.crashed():        # the known TCG crash: rerun
                    raise GuestCrashed('guest kernel crashed after migration'
                                       ' to %s' % dst)
                raise
        res['t_end'] = time.monotonic_ns()
        # The known TCG crash shows within a moment on the new console.
        time.sleep(0.5)
        if dq.crashed():
            raise GuestCrashed('guest kernel crashed after migration to %s'
                               % dst)
        return res

    def probe(self, peer, guest, rate=1000):
        """Starts 1 kHz probes peer -> guest (echoed back by the guest);
        'guest' may be a list of guests, each probed at 'rate'."""
        guests = guest if isinstance(guest, list) else [guest]
        out = os.path.join(self.dir, 'probe-%s-%d.json' % (peer.name,
                                                          self.next_n()))
        argv = [PY, os.path.join(MN, 'probe.py'), 'udp', '--listen', '7000',
                '--rate', str(rate), '--out', out]
        for g in guests:
            argv += ['--to', '%s:7000' % g.ip]
        p = peer.popen('probe', argv)
        wait_until(lambda: p.lines_seen('ready'), 10, 'probe ready')
        return (peer, p, out, guest)

    def probe_stop(self, pr):
        """Stops probes; returns a Stream (a list of them for a list of
        guests)."""
        peer, p, out, guest = pr
        p.signal(sig_.SIGUSR1)
        time.sleep(0.3)
        p.stop(sig_.SIGTERM)
        peer.procs.remove(p)
        with open(out) as f:
            d = json.load(f)
        streams = [Stream(peer.name, g.name, d['sent']['%s:7000' % g.ip],
                          d['recv'].get(g.ip, []), d['period_ns'])
                   for g in (guest if isinstance(guest, list) else [guest])]
        for st in streams:
            st.rcvbuf_errors = d.get('rcvbuf_errors')
            st.send_errors = d.get('send_errors')
        return streams if isinstance(guest, list) else streams[0]

    def fdb(self, hv):
        """hv's br-int MAC learning table (ovs-appctl fdb/show)."""
        h = self.hvs[hv]
        return self.run(h.host, ['ovs-appctl', '-t', '%s/ovs-vswitchd.ctl'
                                 % h.dir, 'fdb/show', 'br-int'])


def diagnose_unreachable(dc, peer, guest):
    """Called when a probe stream to 'guest' failed: tells a guest that
    hung (the known TCG fault after a migration: its tap is handed frames
    and it sends nothing) from a network that does not deliver to it.
    Raises GuestCrashed for the first (the run is rerun, not counted);
    logs what it found otherwise.  A guest hung with a full tap queue is
    told by its QEMU reading nothing and sending nothing while Open vSwitch
    hands the tap frames it has to drop; a hung guest whose queue still had
    room looks like a network fault, and fails."""
    tx0, rx0, dr0 = guest.tap_packets()
    n = echo_ok(dc, peer, guest, 50)
    tx1, rx1, dr1 = guest.tap_packets()
    tail = guest.console_text().strip().splitlines()[-3:]
    log('%s on %s now: %d probes echoed in 0.7 s at 100/s; run state %s; '
        'its tap %s: QEMU read %d frames and wrote %d, %d dropped at the '
        'full queue; console ends %r'
        % (guest.name, guest.hv, n, guest.run_state(), guest.tap(),
           tx1 - tx0, rx1 - rx0, dr1 - dr0, tail))
    if guest.crashed():
        raise GuestCrashed('guest kernel crashed after migration to %s'
                           % guest.hv)
    if n == 0 and tx1 == tx0 and rx1 == rx0 and dr1 - dr0 >= 25:
        raise GuestCrashed('guest hung on %s: its QEMU read nothing from '
                           'the tap, which dropped %d frames for it'
                           % (guest.hv, dr1 - dr0))
    if dc.tether:
        log('%s: tetherd has %s' % (guest.eni, dc.eni(guest.eni)))
        for hv in dc.hvs.values():
            flows = dc.run(hv.host, ['ovs-ofctl', '-O', 'OpenFlow15',
                                     'dump-flows',
                                     'unix:%s/br-int.mgmt' % hv.dir],
                           check=False)
            for line in flows.splitlines():
                if guest.mac in line:
                    log('  %s: %s' % (hv.name, line.strip()))


def echo_ok(dc, peer, guest, n=20):
    """n datagrams echoed? (the guest is alive and reachable)"""
    pr = dc.probe(peer, guest, rate=100)
    time.sleep(n / 100.0 + 0.2)
    s = dc.probe_stop(pr)
    return s.received
