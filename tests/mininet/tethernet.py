"""tethernet: a data center on Mininet for tether's network tests.

Hypervisors are Mininet hosts, each running its own ovsdb-server,
ovs-vswitchd (netdev datapath) and tether-agent in its network namespace;
an underlay fabric of Mininet switches (OVSBridge, userspace datapath)
carries the Geneve overlay; tetherd and its database run in the root
namespace (the one `run.sh` unshared), reached by each hypervisor over its
own management link.  VMs are Mininet hosts (network namespaces) whose NIC
is served on each hypervisor by a vmnic.py process (see README.md).

Every process is started here and stopped here by pid.  Never Mininet's
cleanup() or `mn -c`.  Run inside run.sh (private pid, mount and network
namespaces).
"""
import json
import os
import re
import select
import shutil
import socket
import signal as sig_
import subprocess
import threading
import sys
import tempfile
import time
import urllib.request

from mininet.net import Mininet
from mininet.node import Host, Node, OVSBridge
from mininet.log import setLogLevel

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, '..', '..'))
PY = '/usr/bin/python3'
VM_MTU = 1400
# The underlay, 192.168.0.N on each hypervisor's br-phy.  Each hypervisor's
# ovs-vswitchd runs with --disable-system-route and this one route of its
# own (ovs/route/add): with the system's routes, Open vSwitch 3.1 empties
# its route table and its tunnel termination on every link change in the
# namespace (a VIF added or removed) and fills them again, and revalidators
# that run meanwhile rewrite the tunnel flows to drop or to deliver to the
# host's stack until the next revalidation, 5-11 ms later (README.md, "What
# the tests found").  TETHER_MN_SYSTEM_ROUTES=1 keeps the system's routes.
UNDERLAY = '192.168.0.0/24'
SYSTEM_ROUTES = os.environ.get('TETHER_MN_SYSTEM_ROUTES') == '1'


def log(*a):
    print('#', *a, flush=True)


class Error(Exception):
    pass


def wait_until(pred, timeout, what, step=0.02):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Error('timed out waiting for ' + what)
        time.sleep(step)


class Proc:
    """A process this harness started, stopped by its pid."""

    def __init__(self, name, popen, node=None):
        self.name, self.p, self.node = name, popen, node

    def lines_seen(self, word):
        """True once the process has printed one more line 'word' than
        the last time this returned True."""
        seen = getattr(self, '_seen', {})
        self._seen = seen
        try:
            with open(self.out) as f:
                n = sum(1 for l in f if l.strip() == word)
        except OSError:
            return False
        if n > seen.get(word, 0):
            seen[word] = n
            return True
        return False

    def values(self, word):
        """What follows 'word' on each line the process printed that
        starts with it, in order."""
        try:
            with open(self.out) as f:
                return [l.split(None, 1)[1].strip() for l in f
                        if l.startswith(word + ' ')]
        except OSError:
            return []

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=sig_.SIGTERM, timeout=3.0):
        if self.p.poll() is not None:
            return self.p.returncode
        if sig != sig_.SIGKILL:     # a stopped process must not run on
            self.signal(sig_.SIGCONT)
        self.signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(sig_.SIGKILL)
            return self.p.wait(5)


def is_stopped(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'T'
    except OSError:
        return False


class OvsdbConn:
    """A direct JSON-RPC connection to an ovsdb-server (~1 ms a
    transaction, no process started): how the hypervisor's markers are
    written, as fast as a hypervisor's own OVSDB client would."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(10)
        self.n = 0
        self.buf = b''

    def transact(self, *ops):
        self.n += 1
        req = {'id': self.n, 'method': 'transact',
               'params': ['Open_vSwitch'] + list(ops)}
        self.s.sendall(json.dumps(req).encode())
        dec = json.JSONDecoder()
        while True:
            try:
                msg, end = dec.raw_decode(self.buf.decode())
            except ValueError:
                self.buf += self.s.recv(65536)
                continue
            self.buf = self.buf[len(self.buf.decode()[:end].encode()):]
            if msg.get('method') == 'echo':
                self.s.sendall(json.dumps({'id': msg['id'], 'result':
                                           msg['params'], 'error': None})
                               .encode())
                continue
            if msg.get('id') == self.n:
                res = msg.get('result') or []
                for r in res:
                    if isinstance(r, dict) and 'error' in r:
                        raise Error('ovsdb: %s' % r)
                if msg.get('error'):
                    raise Error('ovsdb: %s' % msg['error'])
                return res

    def set_marker(self, iface, value, paused_at=None):
        muts = [['external_ids', 'delete',
                 ['set', ['tether-migration', 'tether-paused-at']]]]
        if value is not None:
            kv = [['tether-migration', value]]
            if paused_at is not None:
                kv.append(['tether-paused-at', paused_at
                           if isinstance(paused_at, str)
                           else '%.6f' % paused_at])
            muts.append(['external_ids', 'insert', ['map', kv]])
        r = self.transact({'op': 'mutate', 'table': 'Interface',
                           'where': [['name', '==', iface]],
                           'mutations': muts})
        if not r or r[0].get('count') != 1:
            raise Error('marker %s=%s: no interface %s' % (
                'tether-migration', value, iface))

    def close(self):
        self.s.close()


class Hypervisor:
    def __init__(self, dc, n, host):
        self.dc, self.n, self.host = dc, n, host
        self.name = host.name
        self.dir = os.path.join(dc.dir, self.name)
        self.tunnel_ip = '192.168.0.%d' % n
        self.mgmt_ip = '172.31.%d.2' % n
        self.ctl_ip = '172.31.%d.1' % n
        self.procs = {}
        self.vifs = {}
        self.db = None
        self.db_lock = threading.Lock()     # migrations run in threads

    def marker(self, iface, value, paused_at=None):
        """Sets (or with None removes) external_ids:tether-migration, with
        tether-paused-at (Unix time) if given, as QEMU's STOP event carries
        the time of the pause.  One transaction at a time on the
        connection (from any thread)."""
        with self.db_lock:
            if self.db is None:
                self.db = OvsdbConn(os.path.join(self.dir, 'db.sock'))
            try:
                self.db.set_marker(iface, value, paused_at)
            except (OSError, ValueError):
                self.db.close()
                self.db = OvsdbConn(os.path.join(self.dir, 'db.sock'))
                self.db.set_marker(iface, value, paused_at)

    def env(self):
        e = dict(os.environ)
        e.update(OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir, OVS_LOGDIR=self.dir)
        return e

    def vsctl(self, *args):
        return self.dc.run(self.host, ['ovs-vsctl', '--timeout=10',
                                       '--db=unix:%s/db.sock' % self.dir] +
                           list(args))

    def start_ovs(self):
        d = self.dir
        os.makedirs(d, exist_ok=True)
        subprocess.check_call(['ovsdb-tool', 'create', d + '/conf.db',
                               '/usr/share/openvswitch/vswitch.ovsschema'])
        self.procs['ovsdb-server'] = self.dc.spawn(
            self.host, 'ovsdb-server@' + self.name,
            ['ovsdb-server', d + '/conf.db', '--remote=punix:%s/db.sock' % d,
             '--unixctl=%s/ovsdb-server.ctl' % d,
             '--log-file=%s/ovsdb-server.log' % d, '--no-chdir',
             '-vconsole:off'], env=self.env())
        wait_until(lambda: os.path.exists(d + '/db.sock'), 10, 'ovsdb-server')
        self.vsctl('--no-wait', 'init')
        self.procs['ovs-vswitchd'] = self.dc.spawn(
            self.host, 'ovs-vswitchd@' + self.name,
            ['ovs-vswitchd', 'unix:%s/db.sock' % d,
             '--unixctl=%s/ovs-vswitchd.ctl' % d,
             '--log-file=%s/ovs-vswitchd.log' % d, '--no-chdir',
             '-vconsole:off'] + ([] if SYSTEM_ROUTES else
                                 ['--disable-system-route']),
            env=self.env())
        wait_until(lambda: os.path.exists(d + '/ovs-vswitchd.ctl'), 10,
                   'ovs-vswitchd')
        # The underlay: br-phy holds the tunnel IP, the fabric link is its port.
        up = '%s-eth0' % self.name
        self.vsctl('add-br', 'br-phy', '--', 'set', 'bridge', 'br-phy',
                   'datapath_type=netdev', '--', 'add-port', 'br-phy', up)
        h = self.host
        h.cmd('ip addr flush dev', up)
        h.cmd('ip link set br-phy up')
        h.cmd('ip addr add %s/24 dev br-phy' % self.tunnel_ip)
        if not SYSTEM_ROUTES:
            self.dc.run(h, ['ovs-appctl', '-t', d + '/ovs-vswitchd.ctl',
                            'ovs/route/add', UNDERLAY, 'br-phy'])

    def start_agent(self):
        self.procs['agent'] = self.dc.spawn(
            self.host, 'tether-agent@' + self.name,
            [self.dc.bin('hostagent/tether-agent'),
             '--controller=%s:6650' % self.ctl_ip, '--host-id=' + self.name,
             '--tunnel-ip=' + self.tunnel_ip,
             '--ovsdb=unix:%s/db.sock' % self.dir, '--datapath-type=netdev',
             '--hypervisor=mininet',
             '--openflow-target=tcp:%s:6653' % self.ctl_ip,
             '--unixctl=%s/agent.ctl' % self.dir,
             '--log-file=%s/tether-agent.log' % self.dir, '--no-chdir',
             '-vconsole:off'], env=self.env())

    def kill_agent(self, sig=sig_.SIGKILL):
        self.procs['agent'].stop(sig)


class VM:
    """A VM: a namespace whose eth0 carries its MAC and IP; its NIC is
    served on a hypervisor by a vmnic.py process (one per hypervisor the VM
    has a VIF on)."""

    def __init__(self, dc, name, host, eni, mac, ip, vni):
        self.dc, self.name, self.host = dc, name, host
        self.eni, self.mac, self.ip, self.vni = eni, mac, ip, vni
        self.hv = None          # where it runs
        self.vif = None         # its VIF name there
        self.nics = {}          # hypervisor name -> (vif name, Proc)
        self.procs = []         # guest processes (stopped while paused)
        self.n_vifs = 0

    def popen(self, name, argv):
        p = self.dc.spawn(self.host, '%s@%s' % (name, self.name), argv)
        self.procs.append(p)
        return p

    def pause(self):
        for p in self.procs:
            p.signal(sig_.SIGSTOP)

    def resume(self):
        for p in self.procs:
            p.signal(sig_.SIGCONT)


def softnet_drops():
    """Frames the kernel dropped because a CPU's input backlog was full
    (net.core.netdev_max_backlog), over every CPU."""
    try:
        with open('/proc/net/softnet_stat') as f:
            return sum(int(line.split()[1], 16) for line in f)
    except (OSError, ValueError, IndexError):
        return 0


class DataCenter:
    instances = []          # every DataCenter made in this process

    def __init__(self, n_hv=3, leaves=1, migration_mode=None, workdir=None,
                 build=None):
        self.n_hv, self.leaves = n_hv, leaves
        self.migration_mode = migration_mode
        self.build = build or os.environ.get(
            'TETHER_BUILD', os.path.join(TOP, '_build', 'main'))
        self.dir = workdir or tempfile.mkdtemp(prefix='tether-mn-')
        self.procs = []
        self.hvs = {}
        self.vms = {}
        self.net = None
        self.tetherd = None
        self.token = 'mn-' + os.urandom(8).hex()
        self.events = []        # (monotonic time, text): phase marks
        DataCenter.instances.append(self)

    # -- processes ---------------------------------------------------------
    def bin(self, rel):
        return os.path.join(self.build, rel)

    def spawn(self, node, name, argv, env=None, stdout=None):
        if stdout is None:
            stdout = open(os.path.join(self.dir, name.replace('@', '.') +
                                       '.out'), 'w')
        if node is None:
            p = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT,
                                 env=env, start_new_session=True)
        else:
            # mnexec -a: enter node's namespaces, then exec (same pid)
            p = subprocess.Popen(['mnexec', '-a', str(node.pid)] + argv,
                                 stdout=stdout, stderr=subprocess.STDOUT,
                                 env=env, start_new_session=True)
        proc = Proc(name, p, node)
        proc.out = getattr(stdout, 'name', None)
        self.procs.append(proc)
        return proc

    def capture(self, spec=None):
        """Starts capture.py on each HV:IFACE of 'spec' (a comma-separated
        list; default $TETHER_MN_CAPTURE, nothing if unset), recording to
        capture-HV-IFACE.bin in the data center's directory (kept when a
        test fails).  Stopped with everything else."""
        spec = spec if spec is not None else os.environ.get(
            'TETHER_MN_CAPTURE', '')
        for item in filter(None, spec.split(',')):
            hvname, iface = item.split(':', 1)
            node = self.hvs[hvname].host
            p = self.spawn(node, 'capture-%s-%s' % (hvname, iface),
                           [PY, os.path.join(HERE, 'capture.py'), iface,
                            os.path.join(self.dir, 'capture-%s-%s.bin'
                                         % (hvname, iface))])
            wait_until(lambda: p.lines_seen('ready'), 10, 'capture ready')

    def run(self, node, argv, check=True):
        if node is None:
            r = subprocess.run(argv, capture_output=True, text=True)
        else:
            r = subprocess.Popen(['mnexec', '-a', str(node.pid)] + argv,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            out, err = r.communicate()
            r = subprocess.CompletedProcess(argv, r.returncode, out, err)
        if check and r.returncode:
            raise Error('%s: %s' % (' '.join(argv), r.stderr.strip()))
        return r.stdout

    def sh(self, node, script):
        return self.run(node, ['/bin/sh', '-c', script])

    def mark(self, text):
        self.events.append((time.monotonic_ns(), text))

    # -- bring-up ----------------------------------------------------------
    def start(self):
        setLogLevel(os.environ.get('TETHER_MN_LOG', 'error'))
        self.start_root_ovs()
        net = self.net = Mininet(controller=None, build=False,
                                 autoSetMacs=False, autoStaticArp=False)
        leaves = [net.addSwitch('s%d' % (i + 1), cls=OVSBridge,
                                datapath='user', failMode='standalone')
                  for i in range(self.leaves)]
        for i in range(1, len(leaves)):
            net.addLink(leaves[i - 1], leaves[i])
        hosts = []
        for n in range(1, self.n_hv + 1):
            h = net.addHost('hv%d' % n, ip=None)
            net.addLink(h, leaves[(n - 1) % len(leaves)])
            hosts.append(h)
        net.build()
        net.start()
        self.root = Node('root', inNamespace=False)
        for n, h in enumerate(hosts, 1):
            hv = self.hvs[h.name] = Hypervisor(self, n, h)
            # management link: root <-> hypervisor
            subprocess.check_call(['ip', 'link', 'add', 'mg%d' % n, 'type',
                                   'veth', 'peer', 'name', 'mgmt', 'netns',
                                   str(h.pid)])
            subprocess.check_call(['ip', 'addr', 'add', hv.ctl_ip + '/24',
                                   'dev', 'mg%d' % n])
            subprocess.check_call(['ip', 'link', 'set', 'mg%d' % n, 'up'])
            h.cmd('ip addr add %s/24 dev mgmt; ip link set mgmt up' % hv.mgmt_ip)
        subprocess.check_call(['ip', 'link', 'set', 'lo', 'up'])
        self.start_tetherd()
        for hv in self.hvs.values():
            hv.start_ovs()
            hv.start_agent()
        wait_until(lambda: len([h for h in self.hosts()
                                if h.get('connected')]) == self.n_hv,
                   30, 'agents to register')
        for hv in self.hvs.values():
            wait_until(lambda: self.br_int_ready(hv), 30,
                       'br-int on ' + hv.name)
        return self

    def br_int_ready(self, hv):
        out = hv.vsctl('--columns=name', 'list', 'interface')
        return 'br-int' in out

    def start_root_ovs(self):
        d = os.path.join(self.dir, 'fabric')
        os.makedirs(d)
        rundir = '/var/run/openvswitch'
        if os.path.exists(rundir + '/db.sock'):
            raise Error('%s/db.sock exists: run inside run.sh (private mount '
                        'namespace with a tmpfs there)' % rundir)
        os.makedirs(rundir, exist_ok=True)
        subprocess.check_call(['ovsdb-tool', 'create', d + '/conf.db',
                               '/usr/share/openvswitch/vswitch.ovsschema'])
        self.spawn(None, 'ovsdb-server@fabric',
                   ['ovsdb-server', d + '/conf.db',
                    '--remote=punix:%s/db.sock' % rundir, '--pidfile',
                    '--log-file=%s/ovsdb-server.log' % d, '--no-chdir',
                    '-vconsole:off'])
        wait_until(lambda: os.path.exists(rundir + '/db.sock'), 10,
                   'fabric ovsdb-server')
        subprocess.check_call(['ovs-vsctl', '--no-wait', 'init'])
        self.spawn(None, 'ovs-vswitchd@fabric',
                   ['ovs-vswitchd', '--pidfile',
                    '--log-file=%s/ovs-vswitchd.log' % d,
                    '--no-chdir', '-vconsole:off'])
        wait_until(lambda: subprocess.call(
            ['ovs-appctl', 'version'], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) == 0, 10, 'fabric ovs-vswitchd')

    def start_tetherd(self, restart=False):
        d = os.path.join(self.dir, 'db')
        if not restart:
            env = dict(os.environ, TETHER_SCHEMA=os.path.join(
                TOP, 'controller', 'tether.ovsschema'))
            self.db_remote = subprocess.check_output(
                [os.path.join(TOP, 'scripts', 'tether-db.sh'), 'start', d],
                env=env, text=True, stderr=subprocess.DEVNULL).strip()
            with open(os.path.join(d, 'ovsdb-server.pid')) as f:
                self.db_pid = int(f.read())
            with open(os.path.join(self.dir, 'api-token'), 'w') as f:
                f.write(self.token + '\n')
        argv = [self.bin('controller/tetherd'), '--db=' + self.db_remote,
                '--agent-listen=0.0.0.0:6650', '--openflow-listen=ptcp:6653',
                '--api-listen=127.0.0.1:8650',
                '--api-token-file=%s/api-token' % self.dir,
                '--controller-id=dc1', '--unixctl=%s/tetherd.ctl' % self.dir,
                '--log-file=%s/tetherd.log' % self.dir, '--no-chdir',
                '-vconsole:off']
        if self.migration_mode:
            argv.append('--migration-mode=' + self.migration_mode)
        self.tetherd = self.spawn(None, 'tetherd', argv,
                                  env=dict(os.environ, OVS_RUNDIR=self.dir))
        wait_until(lambda: self.stat('db_ready') == 'yes', 20,
                   'tetherd to load its database')

    def stat(self, key):
        r = subprocess.run(['ovs-appctl', '-t', self.dir + '/tetherd.ctl',
                            'tetherd/stats'], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if line.startswith(key + ':'):
                return line.split(':', 1)[1].strip()
        return None

    def api(self, method, path, body=None):
        req = urllib.request.Request(
            'http://127.0.0.1:8650' + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={'Authorization': 'Bearer ' + self.token,
                     'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                data = r.read()
        except OSError as e:
            if method == 'GET':
                return []
            raise Error('%s %s: %s' % (method, path, e))
        return json.loads(data) if data else None

    def hosts(self):
        r = self.api('GET', '/v1/hosts')
        return r.get('hosts', []) if isinstance(r, dict) else []

    def tctl(self, *args):
        return subprocess.check_output(
            [self.bin('ctl/tetherctl'), '--server=http://127.0.0.1:8650',
             '--token=' + self.token] + list(args), text=True)

    def eni(self, eni_id):
        r = self.api('GET', '/v1/enis/' + eni_id)
        return r if isinstance(r, dict) else {}

    # -- VMs ---------------------------------------------------------------
    def add_vm(self, name, hv, ip, mac, vni=100, create_eni=True):
        eni_id = 'eni-' + name
        if create_eni:
            self.tctl('eni', 'create', '--id=' + eni_id, '--mac=' + mac,
                      '--ip=' + ip, '--vni=%d' % vni)
        host = self.net.addHost(name, ip=None)
        host.cmd('ip link add eth0 type veth peer name nic')
        host.cmd('ip link set nic arp off')
        host.cmd('sysctl -qw net.ipv6.conf.nic.disable_ipv6=1')
        host.cmd('ip link set eth0 address %s mtu %d' % (mac, VM_MTU))
        host.cmd('ip addr add %s/24 dev eth0' % ip)
        host.cmd('ethtool -K eth0 tx off >/dev/null 2>&1')
        host.cmd('ip link set nic up; ip link set eth0 up; ip link set lo up')
        vm = self.vms[name] = VM(self, name, host, eni_id, mac, ip, vni)
        self.plug(vm, self.hvs[hv])
        vm.hv, vm.vif = hv, vm.nics[hv][0]
        self.resume_nic(vm, hv)
        return vm

    def resume_nic(self, vm, hv):
        """SIGCONT to VM's NIC backend on hv; returns once it has dropped
        the guest's output of the pause (before the guest runs again)."""
        p = self.nic(vm, hv)
        p.signal(sig_.SIGCONT)
        wait_until(lambda: p.lines_seen('resumed'), 5, 'vmnic resume',
                   step=0.0005)

    def nic(self, vm, hv):
        return vm.nics[hv][1]

    def plug(self, vm, hv, incoming=False):
        """Creates VM's VIF on hypervisor hv with its NIC backend paused."""
        vm.n_vifs += 1
        vif = '%s.%d' % (vm.name, vm.n_vifs)
        q = 'q%d' % vm.n_vifs
        # Mininet's node.cmd() is one shell per node: not from threads.
        self.sh(hv.host, 'ip link add %s type veth peer name %s netns %d; '
                'ip link set %s up' % (vif, q, vm.host.pid, vif))
        self.sh(vm.host, 'ip link set %s arp off; sysctl -qw '
                'net.ipv6.conf.%s.disable_ipv6=1; ip link set %s up'
                % (q, q, q))
        p = self.spawn(vm.host, 'vmnic-%s@%s' % (vif, vm.name),
                       [PY, os.path.join(HERE, 'vmnic.py'), '--guest', 'nic',
                        '--host', q, '--vif', vif,
                        '--vif-netns', '/proc/%d/ns/net' % hv.host.pid,
                        '--start-paused'] +
                       (['--announce', vm.mac] if incoming else []))
        wait_until(lambda: is_stopped(p.pid), 10, 'vmnic to start')
        vm.nics[hv.name] = (vif, p)
        args = ['add-port', 'br-int', vif, '--', 'set', 'interface', vif,
                'external_ids:iface-id=' + vm.eni,
                'external_ids:attached-mac="%s"' % vm.mac,
                'external_ids:iface-status=active']
        if incoming:
            args.append('external_ids:tether-migration=incoming')
        hv.vsctl(*args)
        return vif

    def unplug(self, vm, hvname):
        vif, p = vm.nics.pop(hvname)
        p.stop(sig_.SIGKILL)
        hv = self.hvs[hvname]
        hv.vsctl('--if-exists', 'del-port', 'br-int', vif)
        self.sh(hv.host, 'ip link del %s 2>/dev/null; true' % vif)

    def wait_bound(self, vm, hv, timeout=20):
        wait_until(lambda: self.eni(vm.eni).get('host') == hv and
                   self.eni(vm.eni).get('migration') is None and
                   self.stat('flows_idle') == 'yes', timeout,
                   '%s bound to %s' % (vm.eni, hv))

    def wait_phase(self, vm, phase, timeout=10):
        def ok():
            m = self.eni(vm.eni).get('migration')
            return m and m.get('phase') == phase
        wait_until(ok, timeout, '%s phase %s' % (vm.eni, phase))

    def migrate(self, vm, dst, stun_ms=100, precopy_ms=300, fail=None,
                complete_ms=100, hooks=None):
        """Live-migrates vm to hypervisor dst as a hypervisor does.  fail:
        None, 'cancel' (cancelled after the source paused: the source
        resumes) or 'dest-dies' (the destination dies while the VM is
        paused).  hooks: {phase: callable} run at 'incoming', 'paused'."""
        hooks = hooks or {}
        src = vm.hv
        shv, dhv = self.hvs[src], self.hvs[dst]
        self.mark('plug %s on %s' % (vm.name, dst))
        dvif = self.plug(vm, dhv, incoming=True)
        if 'incoming' in hooks:
            hooks['incoming']()
        else:
            self.wait_phase(vm, 'prepared')
        time.sleep(precopy_ms / 1000.0)
        # switchover: the source pauses
        self.mark('pause ' + vm.name)
        vm.pause()
        nic = self.nic(vm, src)
        # The backend pauses itself and reports when: after its last read,
        # as QEMU stamps STOP after its last tap read.  A frame the relay
        # then sends on cannot have reached the guest too.
        n = len(nic.values('paused'))
        nic.signal(sig_.SIGUSR1)
        wait_until(lambda: len(nic.values('paused')) > n and
                   is_stopped(nic.pid), 5, vm.name + "'s backend to pause",
                   step=0.0005)
        paused_at = nic.values('paused')[n]     # as printed: exact
        shv.marker(vm.vif, 'paused', paused_at)
        self.mark('paused marked ' + vm.name)
        if 'paused' in hooks:
            hooks['paused']()
        t_end = time.monotonic() + stun_ms / 1000.0
        time.sleep(max(0, t_end - time.monotonic()))
        if fail:
            self.mark('rollback ' + vm.name)
            if fail == 'dest-dies':
                self.nic(vm, dst).stop(sig_.SIGKILL)
            if fail != 'dest-dies':
                dhv.marker(dvif, 'failed')
            else:
                self.unplug(vm, dst)
            self.resume_nic(vm, src)
            vm.resume()
            shv.marker(vm.vif, None)
            if dst in vm.nics:
                self.unplug(vm, dst)
            self.wait_bound(vm, src)
            return
        # activation: the VM runs on the destination
        self.mark('resume %s on %s' % (vm.name, dst))
        self.resume_nic(vm, dst)
        vm.resume()
        dhv.marker(dvif, 'activated')
        time.sleep(complete_ms / 1000.0)
        self.mark('complete ' + vm.name)
        dhv.marker(dvif, 'completed')
        self.unplug(vm, src)
        vm.hv, vm.vif = dst, dvif
        self.wait_bound(vm, dst)

    def packet_drops(self):
        """{place: {interface: frames}}: what the kernel dropped because a
        packet socket's receive buffer was full (ss's skmem 'd'), in every
        hypervisor's and VM's namespace and the fabric's ('-'): the userspace
        datapath reads each port through one, so these are frames that
        reached a host and never made it into its Open vSwitch (or into
        a vmnic.py, which reads its ports the same way)."""
        out = {}
        for name, node in ([('-', None)] +
                           [(hv.name, hv.host) for hv in self.hvs.values()] +
                           [(vm.name, vm.host) for vm in self.vms.values()]):
            try:
                text = self.run(node, ['ss', '-0', '-m', '-a', '-n'],
                                check=False)
            except OSError:
                continue
            for line in text.splitlines():
                f = line.split()        # p_raw STATE RQ SQ *:IFACE ...
                m = re.search(r',d(\d+)\)', line)
                if len(f) > 4 and ':' in f[4] and m and int(m.group(1)):
                    iface = f[4].split(':', 1)[1]
                    place = out.setdefault(name, {})
                    place[iface] = place.get(iface, 0) + int(m.group(1))
        return out

    def ovs_drops(self):
        """{(hypervisor, counter): total}: each hypervisor's ovs-vswitchd
        drop counters (coverage/show: datapath_drop_*, drop_action_*),
        the frames its datapath dropped and why."""
        out = {}
        for hv in self.hvs.values():
            text = self.run(hv.host, ['ovs-appctl', '-t', '%s/ovs-vswitchd.ctl'
                                      % hv.dir, 'coverage/show'], check=False)
            for line in text.splitlines():
                f = line.split()
                if f and (f[0].startswith('datapath_drop') or
                          f[0].startswith('drop_action')):
                    out[(hv.name, f[0])] = int(f[-1])
        return out

    def log_ovs_drops(self, before):
        for (hv, name), n in sorted(self.ovs_drops().items()):
            n -= before.get((hv, name), 0)
            if n > 0:
                log('  %s ovs-vswitchd: %s %d' % (hv, name, n))

    def log_packet_drops(self, before):
        """Logs the packet-socket drops (packet_drops()) since 'before':
        frames a host's kernel received and its reader never got."""
        for place, ifaces in sorted(self.packet_drops().items()):
            for iface, n in sorted(ifaces.items()):
                n -= before.get(place, {}).get(iface, 0)
                if n > 0:
                    log('  %d frames dropped in %s\'s packet socket on %s '
                        '(receive buffer full)'
                        % (n, 'the fabric' if place == '-' else place,
                           iface))

    def link_drops(self):
        """{(place, interface): dropped}: the kernel's rx and tx drop
        counters of every interface of the hypervisors' and VMs'
        namespaces and the fabric's ('-'), e.g. a tap whose queue to its
        QEMU overflowed, and ('-', 'backlog'): the kernel's input backlog
        drops (/proc/net/softnet_stat, every CPU, all namespaces)."""
        out = {('-', 'backlog'): softnet_drops()}
        for name, node in ([('-', None)] +
                           [(hv.name, hv.host) for hv in self.hvs.values()] +
                           [(vm.name, vm.host) for vm in self.vms.values()]):
            try:
                links = json.loads(self.run(node, ['ip', '-j', '-s', 'link',
                                                   'show'], check=False)
                                   or '[]')
            except (OSError, ValueError):
                continue
            for ln in links:
                if ln.get('ifname') == 'tether-relay':
                    # The agent reads its relay port through a packet
                    # socket (packet_drops() counts that); the port's own
                    # counters count what the host's stack ignores (5
                    # frames on every host per migration).
                    continue
                st = ln.get('stats64', {})
                n = (st.get('rx', {}).get('dropped', 0) +
                     st.get('tx', {}).get('dropped', 0))
                out[(name, ln.get('ifname'))] = n
        return out

    # -- traffic -----------------------------------------------------------
    def start_probes(self, pairs, rate=1000, port=7000):
        """pairs: [(from vm, to vm)]; every VM involved runs one probe."""
        vms = {}
        for a, b in pairs:
            vms.setdefault(a.name, (a, []))[1].append(b)
            vms.setdefault(b.name, (b, []))
        self.probes = {}
        for name, (vm, dests) in vms.items():
            out = os.path.join(self.dir, 'probe-%s.json' % name)
            argv = [PY, os.path.join(HERE, 'probe.py'), 'udp',
                    '--listen', str(port), '--rate', str(rate), '--out', out,
                    '--wait-go']
            for d in dests:
                argv += ['--to', '%s:%d' % (d.ip, port)]
            p = vm.popen('probe', argv)
            self.probes[name] = (vm, p, out, dests)
        for name, (vm, p, out, dests) in self.probes.items():
            wait_until(lambda: p.lines_seen('ready'), 10, 'probe ready')
        for name, (vm, p, out, dests) in self.probes.items():
            p.signal(sig_.SIGUSR2)
        time.sleep(0.2)

    def stop_probes(self):
        """Stops senders first, then receivers; returns per-stream results."""
        for name, (vm, p, out, dests) in self.probes.items():
            p.signal(sig_.SIGUSR1)
        time.sleep(0.3)
        for name, (vm, p, out, dests) in self.probes.items():
            p.stop(sig_.SIGTERM)
            vm.procs.remove(p)
        data = {}
        for name, (vm, p, out, dests) in self.probes.items():
            with open(out) as f:
                data[name] = json.load(f)
        res = []
        for name, (vm, p, out, dests) in self.probes.items():
            for d in dests:
                sent = data[name]['sent']['%s:7000' % d.ip]
                arr = data[d.name]['recv'].get(vm.ip, [])
                st = Stream(vm.name, d.name, sent, arr,
                            data[name]['period_ns'])
                st.rcvbuf_errors = data[d.name].get('rcvbuf_errors')
                st.send_errors = data[name].get('send_errors')
                res.append(st)
        return res


class Stream:
    def __init__(self, src, dst, sent, arrivals, period_ns):
        self.src, self.dst, self.sent = src, dst, sent
        self.arrivals = arrivals        # [seq, sent_ns, recv_ns]
        self.period_ns = period_ns
        seqs = [a[0] for a in arrivals]
        self.received = len(set(seqs))
        self.dup = len(seqs) - self.received
        self.lost = sent - self.received
        got = set(seqs)
        self.gaps = []                  # (first missing seq, count)
        run = None
        for s in range(sent):
            if s not in got:
                if run and run[0] + run[1] == s:
                    run[1] += 1
                else:
                    run = [s, 1]
                    self.gaps.append(run)
        self.max_window_ms = max([g[1] for g in self.gaps] or [0]) * \
            period_ns / 1e6
        # Lost in the probes' own hosts (probe.py): datagrams the
        # receiving socket's kernel dropped for a full receive buffer (for
        # every stream of that socket) and sends that failed; None if not
        # recorded.
        self.rcvbuf_errors = self.send_errors = None

    def duplicates(self):
        """[(seq, sent_ns, [recv_ns, ...])] of every probe that arrived
        more than once (CLOCK_MONOTONIC)."""
        by_seq = {}
        for seq, sent_ns, recv_ns in self.arrivals:
            by_seq.setdefault(seq, (sent_ns, []))[1].append(recv_ns)
        return [(seq, v[0], v[1]) for seq, v in sorted(by_seq.items())
                if len(v[1]) > 1]

    def gap_times(self):
        """[(first lost send time, last lost send time, count)] (ns,
        CLOCK_MONOTONIC), interpolated from the neighbours' send times."""
        by_seq = {}
        for seq, sent_ns, _ in self.arrivals:
            by_seq.setdefault(seq, sent_ns)
        out = []
        for first, count in self.gaps:
            before = by_seq.get(first - 1)
            after = by_seq.get(first + count)
            if before is not None:
                t0 = before + self.period_ns
                t1 = before + count * self.period_ns
            elif after is not None:
                t0 = after - count * self.period_ns
                t1 = after - self.period_ns
            else:
                t0 = t1 = 0
            out.append((t0, t1, count))
        return out

    def __str__(self):
        host = ''
        if self.rcvbuf_errors or self.send_errors:
            host = (' (in the probes\' own sockets: %s receive-buffer '
                    'drops, %s send errors)' % (self.rcvbuf_errors,
                                               self.send_errors))
        return ('%s->%s sent %d lost %d (window %.0f ms) dup %d%s'
                % (self.src, self.dst, self.sent, self.lost,
                   self.max_window_ms, self.dup, host))

    def to_json(self):
        return {'src': self.src, 'dst': self.dst, 'sent': self.sent,
                'lost': self.lost, 'dup': self.dup,
                'window_ms': self.max_window_ms, 'gaps': self.gaps,
                'period_ns': self.period_ns, 'arrivals': self.arrivals}


def teardown(dc):
    """Stops everything dc started, by pid, newest first."""
    for p in reversed(dc.procs):
        try:
            p.stop(sig_.SIGTERM, timeout=2)
        except Exception as e:
            log('stopping %s: %s' % (p.name, e))
    if getattr(dc, 'db_pid', None):
        try:
            os.kill(dc.db_pid, sig_.SIGTERM)
        except ProcessLookupError:
            pass
    if dc.net is not None:
        for h in dc.net.hosts:
            try:
                h.terminate()
            except Exception:
                pass
        for s in dc.net.switches:
            try:
                s.stop(deleteIntfs=True)
            except Exception:
                pass
