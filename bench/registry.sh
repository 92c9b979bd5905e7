#!/usr/bin/env bash
# Benchmark: push and pull of a ~100 MB, 4-layer image to a local docker-registry (plain
# HTTP on loopback), husk against `skopeo copy` of the same OCI layout in the same run.
# Every push run starts from an empty registry (restarted with fresh storage in
# hyperfine's --prepare), so every blob is really uploaded; every pull run writes a
# fresh oci: directory. `husk pull --jobs 1` is the sequential fetch, for comparison.
# Usage: bench/registry.sh [RUNS]   (needs hyperfine, skopeo, docker-registry; installs them if missing)
set -euo pipefail

# --prepare helper: restart the registry with empty storage.
if [ "${1:-}" = "__restart" ]; then
  work="$2"; port="$3"
  if [ -f "$work/registry.pid" ]; then
    kill "$(cat "$work/registry.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$work/registry.pid")" 2>/dev/null; do sleep 0.05; done
  fi
  rm -rf "$work/data"
  docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
  echo $! >"$work/registry.pid"
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && exit 0
    sleep 0.05
  done
  echo "registry did not start" >&2; exit 1
fi

cd "$(dirname "$0")/.."
runs="${1:-5}"
. bench/lib.sh
ensure_packages hyperfine skopeo docker-registry curl
cargo build --release --quiet -p husk
husk="$PWD/target/release/husk"
self="$PWD/bench/registry.sh"

work=$(mktemp -d /tmp/husk-bench-registry.XXXXXX)
cleanup() {
  [ -f "$work/registry.pid" ] && kill "$(cat "$work/registry.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<CONFIG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
CONFIG

# The image: an OCI layout with 4 gzip layers of 25 MB of incompressible data each.
img="$work/img"
mkdir -p "$img/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$img/oci-layout"
layers="" diff_ids=""
for i in 1 2 3 4; do
  d="$work/layer$i"; mkdir -p "$d"
  head -c 25000000 /dev/urandom >"$d/data$i"
  tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$d" -cf "$work/l$i.tar" "data$i"
  diff_id=$(sha256sum "$work/l$i.tar" | cut -d' ' -f1)
  gzip -1 -n <"$work/l$i.tar" >"$work/l$i.tgz"
  dg=$(sha256sum "$work/l$i.tgz" | cut -d' ' -f1)
  size=$(stat -c %s "$work/l$i.tgz")
  mv "$work/l$i.tgz" "$img/blobs/sha256/$dg"
  rm -rf "$d" "$work/l$i.tar"
  layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dg\",\"size\":$size}"
  diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff_id\""
done
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]}}"
printf '%s' "$config" >"$work/config.json"
cd_=$(sha256sum "$work/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$work/config.json")
mv "$work/config.json" "$img/blobs/sha256/$cd_"
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cd_\",\"size\":$cs},\"layers\":[$layers]}"
printf '%s' "$manifest" >"$work/manifest.json"
md=$(sha256sum "$work/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$work/manifest.json")
mv "$work/manifest.json" "$img/blobs/sha256/$md"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$md" "$ms" >"$img/index.json"
echo "image: $(du -sh "$img" | cut -f1), manifest sha256:$md"
"$husk" validate "oci:$img" | tail -1

ref="127.0.0.1:$port/bench/img:1"
hyperfine --runs "$runs" --prepare "$self __restart $work $port" \
  --export-markdown "$work/push.md" \
  -n "husk push" "$husk push -q --insecure-http oci:$img docker://$ref" \
  -n "skopeo copy (push)" "skopeo copy -q --dest-tls-verify=false oci:$img docker://$ref"

"$self" __restart "$work" "$port"
"$husk" push -q --insecure-http "oci:$img" "docker://$ref" >/dev/null
hyperfine --runs "$runs" --prepare "rm -rf $work/out" \
  --export-markdown "$work/pull.md" \
  -n "husk pull" "$husk pull -q --insecure-http docker://$ref -o oci:$work/out" \
  -n "husk pull --jobs 1" "$husk pull -q --jobs 1 --insecure-http docker://$ref -o oci:$work/out" \
  -n "skopeo copy (pull)" "skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/out"
"$husk" validate "oci:$work/out" | tail -1
cat "$work/push.md" "$work/pull.md"
