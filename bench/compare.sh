#!/usr/bin/env bash
# Times keysweep against other scanners on the same repository, in the same
# run, with reading every object once as the baseline.
#
#   GITLEAKS=/path/to/gitleaks TRUFFLEHOG=/path/to/trufflehog bench/compare.sh REPO [RUNS]
#
# REPO is a bare repository (a mirror). Scanners not given (or not on
# PATH) are left out. Every command runs once to warm the page cache, then
# RUNS times (default 3); the fastest run counts. Wall and CPU seconds and
# peak RSS come from /usr/bin/time -v. Findings are counted as each tool
# counts them: keysweep once per secret and path, where it was introduced;
# gitleaks once per commit that adds the line; trufflehog once per
# (commit, file) chunk.
set -euo pipefail
repo=${1:?usage: bench/compare.sh REPO [RUNS]}
runs=${2:-3}
repo=$(git --git-dir "$repo" rev-parse --absolute-git-dir)
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/keysweep" ./cmd/keysweep
gitleaks=${GITLEAKS:-$(command -v gitleaks || true)}
trufflehog=${TRUFFLEHOG:-$(command -v trufflehog || true)}

# shellcheck source=bench/lib.sh
. bench/lib.sh

row() { printf '| %-40s | %7s s | %7s s | %6s MB | %6s | %8s |\n' "$@"; }
count() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d))' "$1" 2>/dev/null || echo "?"; }
jsonl_count() { wc -l <"$1" | tr -d ' '; }

echo "repository: $repo ($(git --git-dir "$repo" rev-list --all | wc -l) commits, $(git --git-dir "$repo" for-each-ref | wc -l) refs)"
printf '| %-40s | %9s | %9s | %9s | %6s | %8s |\n' command wall cpu "peak RSS" ratio findings
read -r bw bc br < <(measure git --git-dir "$repo" cat-file --batch-all-objects --batch)
row "git cat-file --batch-all-objects --batch" "$bw" "$bc" "$br" "1.00" "-"
ratio() { awk -v k="$1" -v b="$bw" 'BEGIN{printf "%.2f", k/b}'; }

read -r w c r < <(measure "$work/keysweep" git "$repo" --no-progress --format json --report "$work/ks.json")
row "keysweep git" "$w" "$c" "$r" "$(ratio "$w")" "$(count "$work/ks.json")"

if [ -n "$gitleaks" ]; then
  read -r w c r < <(measure "$gitleaks" git "$repo" --no-banner --redact --exit-code 0 --log-level error --report-format json --report-path "$work/gl.json")
  row "gitleaks git ($("$gitleaks" version 2>/dev/null | head -1))" "$w" "$c" "$r" "$(ratio "$w")" "$(count "$work/gl.json")"
fi
if [ -n "$trufflehog" ]; then
  # trufflehog wants a repository with a work tree and an index: a copy of
  # every ref of REPO with HEAD checked out (it clones it again itself).
  git init -q -b keysweep-bench-none "$work/th"
  git -C "$work/th" fetch -q "$repo" '+refs/*:refs/*'
  git -C "$work/th" symbolic-ref HEAD "$(git --git-dir "$repo" symbolic-ref HEAD)"
  git -C "$work/th" reset -q --hard
  read -r w c r < <(measure sh -c "\"$trufflehog\" git \"file://$work/th\" --no-verification --json --no-update >\"$work/th.jsonl\"")
  row "trufflehog git --no-verification" "$w" "$c" "$r" "$(ratio "$w")" "$(jsonl_count "$work/th.jsonl")"
fi
