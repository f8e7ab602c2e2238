#!/usr/bin/python3
"""tether's real-hypervisor tests with libvirt: QEMU guests that libvirt
daemons start and live-migrate (virsh), between hypervisors with their own
OVS, libvirtd and tether-agent; the agent learns the migration phases from
libvirt's domain events (--libvirt-events).  Same CLI as qtests.py: run one
inside tests/mininet/run.sh:  run.sh .../tests/qemu/lvtests.py NAME ('list'
lists them).  Exits 0 (pass), 1 (fail) or 77 (libvirt cannot run here); a
run whose guest kernel crashed after a migration (the known TCG crash) is
rerun, up to TETHER_QEMU_TRIES (3) times."""
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lvnet import (LvDataCenter, agent_log, tetherd_log, available,  # noqa
                   GuestCrashed, Error, log, wait_until)
from qemunet import teardown, echo_ok                              # noqa

GUEST_IP, GUEST_MAC = '10.0.0.100', '02:00:00:00:01:00'
PEER_IP, PEER_MAC = '10.0.0.11', '02:00:00:00:00:11'
MAX_LOSS = int(os.environ.get('TETHER_QEMU_MAX_LOSS', '50'))


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def setup():
    dc = LvDataCenter().start()
    peer = dc.add_peer('peer', 'hv1', PEER_IP, PEER_MAC)
    g = dc.add_guest('g', 'hv2', GUEST_IP, GUEST_MAC)
    wait_until(lambda: echo_ok(dc, peer, g, 5) >= 3, 20, 'guest to echo')
    return dc, peer, g


def migrate_measured(dc, peer, g, dst):
    pr = dc.probe(peer, g)
    time.sleep(0.5)
    try:
        r = dc.migrate(g, dst)
    finally:
        time.sleep(1.0)
        s = dc.probe_stop(pr)
    if g.crashed_since(r['console_at']):
        raise GuestCrashed('guest kernel crashed after migration to %s'
                           % dst)
    r['lost'], r['dup'], r['sent'] = s.lost, s.dup, s.sent
    for t0, t1, c in s.gap_times():
        log('  %d lost, sent %+.1f .. %+.1f ms from virsh migrate' % (
            c, (t0 - r['t_start']) / 1e6, (t1 - r['t_start']) / 1e6))
    log('%s -> %s: %s; sent %d lost %d (longest gap %.0f ms) dup %d; '
        'libvirt downtime %s ms, total %s ms'
        % (r['src'], r['dst'], r['outcome'], s.sent, s.lost,
           s.max_window_ms, s.dup, r.get('downtime_ms'), r.get('total_ms')))
    return r


def engine_events(dc, eni):
    """tetherd's binding events for 'eni', in order."""
    return re.findall(r'eni %s: (\w+):' % re.escape(eni), tetherd_log(dc))


def t_libvirt_migrate_aba():
    """hv2 -> hv3 -> hv2 under 1 kHz probes, phases from libvirt's
    events."""
    dc, peer, g = setup()
    try:
        for n, dst in enumerate(('hv3', 'hv2')):
            before = len(engine_events(dc, g.eni))
            r = migrate_measured(dc, peer, g, dst)
            check(r['outcome'] == 'completed', 'migration ' + r['outcome'])
            check(r['dup'] == 0, '%d duplicates' % r['dup'])
            check(r['lost'] <= MAX_LOSS, '%d lost' % r['lost'])
            check(dc.eni(g.eni).get('host') == dst, 'ENI not on ' + dst)
            ev = engine_events(dc, g.eni)[before:]
            log('tetherd: %s' % ' '.join(ev))
            check('move' not in ev, 'tetherd saw a cold move: %s' % ev)
            for e in ('prepare', 'switchover', 'activate', 'commit'):
                check(e in ev, 'tetherd did no %s: %s' % (e, ev))
            check(ev.index('prepare') < ev.index('switchover')
                  < ev.index('activate') < ev.index('commit'),
                  'out of order: %s' % ev)
            src = 'hv2' if dst == 'hv3' else 'hv3'
            sl, dl = agent_log(dc.hvs[src]), agent_log(dc.hvs[dst])
            check(re.search(r'ENI %s: libvirt domain g -> '
                            r'tether-migration=paused' % g.eni, sl),
                  'no "paused" from libvirt on ' + src)
            check(len(re.findall(r'VIF plugged: \S+ eni %s mac \S+ ofport '
                                 r'\d+ migration incoming' % g.eni, dl))
                  >= (1 if n == 0 else 1),
                  'no VIF reported "incoming" on ' + dst)
            check(re.search(r'ENI %s: libvirt domain g -> '
                            r'tether-migration=activated' % g.eni, dl),
                  'no "activated" from libvirt on ' + dst)
    finally:
        for hv in dc.hvs.values():
            if hasattr(hv, 'lvdir'):
                hv.virsh('destroy', 'g', check=False, timeout=20)
        teardown(dc)


TESTS = {
    'libvirt_migrate_aba': t_libvirt_migrate_aba,
}


def main():
    if sys.argv[1:] == ['list']:
        print(' '.join(TESTS))
        return 0
    name = sys.argv[1]
    why = available()
    if why:
        log('%s skipped: %s' % (name, why))
        return 77
    tries = int(os.environ.get('TETHER_QEMU_TRIES', '3'))
    for attempt in range(1, tries + 1):
        t0 = time.monotonic()
        try:
            TESTS[name]()
            log('%s passed (%.1f s)' % (name, time.monotonic() - t0))
            return 0
        except GuestCrashed as e:
            log('%s: %s: rerun (attempt %d of %d)' % (name, e, attempt,
                                                    tries))
        except (Fail, Error) as e:
            log('%s FAILED: %s' % (name, e))
            traceback.print_exc(file=sys.stdout)
            return 1
    log('%s: the guest crashed in every attempt' % name)
    return 1


if __name__ == '__main__':
    sys.exit(main())
