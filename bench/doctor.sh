#!/usr/bin/env bash
# Benchmark: `husk doctor` of the large multi-layer image against `husk ls -R` of the same
# image, in the same run (hyperfine). Both decompress every layer once to build the merged
# view; the doctor also judges file contents (ELF headers, shebangs, symbol versions) from
# the same stream on a second thread. Target: within 1.2x of `husk ls -R`.
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
