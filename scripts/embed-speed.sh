#!/usr/bin/env bash
# `headguard embed` against an ONNX Runtime Java program doing the same (scripts/ort/OrtEmbed.java),
# each as a whole process (JVM start, model load, tokenising, forward, printing), alternating rounds,
# wall seconds; then the two outputs' largest difference. Run it alone on the machine.
# Usage: scripts/embed-speed.sh [SENTENCES_FILE] [ROUNDS]   (default: SST-2's test sentences, 3 rounds)
# Build first (mvn -B package -DskipTests); the first `embed` imports the built-in model into HEADGUARD_HOME.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
input=${1:-}
rounds=${2:-3}
if [ -z "$input" ]; then
  input="$work/sentences.txt"
  tail -n +2 "$here/../shared/data/sst-2/clean/test.tsv" | cut -f1 >"$input"
fi
export MALLOC_ARENA_MAX=2 GOMP_SPINCOUNT=1000 # the launcher's settings, for both programs
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864
javac -d "$work/classes" -cp "$here/target/lib/*" "$here/scripts/ort/OrtEmbed.java"
java -Dai.djl.offline=true -jar "$here/target/headguard.jar" embed --model minilm --input "$input" >/dev/null # import once
echo "$(wc -l <"$input") sentences; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for r in $(seq 1 "$rounds"); do
  /usr/bin/time -f "round $r headguard embed: %e s" java -Dai.djl.offline=true -jar "$here/target/headguard.jar" \
    embed --model minilm --input "$input" >"$work/headguard.jsonl"
  /usr/bin/time -f "round $r onnxruntime:     %e s" java -Dai.djl.offline=true -cp "$here/target/lib/*:$work/classes" OrtEmbed "$input" >"$work/ort.jsonl"
done
python3 - "$work/headguard.jsonl" "$work/ort.jsonl" <<'PY'
import json, sys
a = [json.loads(l)["embedding"] for l in open(sys.argv[1])]
b = [json.loads(l)["embedding"] for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
print("largest difference between the two outputs: %.3g over %d embeddings" % (max(abs(x - y) for u, v in zip(a, b) for x, y in zip(u, v)), len(a)))
PY
