# Shared by the bench scripts: source it after setting runs (how many timed
# runs) and work (a scratch directory).

# measure CMD...: runs CMD once to warm the page cache, then $runs times,
# and prints "wall cpu rss_mb" of the fastest run, from /usr/bin/time -v
# (peak RSS is the largest process of the tree).
measure() {
  local best="" out tmp=$work/time.txt
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    /usr/bin/time -v -o "$tmp" "$@" >/dev/null 2>&1 || true
    out=$(cat "$tmp")
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' <<<"$out")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' <<<"$out")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' <<<"$out")
    if [ -z "$best" ] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
      best="$wall $cpu $rss"
    fi
  done
  echo "$best"
}
