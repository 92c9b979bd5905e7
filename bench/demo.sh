#!/usr/bin/env bash
# Benchmark: the scratch-demo HTTPS service (release build, run directly on the host)
# against nginx from Debian (nginx-light) serving the same text over TLS with the same
# certificate, in the same run, on loopback:
#  - keep-alive: wrk reuses its connections (requests/s, p99 latency);
#  - new connection per request: wrk sends `Connection: close`, so every request is a TCP
#    connect + TLS handshake (requests/s = handshakes/s). wrk resumes sessions, as browsers
#    do: after the first ones these are TLS 1.3 PSK resumptions with a fresh X25519
#    exchange, on both servers (nginx's $ssl_session_reused shows "r"; the service resumes
#    too: openssl s_client -sess_out / -sess_in says "Reused");
#  - peak RSS: VmHWM from /proc/PID/status after all runs (nginx: master + workers).
# Both run twice: the service with its default runtime (a worker thread per CPU) and with
# `--worker-threads 1`; nginx with `worker_processes auto` (one per CPU) and `1`.
# wrk and the servers share the machine's cores: nothing is pinned.
# Runs are interleaved (every server, for each mode and round) so background
# load hits all servers alike; the table shows medians over ROUNDS, and each ratio is the
# median of the per-round ratios.
#
# Usage: bench/demo.sh
#   env: ROUNDS (3), DURATION (10s), CONNECTIONS (32), THREADS (1),
#        SCRATCH_DEMO_BIN (default: cargo build --release -p scratch-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
dur="${DURATION:-10s}"
conns="${CONNECTIONS:-32}"
threads="${THREADS:-1}"

. bench/lib.sh
ensure_packages wrk nginx-light curl python3
bin="${SCRATCH_DEMO_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet -p scratch-demo
  bin="$PWD/target/release/scratch-demo"
fi

work=$(mktemp -d /tmp/scratch-demo-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One certificate for both servers: ECDSA P-256, as `gen-cert` makes it.
"$bin" gen-cert --out "$work" --name localhost,127.0.0.1 >/dev/null
text='Hello, "/" from Scratch Demo!'

declare -A port pid
# The service twice: its default runtime (one worker thread per CPU) and one worker thread,
# the like-for-like peer of nginx with one worker process. No access log on either side
# (nginx: access_log off).
for name in demo demo-1w; do
  port[$name]=$(free_port)
  extra=()
  [ "$name" = demo-1w ] && extra=(--worker-threads 1)
  "$bin" --listen "127.0.0.1:${port[$name]}" --cert "$work/server.crt" --key "$work/server.key" \
    --no-access-log "${extra[@]}" 2>"$work/$name.log" &
  pid[$name]=$!
  pids+=("${pid[$name]}")
done

for workers in 1 auto; do
  name="nginx-$workers"
  port[$name]=$(free_port)
  mkdir -p "$work/$name/logs"
  # Same text, TLS 1.2/1.3, HTTP/2 offered by ALPN (as the service does), foreground master.
  cat >"$work/$name/nginx.conf" <<EOF
daemon off;
worker_processes $workers;
pid $work/$name/nginx.pid;
error_log $work/$name/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  charset utf-8;
  server {
    listen 127.0.0.1:${port[$name]} ssl http2;
    ssl_certificate $work/server.crt;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000000;
    location / { return 200 '$text'; }
  }
}
EOF
  nginx -p "$work/$name/" -c "$work/$name/nginx.conf" -e "$work/$name/logs/error.log" &
  pid[$name]=$!
  pids+=("${pid[$name]}")
done

servers=(demo demo-1w nginx-1 nginx-auto)
for s in "${servers[@]}"; do
  got=""
  for _ in $(seq 1 50); do
    got=$(curl -sk --max-time 2 "https://127.0.0.1:${port[$s]}/" || true)
    [ "$got" = "$text" ] && break
    sleep 0.2
  done
  [ "$got" = "$text" ] || { echo "$s does not answer the greeting on ${port[$s]}: $got" >&2; exit 1; }
done

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
run_wrk() { # server mode round
  local s=$1 mode=$2 out="$work/wrk-$1-$2-$3.txt" extra=()
  [ "$mode" = close ] && extra=(-H "Connection: close")
  wrk -t"$threads" -c"$conns" -d"$dur" --latency "${extra[@]}" "https://127.0.0.1:${port[$s]}/" >"$out"
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Socket errors|Non-2xx/ {sub(/^ +/, ""); printf "%s; ", $0}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$mode" "$3" "$rps" "$p99" "${errors:-none}" >>"$results"
  printf '  %-10s %-9s round %s: %10s req/s  p99 %8s ms  errors: %s\n' "$s" "$mode" "$3" "$rps" "$p99" "${errors:-none}"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
psi() { awk '/^some/ {print $2, $3}' /proc/pressure/cpu 2>/dev/null || echo "n/a"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); CPU pressure: $(psi)"
echo "wrk -t$threads -c$conns -d$dur --latency [-H 'Connection: close'] https://127.0.0.1:PORT/"
for s in "${servers[@]}"; do # warm-up
  wrk -t"$threads" -c"$conns" -d2s "https://127.0.0.1:${port[$s]}/" >/dev/null
done
for round in $(seq 1 "$rounds"); do
  for mode in keepalive close; do
    for s in "${servers[@]}"; do run_wrk "$s" "$mode" "$round"; done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); CPU pressure: $(psi)"

# Peak RSS in KiB: the sum over the process and its children (nginx's workers; shared
# pages are counted once per process, so for nginx this is an upper bound), and the
# largest single process.
peak_rss() {
  local total=0 largest=0 p kib
  for p in "$1" $(pgrep -P "$1" || true); do
    kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
    total=$((total + kib))
    [ "$kib" -gt "$largest" ] && largest=$kib
  done
  printf '%s\t%s\n' "$total" "$largest"
}
rss_file="$work/rss.tsv"
for s in "${servers[@]}"; do printf '%s\t%s\n' "$s" "$(peak_rss "${pid[$s]}")"; done >"$rss_file"
echo "service threads: $(ls "/proc/${pid[demo]}/task" | wc -l) (demo), $(ls "/proc/${pid[demo-1w]}/task" | wc -l) (demo-1w); nginx-auto workers: $(pgrep -P "${pid[nginx-auto]}" | wc -l)"

# Medians over rounds, then the table and the ratios service / nginx.
awk -F'\t' -v rounds="$rounds" '
  function median(key,   n, i, j, t, a) {
    n = split(vals[key], a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  FNR == NR { rss[$1] = $2; big[$1] = $3; next }
  { vals[$1 "|" $2 "|rps"] = vals[$1 "|" $2 "|rps"] " " $4; vals[$1 "|" $2 "|p99"] = vals[$1 "|" $2 "|p99"] " " $5
    rps[$1, $2, $3] = $4; p99[$1, $2, $3] = $5 }
  END {
    n = split("demo demo-1w nginx-1 nginx-auto", S, " ")
    printf "\nmedian of %d rounds\n\n", rounds
    print "| server | keep-alive req/s | keep-alive p99 ms | new-conn req/s (handshakes/s) | new-conn p99 ms | peak RSS MiB (all processes) | largest process MiB |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      s = S[i]
      for (m = 1; m <= 2; m++) { mode = (m == 1) ? "keepalive" : "close"; R[s, mode] = median(s "|" mode "|rps"); P[s, mode] = median(s "|" mode "|p99") }
      printf "| %s | %.0f | %.2f | %.0f | %.2f | %.1f | %.1f |\n", s, R[s, "keepalive"], P[s, "keepalive"], R[s, "close"], P[s, "close"], rss[s] / 1024, big[s] / 1024
    }
    print ""
    printf "\nratios: median over rounds of the ratio within each round\n\n"
    print "| ratio service / nginx | keep-alive req/s (target >= 1.0) | keep-alive p99 | handshakes/s (target >= 0.8) | new-conn p99 | peak RSS |"
    print "|---|---:|---:|---:|---:|---:|"
    split("demo/nginx-auto demo-1w/nginx-1 demo/nginx-1", pairs, " ")
    for (i = 1; i <= 3; i++) {
      split(pairs[i], ab, "/"); a = ab[1]; b = ab[2]
      # Ratios are taken within each round (the servers ran back to back), then the median.
      for (r = 1; r <= rounds; r++) {
        k = a "/" b
        vals[k "|rk"] = vals[k "|rk"] " " rps[a, "keepalive", r] / rps[b, "keepalive", r]
        vals[k "|pk"] = vals[k "|pk"] " " p99[a, "keepalive", r] / p99[b, "keepalive", r]
        vals[k "|rc"] = vals[k "|rc"] " " rps[a, "close", r] / rps[b, "close", r]
        vals[k "|pc"] = vals[k "|pc"] " " p99[a, "close", r] / p99[b, "close", r]
      }
      printf "| %s / %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", a, b, median(k "|rk"), median(k "|pk"), median(k "|rc"), median(k "|pc"), rss[a] / rss[b]
    }
    printf "\nservice peak RSS %.1f MiB, with one worker %.1f MiB (target < 20 MB)\n", rss["demo"] / 1024, rss["demo-1w"] / 1024
  }' "$rss_file" "$results"
