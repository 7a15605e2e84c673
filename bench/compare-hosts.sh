#!/usr/bin/env bash
# The browser host and the Node host side by side on this machine (issue 11's figures): matmul
# 1024³ GFLOP/s (the registry's chosen variant, 10 runs), the wall time of three population Muon
# steps of c-capacity-onestep's d = 256 cell (bench/configs/muon-step-d256.json: gradient on the GPU,
# exact polar factor), and the wall time of `muonlab run b-balance-onestep --scale ci`. Each figure
# is measured for both hosts back to back; the load average is printed with them (the machine is
# shared: compare within one run). Usage: bench/compare-hosts.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-$(mktemp -d)}"
mkdir -p "$OUT"
muonlab() { node bin/muonlab.js "$@"; }
now() { date +%s.%N; }
for host in browser node; do
  echo "== $host (load $(cut -d' ' -f1-3 /proc/loadavg))"
  muonlab env --host "$host" --json "$OUT/env-$host.json" >/dev/null 2>&1
  muonlab bench matmul --host "$host" --shape 1024x1024x1024 --runs 10 --json "$OUT/matmul-$host.json" >/dev/null 2>&1
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1])).rows.filter((x) => x.chosen); for (const x of r) console.log(`matmul 1024³ ${x.variant}: ${x.gflops.toFixed(2)} GFLOP/s (median ${x.medianMs.toFixed(1)} ms)`)' "$OUT/matmul-$host.json"
  t0=$(now); muonlab run bench/configs/muon-step-d256.json --host "$host" --out "$OUT/muon-$host" >/dev/null 2>&1; t1=$(now)
  node -e 'const fs = require("fs"), p = require("path"); const dir = p.join(process.argv[1], "muon-step-d256", "cells"); const c = fs.readdirSync(dir)[0]; const s = JSON.parse(fs.readFileSync(p.join(dir, c, "summary.json"))); console.log(`muon step d=256: ${(s.elapsedMs / s.steps).toFixed(0)} ms per step inside the run (${s.steps} steps), command ${(process.argv[2]).slice(0, 6)} s`)' "$OUT/muon-$host" "$(echo "$t1 - $t0" | bc)"
  t0=$(now); muonlab run b-balance-onestep --scale ci --host "$host" --out "$OUT/bb-$host" >/dev/null 2>&1; t1=$(now)
  echo "b-balance-onestep ci: $(echo "$t1 - $t0" | bc | cut -c1-6) s wall (whole command)"
done
echo "results in $OUT"
