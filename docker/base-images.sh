#!/usr/bin/env bash
# Builds, without any image registry, the base images docker/Dockerfile and the compose files need, from Debian
# packages only: debootstrap (minbase, bookworm) -> `podman import` -> Debian's JRE 17, PostgreSQL 15 and HAProxy 2.6
# installed on top. On a machine that can pull from Docker Hub none of this is needed: the Dockerfile and the compose
# files default to the public images (eclipse-temurin:17-jre, postgres:15, haproxy:2.6) and take these local ones
# through variables (see docker/README.md):
#
#   docker/base-images.sh            # idempotent: a few seconds when the images exist
#   docker/base-images.sh --force    # rebuild them all
#   eval "$(docker/base-images.sh --env)"   # export NSSI_JRE_IMAGE, NSSI_POSTGRES_IMAGE, NSSI_HAPROXY_IMAGE
#
# Needs root, podman (with runc), debootstrap, and access to a Debian mirror (DEBIAN_MIRROR, default deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_IMAGE=localhost/nssi-base/debian:bookworm-min
export NSSI_JRE_IMAGE=localhost/nssi-base/jre:17-bookworm
export NSSI_POSTGRES_IMAGE=localhost/nssi-base/postgres:15-bookworm
export NSSI_HAPROXY_IMAGE=localhost/nssi-base/haproxy:2.6-bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ ${1:-} == --env ]]; then
  printf 'export NSSI_JRE_IMAGE=%s NSSI_POSTGRES_IMAGE=%s NSSI_HAPROXY_IMAGE=%s\n' \
    "$NSSI_JRE_IMAGE" "$NSSI_POSTGRES_IMAGE" "$NSSI_HAPROXY_IMAGE"
  exit 0
fi
force=false
[[ ${1:-} == --force ]] && force=true

have() { ! $force && podman image exists "$1"; }
log() { printf '[base-images] %s\n' "$*" >&2; }
start=$SECONDS

if ! have "$DEBIAN_IMAGE"; then
  command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
  root=$(mktemp -d /var/tmp/nssi-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  log "debootstrap --variant=minbase bookworm ($MIRROR) ..."
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
  # no package caches or lists in the image; apt-get update in the layers above fetches lists again
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$root"
  trap - EXIT
  log "$DEBIAN_IMAGE imported"
  force=true # the images below sit on the new one
fi

# build IMAGE CONTAINERFILE-TEXT: `--network host` so apt-get reaches the mirror without a container network
build() {
  local image=$1
  if have "$image"; then log "$image exists"; return; fi
  log "building $image ..."
  podman build --network host --pull=never --build-arg "BASE=$DEBIAN_IMAGE" -t "$image" -f - base >/dev/null
  log "$image built"
}

build "$NSSI_JRE_IMAGE" <<'CF'
ARG BASE
FROM $BASE
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 LANG=C.UTF-8
CF

build "$NSSI_POSTGRES_IMAGE" <<'CF'
ARG BASE
FROM $BASE
# no cluster at install time: the entrypoint creates one in PGDATA like the official image does
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/nssi.conf \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
CF

build "$NSSI_HAPROXY_IMAGE" <<'CF'
ARG BASE
FROM $BASE
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy && chown haproxy:haproxy /var/lib/haproxy
USER haproxy
STOPSIGNAL SIGUSR1
# the official image's default: the configuration is mounted at /usr/local/etc/haproxy/haproxy.cfg
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
CF

log "done in $((SECONDS - start)) s"
