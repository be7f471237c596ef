#!/usr/bin/env bash
# dawn's splits with each rank on its own "host": Linux network namespaces dawn-h1..hN (10.78.i.2)
# routed through dawn-sw, real TCP between them, optionally rate-limited with tbf (RATE_MBIT; this
# kernel has no netem, so no added delay: tbf alone is coarse, see ../shared/docs/netsim.md).
# For 1..MAX_RANKS ranks and both splits, runs `dawn bench --json` under mpirun and prints decode
# (batch 1) and prefill tok/s, bytes sent per token and the network's share of a decoded token.
# A benchmark, not a test; needs root. Traffic stays inside the namespaces it makes, which it
# removes at exit.
#
#   bench/dist_netns.sh MODEL [RATE_MBIT=0] [MAX_RANKS=3]      (DAWN=build/dawn, THREADS=1)
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
P=dawn
if [ "${1:-}" = __agent ]; then  # mpirun's rsh agent: $2 is the host address, the rest orted's command
  i=$(echo "$2" | cut -d. -f3)
  shift 2
  exec ip netns exec $P-h"$i" unshare --uts sh -c "hostname h$i; $*"
fi
MODEL=${1:?usage: $0 MODEL [RATE_MBIT] [MAX_RANKS]}
RATE=${2:-0}
MAX=${3:-3}
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
  ip netns exec $P-h1 unshare --uts sh -c 'hostname h1; exec "$@"' sh timeout 900 mpirun --allow-run-as-root \
    -np "$n" --host "$hosts" --map-by node --bind-to none --mca plm_rsh_agent "$self __agent" \
    --mca plm_rsh_no_tree_spawn 1 --mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include 10.78.0.0/16 \
    --mca oob_tcp_if_include 10.78.0.0/16 \
    "$DAWN" bench "$MODEL" -p 64 -n 32 -r 2 -t "$THREADS" --json $([ "$n" -gt 1 ] && echo --split "$split") \
    2>/dev/null | grep '^{' | head -1
}

echo "model $MODEL, link ${RATE} Mbit/s (0: unshaped veth), $THREADS thread(s) per rank, ranks share this machine's cores"
printf "%-8s %-6s %12s %12s %14s %10s\n" split ranks "decode t/s" "prefill t/s" "sent KiB/tok" "network"
for split in layers experts; do
  for n in $(seq 1 "$MAX"); do
    [ "$n" = 1 ] && [ "$split" = experts ] && continue
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
print("%-8s %-6s %12.2f %12.2f %14.1f %10s" % (sys.argv[2], sys.argv[3], d["decode_tok_s"], d["prefill_tok_s"], sent, net))
' "$line" "$([ "$n" = 1 ] && echo one || echo "$split")" "$n"
  done
done
