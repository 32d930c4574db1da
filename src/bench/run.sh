#!/usr/bin/env bash
# Benchmark harness: builds the server, starts it against PostgreSQL and prints a table of figures.
#   src/bench/run.sh                         # small: 50 synthetic patients (cohort generator, up to 4 years each)
#   src/bench/run.sh --patients 2000 --seed 7 # larger; also reports bulk $export throughput (resources/s)
# Database: NSSI_DB_URL (+ NSSI_DB_USERNAME/NSSI_DB_PASSWORD) if set, else the embedded PostgreSQL in a fresh
# directory under target/bench/. Other options: --requests R (per timed workload), --port P, --server-heap 2g.
set -euo pipefail
cd "$(dirname "$0")/../.."

mvn -q -B -ntp -DskipTests package test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench/classpath.txt -Dmdep.includeScope=test
jar=$(ls target/nssi-fhir-server-*.jar | grep -v original | head -1)
mkdir -p target/bench
extra=()
if [ -z "${NSSI_DB_URL:-}" ]; then
  data_dir=$(mktemp -d "$PWD/target/bench/pg-XXXXXX")
  extra=(--data-dir "$data_dir")
  echo "Database: embedded PostgreSQL in $data_dir"
else
  echo "Database: NSSI_DB_URL"
fi
java -cp "target/test-classes:$(cat target/bench/classpath.txt)" org.nssifhir.server.bench.BenchmarkMain \
  --jar "$jar" --server-log target/bench/server.log "${extra[@]}" "$@"
