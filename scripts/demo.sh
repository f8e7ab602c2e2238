#!/bin/sh
# The README's main command (as root): installs what is missing, builds
# tether, and runs a data center on Mininet in private namespaces: three
# hypervisors (each its own ovsdb-server, ovs-vswitchd on the netdev
# datapath, tether-agent), VMs, tetherd and its database; then live-migrates
# a VM under 1 kHz UDP probes and a TCP connection, prints the loss measured
# on the wire and draws the probe timeline to tether-migration.png.
# Arguments go to tests/mininet/demo.py (--stun-ms=MS,
# --mode=break-before-make, --png=FILE).  scripts/demo-sandbox.sh is the same
# story without root, on the dummy datapath.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "demo: Mininet needs root; scripts/demo-sandbox.sh runs without" >&2
    exit 1
fi
exec "$top/tests/mininet/demo.sh" "$@"
