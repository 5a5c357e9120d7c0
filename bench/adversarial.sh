#!/usr/bin/env bash
# Scans blobs built to be slow to scan (BenchmarkAdversarial in detectors/:
# key ids, secrets, both, keywords, base64 runs, nested encodings, percent
# escapes, one long line, and a configuration with huge allowlists) and
# prints a table of the speed of each, on one core.
#
#   bench/adversarial.sh [MIB]
#
# MIB is the size of each blob (default 25). MB/s is wall-clock speed;
# MB/cpu-s is by the CPU time the process used, which other load on the
# machine does not lower. No case may fall below 5 MB/s on one core: a
# 25 MiB blob in under 5 seconds. The exit status is 1 when one does (by
# CPU time). "truncated" counts AWS key ids paired under the work bound
# (detectors.Coverage.Truncated), "undecoded" encoded runs beyond the
# decode budget (Coverage.Undecoded).
set -euo pipefail
mib=${1:-25}
cd "$(dirname "$0")/.."
out=$(KEYSWEEP_ADVERSARIAL_MIB=$mib go test ./detectors -run '^$' -bench '^BenchmarkAdversarial$' \
  -benchtime 1x -cpu 1 -timeout 60m)
echo "blobs of $mib MiB, one core ($(go env GOOS)/$(go env GOARCH), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?))"
awk '
  /^BenchmarkAdversarial\// {
    name = $1; sub(/^BenchmarkAdversarial\//, "", name); sub(/-[0-9]+$/, "", name)
    wall = cpu = trunc = undec = "-"
    for (i = 2; i < NF; i++) {
      if ($(i+1) == "MB/s") wall = $i
      if ($(i+1) == "MB/cpu-s") cpu = $i
      if ($(i+1) == "truncated") trunc = $i
      if ($(i+1) == "undecoded") undec = $i
    }
    rows[++n] = sprintf("| %-22s | %9s | %9s | %9s | %9s |", name, wall, cpu, trunc, undec)
    if (cpu != "-" && cpu + 0 < 5) slow = slow " " name
  }
  END {
    printf "| %-22s | %9s | %9s | %9s | %9s |\n", "case", "MB/s", "MB/cpu-s", "truncated", "undecoded"
    printf "|%s|%s|%s|%s|%s|\n", "------------------------", "-----------", "-----------", "-----------", "-----------"
    for (i = 1; i <= n; i++) print rows[i]
    if (slow != "") { print "below 5 MB/s:" slow; exit 1 }
  }' <<<"$out"
