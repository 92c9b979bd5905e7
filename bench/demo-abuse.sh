#!/usr/bin/env bash
# Benchmark: does scratch-demo stay available under abuse? For each attack, ATTACKERS
# hostile connections (2000) from one python3 asyncio client, each reconnecting as soon as
# the server cuts it, for ATTACK_SECONDS; meanwhile a normal client (a curl loop, a new
# TLS connection per request, --max-time 2) measures availability: the share of requests
# answered 200 and the longest time without a successful answer. scratch-demo runs with
# its defaults (only --listen, --cert, --key given) side by side with nginx 1.22
# (nginx-light, one worker, worker_connections 8192, same certificate) in the same run.
# Each server is pinned to CPU 0 (taskset); the attack client and curl share CPU 1.
# Loopback only (127.0.0.1); every process is bounded in count and time.
#
# Attacks: partial TLS ClientHello; HTTP/1.1 header trickled a line every 5 s; idle TLS
# with ALPN http/1.1; idle TLS with ALPN h2 and no preface; and the ones that already held:
# HTTP/2 rapid reset (HEADERS+RST_STREAM bursts), CONTINUATION flood, 1 MB request
# header, garbage ClientHellos.
#
# Output: one table row per (attack, server): availability, longest outage, probes, how
# many attack connections the server cut and the longest one it let live, and for
# scratch-demo its largest RSS during the attack; then scratch-demo's peak RSS (VmHWM).
#
# Usage: bench/demo-abuse.sh [ATTACK...]
#   env: ATTACKERS (2000), ATTACK_SECONDS (20), SCRATCH_DEMO_BIN (default: cargo build
#        --release -p scratch-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
attackers="${ATTACKERS:-2000}"
seconds="${ATTACK_SECONDS:-20}"
all_attacks=(partial-hello header-trickle idle-h1 idle-h2 rapid-reset continuation big-header garbage-hello)
if [ $# -gt 0 ]; then attacks=("$@"); else attacks=("${all_attacks[@]}"); fi

. bench/lib.sh
ensure_packages nginx-light curl python3 util-linux
bin="${SCRATCH_DEMO_BIN:-}"
if [ -z "$bin" ]; then
  # The profile the image ships (demo/scratch-demo/husk.toml): release with fat LTO.
  cargo build --profile dist --locked --quiet -p scratch-demo
  bin="$PWD/target/dist/scratch-demo"
fi
# 2000 client sockets in one process, and the servers' own (scratch-demo raises its soft
# limit to the hard one by itself; nginx gets worker_rlimit_nofile).
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/scratch-demo-abuse.XXXXXX)
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

"$bin" gen-cert --out "$work" --name localhost,127.0.0.1 >/dev/null
text='Hello, "/" from Scratch Demo!'
declare -A port pid
port[demo]=$(free_port)
taskset -c 0 "$bin" --listen "127.0.0.1:${port[demo]}" --cert "$work/server.crt" \
  --key "$work/server.key" 2>"$work/demo.log" &
pid[demo]=$!
pids+=("${pid[demo]}")

port[nginx]=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  default_type text/plain;
  charset utf-8;
  server {
    listen 127.0.0.1:${port[nginx]} ssl http2;
    ssl_certificate $work/server.crt;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 '$text'; }
  }
}
EOF
taskset -c 0 nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
pid[nginx]=$!
pids+=("${pid[nginx]}")

for s in demo nginx; do
  got=""
  for _ in $(seq 1 50); do
    got=$(curl -s --cacert "$work/server.crt" --max-time 2 "https://localhost:${port[$s]}/" || true)
    [ "$got" = "$text" ] && break
    sleep 0.2
  done
  [ "$got" = "$text" ] || { echo "$s does not answer the greeting on ${port[$s]}: $got" >&2; exit 1; }
done

# The attack client: ATTACKERS coroutines, each reconnecting when cut, until the deadline.
# Prints "cuts=N max_held=S" (connections the server closed; the longest any lived).
cat >"$work/attack.py" <<'PY'
import asyncio, os, ssl, sys, time

host, port, attack, n, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
deadline = time.monotonic() + seconds
cuts, max_held = 0, 0.0

def tls_context(alpn):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    return ctx

H1, H2 = tls_context("http/1.1"), tls_context("h2")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"

def frame(ftype, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload

# HPACK: :method GET, :scheme https, :path /, :authority localhost (literal, indexed name).
REQUEST = b"\x82\x87\x84\x41\x09localhost"

def client_hello_start():
    # A TLS record header announcing 512 bytes of ClientHello, and only its first 100.
    body = b"\x01\x00\x01\xfc\x03\x03" + os.urandom(32) + b"\x00\x00\x02\x13\x01\x01\x00"
    return (b"\x16\x03\x01\x02\x00" + body + b"\x00" * 100)[:100]

async def until_closed(reader):
    while await reader.read(65536):
        pass

async def behave(reader, writer):
    """The attack on one open connection; returns when the server has cut it."""
    if attack == "header-trickle":
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        closed = asyncio.ensure_future(until_closed(reader))
        i = 0
        while not closed.done():
            await asyncio.wait([closed], timeout=5)
            if not closed.done():
                writer.write(b"X-Line-%d: %d\r\n" % (i, i))
                i += 1
        return
    if attack in ("partial-hello", "garbage-hello"):
        writer.write(client_hello_start() if attack == "partial-hello" else os.urandom(1024))
    elif attack == "rapid-reset":
        writer.write(PREFACE)
        closed = asyncio.ensure_future(until_closed(reader))
        sid = 1
        while not closed.done() and sid < 2**31 - 200:
            burst = b""
            for _ in range(100):
                burst += frame(1, 0x5, sid, REQUEST) + frame(3, 0, sid, b"\x00\x00\x00\x08")
                sid += 2
            writer.write(burst)
            await writer.drain()
            await asyncio.wait([closed], timeout=0.05)
        return
    elif attack == "continuation":
        writer.write(PREFACE + frame(1, 0x0, 1, REQUEST))
        closed = asyncio.ensure_future(until_closed(reader))
        filler = frame(9, 0x0, 1, (b"\x40\x05x-abc\x7f\x81\x07" + b"a" * 1024))
        while not closed.done():
            writer.write(filler * 16)
            await writer.drain()
            await asyncio.wait([closed], timeout=0.05)
        return
    elif attack == "big-header":
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    # idle-h1, idle-h2: nothing at all.
    await until_closed(reader)

async def one():
    global cuts, max_held
    use_tls = attack not in ("partial-hello", "garbage-hello")
    ctx = H2 if attack in ("idle-h2", "rapid-reset", "continuation") else H1
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                host, port, ssl=ctx if use_tls else None,
                server_hostname="localhost" if use_tls else None), 15)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            await asyncio.sleep(0.05)
            continue
        start = time.monotonic()
        try:
            await behave(reader, writer)
        except (OSError, ssl.SSLError, ConnectionError):
            pass
        cuts += 1
        max_held = max(max_held, time.monotonic() - start)
        writer.transport.abort()

async def main():
    tasks = [asyncio.ensure_future(one()) for _ in range(n)]
    await asyncio.wait(tasks, timeout=seconds + 1)
    for t in tasks:
        t.cancel()
    print(f"cuts={cuts} max_held={max_held:.1f}")

asyncio.run(main())
PY

# The normal client: a new curl every 0.1 s until the file $1.stop exists; one line per
# request: "start_epoch end_epoch http_code".
probe() {
  local out=$1 p=$2 code t0 t1
  : >"$out"
  while [ ! -e "$out.stop" ]; do
    t0=$(date +%s.%N)
    code=$(taskset -c 1 curl -s -o /dev/null -w '%{http_code}' --cacert "$work/server.crt" \
      --max-time 2 "https://localhost:$p/" 2>/dev/null || true)
    t1=$(date +%s.%N)
    echo "$t0 $t1 ${code:-000}" >>"$out"
    sleep 0.1
  done
}

# Availability % and the longest span without a successful answer (from the end of one
# success to the end of the next; the first span starts at the first probe).
summarize() {
  awk '{ n++; if (NR == 1) last = $1
         if ($3 == 200) { ok++; gap = $2 - last; if (gap > worst) worst = gap; last = $2 } }
       END { if (n == 0) { print "0\t0\t0"; exit }
             printf "%.1f\t%.1f\t%d\n", 100 * ok / n, worst, n }' "$1"
}

rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# The largest VmRSS of process $1 seen every 0.2 s until $2.stop exists, into $2 (KiB).
rss_sampler() {
  local max=0 kib
  while [ ! -e "$2.stop" ]; do
    kib=$(rss_kib "$1" VmRSS || echo 0)
    [ "${kib:-0}" -gt "$max" ] && max=$kib
    sleep 0.2
  done
  echo "$max" >"$2"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); ${attackers} attackers, ${seconds} s per attack"
echo "scratch-demo idle RSS: $(rss_kib "${pid[demo]}" VmRSS) KiB"
results="$work/results.tsv"
: >"$results"
for attack in "${attacks[@]}"; do
  for s in demo nginx; do
    probe "$work/probe-$attack-$s" "${port[$s]}" &
    probe_pid=$!
    rss_sampler "${pid[$s]}" "$work/rss-$attack-$s" &
    sampler_pid=$!
    attack_out=$(taskset -c 1 python3 "$work/attack.py" 127.0.0.1 "${port[$s]}" "$attack" "$attackers" "$seconds")
    touch "$work/probe-$attack-$s.stop" "$work/rss-$attack-$s.stop"
    wait "$probe_pid" "$sampler_pid"
    rss="-"
    [ "$s" = demo ] && rss=$(( $(cat "$work/rss-$attack-$s") / 1024 ))
    IFS=$'\t' read -r avail outage probes < <(summarize "$work/probe-$attack-$s")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$attack" "$s" "$avail" "$outage" "$probes" "$attack_out" "$rss" >>"$results"
    printf '  %-15s %-6s available %6s%%  longest outage %5ss  (%s probes)  %s  RSS %s MiB\n' \
      "$attack" "$s" "$avail" "$outage" "$probes" "$attack_out" "$rss"
    sleep 2 # let the server see the attack's sockets close
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
hwm=$(rss_kib "${pid[demo]}" VmHWM)

echo
echo "| attack (${attackers} connections, reconnecting when cut, ${seconds} s) | scratch-demo available | longest outage | nginx available | longest outage | scratch-demo cuts / longest held | nginx cuts / longest held | scratch-demo peak RSS during the attack |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
awk -F'\t' '
  { key = $1; if (!(key in seen)) { seen[key] = 1; names[++n] = key }
    split($6, c, " "); sub("cuts=", "", c[1]); sub("max_held=", "", c[2])
    a[key, $2] = $3; o[key, $2] = $4; cut[key, $2] = c[1] " / " c[2] " s"; if ($2 == "demo") r[key] = $7 }
  END { for (i = 1; i <= n; i++) { k = names[i]
          printf "| %s | %s%% | %s s | %s%% | %s s | %s | %s | %s MiB |\n", k, a[k, "demo"], o[k, "demo"], a[k, "nginx"], o[k, "nginx"], cut[k, "demo"], cut[k, "nginx"], r[k] } }' "$results"
echo
awk -v k="$hwm" 'BEGIN { printf "scratch-demo peak RSS (VmHWM) over the whole run: %.1f MiB (target < 64 MiB)\n", k / 1024 }'
echo "scratch-demo event log lines (rate-limited):"
grep -E ' (warn|info) (connection cap|in the last|refused in the last)' "$work/demo.log" | sed 's/^/  /' | tail -n 30
