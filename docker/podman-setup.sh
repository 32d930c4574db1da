#!/usr/bin/env bash
# Prepares a Debian machine without a Docker engine to run this project's containers with podman (as root): the
# packages, and the settings this kind of machine needs (runc, since crun fails on hybrid cgroups; default ulimits
# below the hard limits). Idempotent. Used by .ci/run; see docker/README.md.
set -euo pipefail
need=()
for cmd in podman runc podman-compose debootstrap python3 curl; do
  command -v "$cmd" >/dev/null || need+=("$cmd")
done
if ((${#need[@]})); then
  echo "[podman-setup] installing podman and friends (missing: ${need[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman buildah runc uidmap \
    slirp4netns fuse-overlayfs netavark aardvark-dns podman-compose debootstrap ca-certificates python3 curl >/dev/null
fi
conf=/etc/containers/containers.conf
if ! grep -qs '^runtime *= *"runc"' "$conf"; then
  echo "[podman-setup] writing $conf (runtime runc, ulimits)"
  mkdir -p /etc/containers
  cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
fi
podman --version
