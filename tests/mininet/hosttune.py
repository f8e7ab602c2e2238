#!/usr/bin/python3
"""Tunes this host for the network tiers (tests/mininet, tests/qemu) as a
host running Open vSwitch's userspace datapath is tuned, for as long as a
tier runs, and puts the setting back afterwards.

The userspace datapath reads each "system" port (a QEMU tap, a namespace
VM's veth, the underlay) through a packet socket, whose receive buffer is
net.core.rmem_default (212,992 bytes: ~120-200 frames) since ovs-vswitchd
sets none.  A guest that resumes after a migration echoes the probes that
waited in its tap during the stun in one burst (hundreds of frames), and on
two shared cores running TCG guests ovs-vswitchd is often not scheduled
for the milliseconds such a burst takes: the kernel then drops the rest of
the burst in front of ovs-vswitchd, on a host the network delivered it to.
(The kernel datapath has no such buffer.)  Many migrations at once do the
same to the underlay's ports (tests/mininet many_migrations: ~340 frames on
each of the fabric switch's ports).  The tiers therefore raise
net.core.rmem_default while they run (a global, not per network namespace,
setting: it is read-only inside one), and the tests report every frame a
packet socket still dropped (tethernet's packet_drops()).

  hosttune.py COMMAND [ARG...]   runs COMMAND tuned, exits with its status
  TETHER_RMEM_DEFAULT=0     leaves the host as it is (bytes; default
                                 4 MiB)
"""
import contextlib
import os
import subprocess
import sys

RMEM_DEFAULT = '/proc/sys/net/core/rmem_default'


def log(msg):
    print('# hosttune: ' + msg, flush=True)


@contextlib.contextmanager
def tuned():
    want = int(os.environ.get('TETHER_RMEM_DEFAULT', str(4 << 20)))
    old = None
    try:
        with open(RMEM_DEFAULT) as f:
            old = int(f.read())
        if want > old:
            with open(RMEM_DEFAULT, 'w') as f:
                f.write(str(want))
            log('net.core.rmem_default %d -> %d while the tier runs'
                % (old, want))
        else:
            old = None
    except (OSError, ValueError) as e:
        log('net.core.rmem_default left as it is (%s)' % e)
        old = None
    try:
        yield
    finally:
        if old is not None:
            try:
                with open(RMEM_DEFAULT, 'w') as f:
                    f.write(str(old))
                log('net.core.rmem_default back to %d' % old)
            except OSError as e:
                log('could not put net.core.rmem_default back to %d: %s'
                    % (old, e))


def main():
    if len(sys.argv) < 2:
        print('usage: hosttune.py COMMAND [ARG...]', file=sys.stderr)
        return 2
    with tuned():
        try:
            return subprocess.call(sys.argv[1:])
        except KeyboardInterrupt:
            return 130


if __name__ == '__main__':
    sys.exit(main())
