#!/usr/bin/env bash
# Benchmark: `husk ls -R` and `husk export` of a large multi-layer image against
# `tar -tzf` / `tar -xzf` of the same gzip layer blobs, in the same run (hyperfine),
# plus peak RSS (/usr/bin/time -v) to show memory stays flat.
# The image: podman build FROM scratch with one COPY per host tree (several layers,
# hundreds of MB, tens of thousands of files) and a RUN that deletes a tree (whiteouts),
# pushed as an OCI layout with gzip layers.
# Usage: bench/explore.sh [RUNS]   (needs hyperfine, podman, busybox-static; installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages hyperfine podman runc busybox-static time
release_husk

large_image explore

echo "image: $(wc -l < "$work/layers.txt") layers, $(cat "$work/layers.txt" | xargs du -cb | tail -1 | cut -f1) bytes compressed"
"$husk" layers "$image"
echo "files in the merged view: $("$husk" ls -R "$image" | wc -l)"

cat > "$work/tar-extract.sh" <<SCRIPT
#!/bin/sh
mkdir -p "$work/out-tar"
while read -r b; do tar -xzf "\$b" -C "$work/out-tar"; done < "$work/layers.txt"
SCRIPT
chmod +x "$work"/tar-*.sh

hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/ls.md" \
  -n "husk ls -R" "$husk ls -R $image > /dev/null" \
  -n "tar -tzf (each layer)" "$work/tar-list.sh > /dev/null"
hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/export.md" \
  --prepare "rm -rf $work/out-husk $work/out-tar" \
  -n "husk export DIR" "$husk export $image $work/out-husk" \
  -n "tar -xzf (each layer)" "$work/tar-extract.sh"
hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/export-tar.md" \
  --prepare "rm -f $work/flat.tar" \
  -n "husk export DEST.tar" "$husk export $image $work/flat.tar"
cat "$work/ls.md" "$work/export.md" "$work/export-tar.md"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
rm -rf "$work/out-husk" "$work/out-tar"
echo "peak RSS (KiB): husk ls -R $(rss "$husk" ls -R "$image")," \
  "husk export DIR $(rss "$husk" export "$image" "$work/out-husk")," \
  "husk cat (one file) $(rss "$husk" cat "$image" /usr/include/stdio.h)," \
  "tar -tzf $(rss "$work/tar-list.sh")"
