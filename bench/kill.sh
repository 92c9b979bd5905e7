#!/usr/bin/env bash
# Kill trials: `husk push`, `husk pull` and `husk build -o docker://` are killed with SIGKILL
# at a random point of their run, against a local docker-registry (plain HTTP on 127.0.0.1).
# After each kill:
#   - the registry never serves a manifest whose blobs are missing: every tag of the trial's
#     repository is fetched with curl (an index's child manifests too) and every blob it lists
#     is HEADed (and every repository of the registry once more at the end);
#   - a re-run of the same command completes, and what it wrote is valid;
#   - a pull destination (oci:DIR, oci-archive:FILE, docker-archive:FILE, in turn) is either
#     absent or complete and valid (`husk validate`); stray files left beside it are counted.
# The kill point is uniform in [0, T), T the median of three uninterrupted runs of that
# command, so kills land from process start to the last request.
#
# Usage: bench/kill.sh [TRIALS_PER_COMMAND]   (default 50; needs docker-registry, curl, jq)
#   HUSK=path   a husk binary to use instead of building target/release/husk
# Bounded: every husk run is under `timeout 120`; the registry listens on loopback only.
# Exit status: 0 when no trial found a dangling manifest, a failed re-run or a partial
# output; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-50}"
. bench/lib.sh
ensure_packages docker-registry curl jq
if [ -n "${HUSK:-}" ]; then
  husk="$HUSK"
else
  cargo build --release --quiet -p husk
  husk="$PWD/target/release/husk"
fi

work=$(mktemp -d /tmp/husk-bench-kill.XXXXXX)
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export HUSK_CACHE_DIR="$work/cache"

# The registry: plain HTTP on a free loopback port, deletes allowed, storage in $work.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg="127.0.0.1:$port"
cat >"$work/config.yml" <<CONFIG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: $reg
CONFIG
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 200); do
  curl -fs "http://$reg/v2/" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fs "http://$reg/v2/" >/dev/null || { echo "registry did not start" >&2; exit 1; }

# The image: an OCI layout, 4 gzip layers of 4 MB of random data each, built by hand.
make_image() {
  local img=$1 i d dg size diff_id layers="" diff_ids="" cd_ cs md ms
  mkdir -p "$img/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$img/oci-layout"
  for i in 1 2 3 4; do
    d="$work/layer$i"; mkdir -p "$d"
    head -c 4000000 /dev/urandom >"$d/data$i"
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
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$diff_ids" >"$work/config.json"
  cd_=$(sha256sum "$work/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$work/config.json")
  mv "$work/config.json" "$img/blobs/sha256/$cd_"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$cd_" "$cs" "$layers" >"$work/manifest.json"
  md=$(sha256sum "$work/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$work/manifest.json")
  mv "$work/manifest.json" "$img/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
    "$md" "$ms" >"$img/index.json"
}
make_image "$work/img"
# The build input: a large dynamic executable (several MB of app and libraries).
build_input=$(command -v docker-registry)

accept="application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"
accept="$accept,application/vnd.docker.distribution.manifest.list.v2+json"
accept="$accept,application/vnd.docker.distribution.manifest.v2+json"

# Prints one line per problem with a manifest (by tag or digest) of REPO: the manifest is
# unreadable, or a blob or child manifest it lists is missing. Prints nothing when sound.
check_manifest() {
  local repo=$1 ref=$2 body="$work/m.json" code d
  code=$(curl -s -o "$body" -w '%{http_code}' -H "Accept: $accept" \
    "http://$reg/v2/$repo/manifests/$ref")
  if [ "$code" != 200 ]; then
    echo "dangling: $repo:$ref is listed but its manifest answers $code"
    return
  fi
  for d in $(jq -r '[.config.digest?, .layers[]?.digest] | map(select(. != null)) | .[]' "$body"); do
    code=$(curl -s -o /dev/null -I -w '%{http_code}' "http://$reg/v2/$repo/blobs/$d")
    [ "$code" = 200 ] || echo "dangling: $repo:$ref lists blob $d, which answers $code"
  done
  for d in $(jq -r '.manifests[]?.digest' "$body"); do
    check_manifest "$repo" "$d"
  done
}
check_repo() {
  local repo=$1 t
  for t in $(curl -s "http://$reg/v2/$repo/tags/list" | jq -r '.tags[]?' 2>/dev/null); do
    check_manifest "$repo" "$t"
  done
}

# The blobs (config and layers) of REPO:TAG, one digest a line.
blobs_of() {
  curl -s -H "Accept: $accept" "http://$reg/v2/$1/manifests/$2" \
    | jq -r '[.config.digest?, .layers[]?.digest] | map(select(. != null)) | .[]'
}
# Where a kill of a push or build into REPO landed, from what the registry holds: "before"
# (no blob yet), "mid" (some blobs), "blobs" (every blob, no tag) or "tagged".
landed() {
  local repo=$1 n=0 total=0 d
  curl -s "http://$reg/v2/$repo/tags/list" | jq -e '.tags[]? | select(. == "1")' >/dev/null 2>&1 \
    && { echo tagged; return; }
  for d in $expected_blobs; do
    total=$((total + 1))
    [ "$(curl -s -o /dev/null -I -w '%{http_code}' "http://$reg/v2/$repo/blobs/$d")" = 200 ] && n=$((n + 1))
  done
  if [ "$n" -eq 0 ]; then echo before; elif [ "$n" -lt "$total" ]; then echo mid; else echo blobs; fi
}
# Where a kill of pull trial I landed: "before" (nothing written), "mid" (a temporary file
# or directory beside the destination) or "done" (the destination is there).
pull_landed() {
  local path=$1
  if [ -e "$path" ]; then echo done
  elif [ -n "$(ls -A "$work/out")" ]; then echo mid
  else echo before; fi
}

# The pull destinations, in turn.
pull_dest() {
  case $(($1 % 3)) in
    0) echo "oci:$work/out/p$1" ;;
    1) echo "oci-archive:$work/out/p$1.tar" ;;
    2) echo "docker-archive:$work/out/p$1.tar" ;;
  esac
}
mkdir -p "$work/out"

# The command of trial I of KIND, as words.
command_of() {
  local kind=$1 i=$2
  case $kind in
    push) echo "push -q --insecure-http oci:$work/img docker://$reg/kill/push-$i:1" ;;
    pull) echo "pull -q --insecure-http docker://$reg/kill/src:1 -o $(pull_dest "$i")" ;;
    build) echo "build -q --insecure-http $build_input -o docker://$reg/kill/build-$i:1" ;;
  esac
}
repo_of() {
  case $1 in push | build) echo "kill/$1-$2" ;; pull) echo "kill/src" ;; esac
}

# The median duration in seconds of three uninterrupted runs of KIND (trial numbers 9001+).
calibrate() {
  local kind=$1 n s e
  for n in 9001 9002 9003; do
    s=$(date +%s.%N)
    # shellcheck disable=SC2046  # the command's words
    timeout 120 "$husk" $(command_of "$kind" "$n") >/dev/null
    e=$(date +%s.%N)
    echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'
  done | sort -n | sed -n 2p
}

"$husk" push -q --insecure-http "oci:$work/img" "docker://$reg/kill/src:1" >/dev/null

declare -A at killed finished dangling rerun_failed partial absent valid stray
problems=0
note() { echo "  $*"; problems=$((problems + 1)); }
for kind in push pull build; do
  t=$(calibrate "$kind")
  rm -rf "$work/out" && mkdir "$work/out"
  case $kind in
    push) expected_blobs=$(blobs_of kill/src 1) ;;
    build) expected_blobs=$(blobs_of kill/build-9001 1) ;;
  esac
  echo "$kind: uninterrupted run takes ${t}s; $trials trials with SIGKILL in [0, ${t}s)"
  killed[$kind]=0 finished[$kind]=0 dangling[$kind]=0 rerun_failed[$kind]=0
  partial[$kind]=0 absent[$kind]=0 valid[$kind]=0 stray[$kind]=0
  for p in before mid blobs tagged done; do at[$kind.$p]=0; done
  for i in $(seq 1 "$trials"); do
    delay=$(awk -v t="$t" -v s="$RANDOM$i" 'BEGIN { srand(s); printf "%.3f", rand() * t }')
    # Bounded without `timeout`: the SIGKILL comes after at most T seconds.
    # shellcheck disable=SC2046
    "$husk" $(command_of "$kind" "$i") >/dev/null 2>"$work/err" &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    # 137: the SIGKILL ended it; anything else: it had finished (or failed) before the kill.
    if [ "$rc" -eq 137 ]; then
      killed[$kind]=$((killed[$kind] + 1))
    else
      finished[$kind]=$((finished[$kind] + 1))
      [ "$rc" -eq 0 ] || note "$kind #$i failed on its own (exit $rc): $(head -c 400 "$work/err")"
    fi

    out=$(check_repo "$(repo_of "$kind" "$i")")
    [ -z "$out" ] || { dangling[$kind]=$((dangling[$kind] + 1)); note "$kind #$i after kill: $out"; }
    if [ "$kind" = pull ]; then
      dest=$(pull_dest "$i")
      path=${dest#*:}
      p=$(pull_landed "$path")
    else
      p=$(landed "$(repo_of "$kind" "$i")")
    fi
    at[$kind.$p]=$((at[$kind.$p] + 1))
    if [ "$kind" = pull ]; then
      if [ ! -e "$path" ]; then
        absent[$kind]=$((absent[$kind] + 1))
      elif "$husk" validate -q "$dest" >/dev/null 2>&1; then
        valid[$kind]=$((valid[$kind] + 1))
      else
        partial[$kind]=$((partial[$kind] + 1)); note "pull #$i: $dest is present but not valid"
      fi
      others=$(find "$work/out" -mindepth 1 -maxdepth 1 ! -name "p$i" ! -name "p$i.tar" | wc -l)
      if [ "$others" -gt 0 ]; then
        stray[$kind]=$((stray[$kind] + others))
        echo "  pull #$i ($p): left beside $dest: $(cd "$work/out" && du -sh .[!.]* * 2>/dev/null | tr '\t\n' ': ')"
      fi
    fi

    # shellcheck disable=SC2046
    if ! timeout 120 "$husk" $(command_of "$kind" "$i") >/dev/null 2>"$work/err"; then
      rerun_failed[$kind]=$((rerun_failed[$kind] + 1)); note "$kind #$i re-run failed: $(head -c 400 "$work/err")"
    fi
    out=$(check_repo "$(repo_of "$kind" "$i")")
    [ -z "$out" ] || { dangling[$kind]=$((dangling[$kind] + 1)); note "$kind #$i after re-run: $out"; }
    if [ "$kind" = pull ]; then
      "$husk" validate -q "$dest" >/dev/null 2>&1 || { partial[$kind]=$((partial[$kind] + 1)); note "pull #$i: $dest invalid after re-run"; }
      rm -rf "$work/out" && mkdir "$work/out"
    elif ! "$husk" validate -q --insecure-http "docker://$reg/$(repo_of "$kind" "$i"):1" >/dev/null 2>&1; then
      note "$kind #$i: the re-pushed image does not validate"
    fi
  done
done

echo "final sweep: every tag of every repository"
sweep=$(for r in $(curl -s "http://$reg/v2/_catalog?n=1000" | jq -r '.repositories[]'); do check_repo "$r"; done)
repos=$(curl -s "http://$reg/v2/_catalog?n=1000" | jq -r '.repositories | length')
[ -z "$sweep" ] || { echo "$sweep"; problems=$((problems + 1)); }

echo
echo "| command | trials | killed / finished first | where the kill landed | dangling manifests | re-runs failed | pull outputs absent / valid / partial | stray temp files |"
echo "|---|---|---|---|---|---|---|---|"
for kind in push pull build; do
  if [ "$kind" = pull ]; then
    pulls="${absent[$kind]} / ${valid[$kind]} / ${partial[$kind]}"
    where="${at[$kind.before]} before writing, ${at[$kind.mid]} mid-write, ${at[$kind.done]} done"
  else
    pulls="-"
    where="${at[$kind.before]} before any blob, ${at[$kind.mid]} mid-upload, ${at[$kind.blobs]} blobs but no tag, ${at[$kind.tagged]} tagged"
  fi
  echo "| husk $kind | $trials | ${killed[$kind]} / ${finished[$kind]} | $where | ${dangling[$kind]} | ${rerun_failed[$kind]} | $pulls | ${stray[$kind]} |"
done
echo "final sweep: $repos repositories, $( [ -z "$sweep" ] && echo "no" || echo "SOME") dangling manifests"
echo "left in the registry: $(find "$work/data" -path '*/_uploads/*' -name startedat | wc -l) abandoned upload sessions (the registry purges them itself)"
[ "$problems" -eq 0 ]
