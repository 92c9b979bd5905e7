#!/usr/bin/env bash
# Benchmark: `husk audit` of a large multi-layer image against `tar -tzf` of the same gzip
# layer blobs, in the same run (hyperfine), plus peak RSS (/usr/bin/time -v). The audit
# streams each layer once: husk-explore merges the view while a second thread judges
# every file's content (ELF facts, secrets) from the same decompressed bytes.
# The image: podman build FROM scratch with one COPY per host tree (several layers,
# hundreds of MB, tens of thousands of files) and a RUN that deletes a tree (whiteouts),
# pushed as an OCI layout with gzip layers.
# Usage: bench/audit.sh [RUNS]   (needs hyperfine, podman, busybox-static; installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages hyperfine podman runc busybox-static time
release_husk

large_image audit 'USER 65532' 'ENTRYPOINT ["/bin/busybox", "true"]'

echo "image: $(wc -l < "$work/layers.txt") layers, $(xargs du -cb < "$work/layers.txt" | tail -1 | cut -f1) bytes compressed," \
  "$(while read -r b; do gzip -dc "$b"; done < "$work/layers.txt" | wc -c) bytes uncompressed," \
  "$(while read -r b; do tar -tzf "$b"; done < "$work/layers.txt" | wc -l) tar entries"
"$husk" audit "$image" --fail-on never --quiet | grep -E "^(CRITICAL|HIGH|MEDIUM|LOW|INFO) |findings?:"


hyperfine --runs "$runs" --warmup 1 --export-markdown "$work/audit.md" \
  -n "husk audit" "$husk audit $image --fail-on never --quiet > /dev/null" \
  -n "tar -tzf (each layer)" "$work/tar-list.sh > /dev/null"
cat "$work/audit.md"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
echo "peak RSS (KiB): husk audit $(rss "$husk" audit "$image" --fail-on never --quiet)," \
  "tar -tzf $(rss "$work/tar-list.sh")"
