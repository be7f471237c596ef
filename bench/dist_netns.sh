#!/usr/bin/env bash
# dawn's splits with each rank on its own "host": Linux network namespaces dawn-h1..hN (10.78.i.2)
# routed through dawn-sw, real TCP between them, optionally rate-limited with tbf: LINK is 0
# (unshaped veth), 1gbe, 10gbe or a rate in Mbit/s. This kernel has no netem, so no delay is
# added: the table also gives the latency a real link would add per token, computed from its
# round trip (RTT_US; 1gbe 200, 10gbe 50) and the messages a token waits on in turn (layers: one
# hop per rank around the ring; experts: the pass's start and one exchange per MoE layer, counted
# as if the shared experts hid none of it). See ../shared/docs/netsim.md.
# For 1..MAX_RANKS ranks and both splits, runs `dawn bench --json` under mpirun and prints decode
# (B sequences at once; -B), prefill tok/s, bytes sent per token and the network's share of a
# decoded token. A benchmark, not a test; needs root. Traffic stays inside the namespaces it
# makes, which it removes at exit. Each rank runs THREADS threads, pinned to its own cores when
# the machine has enough (each host's daemon under taskset: mpirun's --bind-to core would put
# every host's rank on core 0), else sharing them.
#
#   bench/dist_netns.sh MODEL [LINK=0] [MAX_RANKS=3]
#     env: DAWN=build/dawn, THREADS=1, B=1, RTT_US, SPLITS="layers experts", ONE=1 (the 1-rank row),
#          ARGS (more dawn bench options, e.g. "--wire q8_0")
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
P=dawn
if [ "${1:-}" = __agent ]; then  # mpirun's rsh agent: $2 is the host address, the rest orted's command
  i=$(echo "$2" | cut -d. -f3)
  shift 2
  # Each "host"'s daemon would bind its rank to its first core, all ranks to core 0: pin the daemon
  # (and so its rank) to this host's own cores instead, when they fit (DAWN_NETNS_PIN, from run).
  pin=()
  if [ "${DAWN_NETNS_PIN:-0}" != 0 ]; then
    t=${THREADS:-1}
    pin=(taskset -c "$(((i - 1) * t))-$((i * t - 1))")
  fi
  exec ip netns exec $P-h"$i" "${pin[@]}" unshare --uts sh -c "hostname h$i; $*"
fi
MODEL=${1:?usage: $0 MODEL [LINK] [MAX_RANKS]}
LINK=${2:-0}
MAX=${3:-3}
B=${B:-1}
case $LINK in
  1gbe) RATE=1000; RTT_US=${RTT_US:-200} ;;
  10gbe) RATE=10000; RTT_US=${RTT_US:-50} ;;
  *) RATE=$LINK; RTT_US=${RTT_US:-0} ;;
esac
DAWN=${DAWN:-$(cd "$(dirname "$0")/.." && pwd)/build/dawn}
THREADS=${THREADS:-1}
MODEL=$(realpath "$MODEL")

down() {
  for n in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$n"; done
}
up() {
  ip netns add $P-sw
  ip netns exec $P-sw sysctl -qw net.ipv4.ip_forward=1
  for i in $(seq 1 "$MAX"); do
    h=$P-h$i
    ip netns add "$h"
    ip -n "$h" link set lo up
    ip link add p"$i" netns $P-sw type veth peer name veth0 netns "$h"
    ip -n $P-sw addr add 10.78."$i".1/24 dev p"$i"
    ip -n $P-sw link set p"$i" up
    ip -n "$h" addr add 10.78."$i".2/24 dev veth0
    ip -n "$h" link set veth0 up
    ip -n "$h" route add default via 10.78."$i".1
    if [ "$RATE" != 0 ]; then
      ip netns exec "$h" tc qdisc add dev veth0 root tbf rate "${RATE}mbit" burst 256kb latency 100ms
      ip netns exec $P-sw tc qdisc add dev p"$i" root tbf rate "${RATE}mbit" burst 256kb latency 100ms
    fi
  done
}
trap down EXIT
down
up

run() {  # ranks, split
  local n=$1 split=$2 hosts
  hosts=$(seq -s, -f "10.78.%g.2" 1 "$n")
  local pin=0 first=()
  # mpirun (in host 1) may start host 1's rank itself: it gets mpirun's cores.
  [ $((n * THREADS)) -le "$(nproc)" ] && pin=1 && first=(taskset -c "0-$((THREADS - 1))")
  DAWN_NETNS_PIN=$pin THREADS=$THREADS ip netns exec $P-h1 "${first[@]}" unshare --uts sh -c 'hostname h1; exec "$@"' sh timeout 900 mpirun --allow-run-as-root \
    -np "$n" --host "$hosts" --map-by node --bind-to none --mca plm_rsh_agent "$self __agent" \
    --mca plm_rsh_no_tree_spawn 1 --mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include 10.78.0.0/16 \
    --mca oob_tcp_if_include 10.78.0.0/16 \
    "$DAWN" bench "$MODEL" -p 64 -n 32 -r 2 -t "$THREADS" -B "$B" ${ARGS:-} --json $([ "$n" -gt 1 ] && echo --split "$split") \
    2>/dev/null | grep '^{' | head -1
}

n_moe=$("$DAWN" info "$MODEL" 2>/dev/null | python3 -c '
import re, sys
t = sys.stdin.read()
layers, lead = re.search(r"layers:\s+(\d+)", t), re.search(r"dense lead (\d+)", t)
print(int(layers.group(1)) - int(lead.group(1)) if layers and lead else 0)' || echo 0)
echo "model $MODEL, link $LINK (${RATE} Mbit/s, 0: unshaped veth; RTT ${RTT_US} us computed), $THREADS thread(s) per rank, decode batch $B"
printf "%-8s %-6s %12s %12s %14s %10s %14s\n" split ranks "decode t/s" "prefill t/s" "sent KiB/tok" "network" "+latency"
first=1
for split in ${SPLITS:-layers experts}; do
  for n in $(seq 1 "$MAX"); do
    if [ "$n" = 1 ]; then
      [ "$first" = 1 ] && [ "${ONE:-1}" = 1 ] || continue
      first=0
    fi
    line=$(run "$n" "$split" || true)
    if [ -z "$line" ]; then
      printf "%-8s %-6s %s\n" "$split" "$n" "failed"
      continue
    fi
    python3 -c '
import json, sys
d = json.loads(sys.argv[1]); r = d.get("ranks")
sent = max((x["bytes_sent_per_token"] for x in r["per_rank"]), default=0) / 1024 if r else 0
net = "%.1f%%" % (100 * r["network_frac"]) if r else "-"
n, rtt, moe, batch = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
hops = 0 if n == 1 else (n if sys.argv[2] == "layers" else 1 + moe)  # one-way trips a step waits on
step_s = batch / d["decode_tok_s"]
lat = hops * rtt * 1e-6 / 2
add = "%.2f ms (%.1f%%)" % (lat * 1e3, 100 * lat / (step_s + lat)) if hops and rtt else "-"
print("%-8s %-6s %12.2f %12.2f %14.1f %10s %14s" % (sys.argv[2], sys.argv[3], d["decode_tok_s"], d["prefill_tok_s"], sent, net, add))
' "$line" "$([ "$n" = 1 ] && echo one || echo "$split")" "$n" "$RTT_US" "$n_moe" "$B"
  done
done
