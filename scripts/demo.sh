#!/bin/sh
# The README's main command: builds tether, then starts a real
# ovsdb-server/ovs-vswitchd pair (one hypervisor, dummy datapath, private temp
# dir), tetherd, and a tether-agent for that hypervisor, and shows the agent
# register with the controller.  Stops everything it started, by pid.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$top/scripts/bootstrap.sh"
mkdir -p "$top/_build/demo"
cd "$top/_build/demo"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
    ../../configure -q
fi
make -j"$jobs" controller/tetherd hostagent/tether-agent > build.log 2>&1 \
    || { tail -40 build.log; exit 1; }
build=$(pwd)

dir=$(mktemp -d /tmp/tether-demo-XXXXXX)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do
        while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
    done
    [ -n "${TETHER_KEEP_DEMO:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM

export OVS_RUNDIR=$dir OVS_DBDIR=$dir OVS_LOGDIR=$dir OVS_SYSCONFDIR=$dir
say() { printf '\n>>> %s\n' "$*"; }

say "hypervisor hv1: ovsdb-server and ovs-vswitchd (dummy datapath) in $dir"
ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
    --pidfile="$dir/ovsdb-server.pid" --unixctl="$dir/ovsdb-server.ctl" \
    --log-file="$dir/ovsdb-server.log" --detach --no-chdir
pids="$pids $(cat "$dir/ovsdb-server.pid")"
ovs-vsctl --db="unix:$dir/db.sock" --no-wait init
ovs-vswitchd "unix:$dir/db.sock" --enable-dummy --disable-system \
    --disable-system-route --pidfile="$dir/ovs-vswitchd.pid" \
    --unixctl="$dir/ovs-vswitchd.ctl" --log-file="$dir/ovs-vswitchd.log" \
    --detach --no-chdir
pids="$(cat "$dir/ovs-vswitchd.pid") $pids"
ovs-vsctl --db="unix:$dir/db.sock" -- add-br br-int \
    -- set bridge br-int datapath_type=dummy fail_mode=secure
ovs-vsctl --db="unix:$dir/db.sock" show

say "tetherd: the controller"
"$build/controller/tetherd" --agent-listen=127.0.0.1:0 \
    --controller-id=dc1 --openflow-target=tcp:127.0.0.1:6653 \
    --unixctl="$dir/tetherd.ctl" --pidfile="$dir/tetherd.pid" \
    --log-file="$dir/tetherd.log" -vconsole:off --detach --no-chdir
pids="$(cat "$dir/tetherd.pid") $pids"
port=$(ovs-appctl -t "$dir/tetherd.ctl" tetherd/stats | sed -n 's/^agent_port: //p')
echo "tetherd listens for agents on 127.0.0.1:$port"

say "tether-agent for hypervisor hv1"
"$build/hostagent/tether-agent" --controller="127.0.0.1:$port" \
    --host-id=hv1 --hypervisor=generic --tunnel-ip=192.0.2.11 \
    --ovsdb="unix:$dir/db.sock" --datapath-type=dummy \
    --unixctl="$dir/agent-hv1.ctl" --pidfile="$dir/agent-hv1.pid" \
    --log-file="$dir/agent-hv1.log" -vconsole:off --detach --no-chdir
pids="$(cat "$dir/agent-hv1.pid") $pids"

i=0
until ovs-appctl -t "$dir/tetherd.ctl" tetherd/hosts | grep -q '^hv1 connected'; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        echo "demo: hv1 did not register within 10 s" >&2
        tail -20 "$dir/tetherd.log" "$dir/agent-hv1.log" >&2
        exit 1
    fi
    sleep 0.1
done

say "the agent set up br-int: tetherd as its controller, a tunnel port"
i=0
until ovs-vsctl --db="unix:$dir/db.sock" get-controller br-int | grep -q tcp:; do
    i=$((i + 1)); [ "$i" -lt 100 ] || { echo "demo: br-int not set up" >&2; exit 1; }
    sleep 0.1
done
ovs-vsctl --db="unix:$dir/db.sock" show

say "the hypervisor plugs VM vm1's interface (iface-id eni-vm1)"
ovs-vsctl --db="unix:$dir/db.sock" add-port br-int vm1-tap -- set interface vm1-tap \
    type=dummy external_ids:iface-id=eni-vm1 \
    external_ids:attached-mac='"02:00:00:00:00:01"' \
    external_ids:vm-uuid=123e4567-e89b-12d3-a456-426614174000
i=0
until grep -q 'VIF PLUGGED eni eni-vm1' "$dir/tetherd.log"; do
    i=$((i + 1)); [ "$i" -lt 100 ] || { echo "demo: VIF not reported" >&2; exit 1; }
    sleep 0.1
done

say "tetherd's hosts (ovs-appctl tetherd/hosts)"
ovs-appctl -t "$dir/tetherd.ctl" tetherd/hosts
say "the agent's view (ovs-appctl agent/status)"
ovs-appctl -t "$dir/agent-hv1.ctl" agent/status
say "tetherd's log"
grep -E 'registered|listening|resync|VIF' "$dir/tetherd.log" | sed 's/^[^|]*|//'
say "hv1 registered; stopping everything this demo started"
