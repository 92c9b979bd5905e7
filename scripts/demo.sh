#!/usr/bin/env bash
# husk's main job on the bundled demo: build scratch-demo (the article's HTTPS service)
# with cargo and package it into a reproducible, non-root FROM-scratch image, with no
# daemon. Writes target/scratch-demo.oci.tar (oci-archive). When podman is installed it
# also loads the image, runs it hardened (read-only, no capabilities, as 1000:1000) and
# fetches the greeting over HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p husk
husk=target/release/husk
out=target/scratch-demo.oci.tar

export CONTAINERS_CONF="$PWD/tests/engine/containers.conf"
if ! command -v podman >/dev/null 2>&1; then
  $husk build --config demo/scratch-demo/husk.toml --output "oci-archive:$out"
  $husk validate "oci-archive:$out"
  echo "podman is not installed: skipping the run (apt-get install podman runc to try it)"
  exit 0
fi
# --load goes through a docker-archive: podman 4.3 drops the Docker HEALTHCHECK from
# images it loads in OCI format.
$husk build --config demo/scratch-demo/husk.toml --output "oci-archive:$out" --load podman
$husk validate "oci-archive:$out"
name="husk-demo-$$"
# Non-root in the container binds 443: allow unprivileged low ports in its network
# namespace (Docker 20.10+ does this by default; podman and Kubernetes do not).
# (podman schedules periodic healthchecks through systemd, which these machines lack: its
# complaint about that is filtered out; the check itself runs below.)
podman run -d --rm --name "$name" --read-only --cap-drop=ALL \
  --security-opt no-new-privileges --sysctl net.ipv4.ip_unprivileged_port_start=0 \
  -p 127.0.0.1:8443:443 localhost/scratch-demo:latest \
  2> >(grep -v 'systemd connection' >&2) >/dev/null
trap 'podman stop -t 10 "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 50); do
  if curl -sk --max-time 2 "https://127.0.0.1:8443/hello%20world" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
echo "GET https://127.0.0.1:8443/hello%20world ->"
curl -sk --max-time 5 "https://127.0.0.1:8443/hello%20world"; echo
sleep 1
podman healthcheck run "$name" >/dev/null && echo "healthcheck (scratch-demo healthcheck, no curl in the image): healthy"
echo "container process on the host runs as uid $(ps -o uid= -p "$(podman inspect --format '{{.State.Pid}}' "$name")" | tr -d ' ')"
