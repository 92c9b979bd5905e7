#!/usr/bin/env bash
# Benchmark: the overhead of husk's tracer (ptrace + seccomp-bpf, crates/husk-trace) against
# the same run untraced and against `strace -f -e trace=%file -o /dev/null`, on
#  (a) a python3 script that imports many standard-library modules,
#  (b) `git status` in a repository of 10,000 committed files.
# husk's side is the husk-trace example CLI with -q (trace only: the same work strace does;
# the closure's host walk is not timed here). Then (c) a whole `husk build --trace` of the
# python3 example (trace, closure, library resolution, four layers, an OCI layout), cold
# (no layer cache) and warm (cache filled: the no-change rebuild).
# Usage: bench/trace.sh [RUNS]   (needs hyperfine, strace, git, python3; installs them if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
. bench/lib.sh
ensure_packages hyperfine strace git python3
cargo build --release --quiet -p husk-trace --example trace
cargo build --release --quiet -p husk
tracer="$PWD/target/release/examples/trace"
husk="$PWD/target/release/husk"

work=$(mktemp -d /tmp/husk-bench-trace.XXXXXX)
trap 'rm -rf "$work"' EXIT

# (a) the python3 import-heavy script (Debian's python3, not a shim on PATH).
python=/usr/bin/python3
cat > "$work/imports.py" <<'PY'
import argparse, asyncio, base64, bz2, calendar, collections, concurrent.futures, csv
import dataclasses, datetime, decimal, difflib, email.parser, fractions, ftplib, gettext
import glob, gzip, hashlib, heapq, hmac, html.parser, http.client, imaplib, inspect, json
import logging.handlers, lzma, mailbox, mimetypes, multiprocessing, pathlib, pickle
import plistlib, pprint, queue, random, re, shutil, smtplib, socket, sqlite3, ssl
import statistics, string, subprocess, tarfile, tempfile, textwrap, threading, tomllib
import typing, unittest, urllib.request, uuid, xml.dom.minidom, xml.etree.ElementTree
import zipfile, zoneinfo
print(len(json.dumps(sorted(globals()))))
PY

# (b) a git repository of 10,000 committed files (100 directories of 100).
repo="$work/repo"
mkdir -p "$repo"
( cd "$repo" && git init -q && for d in $(seq -w 0 99); do
    mkdir "d$d"; for f in $(seq -w 0 99); do echo "$d$f" > "d$d/f$f.txt"; done; done &&
  git add -A && git -c user.name=b -c user.email=b@b commit -qm init )
git_bin=$(command -v git)

cd "$work"
# (c) the python3 example of the README (json, sqlite3, ssl, hashlib), built whole.
cat > "$work/app.py" <<'PY'
import json, sqlite3, ssl, hashlib
db = sqlite3.connect(":memory:")
db.execute("create table t(x)"); db.execute("insert into t values (42)")
print(json.dumps({"sha": hashlib.sha256(b"husk").hexdigest()[:12],
                  "row": db.execute("select x from t").fetchone()[0],
                  "tls": ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED}))
PY
export HUSK_CACHE_DIR="$work/cache"

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$work/python.json" \
  -n "python3 imports (untraced)" "$python imports.py" \
  -n "python3 imports (husk-trace)" "$tracer -q $python imports.py" \
  -n "python3 imports (strace -f -e trace=%file)" "strace -f -e trace=%file -o /dev/null $python imports.py"
cd "$repo"
hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$work/git.json" \
  -n "git status, 10k files (untraced)" "$git_bin status --porcelain" \
  -n "git status, 10k files (husk-trace)" "$tracer -q $git_bin status --porcelain" \
  -n "git status, 10k files (strace -f -e trace=%file)" "strace -f -e trace=%file -o /dev/null $git_bin status --porcelain"

hyperfine --style basic --runs "$runs" --export-json "$work/build.json" \
  --prepare "rm -rf $work/out" \
  -n "husk build --trace python3 example (cold, --no-cache)" \
  "$husk build $python --trace --no-cache -q -o oci:$work/out -- $work/app.py" \
  -n "husk build --trace python3 example (warm cache)" \
  "$husk build $python --trace -q -o oci:$work/out -- $work/app.py"

# Wall time on a shared machine is noisy; CPU time (user + system of the whole process
# tree: tracer, tracees) is what tracing adds, so the table shows both.
echo
echo "== $(date -u +%F), $(nproc) cores, $(uname -r), $runs runs =="
/usr/bin/python3 - "$work/python.json" "$work/git.json" "$work/build.json" <<'PY'
import json, sys
print("| workload | run | wall mean [ms] | wall min [ms] | CPU user+sys [ms] | CPU overhead vs untraced |")
print("|:---|:---|---:|---:|---:|---:|")
for f in sys.argv[1:3]:
    rs = json.load(open(f))["results"]
    base = rs[0]["user"] + rs[0]["system"]
    for r in rs:
        name, _, how = r["command"].partition(" (")
        cpu = r["user"] + r["system"]
        print(f"| {name} | {how.rstrip(')')} | {r['mean']*1e3:.0f} | {r['min']*1e3:.0f} "
              f"| {cpu*1e3:.0f} | {'' if r is rs[0] else f'+{(cpu-base)*1e3:.0f} ms ({cpu/base:.2f}x)'} |")
print()
print("| whole build | wall mean [ms] | wall min [ms] | wall max [ms] | CPU user+sys [ms] | goal |")
print("|:---|---:|---:|---:|---:|---|")
for r in json.load(open(sys.argv[3]))["results"]:
    verdict = "met" if r["mean"] < 2 else "missed"
    print(f"| {r['command']} | {r['mean']*1e3:.0f} | {r['min']*1e3:.0f} | {r['max']*1e3:.0f} "
          f"| {(r['user']+r['system'])*1e3:.0f} | under 2 s: {verdict} |")
PY
