#!/usr/bin/env bash
# peers.sh: the linter against its peers (ripgrep as a floor, ast-grep, semgrep) on
# the shared benchmark kit's seeded corpus, in one run: median wall time of several
# runs, peak RSS, and precision/recall against the corpus's ground truth.
#
#   bench/peers.sh                    # 20 000 files, 3 runs per tool
#   FILES=2000 RUNS=5 bench/peers.sh
#
# It installs the peers into /tmp (semgrep from PyPI, ast-grep from npm) with the
# kit's install_peers.sh, then runs the kit's run_peers.sh with the linter added.
# The peers' rules for KL101, KL201, KL202, KL301 and KL401 live in the kit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=${KIT:-$ROOT/../shared/bench}
export FILES=${FILES:-20000} RUNS=${RUNS:-3} JOBS=${JOBS:-2} WORK=${WORK:-/tmp/kling-bench}

bash "$KIT/install_peers.sh"
(cd "$ROOT" && cargo build --release -q -p kling-preflight)
export KLING_BIN=$ROOT/target/release/kling-preflight
export KLING_CMD="$KLING_BIN lint --format json --exit-zero --jobs $JOBS ."
TOOLS="rg ast-grep semgrep kling" bash "$KIT/run_peers.sh" --reuse "$@"

# The kit's ground truth models KL401 for Python `requests` only; the linter also
# reports fetch/axios/net/http/reqwest calls to Kling without a timeout (SPEC's
# KL401). Score once more on the peers' footing: KL401 findings outside Python dropped.
OUT=$WORK/results-$FILES-s${SEED:-1}
python3 - "$OUT/kling.json" "$OUT/kling-python-kl401.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["diagnostics"] = [d for d in doc["diagnostics"] if d["rule"] != "KL401" or d["path"].endswith(".py")]
json.dump(doc, open(sys.argv[2], "w"))
PY
echo
echo "on the peers' footing (KL401 limited to Python, as the ground truth is):"
python3 "$KIT/score.py" --truth "$WORK/corpus-$FILES-s${SEED:-1}" --tool kling --format kling "$OUT/kling-python-kl401.json"
