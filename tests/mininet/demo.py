#!/usr/bin/python3
"""The demo on Mininet: four hypervisors (each its own OVS, netdev
datapath, and tether-agent in its namespace) on an underlay switch, tetherd
and its database, eight VMs in two virtual networks that reuse the same IP
addresses; connectivity within each network and none across; then one live
migration under 1 kHz probes both ways and a TCP connection, done twice
side by side: with tether's make-before-break switchover, and with the
comparison mode that reprograms only after the move (break-before-make).
Prints probes lost and duplicated and the loss window for each, and draws
the probe timelines as PNG.  Run it through demo.sh (root; private
namespaces).  Options: --stun-ms, --png FILE (the make-before-break
timeline; the comparison's goes beside it), --results FILE."""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tethernet import DataCenter, teardown, wait_until, PY, HERE  # noqa
import tests  # noqa: E402

# (name, hypervisor, ip, vni): the same addresses in both networks.
VMS = [('web1', 'hv1', '10.0.0.11', 100), ('db1', 'hv2', '10.0.0.12', 100),
       ('app1', 'hv3', '10.0.0.13', 100), ('cache1', 'hv4', '10.0.0.14', 100),
       ('web2', 'hv2', '10.0.0.11', 200), ('db2', 'hv3', '10.0.0.12', 200),
       ('app2', 'hv4', '10.0.0.13', 200), ('cache2', 'hv1', '10.0.0.14', 200)]


def say(text):
    print('\n>>> ' + text, flush=True)


def migrate_under_traffic(dc, a, web, db, other, dst, png, label):
    """Migrates db to dst under probes web<->db (and other's probes, in the
    other network, as a bystander) and a TCP connection; returns the
    results."""
    srv = db.popen('tcp', [PY, os.path.join(HERE, 'probe.py'),
                           'tcp-server', '--listen', '7100'])
    wait_until(lambda: srv.lines_seen('ready'), 10, 'tcp server')
    tcp_out = os.path.join(dc.dir, 'tcp-%s.json' % label)
    cli = web.popen('tcp', [PY, os.path.join(HERE, 'probe.py'),
                            'tcp-client', '--to', db.ip + ':7100',
                            '--out', tcp_out])
    wait_until(lambda: cli.lines_seen('ready'), 10, 'tcp client')
    dc.events = []
    dc.start_probes([(web, db), (db, web), other])
    time.sleep(1)
    dc.migrate(db, dst, stun_ms=a.stun_ms)
    time.sleep(1)
    streams = dc.stop_probes()
    cli.stop()
    srv.stop()
    db.procs.remove(srv)
    web.procs.remove(cli)
    with open(tcp_out) as f:
        tcp = json.load(f)
    ev = dict((x, t) for t, x in dc.events)
    res = {
        'label': label,
        'marker_ms': (ev['paused marked ' + db.name]
                      - ev['pause ' + db.name]) / 1e6,
        'switchover_ms': dc.stat('last_switchover_ms'),
        'streams': streams,
        'tcp': tcp,
    }
    recs = []
    for s in streams:
        r = s.to_json()
        r['test'] = label
        r['events'] = dc.events
        recs.append(r)
    results = os.path.join(dc.dir, 'results-%s.json' % label)
    with open(results, 'w') as f:
        json.dump({'migrations': recs, 'tcp': tcp}, f)
    if png:
        subprocess.call([PY, os.path.join(HERE, 'plot.py'), results, png,
                         '--stream', '%s->%s' % (web.name, db.name)])
    res['png'] = png
    res['results'] = results
    return res


def print_results(r, web, db):
    print('%s: pause -> "paused" marker committed %.1f ms, tetherd '
          'switchover %s ms' % (r['label'], r['marker_ms'],
                                r['switchover_ms']))
    for s in r['streams']:
        print('  %-14s %5d sent, %4d lost (loss window %3.0f ms), %d '
              'duplicates' % (s.src + '->' + s.dst, s.sent, s.lost,
                              s.max_window_ms, s.dup))
    t = r['tcp']
    print('  TCP %s->%s: %d lines, %d echoed, %s, longest wait %.0f ms'
          % (web.name, db.name, t['sent'], t['echoed'],
             'reset' if t['reset'] else 'connection kept', t['max_wait_ms']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--stun-ms', type=int, default=100)
    ap.add_argument('--png', default='tether-migration.png')
    ap.add_argument('--results', default=None)
    a = ap.parse_args()
    started = time.monotonic()
    say('underlay: one switch; hypervisors hv1..hv4 (own ovsdb-server, '
        'ovs-vswitchd with the netdev datapath, tether-agent); tetherd and '
        'its database in the root namespace')
    dc = DataCenter(n_hv=4, migration_mode='make-before-break')
    try:
        dc.start()
        print('up in %.1f s' % (time.monotonic() - started))
        print(dc.tctl('host', 'list'), end='')
        say('8 VMs in 2 virtual networks (VNI 100 and 200, same IPs)')
        vms = {}
        for i, (name, hv, ip, vni) in enumerate(VMS, 1):
            vms[name] = dc.add_vm(name, hv, ip, tests.mac(i), vni=vni)
        for vm in vms.values():
            dc.wait_bound(vm, vm.hv)
        print(dc.tctl('eni', 'list'), end='')

        say('connectivity (after one warm-up round: the first frame to a '
            'hypervisor not yet talked to waits for the underlay ARP)')
        tests.warm(dc, vms.values())
        for vni in (100, 200):
            members = [v for v in vms.values() if v.vni == vni]
            ok = total = 0
            for x in members:
                for y in members:
                    if x is not y:
                        total += 1
                        ok += tests.ping(x, y.ip, 2) == 2
            print('VNI %d: %d of %d ordered pairs answer pings' % (vni, ok,
                                                                total))
        print('(each address answers only inside its own network: the '
              'pings above reached the VM of the same VNI)')

        web, db = vms['web1'], vms['db1']
        other = (vms['web2'], vms['db2'])
        base, ext = os.path.splitext(a.png)
        bbm_png = base + '-break-before-make' + ext
        say('live migration of db1 hv2 -> hv3 (stun %d ms) under 1 kHz UDP '
            'probes web1 <-> db1, web2 -> db2 in the other network, and a '
            'TCP connection: make-before-break' % a.stun_ms)
        mbb = migrate_under_traffic(dc, a, web, db, other, 'hv3', a.png,
                                    'make-before-break')

        say('the same, back hv3 -> hv2, with tetherd restarted in the '
            'comparison mode (reprogram only at activation)')
        dc.tetherd.stop()
        dc.procs.remove(dc.tetherd)
        dc.migration_mode = 'break-before-make'
        dc.start_tetherd(restart=True)
        wait_until(lambda: len([h for h in dc.hosts()
                                if h.get('connected')]) == dc.n_hv,
                   30, 'agents to register again')
        wait_until(lambda: dc.stat('flows_idle') == 'yes', 30, 'flows')
        time.sleep(1.5)             # bridges reconnect (1 s backoff)
        bbm = migrate_under_traffic(dc, a, web, db, other, 'hv2', bbm_png,
                                    'break-before-make')

        say('measured on the wire')
        print_results(mbb, web, db)
        print_results(bbm, web, db)
        for r in (mbb, bbm):
            if r['png']:
                print('timeline (%s): %s' % (r['label'], r['png']))
        if a.results:
            with open(a.results, 'w') as f:
                json.dump({'make-before-break': mbb['results'],
                           'break-before-make': bbm['results']}, f)
        print('demo took %.0f s' % (time.monotonic() - started))
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
