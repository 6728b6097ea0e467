#!/usr/bin/env bash
# Captures the pcaps in fixtures/pcap/ from the Linux kernel itself: real
# frames for the wire codecs' tests and for `tcpts decode`, checked against
# tcpdump. Needs root, iproute2 (ip netns, veth, tuntap), tcpdump and python3;
# the traffic comes from scripts/fixtures/traffic.py (standard library only).
#
# Every scenario builds its own network namespaces (named tfx<pid>-*), so no
# packet touches the host's interfaces, and the EXIT trap deletes them (and
# stops any helper still running) whether the run succeeds or fails.
#
#   sudo scripts/capture-fixtures.sh [OUTDIR]     (default fixtures/pcap)
#
# The output is not byte-for-byte reproducible (ISNs, timestamps, MACs and
# ports chosen by the kernel differ per run); the tests compare our decoder
# with tcpdump on whatever the committed files hold.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/fixtures/pcap}
TRAFFIC="$ROOT/scripts/fixtures/traffic.py"
TAG="tfx$$"
WORK=$(mktemp -d)
NAMESPACES=()
PIDS=()

cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
  [ "$status" = 0 ] || echo "capture-fixtures: failed (status $status); namespaces removed" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
  echo "capture-fixtures: needs root (network namespaces, raw sockets)" >&2
  exit 1
fi
for tool in ip tcpdump python3; do
  command -v "$tool" >/dev/null || { echo "capture-fixtures: $tool is missing" >&2; exit 1; }
done
mkdir -p "$OUT"

log() { echo "capture-fixtures: $*" >&2; }

# nsx NAME CMD...: run CMD inside namespace $TAG-NAME.
nsx() {
  local ns="$TAG-$1"
  shift
  ip netns exec "$ns" "$@"
}

# ns_add NAME [v4only]: a fresh namespace with loopback up. Router
# solicitations are off so that hosts stay quiet on links without a router,
# and ICMP errors are not rate limited so each probe gets its answer.
ns_add() {
  local ns="$TAG-$1"
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  nsx "$1" ip link set lo up
  nsx "$1" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
  nsx "$1" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.router_solicitations=0
  if [ "${2:-}" = v4only ]; then
    nsx "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
  fi
}

# veth NS1 IF1 NS2 IF2 [MTU]: a veth pair between two namespaces. One
# segment per GSO packet, so the capture shows what goes on the wire rather
# than the kernel's 64 KB super-segments, and no checksum offload.
veth() {
  ip link add "$2" netns "$TAG-$1" mtu "${5:-1500}" gso_max_segs 1 type veth \
    peer name "$4" netns "$TAG-$3" mtu "${5:-1500}" gso_max_segs 1
  # Checksums computed by the kernel before the capture sees them, not left
  # to an offload a veth never performs (there is no ethtool here: traffic.py
  # makes the same ioctl).
  traffic "$1" tx-csum-off "$2"
  traffic "$3" tx-csum-off "$4"
}

mac() { nsx "$1" cat "/sys/class/net/$2/address"; }

# neigh NS IF ADDR PEER_NS PEER_IF: a permanent neighbour entry, so that a
# capture about something else does not open with ARP or NDP.
neigh() {
  nsx "$1" ip neigh replace "$3" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
}

# capture_start NS IF FILE [tcpdump args]: start tcpdump and wait until it listens.
CAPTURE_PID=
CAPTURE_FILE=
capture_start() {
  local ns=$1 ifname=$2 file=$3
  shift 3
  CAPTURE_FILE=$file
  : >"$WORK/tcpdump.err"
  # Not through nsx: a backgrounded function is a subshell, and $! must be tcpdump itself.
  ip netns exec "$TAG-$ns" tcpdump -n -U --immediate-mode -Z root -s 262144 -i "$ifname" -w "$file" "$@" 2>"$WORK/tcpdump.err" &
  CAPTURE_PID=$!
  PIDS+=("$CAPTURE_PID")
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/tcpdump.err" && return 0
    kill -0 "$CAPTURE_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$WORK/tcpdump.err" >&2
  log "tcpdump did not start on $ns/$ifname"
  exit 1
}

# capture_stop: stop tcpdump (SIGTERM: a background job of a script ignores
# SIGINT) and check that the file holds packets.
capture_stop() {
  sleep 0.3
  kill -TERM "$CAPTURE_PID"
  wait "$CAPTURE_PID" || true
  local count
  count=$(tcpdump -n -r "$CAPTURE_FILE" 2>/dev/null | wc -l)
  log "  $count packets in $(basename "$CAPTURE_FILE")"
  [ "$count" -gt 0 ] || { log "empty capture"; exit 1; }
}

# background NS NAME ARGS...: start a traffic.py helper and wait for its "ready".
HELPER_PID=
background() {
  local ns=$1 name=$2
  shift 2
  : >"$WORK/$name.out"
  ip netns exec "$TAG-$ns" python3 "$TRAFFIC" "$@" >"$WORK/$name.out" &
  HELPER_PID=$!
  PIDS+=("$HELPER_PID")
  for _ in $(seq 100); do
    grep -q ready "$WORK/$name.out" && return 0
    kill -0 "$HELPER_PID" 2>/dev/null || break
    sleep 0.05
  done
  log "helper $name did not start"
  exit 1
}

traffic() {
  local ns=$1
  shift
  nsx "$ns" python3 "$TRAFFIC" "$@"
}

# ----------------------------------------------------------------------------
# handshake-data-close.pcap: two kernel TCP sockets over a veth pair. Handshake
# with the options Linux sends (mss, sackOK, TS, nop, wscale), a request, a
# reply of several segments, the FIN exchange. IPv4 only, static neighbours.
handshake_data_close() {
  log "handshake-data-close.pcap"
  ns_add hs-a v4only
  ns_add hs-b v4only
  veth hs-a hsa hs-b hsb
  nsx hs-a ip addr add 10.77.0.1/24 dev hsa
  nsx hs-b ip addr add 10.77.0.2/24 dev hsb
  nsx hs-a ip link set hsa up
  nsx hs-b ip link set hsb up
  neigh hs-a hsa 10.77.0.2 hs-b hsb
  neigh hs-b hsb 10.77.0.1 hs-a hsa
  capture_start hs-a hsa "$OUT/handshake-data-close.pcap"
  background hs-b server tcp-server 10.77.0.2 8765 4000
  local server=$HELPER_PID
  traffic hs-a tcp-client 10.77.0.2 8765 40000 200
  wait "$server"
  capture_stop
}

# tcp-sack.pcap: a kernel listener receives segments with two holes from a
# TCP peer crafted in traffic.py (an AF_PACKET socket in a namespace with no
# IP address, so its own kernel stays silent), and answers with SACK blocks.
tcp_sack() {
  log "tcp-sack.pcap"
  ns_add sk-a v4only
  ns_add sk-b v4only
  veth sk-a ska sk-b skb
  nsx sk-a ip addr add 10.77.1.1/24 dev ska
  nsx sk-a ip link set ska up
  nsx sk-b ip link set skb up
  neigh sk-a ska 10.77.1.2 sk-b skb
  capture_start sk-a ska "$OUT/tcp-sack.pcap"
  background sk-a server sack-server 10.77.1.1 8765 2400
  local server=$HELPER_PID
  traffic sk-b sack-client skb "$(mac sk-a ska)" 10.77.1.2 10.77.1.1 40001 8765
  wait "$server"
  capture_stop
}

# icmp-errors.pcap: host A, router R, host B; the R-B link has MTU 1280.
# Captured on A: port unreachable from B, time exceeded from R (TTL / hop
# limit 1), fragmentation needed and packet too big from R, echoes from B.
icmp_errors() {
  log "icmp-errors.pcap"
  ns_add ie-a
  ns_add ie-r
  ns_add ie-b
  veth ie-a iea ie-r iera
  veth ie-r ierb ie-b ieb 1280
  nsx ie-r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  nsx ie-a ip addr add 10.77.2.1/24 dev iea
  nsx ie-a ip addr add fd77:2::1/64 dev iea nodad
  nsx ie-r ip addr add 10.77.2.254/24 dev iera
  nsx ie-r ip addr add fd77:2::fe/64 dev iera nodad
  nsx ie-r ip addr add 10.77.3.254/24 dev ierb
  nsx ie-r ip addr add fd77:3::fe/64 dev ierb nodad
  nsx ie-b ip addr add 10.77.3.2/24 dev ieb
  nsx ie-b ip addr add fd77:3::2/64 dev ieb nodad
  for pair in "ie-a iea" "ie-r iera" "ie-r ierb" "ie-b ieb"; do
    # shellcheck disable=SC2086
    nsx ${pair% *} ip link set ${pair#* } up
  done
  nsx ie-a ip route add default via 10.77.2.254
  nsx ie-a ip -6 route add default via fd77:2::fe
  nsx ie-b ip route add default via 10.77.3.254
  nsx ie-b ip -6 route add default via fd77:3::fe
  neigh ie-a iea 10.77.2.254 ie-r iera
  neigh ie-a iea fd77:2::fe ie-r iera
  neigh ie-r iera 10.77.2.1 ie-a iea
  neigh ie-r iera fd77:2::1 ie-a iea
  neigh ie-r ierb 10.77.3.2 ie-b ieb
  neigh ie-r ierb fd77:3::2 ie-b ieb
  neigh ie-b ieb 10.77.3.254 ie-r ierb
  neigh ie-b ieb fd77:3::fe ie-r ierb
  # Let the multicast listener reports of the new interfaces pass before capturing.
  sleep 2
  capture_start ie-a iea "$OUT/icmp-errors.pcap"
  traffic ie-a ping 10.77.3.2 4660 56 1 reply
  traffic ie-a udp-send 10.77.3.2 40009 40002 12 0
  traffic ie-a udp-send 10.77.3.2 40010 40003 12 1
  traffic ie-a ping 10.77.3.2 4661 1400 1 error
  traffic ie-a ping fd77:3::2 4662 56 1 reply
  traffic ie-a udp-send fd77:3::2 40009 40004 12 0
  traffic ie-a udp-send fd77:3::2 40010 40005 12 1
  traffic ie-a ping fd77:3::2 4663 1400 1 error
  capture_stop
}

# ipv4-fragment.pcap / ipv6-fragment.pcap: echo requests of 3000 bytes and a
# 2000-byte UDP datagram across an MTU 1280 link; both kernels fragment and
# reassemble.
fragments() {
  log "ipv4-fragment.pcap, ipv6-fragment.pcap"
  ns_add fr-a
  ns_add fr-b
  veth fr-a fra fr-b frb 1280
  nsx fr-a ip addr add 10.77.6.1/24 dev fra
  nsx fr-a ip addr add fd77:6::1/64 dev fra nodad
  nsx fr-b ip addr add 10.77.6.2/24 dev frb
  nsx fr-b ip addr add fd77:6::2/64 dev frb nodad
  nsx fr-a ip link set fra up
  nsx fr-b ip link set frb up
  neigh fr-a fra 10.77.6.2 fr-b frb
  neigh fr-a fra fd77:6::2 fr-b frb
  neigh fr-b frb 10.77.6.1 fr-a fra
  neigh fr-b frb fd77:6::1 fr-a fra
  sleep 2
  capture_start fr-a fra "$OUT/ipv4-fragment.pcap" ip
  background fr-b echo4 udp-echo 10.77.6.2 40006 1
  traffic fr-a ping 10.77.6.2 4664 3000 2 reply
  traffic fr-a udp-ping 10.77.6.2 40006 40007 2000
  capture_stop
  capture_start fr-a fra "$OUT/ipv6-fragment.pcap" ip6
  background fr-b echo6 udp-echo fd77:6::2 40006 1
  traffic fr-a ping fd77:6::2 4665 3000 2 reply
  traffic fr-a udp-ping fd77:6::2 40006 40007 2000
  capture_stop
}

# arp-ndp.pcap: the first packets of a new veth link, captured from before
# the carrier comes up: IPv6 DAD and multicast listener reports, then ARP
# request/reply and NDP solicitation/advertisement as A first talks UDP to B,
# then B's own reachability checks.
arp_ndp() {
  log "arp-ndp.pcap"
  ns_add an-a
  ns_add an-b
  veth an-a ana an-b anb
  nsx an-a ip addr add 10.77.4.1/24 dev ana
  nsx an-a ip addr add fd77:4::1/64 dev ana
  nsx an-b ip addr add 10.77.4.2/24 dev anb
  nsx an-b ip addr add fd77:4::2/64 dev anb
  # A's end is up but has no carrier until B's end comes up, so the capture
  # sees the link's very first frames.
  nsx an-a ip link set ana up
  capture_start an-a ana "$OUT/arp-ndp.pcap"
  nsx an-b ip link set anb up
  # Duplicate address detection takes about a second before the addresses work.
  sleep 2.5
  background an-b echo4 udp-echo 10.77.4.2 40008 1
  traffic an-a udp-ping 10.77.4.2 40008 40009 32
  background an-b echo6 udp-echo fd77:4::2 40008 1
  traffic an-a udp-ping fd77:4::2 40008 40009 32
  # Stay a few seconds more: B confirms the neighbours it learnt from A's
  # requests with its own ARP request and a unicast neighbour solicitation.
  sleep 6
  capture_stop
}

# tcp-ipv6-rst.pcap: TCP over IPv6: a refused connection (RST from the
# kernel), then a connection that carries data and is aborted with an RST.
tcp_ipv6_rst() {
  log "tcp-ipv6-rst.pcap"
  ns_add t6-a
  ns_add t6-b
  veth t6-a t6a t6-b t6b
  nsx t6-a ip addr add fd77:7::1/64 dev t6a nodad
  nsx t6-b ip addr add fd77:7::2/64 dev t6b nodad
  nsx t6-a ip link set t6a up
  nsx t6-b ip link set t6b up
  neigh t6-a t6a fd77:7::2 t6-b t6b
  neigh t6-b t6b fd77:7::1 t6-a t6a
  sleep 2
  capture_start t6-a t6a "$OUT/tcp-ipv6-rst.pcap" ip6 and tcp
  traffic t6-a tcp-refused fd77:7::2 8766 40010
  background t6-b sink tcp-sink fd77:7::2 8765
  local server=$HELPER_PID
  traffic t6-a tcp-abort fd77:7::2 8765 40011
  wait "$server"
  capture_stop
}

# udp-raw-tun.pcap (LINKTYPE_RAW): tcpdump on a TUN device, where packets
# have no link header. traffic.py plays the host behind the TUN and echoes
# UDP over IPv4 and IPv6.
raw_tun() {
  log "udp-raw-tun.pcap"
  ns_add tu-a
  nsx tu-a ip tuntap add dev tfxtun mode tun
  nsx tu-a ip addr add 10.77.5.1/24 dev tfxtun
  nsx tu-a ip addr add fd77:5::1/64 dev tfxtun nodad
  background tu-a tun tun-echo tfxtun 2
  local responder=$HELPER_PID
  nsx tu-a ip link set tfxtun up
  sleep 1
  capture_start tu-a tfxtun "$OUT/udp-raw-tun.pcap" udp
  traffic tu-a udp-ping 10.77.5.2 40012 40013 24
  traffic tu-a udp-ping fd77:5::2 40012 40013 24
  wait "$responder"
  capture_stop
}

# udp-any-sll.pcap (LINKTYPE_LINUX_SLL): `tcpdump -i any -y LINUX_SLL`, the
# cooked capture of all interfaces, over a UDP exchange.
any_sll() {
  log "udp-any-sll.pcap"
  ns_add sl-a v4only
  ns_add sl-b v4only
  veth sl-a sla sl-b slb
  nsx sl-a ip addr add 10.77.8.1/24 dev sla
  nsx sl-b ip addr add 10.77.8.2/24 dev slb
  nsx sl-a ip link set sla up
  nsx sl-b ip link set slb up
  neigh sl-a sla 10.77.8.2 sl-b slb
  neigh sl-b slb 10.77.8.1 sl-a sla
  capture_start sl-a any "$OUT/udp-any-sll.pcap" -y LINUX_SLL udp
  background sl-b echo udp-echo 10.77.8.2 40014 2
  traffic sl-a udp-ping 10.77.8.2 40014 40015 16
  traffic sl-a udp-ping 10.77.8.2 40014 40015 48
  capture_stop
}

SCENARIOS=(handshake_data_close tcp_sack icmp_errors fragments arp_ndp tcp_ipv6_rst raw_tun any_sll)
for scenario in "${SCENARIOS[@]}"; do
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $scenario "* ]]; then continue; fi
  "$scenario"
done
ls -l "$OUT"/*.pcap >&2
