#!/usr/bin/env bash
# Runs reliability/DatabaseFaultIT (PostgreSQL stopped and started again under write load) against a PostgreSQL
# container, through Testcontainers and podman's Docker-compatible API, with the PostgreSQL image docker/base-images.sh
# builds from Debian packages. Run by .ci/run after `mvn verify` (which compiled the tests and ran the same test on
# the embedded PostgreSQL). Only this test: the whole IT suite on a container would add minutes to CI for no new
# coverage (the other ITs do not stop their database).
set -euo pipefail
cd "$(dirname "$0")/.."
docker/podman-setup.sh >/dev/null
docker/base-images.sh
eval "$(docker/base-images.sh --env)"

sock=/run/podman/nssi-test.sock
mkdir -p /run/podman
rm -f "$sock"
podman system service --time=0 "unix://$sock" &
service=$!
trap 'kill "$service" 2>/dev/null || true; rm -f "$sock"' EXIT
for _ in $(seq 1 50); do
  [[ $(curl -s --unix-socket "$sock" http://d/_ping 2>/dev/null) == OK ]] && break
  sleep 0.2
done
[[ $(curl -s --unix-socket "$sock" http://d/_ping) == OK ]] || { echo "podman's API socket does not answer"; exit 1; }

export DOCKER_HOST=unix://$sock
# no Ryuk container (podman has none to pull; the test removes its container itself), no start-up checks that
# would pull an alpine image
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CHECKS_DISABLE=true
export NSSI_TEST_PG_IMAGE=$NSSI_POSTGRES_IMAGE NSSI_TEST_REQUIRE_DOCKER=true
s=$SECONDS
mvn -B -ntp ${MVN_OFFLINE:+-o} failsafe:integration-test failsafe:verify -Dit.test=DatabaseFaultIT | tee /tmp/nssi-db-fault.log
grep -q 'PostgreSQL: Testcontainers' target/failsafe-reports/*DatabaseFaultIT-output.txt 2>/dev/null ||
  grep -q 'PostgreSQL: Testcontainers' /tmp/nssi-db-fault.log ||
  { echo "DatabaseFaultIT did not run on a container"; exit 1; }
echo "[test-db-fault] DatabaseFaultIT on a PostgreSQL container passed in $((SECONDS - s)) s"
