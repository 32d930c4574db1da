#!/usr/bin/env bash
# Benchmark harness: builds the server, starts it against PostgreSQL, runs the workloads on our server and then on the
# baseline (same data, our validation/labelling/authorization/audit off: security disabled, and BenchmarkBaseline from
# src/bench/java on the baseline server's class path) and prints one table with the ratios.
#   src/bench/run.sh                                             # 100 cohort people through $import + 50 x 20 over REST
#   src/bench/run.sh --import-people 12500                       # about a million Observations, loaded through $import
#       # (the cohort generator's people as NDJSON, CohortNdjson, served by the harness on loopback and allow-listed;
#       # the baseline imports --baseline-import-people of another seed, default a fifth, with our layers off)
#   src/bench/run.sh --patients 20 --obs-per-patient 1000 --scale-to-observations 1000000 --import-people 0
#       # the older way to a million: the API-loaded seed copied inside PostgreSQL (BenchScale)
#   (data: the synthetic cohort generator, cohort/; bulk $export throughput is reported at the largest size)
#   src/bench/run.sh --cds ...                                    # the servers start from an AppCDS archive
#   src/bench/run.sh --cds --startup-runs 3                       # startup only: packaged jar vs AppCDS, alternately
#   src/bench/run.sh --reuse-data true                            # the previous run's database again, no load
#                                                                 # (Debian PostgreSQL only; for before/after figures)
# Database: NSSI_DB_URL (+ NSSI_DB_USERNAME/NSSI_DB_PASSWORD) if set; otherwise Debian's PostgreSQL (installed with
# apt-get if missing, cluster started with pg_ctlcluster) with a fresh database nssi_bench; BENCH_EMBEDDED=1 uses the
# server's embedded PostgreSQL instead. Other options: --requests R (per timed workload), --port P, --server-heap 2g,
# --no-baseline true, --no-export true (skip bulk $export, e.g. on reruns with --reuse-data), --workloads REGEX (only the
# workloads whose name matches, e.g. to profile one on a loaded database: --workloads "patient token").
set -euo pipefail
cd "$(dirname "$0")/../.."

cds=0
args=()
for a in "$@"; do
  if [ "$a" = "--cds" ]; then cds=1; else args+=("$a"); fi
done

# -Pbench: the harness (src/bench/java) is compiled only in this profile, into target/bench-classes; the server jar
# is the same as without it. The harness runs from the jar's own libraries plus target/bench-classes (Spring Boot's
# PropertiesLauncher, loader.path), and starts the baseline server the same way (BenchmarkMain).
mvn -q -B -ntp -Pbench -DskipTests package
jar=$(ls target/nssi-fhir-server-*.jar | grep -v original | head -1)
mkdir -p target/bench
: > target/bench/server.log
extra=()
if [ -n "${NSSI_DB_URL:-}" ]; then
  echo "Database: NSSI_DB_URL"
elif [ "${BENCH_EMBEDDED:-}" = 1 ]; then
  data_dir=$(mktemp -d "$PWD/target/bench/pg-XXXXXX")
  extra=(--data-dir "$data_dir")
  echo "Database: embedded PostgreSQL in $data_dir"
else
  if ! command -v pg_ctlcluster >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main" || pg_createcluster "$version" main >/dev/null
  # sized for this 24 GiB machine as a deployment would be (Debian's defaults are for a small shared host); the
  # same server serves our run and the baseline, so the ratios are unaffected
  conf=/etc/postgresql/$version/main/conf.d/nssi-bench.conf
  if [ ! -f "$conf" ]; then
    printf '%s\n' "shared_buffers = 2GB" "effective_cache_size = 8GB" "work_mem = 16MB" "maintenance_work_mem = 512MB" \
      "max_wal_size = 8GB" "checkpoint_timeout = 15min" "random_page_cost = 1.1" > "$conf"
    pg_ctlcluster "$version" main stop 2>/dev/null || true
  fi
  pg_ctlcluster "$version" main start 2>/dev/null || true   # already running is fine
  pg_port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
  su postgres -c "psql -q -p $pg_port -c \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='nssi_bench') THEN CREATE ROLE nssi_bench LOGIN PASSWORD 'nssi_bench'; END IF; END\\\$\\\$\""
  # BenchScale checkpoints after copying (--scale-to-observations); PostgreSQL 15 has a role for that
  su postgres -c "psql -q -p $pg_port -c 'GRANT pg_checkpoint TO nssi_bench'" 2>/dev/null || true
  if [[ " $* " == *" --reuse-data "* ]]; then
    echo "Reusing database nssi_bench and target/bench/loaded-patients.txt from the previous run"
  else
    su postgres -c "psql -q -p $pg_port -c 'DROP DATABASE IF EXISTS nssi_bench' -c 'CREATE DATABASE nssi_bench OWNER nssi_bench'"
  fi
  export NSSI_DB_URL="jdbc:postgresql://localhost:$pg_port/nssi_bench" NSSI_DB_USERNAME=nssi_bench NSSI_DB_PASSWORD=nssi_bench
  if [[ " $* " == *" --reuse-data "* ]]; then state=kept; else state=fresh; fi
  echo "Database: Debian PostgreSQL $version on port $pg_port, $state database nssi_bench"
fi

if [ "$cds" = 1 ]; then
  # AppCDS: the jar extracted (CDS needs plain jars on the class path); a training run that stops after the context
  # refresh lists the classes it loaded; a static archive is dumped from that list. (Not -XX:ArchiveClassesAtExit:
  # the dynamic dump, and a static dump of the lambda-proxy entries, crash this JDK 17 in
  # SystemDictionaryShared::adjust_lambda_proxy_class_dictionary, so the lambda proxies are left out of the list.)
  # With --startup-runs N only startup is measured: packaged jar vs extracted jar + archive, alternately, N times each.
  rm -rf target/bench/app && java -Djarmode=tools -jar "$jar" extract --destination target/bench/app >/dev/null
  cds_jar=target/bench/app/$(basename "$jar")
  java -XX:DumpLoadedClassList=target/bench/classes.lst -Dspring.context.exit=onRefresh -jar "$cds_jar" \
    --server.port=0 --nssi.security.signing-key-file="$PWD/target/bench/signing-key.jwk.json" >> target/bench/server.log 2>&1
  grep -v '^@lambda-proxy' target/bench/classes.lst > target/bench/classes-cds.lst
  java -Xshare:dump -XX:SharedClassListFile=target/bench/classes-cds.lst -XX:SharedArchiveFile=target/bench/app.jsa \
    -cp "$cds_jar" > target/bench/cds-dump.log 2>&1
  extra+=(--cds-jar "$cds_jar" --cds-options "-XX:SharedArchiveFile=target/bench/app.jsa -Xshare:auto")
  echo "AppCDS archive: target/bench/app.jsa ($(du -h target/bench/app.jsa | cut -f1), $(wc -l < target/bench/classes-cds.lst) classes listed)"
fi

java -Dloader.path=target/bench-classes -Dloader.main=org.nssifhir.server.bench.BenchmarkMain \
  -cp "$jar" org.springframework.boot.loader.launch.PropertiesLauncher \
  --jar "$jar" --server-log target/bench/server.log "${extra[@]}" "${args[@]}"
