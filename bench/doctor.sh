#!/usr/bin/env bash
# Benchmark: `husk doctor` of the large multi-layer image against `husk ls -R` of the same
# image, in the same run. Both decompress every layer once to build the merged view; then
# the doctor reads only the files the start needs (the program, its loader and libraries,
# passwd, group), each needed layer streamed up to its last wanted entry. Target: within
# 1.2x of `husk ls -R`. On a loaded machine hyperfine's two blocks see different load, so
# the last lines also run the two commands alternately, RUNS pairs, and print the medians
# of wall and CPU time and the median of the per-pair ratios.
# Usage: bench/doctor.sh [RUNS]   (needs hyperfine, podman, busybox-static; installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages hyperfine podman runc busybox-static
release_husk

large_image doctor 'USER 65532' 'ENTRYPOINT ["/bin/busybox", "true"]'

"$husk" doctor "$image" --quiet | tail -1
hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/doctor.md" \
  -n "husk doctor" "$husk doctor $image --quiet > /dev/null" \
  -n "husk ls -R" "$husk ls -R $image > /dev/null"
cat "$work/doctor.md"
python3 - "$husk" "$image" "$runs" <<'PY'
import resource, statistics, subprocess, sys, time
husk, image, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmds = {"husk doctor": [husk, "doctor", image, "--quiet"], "husk ls -R": [husk, "ls", "-R", image]}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(runs):
    for name, argv in cmds.items():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
        wall[name].append(time.monotonic() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
d, l = "husk doctor", "husk ls -R"
for name in cmds:
    print(f"alternating, {runs} pairs: {name}: wall median {statistics.median(wall[name]):.3f} s, CPU median {statistics.median(cpu[name]):.3f} s")
ratios = [a / b for a, b in zip(wall[d], wall[l])]
cratios = [a / b for a, b in zip(cpu[d], cpu[l])]
print(f"doctor / ls -R: wall median ratio {statistics.median(ratios):.2f}x, CPU median ratio {statistics.median(cratios):.2f}x")
PY
