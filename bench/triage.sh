#!/usr/bin/env bash
# Triage: zhufang-triage vs scikit-learn (TF-IDF + LinearSVC), trained on the
# same corpus (exported from the Rust crate), evaluated on the same labelled
# messages; accuracy and classification throughput of both, same machine.
#   bench/triage.sh                        # char n-gram baseline
#   bench/triage.sh --jieba                # also the jieba-words + bigrams baseline (parity with ours)
#   bench/triage.sh --eval FILE.tsv        # another evaluation set (default: the 495 reference messages)
# Everything printed is also saved to bench/out/triage-<date>.txt (gitignored).
# See bench/README.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
eval_file="${ZF_TRIAGE_EVAL:-/work/shared/reference/hotline-messages-495.tsv}"
repeat=5
jieba=0
while [ $# -gt 0 ]; do
    case "$1" in
        --eval) eval_file="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --jieba) jieba=1; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -f "$eval_file" ] || { echo "no evaluation file $eval_file (--eval FILE)" >&2; exit 2; }
mkdir -p bench/out
out="bench/out/triage-$(date +%Y%m%d-%H%M%S).txt"
corpus="bench/out/triage-corpus.tsv"
venv="bench/triage/.venv"
{
    echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' + working tree changes')"
    echo "# eval: $eval_file"
} | tee "$out"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || exit 1
fi
if ! "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
    "$venv/bin/pip" install -q "scikit-learn==1.9.1" || exit 1
fi
if [ "$jieba" = 1 ] && ! "$venv/bin/python" -c 'import jieba' 2>/dev/null; then
    "$venv/bin/pip" install -q "jieba==0.42.1" || exit 1
fi

cargo build --release -q -p zhufang-triage --example triage_bench || exit 1
bin=target/release/examples/triage_bench
$bin corpus --out "$corpus" | tee -a "$out"

echo "## zhufang-triage (shipped model, release build, 1 thread)" | tee -a "$out"
$bin eval --data "$eval_file" --repeat "$repeat" | tee "bench/out/triage-ours.txt" | tee -a "$out"

echo "## scikit-learn TF-IDF char 1-2-grams + LinearSVC" | tee -a "$out"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" bench/triage/bench.py \
    --train "$corpus" --eval "$eval_file" --repeat "$repeat" --features char | tee "bench/out/triage-sk-char.txt" | tee -a "$out"
if [ "$jieba" = 1 ]; then
    echo "## scikit-learn TF-IDF jieba words + char bigrams + LinearSVC" | tee -a "$out"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" bench/triage/bench.py \
        --train "$corpus" --eval "$eval_file" --repeat "$repeat" --features jieba | tee "bench/out/triage-sk-jieba.txt" | tee -a "$out"
fi

val() { grep -m1 "^$1=" "$2" | cut -d= -f2; }
{
    echo
    echo "| engine | accuracy | texts/s |"
    echo "|---|---:|---:|"
    echo "| zhufang-triage | $(val accuracy bench/out/triage-ours.txt) | $(val texts_per_s bench/out/triage-ours.txt) |"
    echo "| sklearn char 1-2 + LinearSVC | $(val accuracy bench/out/triage-sk-char.txt) | $(val texts_per_s bench/out/triage-sk-char.txt) |"
    if [ "$jieba" = 1 ]; then
        echo "| sklearn jieba + bigrams + LinearSVC | $(val accuracy bench/out/triage-sk-jieba.txt) | $(val texts_per_s bench/out/triage-sk-jieba.txt) |"
    fi
} | tee -a "$out"
echo "saved: $out"
