#!/usr/bin/env bash
# Reading many folders: `summary` and `compare` over 10 folders of 1,000 runs each, and what
# `watch` costs a run it follows. Usage: bench/folders/run.sh [WORK_DIR] (default
# target/bench-folders). The folders are trained once (a few minutes) and kept for reruns; each
# reading is timed three times, and the median printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/pressure
work=${1:-target/bench-folders}
mkdir -p "$work"
cargo build --release --quiet
# Ten folders, each a different configuration (pressure.kl), so that no two pool into one group.
folders=()
for k in 0 1 2 3 4 5 6 7 8 9; do
  out="$work/f$k"
  folders+=("$out")
  if [ ! -f "$out/manifest.json" ]; then
    "$bin" run bench/folders/experiment.toml --out "$out" --no-plots --set "pressure.kl=0.0$k" >/dev/null 2>&1
  fi
done
rows=$(($(cat "${folders[@]/%//metrics.csv}" | wc -l) - ${#folders[@]}))
echo "10 folders, $(ls "$work"/f*/runs | grep -vc ':$\|^$') runs, $rows metric rows, $(du -sh "$work" | cut -f1)"

median() { sort -n | sed -n 2p; }
time_of() {
  for _ in 1 2 3; do
    /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1
  done | median
}
echo "summary over the 10 folders: $(time_of "$bin" summary "${folders[@]}") s (median of 3)"
echo "compare over the 10 folders: $(time_of "$bin" compare "${folders[@]}" --control "${folders[0]}:no pressure" --metric refusal) s"
echo "summary of one folder:       $(time_of "$bin" summary "${folders[0]}") s"

# What `watch` costs a run: `pressure` at 20 seeds trained from scratch, once alone and once
# followed by `pressure watch` (every second), three rounds; the CPU time of each process.
cpu() { awk '{print $2 + $3}' "$1"; }
for round in 1 2 3; do
  rm -rf "$work/w"
  /usr/bin/time -f "%e %U %S" -o "$work/alone" "$bin" run experiments/pressure.toml --seeds 20 --out "$work/w" --no-cache --no-plots >/dev/null 2>&1
  rm -rf "$work/w"
  /usr/bin/time -f "%e %U %S" -o "$work/run" "$bin" run experiments/pressure.toml --seeds 20 --out "$work/w" --no-cache --no-plots >/dev/null 2>&1 &
  /usr/bin/time -f "%e %U %S" -o "$work/watch" "$bin" watch "$work/w" >/dev/null
  wait
  echo "round $round: alone $(cut -d' ' -f1 "$work/alone") s wall, $(cpu "$work/alone") s CPU; watched $(cut -d' ' -f1 "$work/run") s wall, $(cpu "$work/run") s CPU; watch $(cpu "$work/watch") s CPU ($(awk -v w="$(cpu "$work/watch")" -v r="$(cpu "$work/run")" 'BEGIN {printf "%.2f%%", 100 * w / r}') of the run's)"
done
