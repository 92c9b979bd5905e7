# Sourced by the bench scripts (from the repository root).

# Install the Debian packages named that are missing.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A release husk in $husk, and podman's configuration for these machines.
release_husk() {
  export CONTAINERS_CONF="$PWD/tests/engine/containers.conf"
  cargo build --release --quiet -p husk
  husk="$PWD/target/release/husk"
}

# The large multi-layer image of the explore and audit benchmarks: FROM scratch, built by
# podman from /usr trees (7 gzip layers, ~150 MiB compressed, ~23k tar entries, with a
# tree that a later layer deletes), pushed as an OCI layout. Sets $work, $tag and $image;
# writes $work/layers.txt (the layer blobs, in order) and $work/tar-list.sh (tar -tzf of
# each). Arguments: a name, then extra Containerfile lines.
large_image() {
  local name=$1 manifest
  shift
  work=$(mktemp -d "/tmp/husk-bench-$name.XXXXXX")
  tag="localhost/husk-bench-$name:1"
  trap 'rm -rf "$work"; podman rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
  cp /bin/busybox "$work/busybox"
  {
    cat <<'CONTAINERFILE'
FROM scratch
COPY --from=bb busybox /bin/busybox
COPY share/doc /usr/share/doc
COPY include /usr/include
COPY share/locale /usr/share/locale
COPY lib/python3 /usr/lib/python3
COPY share/perl /usr/share/perl
RUN ["/bin/busybox", "rm", "-r", "/usr/share/perl"]
CONTAINERFILE
    printf '%s\n' "$@"
  } > "$work/Containerfile"
  # The build context is /usr itself (buildah reads only what COPY names).
  podman build -q --build-context bb="$work" -f "$work/Containerfile" -t "$tag" /usr >/dev/null
  podman push -q --compression-format gzip "$tag" "oci:$work/img" >/dev/null
  image="oci:$work/img"
  manifest=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); print(i["manifests"][0]["digest"].split(":")[1])' "$work/img")
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2])); [print(sys.argv[1]+"/blobs/sha256/"+l["digest"].split(":")[1]) for l in m["layers"]]' "$work/img" "$manifest" > "$work/layers.txt"
  cat > "$work/tar-list.sh" <<SCRIPT
#!/bin/sh
while read -r b; do tar -tzf "\$b"; done < "$work/layers.txt"
SCRIPT
  chmod +x "$work/tar-list.sh"
}
