#!/usr/bin/env bash
# Task transitions per second through HTTP, on SQLite and/or PostgreSQL.
#   bench/transitions.sh                                   # both DBs, 400 tasks, concurrency 8
#   bench/transitions.sh --db sqlite --tasks 200 --concurrency 1,8
# Everything printed (cargo's build lines included) is also saved to
# bench/out/transitions-<date>.txt (gitignored). See bench/README.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
mkdir -p bench/out
out="bench/out/transitions-$(date +%Y%m%d-%H%M%S).txt"
echo "\$ cargo bench -p zhufang --bench transitions -- $*" | tee "$out"
cargo bench -p zhufang --bench transitions -- "$@" 2>&1 | tee -a "$out"
status=${PIPESTATUS[0]}
echo "saved: $out"
exit "$status"
