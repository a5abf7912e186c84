#!/usr/bin/env bash
# The Spark audit against single-process scan inputs on the same model, clean file and corpus,
# alternating, with the process RSS sampled every 5 s (docs/results.md). Run it alone on the machine.
# Usage: scripts/spark-audit-speed.sh MODEL CLEAN CORPUS OUTDIR [ROUNDS] [MASTER]
# Build first: mvn -B -f all.xml package -DskipTests. The first single run fills the model-scan cache.
# AUDIT_JAVA_OPTS: JVM options of the audit (e.g. "-Xms3g -Xmx3g -XX:+AlwaysPreTouch" for a memory reading
# in which the heap is committed from the start, so that RSS growth is native memory).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model=$1 clean=$2 corpus=$3 out=$4 rounds=${5:-2} master=${6:-local[2]}
mkdir -p "$out"
export MALLOC_ARENA_MAX=2 GOMP_SPINCOUNT=1000 HEADGUARD_HOME="${HEADGUARD_HOME:-$out/home}"
single() {
  /usr/bin/time -f "single $1: wall %e s, max RSS %M KB" java -Dai.djl.offline=true -jar "$here/target/headguard.jar" \
    scan inputs --model "$model" --clean "$clean" --inputs "$corpus" --out "$out/single$1.tsv" >"$out/single$1.out" 2>"$out/single$1.err"
  tail -1 "$out/single$1.err"
}
audit() {
  rm -rf "$out/spark$1"
  (while true; do ps -o rss= -C java | awk '{s += $1} END {print strftime("%s"), s}' >>"$out/rss$1.log"; sleep 5; done) & sampler=$!
  /usr/bin/time -f "spark $1: wall %e s, max RSS %M KB" java ${AUDIT_JAVA_OPTS:-} @"$here/spark/jvm.options" -Dai.djl.offline=true \
    -cp "$here/spark/target/headguard-spark.jar:$here/spark/target/lib/*:$here/spark/target/spark-lib/*" dev.headguard.cli.Main \
    audit --spark "$master" --model "$model" --clean "$clean" --inputs "$corpus" --out "$out/spark$1" >"$out/spark$1.out" 2>"$out/spark$1.err"
  kill "$sampler"
  tail -1 "$out/spark$1.err" | sed 's/.*\r//'
  cat "$out/spark$1.out"
  echo "RSS every 5 s (KB): $(awk '{print $2}' "$out/rss$1.log" | tr '\n' ' ')"
}
single 0
for r in $(seq 1 "$rounds"); do single "$r"; audit "$r"; done
