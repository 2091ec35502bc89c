#!/usr/bin/env bash
# Point-to-grid routing: zhufang's GridIndex against PostgreSQL + PostGIS.
#   bench/routing.sh                                  # 1,000,000 points over 100×50 grids, both engines
#   bench/routing.sh --points 200000 --skip-postgis   # ours only, quick
#   bench/routing.sh --grids-x 200 --grids-y 100
# Installs Debian's postgresql-15-postgis-3 if missing (PostgreSQL 15 must be
# running on 127.0.0.1:5432, trust auth, user postgres, db test; --pg URL or
# ZF_BENCH_PG to change). Everything printed (cargo's build lines included)
# is also saved to bench/out/routing-<date>.txt (gitignored). See bench/README.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

skip_postgis=0
for a in "$@"; do [ "$a" = "--skip-postgis" ] && skip_postgis=1; done

pkg=postgresql-15-postgis-3
if [ "$skip_postgis" = 0 ] && ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo "+ apt-get update ($pkg has no install candidate)"
    $sudo apt-get update || exit 1
  fi
  echo "+ apt-get install -y $pkg"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" || exit 1
fi

mkdir -p bench/out
out="bench/out/routing-$(date +%Y%m%d-%H%M%S).txt"
echo "\$ cargo bench -p zhufang --bench routing -- $*" | tee "$out"
cargo bench -p zhufang --bench routing -- "$@" 2>&1 | tee -a "$out"
status=${PIPESTATUS[0]}
echo "saved: $out"
exit "$status"
