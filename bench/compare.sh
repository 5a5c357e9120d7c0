#!/usr/bin/env bash
# Compares the history scan of two revisions of keysweep on one repository,
# in one run: the two builds and the baseline take turns, RUNS rounds, so
# that whatever else the machine does weighs on both alike.
#
#   bench/compare.sh REPO BEFORE AFTER [RUNS]
#
# BEFORE and AFTER are git revisions of this repository (AFTER may be
# "worktree" for the files as they are). The baseline is `git cat-file
# --batch-all-objects --batch`. Each round times the baseline, BEFORE and
# AFTER once (after one warm-up of each); the table gives each one's
# fastest and median wall time, and AFTER's cost over BEFORE.
set -euo pipefail
repo=${1:?usage: bench/compare.sh REPO BEFORE AFTER [RUNS]}
before=${2:?usage: bench/compare.sh REPO BEFORE AFTER [RUNS]}
after=${3:?usage: bench/compare.sh REPO BEFORE AFTER [RUNS]}
runs=${4:-3}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'git worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

build() { # REV OUT
  if [ "$1" = worktree ]; then
    go build -o "$2" ./cmd/keysweep
    return
  fi
  git worktree add -q --detach "$work/tree" "$1"
  (cd "$work/tree" && go build -o "$2" ./cmd/keysweep)
  git worktree remove --force "$work/tree"
}
build "$before" "$work/before"
build "$after" "$work/after"

wall() { # CMD...: prints the wall seconds of one run
  /usr/bin/time -f %e -o "$work/t" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$work/t"
}
base=(git --git-dir "$repo" cat-file --batch-all-objects --batch)
scan=(git "$repo" --allow-missing --no-progress --format json --report /dev/null)
"${base[@]}" >/dev/null; "$work/before" "${scan[@]}" >/dev/null 2>&1 || true; "$work/after" "${scan[@]}" >/dev/null 2>&1 || true
for _ in $(seq "$runs"); do
  wall "${base[@]}" >>"$work/base.txt"
  wall "$work/before" "${scan[@]}" >>"$work/before.txt"
  wall "$work/after" "${scan[@]}" >>"$work/after.txt"
done
stats() { sort -n "$1" | awk '{v[NR]=$1} END {printf "%s %s\n", v[1], v[int((NR+1)/2)]}'; }
read -r bmin bmed < <(stats "$work/base.txt")
read -r xmin xmed < <(stats "$work/before.txt")
read -r ymin ymed < <(stats "$work/after.txt")
printf '| %-34s | %8s | %8s | %13s |\n' command fastest median "ratio (median)"
printf '| %-34s | %6s s | %6s s | %13s |\n' "git cat-file --batch-all-objects" "$bmin" "$bmed" 1.00
printf '| %-34s | %6s s | %6s s | %13s |\n' "keysweep $before" "$xmin" "$xmed" "$(awk -v a="$xmed" -v b="$bmed" 'BEGIN{printf "%.2f", a/b}')"
printf '| %-34s | %6s s | %6s s | %13s |\n' "keysweep $after" "$ymin" "$ymed" "$(awk -v a="$ymed" -v b="$bmed" 'BEGIN{printf "%.2f", a/b}')"
awk -v a="$ymed" -v b="$xmed" 'BEGIN{printf "after costs %+.1f%% of before (medians)\n", (a/b-1)*100}'
