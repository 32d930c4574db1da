#!/bin/bash
# Starts the server as PID 1's replacement (exec), so SIGTERM from `docker stop` reaches the JVM.
# NSSI_WAIT_FOR (optional): a URL (http://host:port/path) that must answer 200 before the server starts, e.g. the
# first node's readiness: a second node then does not migrate a fresh database at the same time as the first one,
# and finds the signing key the first one created (NSSI_SECURITY_SIGNING_KEY_FILE on a shared volume). Only the very
# first start waits: once the signing key exists the stack has started before, and a node restarted while the other
# one is down must not wait for it.
set -euo pipefail
if [[ -n ${NSSI_WAIT_FOR:-} && ! -s ${NSSI_SECURITY_SIGNING_KEY_FILE:-/nonexistent} ]]; then
  rest=${NSSI_WAIT_FOR#http://}
  hostport=${rest%%/*}
  path=/${rest#*/}
  host=${hostport%%:*}
  port=${hostport##*:}
  [[ $port == "$hostport" ]] && port=80
  echo "waiting for $NSSI_WAIT_FOR"
  until (exec 3<>"/dev/tcp/$host/$port" && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$host" >&3 &&
    head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null; do
    sleep 2
  done
fi
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java $JAVA_OPTS -jar /app/app.jar "$@"
