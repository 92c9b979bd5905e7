#!/usr/bin/env bash
# Benchmark: the scratch-demo HTTPS service (release build, run directly on the host)
# against, in the same run and on loopback:
#  - a Go net/http peer (bench/go-peer: the article's handler with Go's defaults, built
#    here with Debian's golang-go),
#  - nginx from Debian (nginx-light, one worker process) returning the same text,
# all three with the same certificate, once with ECDSA P-256 (as `gen-cert` makes it) and
# once with RSA 2048 (openssl req):
#  - keep-alive: wrk reuses its connections (requests/s, p99 latency);
#  - new connection per request: wrk sends `Connection: close`, so every request is a TCP
#    connect + TLS handshake (requests/s = handshakes/s). wrk resumes sessions, as browsers
#    do: after the first ones these are TLS 1.3 PSK resumptions with a fresh X25519
#    exchange, on every server;
#  - CPU per request: the server's user + system time (/proc/PID/stat, nginx: master +
#    worker) over each run, divided by the requests wrk completed: on a shared machine
#    this is steadier than requests/s, which measure the other tenants too;
#  - peak RSS: VmHWM from /proc/PID/status after all runs (nginx: master + worker).
# Servers are pinned to CPU 1 (`taskset -c 1`, so the service's runtime and Go's
# GOMAXPROCS both see one CPU) and wrk to CPU 0. Runs are interleaved (every server, for
# each mode and round) so background load hits all servers alike; the table shows medians
# over ROUNDS, and each ratio is the median of the per-round ratios.
# With CPU_QUOTA=P each server also runs in a cgroup of its own limited to P% of one CPU
# (cpu.cfs_quota_us, as a container's CPU limit is enforced): the servers, not wrk, are
# then the bottleneck, so requests/s measure what each server does with the CPU it gets.
# Without it, wrk's one thread is saturated by new TLS connections before the servers are,
# and Connection: close requests/s also measure what each server costs the client.
#
# Usage: bench/demo.sh
#   env: ROUNDS (3), DURATION (10s), CONNECTIONS (32), THREADS (1), CPU_QUOTA (none),
#        SCRATCH_DEMO_BIN (default: cargo build --profile dist -p scratch-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
dur="${DURATION:-10s}"
conns="${CONNECTIONS:-32}"
threads="${THREADS:-1}"

. bench/lib.sh
ensure_packages wrk nginx-light curl python3 golang-go openssl util-linux
bin="${SCRATCH_DEMO_BIN:-}"
if [ -z "$bin" ]; then
  # The profile the image ships (demo/scratch-demo/husk.toml): release with fat LTO.
  cargo build --profile dist --locked --quiet -p scratch-demo
  bin="$PWD/target/dist/scratch-demo"
fi

work=$(mktemp -d /tmp/scratch-demo-bench.XXXXXX)
pids=()
groups=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for g in "${groups[@]}"; do rmdir "$g" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The Go peer, built from bench/go-peer (standard library only).
(cd bench/go-peer && GOCACHE="$work/gocache" GOFLAGS=-mod=mod go build -o "$work/go-peer" .)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$work/ecdsa" "$work/rsa"
"$bin" gen-cert --out "$work/ecdsa" --name localhost,127.0.0.1 >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/rsa/server.key" \
  -out "$work/rsa/server.crt" -days 30 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
text='Hello, "/" from Scratch Demo!'

declare -A port pid
start_servers() { # key type
  local k=$1 name
  local c="$work/$k/server.crt" key="$work/$k/server.key"
  name="demo-$k"
  port[$name]=$(free_port)
  taskset -c 1 "$bin" --listen "127.0.0.1:${port[$name]}" --cert "$c" --key "$key" \
    --no-access-log 2>"$work/$name.log" &
  pid[$name]=$!
  pids+=("${pid[$name]}")
  name="go-$k"
  port[$name]=$(free_port)
  taskset -c 1 "$work/go-peer" -listen "127.0.0.1:${port[$name]}" -cert "$c" -key "$key" \
    2>"$work/$name.log" &
  pid[$name]=$!
  pids+=("${pid[$name]}")
  name="nginx-$k"
  port[$name]=$(free_port)
  mkdir -p "$work/$name/logs"
  # Same text, TLS 1.2/1.3, HTTP/2 offered by ALPN (as the service does), foreground master.
  cat >"$work/$name/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/$name/nginx.pid;
error_log $work/$name/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  charset utf-8;
  server {
    listen 127.0.0.1:${port[$name]} ssl http2;
    ssl_certificate $c;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000000;
    location / { return 200 '$text'; }
  }
}
EOF
  taskset -c 1 nginx -p "$work/$name/" -c "$work/$name/nginx.conf" -e "$work/$name/logs/error.log" &
  pid[$name]=$!
  pids+=("${pid[$name]}")
}
start_servers ecdsa
start_servers rsa

servers=(demo-ecdsa go-ecdsa nginx-ecdsa demo-rsa go-rsa nginx-rsa)
for s in "${servers[@]}"; do
  got=""
  for _ in $(seq 1 50); do
    got=$(curl -sk --max-time 2 "https://127.0.0.1:${port[$s]}/" || true)
    [ "$got" = "$text" ] && break
    sleep 0.2
  done
  [ "$got" = "$text" ] || { echo "$s does not answer the greeting on ${port[$s]}: $got" >&2; exit 1; }
done

# CPU_QUOTA: each server (and its children: nginx's worker) in a CPU-limited cgroup.
limit_cpu() { # server pid
  local g p
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    g="/sys/fs/cgroup/husk-bench-$$-$1"
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
    mkdir "$g"
    echo "$((CPU_QUOTA * 1000)) 100000" >"$g/cpu.max"
  else
    g="/sys/fs/cgroup/cpu/husk-bench-$$-$1"
    mkdir "$g"
    echo 100000 >"$g/cpu.cfs_period_us"
    echo "$((CPU_QUOTA * 1000))" >"$g/cpu.cfs_quota_us"
  fi
  groups+=("$g")
  for p in "$2" $(pgrep -P "$2" || true); do echo "$p" >"$g/cgroup.procs"; done
}
if [ -n "${CPU_QUOTA:-}" ]; then
  for s in "${servers[@]}"; do limit_cpu "$s" "${pid[$s]}"; done
  echo "each server limited to ${CPU_QUOTA}% of one CPU (its own cgroup)"
fi

# Milliseconds from wrk's "1.23ms" / "456.00us" / "1.02s".
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else { sub(/s$/, "", v); printf "%.3f", v * 1000 } }'
}

results="$work/results.tsv"
: >"$results"
# CPU time (user + system, clock ticks) of a server and its children (nginx's worker):
# on a shared machine, CPU per request is steadier than requests per second.
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
tck=$(getconf CLK_TCK)
run_wrk() { # server mode round
  local s=$1 mode=$2 out="$work/wrk-$1-$2-$3.txt" extra=() c0 c1
  [ "$mode" = close ] && extra=(-H "Connection: close")
  c0=$(cpu_ticks "${pid[$s]}")
  taskset -c 0 wrk -t"$threads" -c"$conns" -d"$dur" --latency "${extra[@]}" \
    "https://127.0.0.1:${port[$s]}/" >"$out"
  c1=$(cpu_ticks "${pid[$s]}")
  local rps p99 errors us
  us=$(awk -v c=$((c1 - c0)) -v t="$tck" '/requests in/ {printf "%.1f", c / t * 1e6 / $1}' "$out")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Socket errors|Non-2xx/ {sub(/^ +/, ""); printf "%s; ", $0}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$mode" "$3" "$rps" "$p99" "$us" "${errors:-none}" >>"$results"
  printf '  %-12s %-9s round %s: %10s req/s  p99 %8s ms  %7s us CPU/request  errors: %s\n' "$s" "$mode" "$3" "$rps" "$p99" "$us" "${errors:-none}"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
psi() { awk '/^some/ {print $2, $3}' /proc/pressure/cpu 2>/dev/null || echo "n/a"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); CPU pressure: $(psi)"
echo "taskset -c 0 wrk -t$threads -c$conns -d$dur --latency [-H 'Connection: close'] https://127.0.0.1:PORT/ (servers on CPU 1)"
for s in "${servers[@]}"; do # warm-up
  taskset -c 0 wrk -t"$threads" -c"$conns" -d2s "https://127.0.0.1:${port[$s]}/" >/dev/null
done
for round in $(seq 1 "$rounds"); do
  for mode in keepalive close; do
    for s in "${servers[@]}"; do run_wrk "$s" "$mode" "$round"; done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); CPU pressure: $(psi)"

# Peak RSS in KiB: the sum over the process and its children (nginx's worker).
peak_rss() {
  local total=0 p kib
  for p in "$1" $(pgrep -P "$1" || true); do
    kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
    total=$((total + kib))
  done
  printf '%s\n' "$total"
}
rss_file="$work/rss.tsv"
for s in "${servers[@]}"; do printf '%s\t%s\n' "$s" "$(peak_rss "${pid[$s]}")"; done >"$rss_file"

# Medians over rounds, then the table and the ratios service / peer.
awk -F'\t' -v rounds="$rounds" '
  function median(key,   n, i, j, t, a) {
    n = split(vals[key], a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  FNR == NR { rss[$1] = $2; next }
  { vals[$1 "|" $2 "|rps"] = vals[$1 "|" $2 "|rps"] " " $4; vals[$1 "|" $2 "|p99"] = vals[$1 "|" $2 "|p99"] " " $5
    vals[$1 "|" $2 "|cpu"] = vals[$1 "|" $2 "|cpu"] " " $6
    rps[$1, $2, $3] = $4; cpu[$1, $2, $3] = $6 }
  END {
    n = split("demo-ecdsa go-ecdsa nginx-ecdsa demo-rsa go-rsa nginx-rsa", S, " ")
    printf "\nmedian of %d rounds\n\n", rounds
    print "| server | keep-alive req/s | keep-alive p99 ms | keep-alive CPU us/req | Connection: close req/s | close p99 ms | close CPU us/req | peak RSS MiB |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      s = S[i]
      printf "| %s | %.0f | %.2f | %.1f | %.0f | %.2f | %.1f | %.1f |\n", s, median(s "|keepalive|rps"), median(s "|keepalive|p99"), median(s "|keepalive|cpu"), median(s "|close|rps"), median(s "|close|p99"), median(s "|close|cpu"), rss[s] / 1024
    }
    printf "\nratios: median over rounds of the ratio within each round\n\n"
    print "| ratio | keep-alive req/s | Connection: close req/s | peer CPU / service CPU, keep-alive | same, close | peak RSS |"
    print "|---|---:|---:|---:|---:|---:|"
    split("demo-ecdsa/go-ecdsa demo-rsa/go-rsa demo-ecdsa/nginx-ecdsa demo-rsa/nginx-rsa", pairs, " ")
    for (i = 1; i <= 4; i++) {
      split(pairs[i], ab, "/"); a = ab[1]; b = ab[2]; k = a "/" b
      for (r = 1; r <= rounds; r++) {
        vals[k "|rk"] = vals[k "|rk"] " " rps[a, "keepalive", r] / rps[b, "keepalive", r]
        vals[k "|rc"] = vals[k "|rc"] " " rps[a, "close", r] / rps[b, "close", r]
        vals[k "|ck"] = vals[k "|ck"] " " cpu[b, "keepalive", r] / cpu[a, "keepalive", r]
        vals[k "|cc"] = vals[k "|cc"] " " cpu[b, "close", r] / cpu[a, "close", r]
      }
      printf "| %s / %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", a, b, median(k "|rk"), median(k "|rc"), median(k "|ck"), median(k "|cc"), rss[a] / rss[b]
    }
    print "\ntargets: against Go, keep-alive >= 1.5x, Connection: close >= 1.0x with both key types, peak RSS <= 0.5x; against nginx (ECDSA), Connection: close >= 1.0x"
  }' "$rss_file" "$results"
