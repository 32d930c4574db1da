#!/usr/bin/env bash
# Relabelling resumes after the server is killed mid-way (issue 18). A forked JVM, no containers: the jar `mvn verify`
# built, against a PostgreSQL of its own (Debian's postgresql 15 binaries, a throw-away cluster on its own port).
#   1. start the server, seed SEED_PATIENTS patients by transaction (each: a Condition R45.851, which raises a Flag
#      and a Task, a Condition R45.88, a PHQ-9 item 9 of 0 and a body temperature: 6 or 7 resources a patient);
#   2. stop it, and make the data look stored before the rules: delete every confidentiality, BH/ADOL label and rule
#      tag (SQL on HAPI's tag tables) and forget the rules' fingerprint (as after an upgrade that changed the rules);
#   3. start it: it sees a new fingerprint and starts the relabelling job by itself; once some relabel chunks are
#      done and others not, kill -9 the JVM;
#   4. start it again (a work chunk untouched for 60 s is taken back, NSSI_RELABEL_STALECHUNKAFTER); wait for the
#      job to complete; then check in the database: every sensitive resource R + BH again, each relabelled exactly
#      once (version 2: the job did not start over, a resource was not stored twice), nothing else touched, and
#      exactly one Flag and one Task per event.
# Security is off (NSSI_SECURITY_ENABLED=false): this tests the job, not the tokens (RelabelIT does those).
# Prints timings. Exits non-zero if anything fails. Needs: java 17, curl, python3, postgresql 15 (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[test-relabel-resume %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
t0=$SECONDS
SEED_PATIENTS=${SEED_PATIENTS:-300}
PORT=${NSSI_RELABEL_TEST_PORT:-18280}
PGPORT=${NSSI_RELABEL_TEST_PGPORT:-55433}
PGBIN=/usr/lib/postgresql/15/bin
jar=${NSSI_JAR:-$(ls "$PWD"/target/nssi-fhir-server-*.jar 2>/dev/null | grep -v original | head -n 1 || true)}
[[ -n $jar ]] || { say "no target/nssi-fhir-server-*.jar: run 'mvn -DskipTests package' first"; exit 1; }
if [[ ! -x $PGBIN/initdb ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nssi-relabel.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/pg" "$work/sock" "$work/app"
chown postgres "$work/pg" "$work/sock"
server=
cleanup() {
  [[ -n $server ]] && kill -9 "$server" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [[ ${KEEP_WORK:-} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" TERM INT
runuser -u postgres -- "$PGBIN/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/sock/pg.log" -o "-p $PGPORT -k $work/sock -c listen_addresses=127.0.0.1" -w start >/dev/null
psql_() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d nssi -v ON_ERROR_STOP=1 -qAt "$@"; }
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE nssi" >/dev/null
say "PostgreSQL on port $PGPORT"

start_server() {
  (cd "$work/app" && NSSI_DB_URL=jdbc:postgresql://127.0.0.1:$PGPORT/nssi NSSI_DB_USERNAME=postgres NSSI_DB_PASSWORD=x \
    NSSI_SECURITY_ENABLED=false NSSI_RELABEL_STALECHUNKAFTER=PT60S PORT=$PORT \
    exec java -Xmx1g -jar "$jar" >>"$work/server.log" 2>&1) &
  server=$!
  local s=$SECONDS
  until curl -sf "http://127.0.0.1:$PORT/actuator/health/readiness" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { tail -n 40 "$work/server.log"; say "FAIL: the server stopped"; exit 1; }
    (( SECONDS - s < 300 )) || { tail -n 40 "$work/server.log"; say "FAIL: the server is not ready after 300 s"; exit 1; }
    sleep 1
  done
  say "server ready in $((SECONDS - s)) s (pid $server)"
}
base=http://127.0.0.1:$PORT/fhir
job_id_other_than() { # waits until the server has recorded a relabelling job other than $1; prints it
  local s=$SECONDS id
  while true; do
    id=$(psql_ -c "SELECT coalesce(job_id, '') FROM nssi_relabel_state")
    [[ -n $id && $id != "$1" ]] && { echo "$id"; return; }
    (( SECONDS - s < 60 )) || return 0
    sleep 1
  done
}
status() { curl -sf "$base/\$nssi-relabel-status?jobId=$1" | python3 -c '
import json, sys
p = {x["name"]: next((v for k, v in x.items() if k.startswith("value")), None) for x in json.load(sys.stdin)["parameter"]}
print(p["status"], p.get("chunksDone"), p.get("chunksTotal"), p.get("resourcesExamined"), p.get("resourcesRelabelled", "-"), p.get("resourcesFailed", "-"))'; }
await_job() { # job id, timeout s; prints the last status line
  local s=$SECONDS line
  while true; do
    line=$(status "$1" || echo "? 0 0 0 - -")
    case ${line%% *} in COMPLETED|FAILED|CANCELLED) echo "$line"; return;; esac
    (( SECONDS - s < $2 )) || { say "FAIL: job $1 not ended after $2 s: $line"; exit 1; }
    sleep 1
  done
}

# 1. seed
start_server
job0=$(job_id_other_than none)
[[ -n $job0 ]] || { say "FAIL: no relabelling job at first start"; exit 1; }
say "first start: relabelling job $job0 ($(await_job "$job0" 120))"
s=$SECONDS
python3 - "$base" "$SEED_PATIENTS" <<'PY'
import json, sys, urllib.request
base, n = sys.argv[1], int(sys.argv[2])
HT = [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]
def cond(pid, system, code):
    return {"resourceType": "Condition", "meta": {"security": HT}, "subject": {"reference": pid},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": system, "code": code}]}, "recordedDate": "2026-11-01"}
def obs(pid, code, value):
    o = {"resourceType": "Observation", "meta": {"security": HT}, "status": "final", "subject": {"reference": pid},
         "effectiveDateTime": "2026-11-01T10:00:00Z", "code": {"coding": [{"system": "http://loinc.org", "code": code}]} if code else {"text": "Body temperature"}}
    o.update(value)
    return o
per = 20
for start in range(0, n, per):
    entries = []
    for i in range(start, min(n, start + per)):
        pid = "urn:uuid:00000000-0000-0000-0000-%012d" % i
        entries.append({"fullUrl": pid, "resource": {"resourceType": "Patient", "meta": {"security": HT}, "birthDate": "1990-01-01" if i % 2 else "2012-05-05"},
                        "request": {"method": "POST", "url": "Patient"}})
        for r in (cond(pid, "http://hl7.org/fhir/sid/icd-10-cm", "R45.851"), cond(pid, "http://hl7.org/fhir/sid/icd-10-cm", "R45.88"),
                  obs(pid, "44260-8", {"valueInteger": 0}), obs(pid, None, {"valueQuantity": {"value": 37.2, "unit": "Cel"}})):
            entries.append({"resource": r, "request": {"method": "POST", "url": r["resourceType"]}})
    body = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}).encode()
    req = urllib.request.Request(base, data=body, headers={"Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status == 200, r.status
PY
total=$(psql_ -c "SELECT count(*) FROM hfj_resource WHERE res_deleted_at IS NULL AND res_type IN ('Condition','Observation','Flag','Task','Patient')")
say "seeded $SEED_PATIENTS patients ($total resources with their alerts) in $((SECONDS - s)) s"
kill "$server"; wait "$server" || true; server=

# 2. as stored before the rules
psql_ <<'SQL'
CREATE TEMP TABLE stripped AS SELECT tag_id FROM hfj_tag_def
  WHERE tag_system IN ('http://terminology.hl7.org/CodeSystem/v3-Confidentiality', 'urn:nssi-fhir:label-rule')
     OR (tag_system = 'http://terminology.hl7.org/CodeSystem/v3-ActCode' AND tag_code IN ('BH', 'ADOL'));
DELETE FROM hfj_history_tag WHERE tag_id IN (SELECT tag_id FROM stripped) AND res_type IN ('Condition', 'Observation');
DELETE FROM hfj_res_tag WHERE tag_id IN (SELECT tag_id FROM stripped) AND res_type IN ('Condition', 'Observation');
UPDATE nssi_relabel_state SET fingerprint = NULL;
SQL
labelled=$(psql_ -c "SELECT count(DISTINCT t.res_id) FROM hfj_res_tag t JOIN hfj_tag_def d ON d.tag_id = t.tag_id WHERE d.tag_code = 'R' AND t.res_type IN ('Condition','Observation')")
[[ $labelled == 0 ]] || { say "FAIL: $labelled Conditions/Observations still R after stripping"; exit 1; }
say "labels stripped from every Condition and Observation; rules fingerprint forgotten"

# 3. start: the job starts by itself; kill -9 mid-way
start_server
job=$(job_id_other_than "$job0")
[[ -n $job && $job != "$job0" ]] || { say "FAIL: the server did not start a relabelling job for the new rules"; exit 1; }
s=$SECONDS
while true; do
  read -r st done_ all examined _ _ < <(status "$job" || echo "? 0 0 0 - -")
  # kill once some resources are already relabelled (so "exactly once" below shows finished work is not redone)
  # and chunks remain (so the restart has work to resume)
  if [[ $all =~ ^[0-9]+$ && $done_ =~ ^[0-9]+$ ]] && (( all > 0 && done_ >= 1 && done_ < all )) \
    && (( $(psql_ -c "SELECT count(*) FROM hfj_resource WHERE res_type IN ('Condition','Observation') AND res_ver = 2") > 0 )); then
    break
  fi
  [[ $st != COMPLETED ]] || { say "FAIL: the job completed before it could be killed (seed more: SEED_PATIENTS)"; exit 1; }
  (( SECONDS - s < 300 )) || { say "FAIL: no relabel chunk done after 300 s ($st $done_/$all)"; exit 1; }
  sleep 0.3
done
kill -9 "$server"; wait "$server" 2>/dev/null || true; server=
killed_at=$(psql_ -c "SELECT count(*) FILTER (WHERE stat = 'COMPLETED') || '/' || count(*) FROM bt2_work_chunk WHERE instance_id = '$job' AND tgt_step_id = 'relabel'")
relabelled_before=$(psql_ -c "SELECT count(*) FROM hfj_resource WHERE res_type IN ('Condition','Observation') AND res_ver = 2")
say "killed (-9) with relabel chunks $killed_at done, $relabelled_before resources relabelled, after $((SECONDS - s)) s"
(( relabelled_before > 0 )) || { say "FAIL: killed before any resource was relabelled: the test would not show finished work is kept"; exit 1; }

# 4. start again: the job resumes and completes
start_server
s=$SECONDS
final=$(await_job "$job" 600)
say "job $job ended $((SECONDS - s)) s after the restart: $final (status chunksDone chunksTotal examined relabelled failed)"
[[ ${final%% *} == COMPLETED ]] || { say "FAIL: the job did not complete"; exit 1; }
sleep 3 # the audit record of the job's end is stored a moment after it is recorded (audit/AuditOutbox)
fail=0
check() { # description, SQL that must answer 0
  local n; n=$(psql_ -c "$2")
  if [[ $n == 0 ]]; then say "ok    $1"; else say "FAIL: $1 ($n)"; fail=1; fi
}
sensitive="r.res_type = 'Condition' OR (r.res_type = 'Observation' AND EXISTS (SELECT 1 FROM hfj_spidx_token k WHERE k.res_id = r.res_id AND k.sp_name = 'code' AND k.sp_value = '44260-8'))"
check "every sensitive resource is R again" "SELECT count(*) FROM hfj_resource r WHERE r.res_deleted_at IS NULL AND ($sensitive)
  AND NOT EXISTS (SELECT 1 FROM hfj_res_tag t JOIN hfj_tag_def d ON d.tag_id = t.tag_id WHERE t.res_id = r.res_id AND d.tag_code = 'R')"
check "every sensitive resource is BH and names its rule" "SELECT count(*) FROM hfj_resource r WHERE r.res_deleted_at IS NULL AND ($sensitive)
  AND (NOT EXISTS (SELECT 1 FROM hfj_res_tag t JOIN hfj_tag_def d ON d.tag_id = t.tag_id WHERE t.res_id = r.res_id AND d.tag_code = 'BH')
    OR NOT EXISTS (SELECT 1 FROM hfj_res_tag t JOIN hfj_tag_def d ON d.tag_id = t.tag_id WHERE t.res_id = r.res_id AND d.tag_system = 'urn:nssi-fhir:label-rule'))"
check "exactly one confidentiality each" "SELECT count(*) FROM (SELECT t.res_id FROM hfj_res_tag t JOIN hfj_tag_def d ON d.tag_id = t.tag_id
  WHERE d.tag_system = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality' GROUP BY t.res_id HAVING count(*) > 1) x"
check "each sensitive resource relabelled exactly once (version 2)" "SELECT count(*) FROM hfj_resource r WHERE r.res_deleted_at IS NULL AND ($sensitive) AND r.res_ver <> 2"
check "the body temperatures untouched (version 1)" "SELECT count(*) FROM hfj_resource r WHERE r.res_type = 'Observation' AND NOT ($sensitive) AND r.res_ver <> 1"
check "one Flag per event" "SELECT count(*) FROM (SELECT i.sp_value FROM hfj_spidx_token i WHERE i.res_type = 'Flag' AND i.sp_name = 'identifier' GROUP BY i.sp_value HAVING count(*) <> 1) x"
check "one Task per event" "SELECT count(*) FROM (SELECT i.sp_value FROM hfj_spidx_token i WHERE i.res_type = 'Task' AND i.sp_name = 'identifier' GROUP BY i.sp_value HAVING count(*) <> 1) x"
check "one Flag per R45.851 Condition" "SELECT abs((SELECT count(*) FROM hfj_resource WHERE res_type = 'Flag') - $SEED_PATIENTS)"
check "the job's end is audited" "SELECT CASE WHEN count(*) > 0 THEN 0 ELSE 1 END FROM hfj_res_ver v WHERE v.res_type = 'AuditEvent' AND v.res_text_vc LIKE '%relabelling completed%' AND v.res_text_vc LIKE '%$job%'"
say "done in $((SECONDS - t0)) s"
exit $fail
