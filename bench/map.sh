#!/usr/bin/env bash
# The map points endpoint (GET /api/v1/map/points, clustered) over 100k items,
# on SQLite and/or PostgreSQL; target: p95 < 300 ms.
#   bench/map.sh                                   # both DBs, 100,000 points, zooms 12,13,14,16
#   bench/map.sh --db sqlite --points 100000
# Everything printed (cargo's build lines included) is also saved to
# bench/out/map-<date>.txt (gitignored). See bench/README.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
mkdir -p bench/out
out="bench/out/map-$(date +%Y%m%d-%H%M%S).txt"
echo "\$ cargo bench -p zhufang --bench map -- $*" | tee "$out"
cargo bench -p zhufang --bench map -- "$@" 2>&1 | tee -a "$out"
status=${PIPESTATUS[0]}
echo "saved: $out"
exit "$status"
