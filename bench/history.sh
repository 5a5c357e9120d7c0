#!/usr/bin/env bash
# Times a full-history scan against reading every object with git, on the
# same repository in the same run, and prints the ratio.
#
#   bench/history.sh REPO [RUNS]
#
# The baseline is `git cat-file --batch-all-objects --batch`: the cost of
# reading every object once, which no history scanner can go below. Each
# command runs once to warm the page cache, then RUNS times (default 3);
# the fastest run counts. Wall and CPU seconds and peak RSS come from
# /usr/bin/time -v.
set -euo pipefail
repo=${1:?usage: bench/history.sh REPO [RUNS]}
runs=${2:-3}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/keysweep
go build -o "$bin" ./cmd/keysweep

# shellcheck source=bench/lib.sh
. bench/lib.sh

commits=$(git --git-dir "$repo" rev-list --all | wc -l)
read -r bw bc br < <(measure git --git-dir "$repo" cat-file --batch-all-objects --batch)
read -r kw kc kr < <(measure "$bin" git "$repo" --allow-missing --no-progress --format json --report /dev/null)
ratio=$(awk -v k="$kw" -v b="$bw" 'BEGIN{printf "%.2f", k/b}')
printf '| %-28s | %7s | %-34s | %6s s | %6s s | %5s MB | %5s |\n' repository commits command wall cpu rss ratio
printf '| %-28s | %7s | %-34s | %6s s | %6s s | %5s MB | %5s |\n' "$(basename "$(dirname "$repo")")" "$commits" "git cat-file --batch-all-objects" "$bw" "$bc" "$br" "1.00"
printf '| %-28s | %7s | %-34s | %6s s | %6s s | %5s MB | %5s |\n' "" "" "keysweep git" "$kw" "$kc" "$kr" "$ratio"
