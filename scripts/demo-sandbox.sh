#!/bin/sh
# The README's main command.  Builds tether, then runs a small data center on
# this machine: three hypervisors (each its own ovsdb-server and
# ovs-vswitchd, dummy datapath, no root needed) on an underlay bridge,
# tetherd with its database, a tether-agent per hypervisor, and VMs whose
# ENIs are created through tetherctl.  It sends traffic between VMs, shows
# that another virtual network with the same IPs stays apart, then moves a
# VM to another hypervisor (a cold move) and measures how long tetherd took
# from the VIF report to flows confirmed on every bridge.  Stops everything
# it started, by pid.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

if [ -n "${TETHER_DEMO_BUILD:-}" ]; then
    build=$TETHER_DEMO_BUILD        # an existing build tree
else
    "$top/scripts/bootstrap.sh"
    mkdir -p "$top/_build/demo"
    cd "$top/_build/demo"
    if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
        ../../configure -q
    fi
    make -j"$jobs" > build.log 2>&1 || { tail -40 build.log; exit 1; }
    build=$(pwd)
fi

dir=$(mktemp -d /tmp/tether-demo-XXXXXX)
pidfiles=
cleanup() {
    for f in $pidfiles; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    sleep 0.3
    [ -n "${TETHER_KEEP_DEMO:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM

say() { printf '\n>>> %s\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

# Starts ovsdb-server and ovs-vswitchd for instance $1 in $dir/$1.
start_ovs() {
    d=$dir/$1
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d ovsdb-server "$d/conf.db" \
        --remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
        --detach --no-chdir
    pidfiles="$d/ovsdb-server.pid $pidfiles"
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init
    OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d ovs-vswitchd "unix:$d/db.sock" \
        --enable-dummy --disable-system --disable-system-route \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off
    pidfiles="$d/ovs-vswitchd.pid $pidfiles"
}
vsctl() { _in=$1; shift; ovs-vsctl --timeout=10 --db="unix:$dir/$_in/db.sock" "$@"; }
appctl() { _in=$1; shift; ovs-appctl -t "$dir/$_in/ovs-vswitchd.ctl" "$@"; }
tctl() { "$build/ctl/tetherctl" --server="http://127.0.0.1:$api_port" \
             --token="$token" "$@"; }
stat() { ovs-appctl -t "$dir/tetherd.ctl" tetherd/stats | sed -n "s/^$1: //p"; }

say "underlay: one switch, three hypervisors hv1..hv3 (192.168.0.1-3)"
start_ovs underlay
vsctl underlay add-br br-fabric -- set bridge br-fabric datapath_type=dummy \
    fail_mode=secure
for i in 1 2 3; do
    vsctl underlay add-port br-fabric hv$i -- set interface hv$i type=dummy \
        "options:pstream=\"punix:$dir/underlay/hv$i.sock\""
done
ovs-ofctl add-flow "unix:$dir/underlay/br-fabric.mgmt" actions=NORMAL
for i in 1 2 3; do
    start_ovs hv$i
    vsctl hv$i add-br br-phy -- set bridge br-phy datapath_type=dummy \
        fail_mode=secure "other-config:hwaddr=\"02:00:c0:a8:00:0$i\"" \
        -- add-port br-phy underlay -- set interface underlay type=dummy \
        "options:stream=\"unix:$dir/underlay/hv$i.sock\""
    ovs-ofctl add-flow "unix:$dir/hv$i/br-phy.mgmt" actions=NORMAL
    appctl hv$i netdev-dummy/ip4addr br-phy 192.168.0.$i/24 > /dev/null
    appctl hv$i ovs/route/add 192.168.0.$i/24 br-phy > /dev/null
    for j in 1 2 3; do
        [ "$i" = "$j" ] || appctl hv$i tnl/neigh/set br-phy 192.168.0.$j \
            02:00:c0:a8:00:0$j > /dev/null
    done
done

say "tetherd, its database, and a tether-agent on each hypervisor"
db_remote=$(TETHER_SCHEMA=$top/controller/tether.ovsschema \
    "$top/scripts/tether-db.sh" start "$dir/db")
pidfiles="$dir/db/ovsdb-server.pid $pidfiles"
token=demo-token-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
echo "$token" > "$dir/api-token"
OVS_RUNDIR=$dir "$build/controller/tetherd" --db="$db_remote" \
    --agent-listen=127.0.0.1:0 --openflow-listen=ptcp:0:127.0.0.1 \
    --api-listen=127.0.0.1:0 \
    --api-token-file="$dir/api-token" --controller-id=dc1 \
    --unixctl="$dir/tetherd.ctl" --pidfile="$dir/tetherd.pid" \
    --log-file="$dir/tetherd.log" -vconsole:off --detach --no-chdir
pidfiles="$dir/tetherd.pid $pidfiles"
i=0
until [ "$(stat db_ready)" = yes ]; do
    i=$((i + 1)); [ "$i" -lt 100 ] || fail "tetherd did not load its database"
    sleep 0.1
done
agent_port=$(stat agent_port)
api_port=$(stat api_port)
echo "agents connect to 127.0.0.1:$agent_port; REST API on 127.0.0.1:$api_port"
for i in 1 2 3; do
    OVS_RUNDIR=$dir/hv$i "$build/hostagent/tether-agent" \
        --controller="127.0.0.1:$agent_port" --host-id=hv$i \
        --tunnel-ip=192.168.0.$i --ovsdb="unix:$dir/hv$i/db.sock" \
        --datapath-type=dummy --unixctl="$dir/agent-hv$i.ctl" \
        --pidfile="$dir/agent-hv$i.pid" --log-file="$dir/agent-hv$i.log" \
        -vconsole:off --detach --no-chdir
    pidfiles="$dir/agent-hv$i.pid $pidfiles"
done
i=0
until [ "$(tctl --format=json host list | grep -o '"connected": *true' | wc -l)" = 3 ]; do
    i=$((i + 1)); [ "$i" -lt 100 ] || fail "agents did not register"
    sleep 0.1
done
tctl host list

say "ENIs: web-1 and db-1 in virtual network 100; other-1 in VNI 200 with db-1's IP"
tctl eni create --id=eni-web-1 --mac=02:00:00:00:01:01 --ip=10.0.0.11 --vni=100 > /dev/null
tctl eni create --id=eni-db-1 --mac=02:00:00:00:01:02 --ip=10.0.0.12 --vni=100 > /dev/null
tctl eni create --id=eni-other-1 --mac=02:00:00:00:02:01 --ip=10.0.0.12 --vni=200 > /dev/null
tctl eni list

# Plugs VM $2's VIF for ENI $3 (MAC $4) on hypervisor $1, as a hypervisor
# does: a port on br-int with the ENI's id in external_ids.
plug() {
    vsctl hv$1 add-port br-int "$2" -- set interface "$2" type=dummy \
        "options:tx_pcap=$dir/$2.pcap" "options:rxq_pcap=$dir/$2-rx.pcap" \
        "external_ids:iface-id=$3" "external_ids:attached-mac=\"$4\"" \
        external_ids:iface-status=active ${5:+"external_ids:tether-migration=$5"}
}
# Waits until ENI $1 is bound to host $2 and tetherd's flows are confirmed.
wait_bound() {
    _w=0
    until tctl --format=json eni show "$1" | grep -q "\"host\": *\"$2\"" \
          && [ "$(stat flows_idle)" = yes ]; do
        _w=$((_w + 1)); [ "$_w" -lt 200 ] || fail "$1 not bound to $2"
        sleep 0.05
    done
}
# Sends one UDP datagram from VM $2 (MAC $3, IP $4) on hv$1 to MAC $5 IP $6,
# destination port $7.
send_udp() {
    appctl hv$1 netdev-dummy/receive "$2" \
        "eth(src=$3,dst=$5),eth_type(0x0800),ipv4(src=$4,dst=$6,proto=17,tos=0,ttl=64,frag=no),udp(src=4000,dst=$7)" > /dev/null
}
# Counts the frames VM $1 received with UDP destination port $2.
received() {
    [ -f "$dir/$1.pcap" ] || { echo 0; return; }
    hex=$(printf '%04x' "$2")
    ovs-pcap "$dir/$1.pcap" 2>/dev/null | grep -c "0fa0$hex" || true
}

say "VMs plugged: web-1 on hv1, db-1 on hv2, other-1 on hv3"
plug 1 web-1 eni-web-1 02:00:00:00:01:01
plug 2 db-1 eni-db-1 02:00:00:00:01:02
plug 3 other-1 eni-other-1 02:00:00:00:02:01
wait_bound eni-web-1 hv1; wait_bound eni-db-1 hv2; wait_bound eni-other-1 hv3
tctl eni list
echo "flows on hv1's br-int: $(ovs-ofctl -O OpenFlow13 dump-flows "unix:$dir/hv1/br-int.mgmt" | grep -c cookie)"

say "web-1 (hv1) -> 10.0.0.12 in VNI 100: 20 datagrams"
for n in $(seq 1 20); do
    send_udp 1 web-1 02:00:00:00:01:01 10.0.0.11 02:00:00:00:01:02 10.0.0.12 5001
done
sleep 0.3
echo "db-1 (VNI 100, hv2) received $(received db-1 5001) of 20"
echo "other-1 (VNI 200, hv3, same IP) received $(received other-1 5001)"
[ "$(received db-1 5001)" = 20 ] || fail "db-1 did not receive all datagrams"
[ "$(received other-1 5001)" = 0 ] || fail "traffic crossed VNIs"

say "spoofing: web-1 sends as 10.0.0.99 -- dropped by port security"
for n in $(seq 1 5); do
    send_udp 1 web-1 02:00:00:00:01:01 10.0.0.99 02:00:00:00:01:02 10.0.0.12 5002
done
sleep 0.3
echo "db-1 received $(received db-1 5002) of 5 spoofed datagrams"
[ "$(received db-1 5002)" = 0 ] || fail "spoofed traffic passed"

say "cold move: db-1 unplugged from hv2, plugged on hv3"
vsctl hv2 del-port br-int db-1
rm -f "$dir/db-1.pcap"
plug 3 db-1 eni-db-1 02:00:00:00:01:02
wait_bound eni-db-1 hv3
echo "tetherd: VIF report -> flows confirmed on $(stat last_round_hosts) bridge(s) in $(stat last_round_ms) ms"
for n in $(seq 1 20); do
    send_udp 1 web-1 02:00:00:00:01:01 10.0.0.11 02:00:00:00:01:02 10.0.0.12 5003
done
sleep 0.3
echo "db-1 (now on hv3) received $(received db-1 5003) of 20"
[ "$(received db-1 5003)" = 20 ] || fail "db-1 unreachable after the move"
tctl eni list

say "live migration: db-1 from hv3 to hv2 while web-1 sends to it"
# A hypervisor's steps: the destination VIF appears (VM paused there), the
# source pauses (switchover), the VM resumes on the destination
# (activation), the migration completes and the source VIF goes away.
# Traffic from web-1 keeps flowing all along; db-1's frames are counted on
# whichever VIF delivers them.
tctl migration watch > "$dir/watch.txt" &
watch_pid=$!
sleep 0.2
plug 2 db-1-dst eni-db-1 02:00:00:00:01:02 incoming
wait_phase() {
    _w=0
    until tctl --format=json eni show eni-db-1 | grep -q "\"phase\": *\"$1\""; do
        _w=$((_w + 1)); [ "$_w" -lt 200 ] || fail "eni-db-1 not $1"
        sleep 0.05
    done
}
wait_phase prepared
for n in $(seq 1 5); do send_udp 1 web-1 02:00:00:00:01:01 10.0.0.11 02:00:00:00:01:02 10.0.0.12 5004; done
vsctl hv3 set interface db-1 external_ids:tether-migration=paused
wait_phase switchover
for n in $(seq 1 5); do send_udp 1 web-1 02:00:00:00:01:01 10.0.0.11 02:00:00:00:01:02 10.0.0.12 5005; done
vsctl hv2 set interface db-1-dst external_ids:tether-migration=activated
wait_phase activated
for n in $(seq 1 5); do send_udp 1 web-1 02:00:00:00:01:01 10.0.0.11 02:00:00:00:01:02 10.0.0.12 5006; done
vsctl hv2 set interface db-1-dst external_ids:tether-migration=completed
vsctl hv3 del-port br-int db-1
wait_bound eni-db-1 hv2
sleep 0.3
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
echo "tetherctl migration watch saw:"
sed 's/^/    /' "$dir/watch.txt"
echo "prepared:   source got $(received db-1 5004)/5, destination $(received db-1-dst 5004)/5"
echo "switchover: source got $(received db-1 5005)/5, destination $(received db-1-dst 5005)/5"
echo "activated:  source got $(received db-1 5006)/5, destination $(received db-1-dst 5006)/5"
echo "switchover flows confirmed on every remote bridge in $(stat last_switchover_ms) ms"
tctl eni list

say "tetherd's counters"
ovs-appctl -t "$dir/tetherd.ctl" tetherd/stats | grep -E '^(hosts|enis|moves|flow_rounds|flow_commits|flow_commit_errors|max_round_ms|vif_reports):'
say "done; stopping everything this demo started"
