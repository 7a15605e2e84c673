#!/usr/bin/env bash
# muonlab's GPU check, for a machine with a GPU and nothing installed (no npm, no registry, no
# browser). Written by `npm run gpu-bundle` beside muonlab-gpu.tar.xz; run it there:
#
#   ./gpu-check.sh OUT_DIR
#
# Within GPU_CHECK_BUDGET_S seconds (default 540 = 9 minutes) it unpacks Node, Dawn and the muonlab
# CLI, then on the Node host (--host node) prints the adapter, runs `check`, benchmarks matmul
# (incl. 4096³), newton-schulz (incl. 16 × 1024), softmax-grad (incl. N = 100,000, d = 256) and
# fma-peak, and runs the `full` scale of b-balance-onestep, c-capacity-onestep and a-noiseless — each
# preset falling back to `quick` when the time left cannot hold `full` (said so in the summary).
# JSON results and summary.txt go to OUT_DIR.
#
# Vulkan: Dawn needs the loader libvulkan.so.1 (the bundle carries one, used only when the system
# has none) and a driver's ICD manifest; the CLI finds NVIDIA's under /usr/local/nvidia and the usual
# vulkan/icd.d folders when the loader does not, or takes VK_DRIVER_FILES as given.
#
# Knobs (for tests on a CPU adapter): GPU_CHECK_SCALE=ci|quick|full (the presets' scale, default
# full), GPU_CHECK_PRESETS="a b" (default the three above), GPU_CHECK_KERNELS (check: default all),
# GPU_CHECK_BENCH (default "matmul newton-schulz softmax-grad fma-peak"), GPU_CHECK_BENCH_ARGS
# (extra bench arguments, default the GPU shapes), GPU_CHECK_SMALL=1 (the CPU adapter's bench
# shapes instead of the GPU ones, one run each).
set -uo pipefail

OUT="${1:?usage: gpu-check.sh OUT_DIR}"
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BUDGET="${GPU_CHECK_BUDGET_S:-540}"
START=$(date +%s)
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

say() { echo "$*" | tee -a "$SUMMARY"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/muonlab-gpu.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
say "muonlab gpu-check: unpacking into $WORK"
if ! tar -xJf "$HERE/muonlab-gpu.tar.xz" -C "$WORK"; then
  say "FAILED: could not unpack $HERE/muonlab-gpu.tar.xz"
  exit 1
fi
cat "$WORK/BUNDLE.json" >"$OUT/bundle.json"

# The system's Vulkan loader when it has one; the bundle's otherwise.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "vulkan loader: the bundle's ($WORK/lib/libvulkan.so.1): the system has none"
else
  say "vulkan loader: the system's"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$WORK}"

# `timeout` runs programs, not shell functions: the CLI on the Node host as a small script.
printf '#!/bin/sh\nexec "%s/node" "%s/muonlab.mjs" "$@" --host node\n' "$WORK" "$WORK" >"$WORK/muonlab"
chmod +x "$WORK/muonlab"
muonlab="$WORK/muonlab"

# Runs one step for at most CAP seconds (and never past the budget); logs its output.
step() {
  local name="$1" cap="$2"
  shift 2
  local t=$(($(left) - 10))
  [ "$t" -gt "$cap" ] && t=$cap
  if [ "$t" -lt 20 ]; then
    say "SKIPPED $name: no time left (budget ${BUDGET}s)"
    return 124
  fi
  local t0
  t0=$(date +%s)
  timeout --kill-after=10 "$t" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  local took=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then say "ok      $name (${took}s)"; elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then say "TIMEOUT $name after ${took}s"; else say "FAILED  $name (exit $rc, ${took}s): see $name.log"; fi
  return $rc
}

# Caps as shares of the budget: env (with the kernel variant choice) 25 %, check 35 %, each bench
# 8 %; the presets share whatever is left.
step env $((BUDGET * 25 / 100)) "$muonlab" env --json "$OUT/env.json"
grep -E '^(host|runtime|adapter|          chosen)' "$OUT/env.log" | tee -a "$SUMMARY"
if [ ! -s "$OUT/env.json" ]; then
  say "no adapter: see env.log"
  exit 2
fi

# shellcheck disable=SC2086
step check $((BUDGET * 35 / 100)) "$muonlab" check ${GPU_CHECK_KERNELS:-} --json "$OUT/check.json"
grep -E '^[0-9]+ passed' "$OUT/check.log" | sed 's/^/        check: /' | tee -a "$SUMMARY"

BENCH="${GPU_CHECK_BENCH:-matmul newton-schulz softmax-grad fma-peak}"
for k in $BENCH; do
  if [ -n "${GPU_CHECK_SMALL:-}" ]; then
    args=(--runs 1)
  else
    case "$k" in
      matmul) args=(--shape 1024x1024x1024 --shape 4096x4096x4096) ;;
      newton-schulz) args=(--shape "16 x 256x256" --shape "16 x 1024x1024" --runs 5) ;;
      softmax-grad) args=(--shape N=4096,d=64 --shape N=100000,d=256 --shape "coupled N=999" --runs 3) ;;
      *) args=() ;;
    esac
  fi
  # shellcheck disable=SC2086
  step "bench-$k" $((BUDGET * 8 / 100)) "$muonlab" bench "$k" "${args[@]}" ${GPU_CHECK_BENCH_ARGS:-} --json "$OUT/bench-$k.json"
done

SCALE="${GPU_CHECK_SCALE:-full}"
PRESETS="${GPU_CHECK_PRESETS:-b-balance-onestep c-capacity-onestep a-noiseless}"
n=$(echo "$PRESETS" | wc -w)
i=0
for p in $PRESETS; do
  i=$((i + 1))
  # Each preset may use an equal share of what is left for the presets still to run.
  share=$(($(left) / (n - i + 1)))
  if step "run-$p-$SCALE" "$share" "$muonlab" run "$p" --scale "$SCALE" --out "$OUT/runs"; then
    :
  elif [ "$SCALE" = full ]; then
    say "        $p: full scale did not finish in its share (${share}s); running quick instead"
    share=$(($(left) / (n - i + 1)))
    step "run-$p-quick" "$share" "$muonlab" run "$p" --scale quick --out "$OUT/runs"
  fi
  for f in "$OUT"/runs/"$p"-*/summary.json; do
    [ -f "$f" ] && "$WORK/node" -e '
      const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const p = s.predictions || [];
      const count = (v) => p.filter((x) => (x.verdict ?? (x.agrees ? "agrees" : "disagrees")) === v).length;
      console.log(`        ${s.preset} ${s.scale}: ${count("agrees")} agree, ${count("disagrees")} disagree, ${count("inconclusive")} inconclusive of ${p.length}`);
    ' "$f" | tee -a "$SUMMARY"
  done
done
say "done in $(($(date +%s) - START))s (budget ${BUDGET}s); results in $OUT"
