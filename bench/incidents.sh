#!/usr/bin/env bash
# Incidents taken in per second through HTTP (intake with routing, repeat-call
# lookup, triage suggestion, map item and audit), on SQLite and/or PostgreSQL.
#   bench/incidents.sh                                   # both DBs, 1000 incidents, concurrency 8
#   bench/incidents.sh --db sqlite --incidents 500 --concurrency 1,8
# Everything printed (cargo's build lines included) is also saved to
# bench/out/incidents-<date>.txt (gitignored). See bench/README.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
mkdir -p bench/out
out="bench/out/incidents-$(date +%Y%m%d-%H%M%S).txt"
echo "\$ cargo bench -p zhufang --bench incidents -- $*" | tee "$out"
cargo bench -p zhufang --bench incidents -- "$@" 2>&1 | tee -a "$out"
status=${PIPESTATUS[0]}
echo "saved: $out"
exit "$status"
