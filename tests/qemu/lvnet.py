"""lvnet: the real-hypervisor tier with libvirt.  Each hypervisor of
qemunet's QemuDataCenter runs its own libvirtd (the QEMU driver), kept apart
in a mount namespace of its own: tmpfs over libvirt's state directories,
its own /etc/libvirt, and the hypervisor's OVS run directory on
/run/openvswitch so that libvirt's ovs-vsctl reaches that hypervisor's
ovsdb-server.  The agents follow their libvirtd's domain events
(--libvirt-events); guests are libvirt domains defined from XML and
migrated with virsh.  Run inside tests/mininet/run.sh."""
import datetime
import os
import re
import signal as sig_
import subprocess
import time
import uuid as uuid_

import qemunet
from qemunet import (QemuDataCenter, QHypervisor, GuestCrashed, Error, log,
                     wait_until, tap_packets, CRASH_RE)

LIBVIRTD = '/usr/sbin/libvirtd'
VIRSH = '/usr/bin/virsh'
# Where libvirt keeps its state and what it reads; each libvirtd gets its
# own (a tmpfs, or the hypervisor's directory).
LIBVIRT_DIRS = ['/run/libvirt', '/var/lib/libvirt', '/var/log/libvirt',
                '/var/cache/libvirt']

QEMU_CONF = '''# tests/qemu/lvnet.py: QEMU as root, no cgroups, no private /dev, no
# virtlogd: a libvirtd per test hypervisor without systemd.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
'''

LIBVIRTD_CONF = '''unix_sock_dir = "%(sock)s"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "%(host_uuid)s"
log_outputs = "3:file:%(log)s"
'''

# Run in the hypervisor's network namespace by mnexec, in new mount, UTS
# and pid namespaces: libvirt's directories, /etc/libvirt, the accounts
# libvirt's defaults name (Debian's libvirt-qemu, which only
# libvirt-daemon-system would create), the host name in /etc/hosts (libvirt
# looks it up at every migration; there is no DNS here), then libvirtd
# under a pid 1 that reaps what libvirt daemonizes (QEMU, its capability
# probes): libvirt waits for them to be gone.  SIGHUP to that pid 1
# restarts libvirtd; its QEMUs run on.
START = '''set -e
hostname "$1"
d=$2 ovs=$3
mount --make-rprivate /
for x in %(dirs)s; do mkdir -p "$x"; mount -t tmpfs tmpfs "$x"; done
mount --bind "$d/etc" /etc/libvirt
for f in passwd group hosts; do mount --bind "$d/$f" /etc/$f; done
mkdir -p /run/openvswitch
mount --bind "$ovs" /run/openvswitch
exec /usr/bin/python3 -c "$REAPER" %(libvirtd)s --pid-file="$d/libvirtd.pid"
''' % {'dirs': ' '.join(LIBVIRT_DIRS), 'libvirtd': LIBVIRTD}

REAPER = '''import os, signal, sys
argv = sys.argv[1:]
def start():
    pid = os.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    return pid
pid = start()
restart = False
def hup(n, f):
    global restart
    restart = True
    os.kill(pid, signal.SIGTERM)
signal.signal(signal.SIGHUP, hup)
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda n, f: os.kill(pid, n))
while True:
    try:
        p = os.wait()[0]
    except ChildProcessError:
        break
    if p == pid:
        if not restart:
            break
        restart = False
        pid = start()
'''

DOMAIN_XML = '''<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(vmlinuz)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 tether.ip=%(ip)s/24</cmdline>
  </os>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <interface type='bridge'>
      <mac address='%(mac)s'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='%(eni)s'/>
      </virtualport>
      <model type='virtio'/>
      <driver>
        <host csum='off'/>
        <guest csum='off'/>
      </driver>
    </interface>
    <serial type='file'>
      <source path='%(console)s' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
'''


def available():
    """None, or why libvirt cannot run here."""
    for f in (LIBVIRTD, VIRSH):
        if not os.path.exists(f):
            return '%s missing (package libvirt-daemon / libvirt-clients)' % f
    if not os.path.exists('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver'
                          '/libvirt_driver_qemu.so'):
        return "libvirt's QEMU driver missing (libvirt-daemon-driver-qemu)"
    return None


class LvHypervisor(QHypervisor):
    """A hypervisor with its own libvirtd, whose agent follows it."""

    def uri(self):
        return 'qemu+unix:///system?socket=%s/sock/libvirt-sock' % self.lvdir

    def start_libvirtd(self):
        d = self.lvdir = os.path.join(self.dir, 'libvirt')
        os.makedirs(os.path.join(d, 'etc'), exist_ok=True)
        os.makedirs(os.path.join(d, 'sock'), exist_ok=True)
        with open(os.path.join(d, 'etc', 'qemu.conf'), 'w') as f:
            f.write(QEMU_CONF)
        with open(os.path.join(d, 'etc', 'libvirtd.conf'), 'w') as f:
            f.write(LIBVIRTD_CONF % {
                'sock': os.path.join(d, 'sock'),
                'host_uuid': str(uuid_.UUID(int=0x4000 << 64 | self.n)),
                'log': os.path.join(d, 'libvirtd.log')})
        with open('/etc/passwd') as f:
            passwd = f.read()
        with open('/etc/group') as f:
            group = f.read()
        if '\nlibvirt-qemu:' not in '\n' + passwd:
            passwd += ('libvirt-qemu:x:64055:64055:libvirt:/var/lib/libvirt:'
                       '/usr/sbin/nologin\n')
        for g in ('libvirt-qemu', 'kvm'):
            if '\n%s:' % g not in '\n' + group:
                group += '%s:x:%d:\n' % (g, 64055 if g != 'kvm' else 64056)
        with open(os.path.join(d, 'passwd'), 'w') as f:
            f.write(passwd)
        with open(os.path.join(d, 'group'), 'w') as f:
            f.write(group)
        with open('/etc/hosts') as f:
            hosts = f.read()
        with open(os.path.join(d, 'hosts'), 'w') as f:
            f.write(hosts + '10.99.0.%d %s\n' % (self.n, self.name))
        self.procs['libvirtd'] = self.dc.spawn(
            self.host, 'libvirtd@' + self.name,
            ['unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child',
             '--mount-proc', '--', '/bin/sh', '-c', START, 'sh', self.name, d,
             self.dir], env=dict(self.env(), REAPER=REAPER))

    def wait_libvirtd(self, timeout=60):
        def up():
            if not self.procs['libvirtd'].alive():
                raise Error('libvirtd on %s exited (see %s)' % (
                    self.name, self.procs['libvirtd'].out))
            return subprocess.call([VIRSH, '-q', '-c', self.uri(), 'version'],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) == 0
        wait_until(up, timeout, 'libvirtd on ' + self.name, step=0.5)

    def restart_libvirtd(self):
        """Stops libvirtd (SIGTERM) and starts it again; the domains run
        on."""
        unshare = self.procs['libvirtd'].pid
        with open('/proc/%d/task/%d/children' % (unshare, unshare)) as f:
            reaper = int(f.read().split()[0])
        old = self.virsh('version', '--daemon', check=False)
        os.kill(reaper, sig_.SIGHUP)
        time.sleep(0.5)
        self.wait_libvirtd()
        return old

    def virsh(self, *args, check=True, timeout=120):
        r = subprocess.run([VIRSH, '-q', '-c', self.uri()] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise Error('virsh %s on %s: %s' % (' '.join(args), self.name,
                                                r.stderr.strip()))
        return r.stdout

    def start_agent(self):
        if self.n == 1:
            # hv1 holds the peer only: no libvirt there.
            return QHypervisor.start_agent(self)
        self.start_libvirtd()
        self.spawn_agent()

    def spawn_agent(self):
        """Starts this hypervisor's agent, following its libvirtd."""
        self.procs['agent'] = self.dc.spawn(
            self.host, 'tether-agent@' + self.name,
            [self.dc.bin('hostagent/tether-agent'),
             '--controller=%s:6650' % self.ctl_ip, '--host-id=' + self.name,
             '--tunnel-ip=' + self.tunnel_ip,
             '--ovsdb=unix:%s/db.sock' % self.dir, '--datapath-type=netdev',
             '--hypervisor=libvirt', '--libvirt-events=' + self.uri(),
             '--openflow-target=tcp:%s:6653' % self.ctl_ip,
             '--unixctl=%s/agent.ctl' % self.dir,
             '--log-file=%s/tether-agent.log' % self.dir, '--no-chdir',
             '-vconsole:off'], env=self.env())


class LvGuest:
    def __init__(self, dc, name, ip, mac):
        self.dc, self.name, self.ip, self.mac = dc, name, ip, mac
        # libvirt takes only a UUID as the interfaceid (the ENI id).
        self.eni = str(uuid_.uuid5(uuid_.NAMESPACE_URL, 'tether-eni-' + name))
        self.uuid = str(uuid_.uuid4())
        self.console = os.path.join(dc.dir, 'console-%s.log' % name)
        self.xml = os.path.join(dc.dir, 'domain-%s.xml' % name)
        with open(self.xml, 'w') as f:
            f.write(DOMAIN_XML % dict(
                name=name, uuid=self.uuid, vmlinuz=dc.vmlinuz,
                initrd=dc.initrd, ip=ip, mac=mac, eni=self.eni,
                console=self.console))
        self.hv = None

    def console_text(self):
        try:
            with open(self.console, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    # What qemunet.diagnose_unreachable() asks of a guest.
    def tap(self):
        """The tap libvirt made for the guest on its hypervisor, or '?'."""
        out = self.dc.hvs[self.hv].virsh('domiflist', self.name,
                                         check=False, timeout=10)
        for line in out.splitlines():
            f = line.split()
            if f and f[-1].lower() == self.mac.lower():
                return f[0]
        return '?'

    def tap_packets(self):
        return tap_packets(self.dc, self.dc.hvs[self.hv], self.tap())

    def run_state(self):
        return self.dc.hvs[self.hv].virsh('domstate', self.name, check=False,
                                          timeout=10).strip() or '?'

    def crashed(self):
        return bool(CRASH_RE.search(self.console_text()))

    def crashed_since(self, offset):
        """Has the guest kernel crashed since console offset 'offset'? (The
        known TCG crash after a migration; the guest then stops.)"""
        return bool(CRASH_RE.search(self.console_text()[offset:]))


class LvDataCenter(QemuDataCenter):
    """QemuDataCenter whose hypervisors hv2, hv3 run libvirtd; guests are
    libvirt domains."""

    def start(self):
        old = qemunet.QHypervisor
        qemunet.QHypervisor = LvHypervisor
        try:
            super().start()
        finally:
            qemunet.QHypervisor = old
        t0 = time.monotonic()
        for hv in self.hvs.values():
            if hv.n != 1:
                hv.wait_libvirtd()
        log('libvirtd up in %.1f s more' % (time.monotonic() - t0))
        return self

    def add_guest(self, name, hv, ip, mac):
        g = self.guests[name] = LvGuest(self, name, ip, mac)
        self.tctl('eni', 'create', '--id=' + g.eni, '--mac=' + mac,
                  '--ip=' + ip, '--vni=100')
        g.hv = hv
        t0 = time.monotonic()
        self.hvs[hv].virsh('create', g.xml)
        log('guest %s created on %s in %.1f s' % (name, hv,
                                                  time.monotonic() - t0))
        wait_until(lambda: 'tether-guest: ready' in g.console_text(), 90,
                   'guest %s to boot' % name)
        self.wait_bound(g, hv, timeout=30)
        return g

    def migrate(self, guest, dst, abort=False, during=None, timeout=120):
        """Live-migrates guest to hypervisor dst with virsh (not
        peer-to-peer: virsh drives both daemons), the migration stream on
        the migration link.  abort: virsh domjobabort on the source
        half-way through the pre-copy; during: called there instead (the
        stream limited to 20 MiB/s to leave time for either).  Returns a
        dict of timings and the outcome."""
        src = self.hvs[guest.hv]
        dhv = self.hvs[dst]
        console_len = len(guest.console_text())
        t0 = time.monotonic_ns()
        self.mark('migrate %s to %s' % (guest.name, dst))
        argv = [VIRSH, '-q', '-c', src.uri(), 'migrate', '--live',
                guest.name, dhv.uri(), '--migrateuri',
                'tcp://10.99.0.%d' % dhv.n]
        if abort or during:
            argv += ['--bandwidth', '20']
        watch_src, watch_dst = QemuEvents(src), QemuEvents(dhv)
        time.sleep(0.3)         # virsh registered
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        res = {'t_start': t0, 'src': src.name, 'dst': dst,
               'console_at': console_len}
        if abort or during:
            self.wait_phase(guest, 'prepared', timeout=30)
            time.sleep(0.3)
        if abort:
            self.mark('abort %s' % guest.name)
            src.virsh('domjobabort', guest.name)
        elif during:
            during()
        out, err = p.communicate(timeout=timeout)
        res['outcome'] = 'completed' if p.returncode == 0 else 'failed'
        res['error'] = err.strip()
        time.sleep(0.2)
        watch_src.stop()
        watch_dst.stop()
        stops = [t for t in watch_src.times('STOP')
                 if t >= (t0 - (time.monotonic_ns() - time.time_ns())) / 1e9]
        resumes = watch_dst.times('RESUME')
        if stops and resumes:
            res['t_stop'] = unix_to_mono_ns(stops[0])
            res['t_resume'] = unix_to_mono_ns(resumes[-1])
            res['stun_ms'] = (res['t_resume'] - res['t_stop']) / 1e6
        if abort:
            self.wait_bound(guest, src.name, timeout=20)
            res['t_end'] = time.monotonic_ns()
            return res
        if p.returncode:
            raise Error('virsh migrate: %s' % err.strip())
        info = dhv.virsh('domjobinfo', guest.name, '--completed',
                         check=False)
        for line in info.splitlines():
            k, _, v = line.partition(':')
            if k.strip() == 'Total downtime':
                res['downtime_ms'] = v.split()[0]
            elif k.strip() == 'Time elapsed':
                res['total_ms'] = v.split()[0]
        guest.hv = dst
        try:
            self.wait_bound(guest, dst, timeout=20)
        except Error:
            # A guest whose kernel crashed right after it resumed shuts
            # down (panic=-1), libvirt unplugs its VIF and tether unbinds
            # the ENI, as it should: the known TCG crash, rerun.
            if guest.crashed_since(console_len):
                raise GuestCrashed('guest kernel crashed after migration '
                                   'to %s (ENI unbound with its VIF)' % dst)
            raise
        res['t_end'] = time.monotonic_ns()
        time.sleep(0.5)
        if guest.crashed_since(console_len):
            raise GuestCrashed('guest kernel crashed after migration to %s'
                               % dst)
        return res


class QemuEvents:
    """QEMU's own events of one libvirt daemon's domains, as libvirt relays
    them (virsh qemu-monitor-event --timestamp: stamped to the ms as virsh
    receives them, 1-2 ms after QEMU's own stamp): the test's view of a
    STOP or RESUME, independent of the agent."""
    LINE_RE = re.compile(r'^(\d+-\d+-\d+ \d+:\d+:\d+\.\d+)\+0000: '
                         r'event (\w+) for domain', re.M)

    def __init__(self, hv, events=('STOP', 'RESUME')):
        self.out = os.path.join(hv.dc.dir, 'qemu-events-%s-%d.txt'
                                % (hv.name, hv.dc.next_n()))
        self.procs = []
        for ev in events:
            self.procs.append(subprocess.Popen(
                [VIRSH, '-q', '-c', hv.uri(), 'qemu-monitor-event', '--loop',
                 '--timestamp', '--event', ev], stdout=open(self.out, 'a'),
                stderr=subprocess.STDOUT, start_new_session=True))

    def times(self, name):
        """Unix times of every event 'name' so far."""
        try:
            with open(self.out) as f:
                text = f.read()
        except OSError:
            return []
        return [datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f')
                .replace(tzinfo=datetime.timezone.utc).timestamp()
                for m in self.LINE_RE.finditer(text) if m.group(2) == name]

    def stop(self):
        for p in self.procs:
            p.terminate()
            p.wait()


def unix_to_mono_ns(t):
    """Unix time 't' (s) on this host as CLOCK_MONOTONIC ns."""
    return int(t * 1e9) - (time.time_ns() - time.monotonic_ns())


def agent_log(hv):
    try:
        with open(os.path.join(hv.dir, 'tether-agent.log')) as f:
            return f.read()
    except OSError:
        return ''


def tetherd_log(dc):
    try:
        with open(os.path.join(dc.dir, 'tetherd.log')) as f:
            return f.read()
    except OSError:
        return ''
