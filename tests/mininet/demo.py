#!/usr/bin/python3
"""The demo on Mininet: three hypervisors (each its own OVS, netdev
datapath, and tether-agent in its namespace) on an underlay switch, tetherd
and its database, VMs, all-pairs connectivity, then a live migration under
1 kHz probes both ways and a TCP connection, with the measured loss; draws
the probe timeline as PNG.  Run it through demo.sh (root; private
namespaces).  Options: --stun-ms, --mode (make-before-break or
break-before-make), --png FILE, --results FILE."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tethernet import DataCenter, teardown, wait_until, PY, HERE  # noqa
import tests  # noqa: E402


def say(text):
    print('\n>>> ' + text, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--stun-ms', type=int, default=100)
    ap.add_argument('--mode', default='make-before-break',
                    choices=['make-before-break', 'break-before-make'])
    ap.add_argument('--png', default='tether-migration.png')
    ap.add_argument('--results', default=None)
    a = ap.parse_args()
    say('underlay: one switch; hypervisors hv1..hv3 (own ovsdb-server, '
        'ovs-vswitchd with the netdev datapath, tether-agent); tetherd '
        '(%s) and its database in the root namespace' % a.mode)
    dc = DataCenter(migration_mode=a.mode)
    try:
        t = time.monotonic()
        dc.start()
        print('up in %.1f s' % (time.monotonic() - t))
        print(dc.tctl('host', 'list'), end='')
        say('VMs: web on hv1, db on hv2, cache on hv3 (VNI 100)')
        web = dc.add_vm('web', 'hv1', '10.0.0.11', '02:00:00:00:01:01')
        db = dc.add_vm('db', 'hv2', '10.0.0.12', '02:00:00:00:01:02')
        cache = dc.add_vm('cache', 'hv3', '10.0.0.13', '02:00:00:00:01:03')
        vms = [web, db, cache]
        for vm in vms:
            dc.wait_bound(vm, vm.hv)
        print(dc.tctl('eni', 'list'), end='')
        say('all-pairs ping (after one warm-up round: the first frame to a '
            'hypervisor not yet talked to waits for the underlay ARP)')
        tests.warm(dc, vms)
        for x in vms:
            for y in vms:
                if x is not y:
                    n = tests.ping(x, y.ip, 3)
                    print('%-5s -> %-5s %d/3' % (x.name, y.name, n))
        say('live migration of db hv2 -> hv3 (stun %d ms) under 1 kHz UDP '
            'probes web <-> db and a TCP connection' % a.stun_ms)
        srv = db.popen('tcp', [PY, os.path.join(HERE, 'probe.py'),
                               'tcp-server', '--listen', '7100'])
        wait_until(lambda: srv.lines_seen('ready'), 10, 'tcp server')
        tcp_out = os.path.join(dc.dir, 'tcp.json')
        cli = web.popen('tcp', [PY, os.path.join(HERE, 'probe.py'),
                                'tcp-client', '--to', db.ip + ':7100',
                                '--out', tcp_out])
        wait_until(lambda: cli.lines_seen('ready'), 10, 'tcp client')
        dc.start_probes([(web, db), (db, web)])
        time.sleep(1)
        dc.migrate(db, 'hv3', stun_ms=a.stun_ms)
        time.sleep(1)
        streams = dc.stop_probes()
        cli.stop()
        with open(tcp_out) as f:
            tcp = json.load(f)
        print(dc.tctl('eni', 'list'), end='')
        say('measured on the wire')
        ev = dict((x, t) for t, x in dc.events)
        print('pause -> "paused" marker committed: %.1f ms; tetherd '
              'switchover %s ms' % ((ev['paused marked db'] - ev['pause db'])
                                    / 1e6, dc.stat('last_switchover_ms')))
        for s in streams:
            print('%-10s %5d sent, %3d lost (longest gap %.0f ms), %d '
                  'duplicates' % (s.src + '->' + s.dst, s.sent, s.lost,
                                  s.max_window_ms, s.dup))
        print('TCP web->db: %d lines, %d echoed, %s, longest wait %.0f ms'
              % (tcp['sent'], tcp['echoed'],
                 'reset' if tcp['reset'] else 'connection kept',
                 tcp['max_wait_ms']))
        recs = []
        for s in streams:
            r = s.to_json()
            r['test'] = 'demo'
            r['events'] = dc.events
            recs.append(r)
        results = a.results or os.path.join(dc.dir, 'results.json')
        with open(results, 'w') as f:
            json.dump({'migrations': recs, 'tcp': tcp}, f)
        if a.png:
            import subprocess
            subprocess.call([PY, os.path.join(HERE, 'plot.py'), results,
                             a.png, '--stream', 'web->db'])
            print('timeline: %s' % a.png)
    finally:
        say('stopping everything this demo started')
        teardown(dc)
        if not os.environ.get('TETHER_KEEP'):
            import shutil
            shutil.rmtree(dc.dir, ignore_errors=True)
        else:
            print('logs: %s' % dc.dir)


if __name__ == '__main__':
    main()
