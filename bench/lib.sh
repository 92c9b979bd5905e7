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
