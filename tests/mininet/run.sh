#!/bin/sh
# Runs a tests/mininet program as root in private pid, mount and network
# namespaces: everything it starts dies with it, root-namespace OVS (the
# fabric's) gets its own /var/run/openvswitch on a tmpfs, and nothing touches
# the machine's network.  A hard time limit (SIGINT, then SIGKILL 20 s
# later) runs inside the namespaces.
#   run.sh [--timeout=SECONDS] PROGRAM.py [ARGS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
limit=900
case "${1:-}" in --timeout=*) limit=${1#--timeout=}; shift ;; esac
[ $# -ge 1 ] || { echo "usage: $0 [--timeout=S] PROGRAM.py [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 77; }
prog=$1; shift
case "$prog" in /*) ;; *) [ -f "$prog" ] || prog=$here/$prog ;; esac
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
exec unshare --pid --fork --mount-proc --net -- /bin/sh -c '
    mount -t tmpfs tmpfs /run/openvswitch 2>/dev/null || {
        mkdir -p /run/openvswitch && mount -t tmpfs tmpfs /run/openvswitch; }
    ip link set lo up
    exec timeout -s INT -k 20 "$0" /usr/bin/python3 "$@"
' "$limit" "$prog" "$@"
