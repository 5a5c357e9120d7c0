#!/usr/bin/env bash
# Times keysweep's pre-receive hook on real pushes to a copy of a real
# repository, against a hook that does nothing, in the same run.
#
#   bench/prereceive.sh REPO [RUNS] [COMMITS]
#
# REPO is a bare repository (a mirror). Two pushes are measured, each RUNS
# times (default 5), reporting the median:
#   1. one new commit changing 3 files, pushed to a copy of REPO with all
#      its refs (the hook must exclude every one of them);
#   2. the last COMMITS (default 1000) commits of HEAD's history, pushed to
#      a server that has HEAD's history up to them only.
# The hook times itself from the shell (process start to exit, so keysweep's
# start-up counts) and then refuses the push, so that every run pushes the
# same new objects to the same server. The baseline hook reads its input
# and exits; "push" is the whole git push, hook included.
set -euo pipefail
src=${1:?usage: bench/prereceive.sh REPO [RUNS] [COMMITS]}
runs=${2:-5}
many=${3:-1000}
src=$(git --git-dir "$src" rev-parse --absolute-git-dir)
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/keysweep" ./cmd/keysweep
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

# hook SERVER KIND: installs the timing hook; KIND is keysweep or noop.
hook() {
  local check='cat >/dev/null; rc=0'
  if [ "$2" = keysweep ]; then
    check="\"$work/keysweep\" hook pre-receive --audit-log \"$work/audit.jsonl\" >/dev/null 2>\"$work/hook.err\"; rc=\$?"
  fi
  cat >"$1/hooks/pre-receive" <<EOF
#!/bin/sh
start=\$(date +%s%N)
$check
end=\$(date +%s%N)
echo "\$(( (end - start) / 1000000 )) \$rc" >>"$work/hook.times"
exit 1
EOF
  chmod +x "$1/hooks/pre-receive"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure SERVER PUSH...: runs the push RUNS times with each hook; prints
# "hook_ms push_ms" medians for keysweep and the baseline, and keysweep's
# last exit code.
measure() {
  local server=$1; shift
  for kind in noop keysweep; do
    hook "$server" "$kind"
    : >"$work/hook.times"
    : >"$work/push.times"
    "$@" >/dev/null 2>&1 || true # warm the page cache
    : >"$work/hook.times"
    for _ in $(seq "$runs"); do
      local t0 t1
      t0=$(date +%s%N)
      "$@" >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      echo $(( (t1 - t0) / 1000000 )) >>"$work/push.times"
    done
    echo "$kind $(awk '{print $1}' "$work/hook.times" | median) $(median <"$work/push.times") $(tail -1 "$work/hook.times" | awk '{print $2}')"
  done
}

row() { printf '| %-52s | %8s | %8s | %8s | %8s | %5s |\n' "$@"; }
row push "noop hook" "keysweep" "push" "push+ks" "exit"
row "" "ms" "ms" "ms" "ms" ""

# 1. One commit on top of HEAD, on a server with every ref of REPO.
git clone -q --mirror "$src" "$work/full.git"
git clone -q --bare --shared "$work/full.git" "$work/client.git"
base=$(git --git-dir "$work/client.git" rev-parse HEAD)
mapfile -t files < <(git --git-dir "$work/client.git" ls-tree -r --name-only "$base" | grep -E '\.(go|md|ya?ml)$' | head -3)
n=0
one_commit() {
  n=$((n + 1))
  export GIT_INDEX_FILE=$work/index
  git --git-dir "$work/client.git" read-tree "$base"
  for f in "${files[@]}"; do
    blob=$({ git --git-dir "$work/client.git" cat-file blob "$base:$f"; echo "bench change $n $RANDOM"; } | git --git-dir "$work/client.git" hash-object -w --stdin)
    git --git-dir "$work/client.git" update-index --cacheinfo "100644,$blob,$f"
  done
  tree=$(git --git-dir "$work/client.git" write-tree)
  unset GIT_INDEX_FILE
  commit=$(git --git-dir "$work/client.git" commit-tree -p "$base" -m "bench $n" "$tree")
  git --git-dir "$work/client.git" push -q "$work/full.git" "$commit:refs/heads/bench"
}
refs=$(git --git-dir "$work/full.git" for-each-ref | wc -l)
commits=$(git --git-dir "$work/full.git" rev-list --all | wc -l)
out=$(measure "$work/full.git" one_commit)
read -r _ nh np _ <<<"$(head -1 <<<"$out")"
read -r _ kh kp kx <<<"$(tail -1 <<<"$out")"
row "1 commit, 3 files; server: $commits commits, $refs refs" "$nh" "$kh" "$np" "$kp" "$kx"

# 2. The last $many commits of HEAD, to a server that lacks them.
# The first-parent ancestor of HEAD with about $many commits after it (merges
# bring in more than one each), found by bisection.
mapfile -t line < <(git --git-dir "$src" rev-list --first-parent HEAD)
lo=1 hi=$((${#line[@]} - 1))
while [ "$lo" -lt "$hi" ]; do
  mid=$(((lo + hi) / 2))
  if [ "$(git --git-dir "$src" rev-list --count "${line[$mid]}..HEAD")" -lt "$many" ]; then lo=$((mid + 1)); else hi=$mid; fi
done
tip=${line[$lo]}
added=$(git --git-dir "$src" rev-list --count "$tip..HEAD")
git init -q --bare "$work/partial.git"
# Packed by hand rather than fetched: a mirror may lack a few old blobs
# (like a partial clone), which a fetch refuses and this tolerates.
echo "$tip" | git --git-dir "$src" pack-objects -q --revs --missing=allow-any "$work/partial.git/objects/pack/pack" >/dev/null
git --git-dir "$work/partial.git" update-ref refs/heads/main "$tip"
behind=$(git --git-dir "$work/partial.git" rev-list --count main)
push_many() { git --git-dir "$src" push -q "$work/partial.git" "HEAD:refs/heads/main"; }
out=$(measure "$work/partial.git" push_many)
read -r _ nh np _ <<<"$(head -1 <<<"$out")"
read -r _ kh kp kx <<<"$(tail -1 <<<"$out")"
row "$added commits; server: $behind commits" "$nh" "$kh" "$np" "$kp" "$kx"
echo "(exit: keysweep's exit code, 0 clean, 1 findings; hook.err of the last run:)"
sed 's/^/  /' "$work/hook.err"
