#!/usr/bin/env bash
# The container test (run by .ci/run after the Maven build, which made target/nssi-fhir-server-*.jar):
# builds the base images (docker/base-images.sh) and the server image, checks the image (non-root, no secrets, size),
# starts compose.ha.yaml (two nodes + PostgreSQL + HAProxy) with podman-compose, then docker/failover_check.py:
# token through the load balancer, node 1 SIGKILLed under write load, PostgreSQL restarted under load, node 2
# stopped with SIGTERM under load, and every acknowledged write found once with its AuditEvent and one Flag.
# Prints timings. Exits non-zero if anything fails. KEEP_STACK=1 leaves the stack running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
say() { printf '[test-failover %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
declare -A timing

docker/podman-setup.sh
s=$SECONDS
docker/base-images.sh
timing[base_images_s]=$((SECONDS - s))
eval "$(docker/base-images.sh --env)"

jar=$(ls target/nssi-fhir-server-*.jar 2>/dev/null | head -n 1 || true)
[[ -n $jar ]] || { say "no target/nssi-fhir-server-*.jar: run 'mvn -DskipTests package' first"; exit 1; }
export NSSI_IMAGE=localhost/nssi-fhir-server:test
s=$SECONDS
podman build --format docker --pull=never --build-arg "JRE_IMAGE=$NSSI_JRE_IMAGE" -f docker/Dockerfile -t "$NSSI_IMAGE" . >/tmp/nssi-image-build.log 2>&1 ||
  { tail -n 30 /tmp/nssi-image-build.log; exit 1; }
timing[image_build_s]=$((SECONDS - s))
size=$(podman image inspect -f '{{.Size}}' "$NSSI_IMAGE")
timing[image_size_mb]=$((size / 1000000))
say "image $NSSI_IMAGE built in ${timing[image_build_s]} s, $((size / 1000000)) MB"

# the image: runs as a non-root user, carries no keys or secrets
uid=$(podman run --rm --no-healthcheck --entrypoint id "$NSSI_IMAGE" -u)
[[ $uid != 0 ]] || { say "FAIL: the image runs as root"; exit 1; }
say "ok    the image runs as uid $uid"
found=$(podman run --rm --no-healthcheck --entrypoint bash "$NSSI_IMAGE" -c \
  'find / -xdev \( -name "*.jwk.json" -o -name "dev-client-secret" -o -name "dev-user-password" -o -name "*.pem" -path "/app/*" \) 2>/dev/null; env | grep -iE "password|secret" || true')
[[ -z $found ]] || { say "FAIL: secrets in the image: $found"; exit 1; }
say "ok    no signing key, secret file or secret variable in the image"

# the stack, on ports of its own so it does not collide with a developer's server
project=nssi-fhir-citest
export NSSI_PORT=${NSSI_PORT:-18080} NSSI_LB_STATS_PORT=${NSSI_LB_STATS_PORT:-18404}
export NSSI_PUBLIC_URL=http://localhost:$NSSI_PORT
NSSI_DB_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
NSSI_BACKEND_CLIENT_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export NSSI_DB_PASSWORD NSSI_BACKEND_CLIENT_SECRET
NSSI_CONFIG_DIR=$(mktemp -d /tmp/nssi-config.XXXXXX)
export NSSI_CONFIG_DIR
chmod 755 "$NSSI_CONFIG_DIR"
# a backend-services client for the test; its secret comes from the environment, not from this file
cat >"$NSSI_CONFIG_DIR/application.yaml" <<'YAML'
nssi:
  security:
    clients:
      - client-id: failover-test
        client-secret: ${NSSI_BACKEND_CLIENT_SECRET}
        scopes: [system/*.cruds, system/AuditEvent.rs]
  # the access policy: only this client may subscribe, and only to the test's receiver on the host
  policy:
    subscription-clients: [failover-test]
    subscription-endpoints: ["http://host.containers.internal:"]
YAML
chmod 644 "$NSSI_CONFIG_DIR/application.yaml"
compose=(podman-compose -p "$project" -f docker/compose.ha.yaml)

down() {
  "${compose[@]}" down -v >/dev/null 2>&1 || true
  podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman volume rm -f "${project}_nssi-db" "${project}_nssi-keys" >/dev/null 2>&1 || true
}
dump() {
  for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
    say "---- last log lines of $c"
    podman logs --tail 40 "$c" 2>&1 | cut -c1-300 || true
  done
}
finish() {
  rc=$?
  ((rc == 0)) || dump
  if [[ ${KEEP_STACK:-0} == 1 ]]; then
    say "stack left running (project $project, configuration in $NSSI_CONFIG_DIR)"
  else
    down
    if declare -F single_down >/dev/null; then single_down; fi
    rm -rf "$NSSI_CONFIG_DIR"
  fi
  exit $rc
}
trap finish EXIT
down

# compose.yaml (one node + PostgreSQL): starts with its one command, answers through its port, signs tokens
single=(podman-compose -p "$project-single" -f docker/compose.yaml)
single_down() {
  NSSI_PORT=18090 "${single[@]}" down -v >/dev/null 2>&1 || true
  podman ps -aq --filter "label=io.podman.compose.project=$project-single" | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman volume rm -f "${project}-single_nssi-db" "${project}-single_nssi-keys" >/dev/null 2>&1 || true
}
single_down
s=$SECONDS
NSSI_PORT=18090 NSSI_PUBLIC_URL=http://localhost:18090 "${single[@]}" up -d >/tmp/nssi-compose-single.log 2>&1 ||
  { cat /tmp/nssi-compose-single.log; exit 1; }
until [[ $(curl -s -o /dev/null -w '%{http_code}' http://localhost:18090/actuator/health/readiness) == 200 ]]; do
  if ((SECONDS - s > 600)); then
    say "FAIL: compose.yaml's server is not ready after 600 s"
    podman logs --tail 40 "$(podman ps -a --filter "label=io.podman.compose.project=$project-single" --filter label=com.docker.compose.service=server --format '{{.Names}}')" 2>&1 | cut -c1-300
    single_down
    exit 1
  fi
  sleep 2
done
timing[single_start_s]=$((SECONDS - s))
token=$(curl -s -u "failover-test:$NSSI_BACKEND_CLIENT_SECRET" -d 'grant_type=client_credentials&scope=system/*.cruds' \
  http://localhost:18090/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || true
created=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/fhir+json' \
  -d '{"resourceType":"Patient","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST"}]},"name":[{"family":"Single"}]}' \
  http://localhost:18090/fhir/Patient)
single_down
[[ $created == 201 ]] || { say "FAIL: compose.yaml: token + write answered $created"; exit 1; }
say "ok    compose.yaml: ready after ${timing[single_start_s]} s, token issued, Patient written (201)"

s=$SECONDS
"${compose[@]}" up -d >/tmp/nssi-compose-up.log 2>&1 || { cat /tmp/nssi-compose-up.log; exit 1; }
name() { podman ps -a --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -n 1; }
node1=$(name node1) node2=$(name node2) db=$(name db)
say "containers: $node1 $node2 $db $(name lb)"
stats=http://127.0.0.1:$NSSI_LB_STATS_PORT/stats
up() { curl -fsS "$stats;csv" 2>/dev/null | awk -F, -v s="$1" '$1 == "nodes" && $2 == s {print $18}' | grep -q '^UP'; }
until up node1 && up node2; do
  if ((SECONDS - s > 600)); then say "FAIL: the stack is not ready after 600 s"; exit 1; fi
  sleep 2
done
timing[stack_start_s]=$((SECONDS - s))
say "both nodes ready behind the load balancer after ${timing[stack_start_s]} s"
status=$(curl -s -o /dev/null -w '%{http_code}' "$NSSI_PUBLIC_URL/actuator/health/readiness")
[[ $status == 200 ]] || { say "FAIL: readiness through the load balancer: $status"; exit 1; }
uid=$(podman exec "$node1" id -u)
[[ $uid == 10001 ]] || { say "FAIL: node1 runs as uid $uid"; exit 1; }
say "ok    readiness through the load balancer; the nodes run as uid $uid"
# the image's HEALTHCHECK (podman runs it on request here: no systemd timers in this machine's containers)
podman healthcheck run "$node1" >/dev/null && podman healthcheck run "$node2" >/dev/null ||
  { say "FAIL: the image's health check does not pass on a ready node"; exit 1; }
say "ok    the image's HEALTHCHECK passes on both nodes"

s=$SECONDS
python3 docker/failover_check.py --base "$NSSI_PUBLIC_URL" --stats "$stats" --client-id failover-test \
  --node1 "$node1" --node2 "$node2" --db "$db" | tee /tmp/nssi-failover.log
timing[scenario_s]=$((SECONDS - s))
timing[total_s]=$((SECONDS - t0))
line="TIMINGS"
for k in base_images_s image_build_s image_size_mb single_start_s stack_start_s scenario_s total_s; do line+=" $k=${timing[$k]}"; done
say "$line"
say "$(grep '^TIMINGS' /tmp/nssi-failover.log)"
