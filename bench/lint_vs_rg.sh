#!/usr/bin/env bash
# lint_vs_rg.sh: time `kling-preflight lint` against a plain `rg -l` over the same
# generated tree, in one run, and report the ratio and peak memory.
#
#   bench/lint_vs_rg.sh                 # 20 000 files, 10 timed runs each
#   FILES=2000 RUNS=20 bench/lint_vs_rg.sh
#
# The corpus comes from the shared generator (seeded, with ground truth); the rg
# pass looks for the same markers the linter's prefilter uses, with -l (stop at the
# first match per file) so it is the cheapest honest floor: walk, read, match.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=${KIT:-$ROOT/../shared/bench}
FILES=${FILES:-20000}
SEED=${SEED:-1}
RUNS=${RUNS:-10}
JOBS=${JOBS:-2}
WORK=${WORK:-/tmp/kling-bench}
CORPUS=$WORK/corpus-$FILES-s$SEED

command -v hyperfine >/dev/null && command -v rg >/dev/null && [ -x /usr/bin/time ] || {
  apt-get update -qq && apt-get install -y -qq ripgrep hyperfine time >/dev/null
}
(cd "$ROOT" && cargo build --release -q -p kling-preflight)
BIN=$ROOT/target/release/kling-preflight

stamp="files=$FILES seed=$SEED gen=$(sha256sum "$KIT/gen_corpus.py" | cut -c1-16)"
if [ ! -f "$CORPUS/.stamp" ] || [ "$(cat "$CORPUS/.stamp")" != "$stamp" ]; then
  python3 "$KIT/gen_corpus.py" --out "$CORPUS" --files "$FILES" --kling-fraction 0.02 --seed "$SEED"
  echo "$stamp" > "$CORPUS/.stamp"
fi
cd "$CORPUS/repo"
find . -type f -print0 | xargs -0 cat > /dev/null   # warm the page cache

RG=(rg -l --threads "$JOBS" -e kling -e Kling -e KLING -e /v1/videos/ -e /v1/images/ -e text2video
    -e task_status -e model_name -e cfg_scale -e camera_control -e image_tail -e negative_prompt .)
LINT=("$BIN" lint --format json --exit-zero --jobs "$JOBS" .)

echo "host: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $FILES files, $(du -sm . | cut -f1) MB"
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$WORK/lint_vs_rg.json" \
  -n rg "$(printf '%q ' "${RG[@]}")" -n kling-preflight "$(printf '%q ' "${LINT[@]}")"
for cmd in rg kling; do
  if [ $cmd = rg ]; then c=("${RG[@]}"); else c=("${LINT[@]}"); fi
  /usr/bin/time -v "${c[@]}" 2> "$WORK/$cmd.time" > /dev/null || true
  echo "$cmd peak RSS: $(awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}' "$WORK/$cmd.time")"
done
python3 - "$WORK/lint_vs_rg.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
rg, kp = r["rg"], r["kling-preflight"]
print(f"median wall: rg {rg['median']*1000:.0f} ms, kling-preflight {kp['median']*1000:.0f} ms "
      f"-> ratio {kp['median']/rg['median']:.2f}x")
print(f"mean CPU (user+sys): rg {(rg['user']+rg['system'])*1000:.0f} ms, "
      f"kling-preflight {(kp['user']+kp['system'])*1000:.0f} ms")
PY
echo "where the linter's time goes (single-threaded phases):"
(cd "$ROOT" && cargo run --release -q -p kling-lint --example parse_stats -- "$CORPUS/repo")
