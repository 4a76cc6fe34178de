#!/usr/bin/env bash
# BENCHMARKS.md's "Across hosts" delay figures (issue 20): on 4 hosts of scripts/cluster,
# for each link setting (none; a user-space delay line of 0, 20 us and 50 us where the
# kernel has no netem, netem's delay where it has; a 10 Gbit/s token bucket), round by
# round with the settings alternating: the ping-pong between two hosts (8 B, 64 KiB,
# 1 MiB) and heat's time at 1, 2 and 4 ranks on as many hosts. Then per setting: the
# medians, and `parsci model heat` fitted to that setting's ping-pong and 1-rank time,
# with its error on the 2- and 4-rank points. Root only; needs a build with --features mpi.
# Usage: crates/apps/benches/cluster-delay.sh [ROUNDS] [HEAT ARGS...]
#        (default: 3 rounds of heat 512 512 --steps 10000 --halo-depth 1)
#        crates/apps/benches/cluster-delay.sh pingpong [ROUNDS]
#        (the delay alone: per round and delay, `bench pingpong --sizes 8 --runs 9` between
#        two hosts, and 2000 round trips of 8 bytes over a plain TCP socket, in Python,
#        which sleeps in recv instead of polling: the delay line's own cost without MPI's)
set -euo pipefail
if [ "${1:-}" = pingpong ]; then
    rounds=${2:-5}
    here=$(cd "$(dirname "$0")/../../.." && pwd)
    cluster=$here/scripts/cluster
    parsci=$(realpath "${CARGO_TARGET_DIR:-$here/target}/release/parsci")
    "$cluster" down >/dev/null
    trap '"$cluster" down >/dev/null' EXIT
    "$cluster" up 2 >/dev/null
    tcp='import socket, sys, time
if sys.argv[1] == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.213.7.2", 5555)); s.listen(1); c = s.accept()[0]
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (d := c.recv(8)): c.sendall(d)
else:
    for _ in range(100):
        try: c = socket.create_connection(("10.213.7.2", 5555)); break
        except OSError: time.sleep(0.05)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); ts = []
    for _ in range(2000):
        t = time.perf_counter(); c.sendall(b"x" * 8); c.recv(8); ts.append((time.perf_counter() - t) / 2)
    print(round(sorted(ts)[1000] * 1e6, 1))'
    echo "delay,round,parsci_mpi_8B_us,tcp_8B_us,load"
    for ((r = 1; r <= rounds; r++)); do
        for d in none 0 20us 50us; do
            if [ "$d" = none ]; then "$cluster" netem off; else "$cluster" netem --delay "$d"; fi >/dev/null
            mpi=$("$cluster" run -- -n 2 --map-by node "$parsci" bench pingpong --json --sizes 8 --runs 9 2>/dev/null \
                | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["samples"][0]["time_us"], 1))')
            ip netns exec parsci-h1 python3 -c "$tcp" server &
            t=$(ip netns exec parsci-h0 python3 -c "$tcp" client)
            wait
            echo "$d,$r,$mpi,$t,$(cut -d' ' -f1 /proc/loadavg)"
        done
    done
    exit 0
fi
rounds=${1:-3}
shift || true
heat=("${@}")
[ ${#heat[@]} -gt 0 ] || heat=(512 512 --steps 10000 --halo-depth 1)
here=$(cd "$(dirname "$0")/../../.." && pwd)
cluster=$here/scripts/cluster
parsci=$(realpath "${CARGO_TARGET_DIR:-$here/target}/release/parsci")
settings=(none delay:0 delay:20us delay:50us rate:10gbit)
out=$(mktemp -d)
"$cluster" down >/dev/null
trap '"$cluster" down >/dev/null' EXIT
"$cluster" up 4 >/dev/null

apply() {
    case "$1" in
        none) "$cluster" netem off ;;
        delay:*) "$cluster" netem --delay "${1#delay:}" ;;
        rate:*) "$cluster" netem off >/dev/null && "$cluster" netem --rate "${1#rate:}" ;;
    esac >/dev/null
}

for ((r = 1; r <= rounds; r++)); do
    for s in "${settings[@]}"; do
        apply "$s"
        "$cluster" run -- -n 2 --map-by node "$parsci" bench pingpong --json \
            --sizes 8,65536,1048576 --runs 5 --scale 0.1 2>/dev/null >"$out/pp.$s.$r.json"
        for n in 1 2 4; do
            t=$("$cluster" run -- -n "$n" --map-by node "$parsci" --json heat "${heat[@]}" 2>/dev/null \
                | python3 -c 'import json,sys; print(json.load(sys.stdin)["wall_time_s"])')
            echo "$n,$t" >>"$out/heat.$s.csv"
        done
        echo "round $r $s: ping-pong 8 B $(python3 -c "import json; print(round(json.load(open('$out/pp.$s.$r.json'))['samples'][0]['time_us'], 1))") us, heat $(tail -3 "$out/heat.$s.csv" | paste -sd' ') (load $(cut -d' ' -f1 /proc/loadavg))"
    done
done
"$cluster" down >/dev/null

echo
echo "| links | ping-pong 8 B / 64 KiB / 1 MiB (us) | fitted latency, bandwidth | 1 rank (s) | 2 ranks: measured / model (s) | 4 ranks: measured / model (s) | efficiency at 2 / 4: measured / model |"
echo "|---|---|---|---|---|---|---|"
for s in "${settings[@]}"; do
    # The ping-pong's median per size over the rounds, as one bench JSON for the model.
    python3 - "$out" "$s" "$rounds" >"$out/pp.$s.json" <<'EOF'
import json, statistics, sys
out, s, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = [json.load(open(f"{out}/pp.{s}.{r}.json")) for r in range(1, rounds + 1)]
sizes = [x["bytes"] for x in runs[0]["samples"]]
samples = [{"kind": "pingpong", "bytes": b,
            "time_us": statistics.median(x["time_us"] for run in runs for x in run["samples"] if x["bytes"] == b)}
           for b in sizes]
print(json.dumps({"samples": samples}))
EOF
    "$parsci" --json model heat "${heat[@]}" --ranks 1,2,4 --bench "$out/pp.$s.json" \
        --measured "$out/heat.$s.csv" --cores "$(nproc)" --hosts 1 >"$out/model.$s.json"
    python3 - "$out" "$s" <<'EOF'
import json, sys
out, s = sys.argv[1], sys.argv[2]
pp = json.load(open(f"{out}/pp.{s}.json"))["samples"]
m = json.load(open(f"{out}/model.{s}.json"))
meas = dict((p, t) for p, t in m["measured"])
pred = {p["ranks"]: p for p in m["curves"][0]["points"]}
chk = {c["ranks"]: c for c in m["checks"]}
net = m["machine"]["net"]
eff = lambda p: f"{meas[1] / meas[p] / p:.0%} / {pred[p]['efficiency']:.0%}"
row = [s, " / ".join(f"{x['time_us']:.0f}" for x in pp),
       f"{net['alpha_s'] * 1e6:.0f} us, {1 / net['beta_s_per_byte'] / 1e6:.0f} MB/s", f"{meas[1]:.2f}"]
row += [f"{meas[p]:.2f} / {chk[p]['predicted_s']:.2f} ({chk[p]['error']:+.0%})" for p in (2, 4)]
row += [f"{eff(2)}; {eff(4)}"]
print("| " + " | ".join(row) + " |")
EOF
done
echo "(raw files in $out)"
