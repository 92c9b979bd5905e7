#!/usr/bin/env bash
# Proves the test command's package list on a truly fresh Debian 12: a `mmdebstrap
# --variant=minbase bookworm` root (nothing but apt, dpkg and the essential packages), the
# host's Rust toolchain bind-mounted in, a clean clone of this repository's HEAD, and
# `CI=true ./scripts/test.sh` run inside it: the test command must install everything it
# needs, pass its tool check and run every test.
#
# Usage (as root):  scripts/fresh-check.sh [DIR]
#   DIR    where the fresh root goes (default: a new /tmp/husk-fresh.XXXXXX); must not exist
#   KEEP=1 keep DIR afterwards (default: removed once nothing is mounted under it)
#   MIRROR the apt sources for the root (default: the host's own
#          /etc/apt/sources.list.d/debian.sources, else mmdebstrap's default mirror)
# Output: the test command's output; its exit status is this script's.
#
# The run happens in new mount and PID namespaces (`unshare --mount --pid --fork`): every
# mount made for it (and every mount podman makes inside) vanishes with it, and every
# process it started (registries, containers, conmon) is killed when it ends. The network
# namespace is the host's: apt and pip inside need the mirrors, and podman's bridge is the
# host's kernel's. The chroot gets a policy-rc.d that stops package scripts from starting
# daemons (docker-registry's), as there is no init to own them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (mmdebstrap, mounts, chroot)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || {
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mmdebstrap >/dev/null
}

root=${1:-$(mktemp -u /tmp/husk-fresh.XXXXXX)}
[ ! -e "$root" ] || { echo "fresh-check: $root exists; name a new directory" >&2; exit 2; }
mirror=${MIRROR:-}
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=/etc/apt/sources.list.d/debian.sources
fi
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd)
rustup_home=$(cd "${RUSTUP_HOME:-$HOME/.rustup}" && pwd)

echo "fresh-check: $(date -u +%FT%TZ) mmdebstrap --variant=minbase bookworm $root ${mirror:+(sources: $mirror)}"
mmdebstrap --quiet --variant=minbase bookworm "$root" ${mirror:+"$mirror"}
echo "fresh-check: $(dpkg-query --admindir="$root/var/lib/dpkg" -W | wc -l) packages in the fresh root"
git clone -q "$repo" "$root/src/husk"
echo "fresh-check: testing $(git -C "$root/src/husk" log -1 --format='%h %s')"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's own additions to its trust store (a CA of a TLS-inspecting egress proxy, say),
# so that the root's ca-certificates, once the test command installs it, trusts what the
# host trusts and pip reaches PyPI as it does on the host.
mkdir -p "$root/usr/local/share/ca-certificates"
for c in /usr/local/share/ca-certificates/*.crt /etc/ssl/certs/*.pem; do
  [ -f "$c" ] && [ ! -L "$c" ] || continue
  case ${c##*/} in ssl-cert-snakeoil.pem) continue ;; esac
  if grep -q 'BEGIN CERTIFICATE' "$c"; then
    cp "$c" "$root/usr/local/share/ca-certificates/host-$(basename "${c%.*}").crt"
  fi
done
# The host's network settings for the registries' clients, when set.
passenv=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_CERT PIP_INDEX_URL \
  SSL_CERT_FILE REQUESTS_CA_BUNDLE CARGO_HTTP_CAINFO; do
  if [ -n "${!v:-}" ]; then passenv+=("$v=${!v}"); fi
done
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root$cargo_home" "$root$rustup_home"

status=0
unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
  root=$1 cargo_home=$2 rustup_home=$3
  shift 3
  # The root must be a mount point: containers/storage remounts "/" private (MS_REC |
  # MS_PRIVATE) when it unpacks a layer, and that is EINVAL on a plain directory.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  mount --bind "$cargo_home" "$root$cargo_home"
  mount --bind "$rustup_home" "$root$rustup_home"
  # pivot_root, not chroot: the fresh root becomes the mount namespace'"'"'s real root, as on
  # a machine of its own. Under a plain chroot, `runc exec` (podman exec, podman healthcheck)
  # joins the container and then cannot chdir to its working directory.
  cd "$root"
  mkdir -p .old-root
  pivot_root . .old-root
  exec /usr/sbin/chroot . /usr/bin/env -i HOME=/root CI=true TERM=dumb LANG=C.UTF-8 \
    CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" CARGO_INCREMENTAL=0 \
    PATH="$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@" \
    /bin/bash -c "umount -l /.old-root && rmdir /.old-root && cd /src/husk && ./scripts/test.sh"
' fresh-check "$root" "$cargo_home" "$rustup_home" "${passenv[@]}" || status=$?
echo "fresh-check: $(date -u +%FT%TZ) test command exited $status"

if [ "${KEEP:-0}" = 1 ]; then
  echo "fresh-check: kept $root"
elif findmnt -rn -o TARGET | grep -q "^$root"; then
  echo "fresh-check: something is still mounted under $root; not removing it" >&2
else
  rm -rf "$root"
fi
exit "$status"
