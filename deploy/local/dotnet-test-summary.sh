#!/usr/bin/env bash
# Run `dotnet test ARGS...`, show its output, and end with one plain line: "N passed, N failed, N skipped".
# Counts are summed over the VSTest per-project summary lines (xunit 2.x + Microsoft.NET.Test.Sdk):
#   "Passed!  - Failed:     0, Passed:     3, Skipped:     0, Total:     3, Duration: 170 ms - X.Tests.dll (net10.0)"
#   "Failed!  - Failed:     1, Passed:     2, ..."
# Exit status: dotnet's own if non-zero (e.g. build errors); otherwise 1 if any test failed or no test ran.
# If SUMMARY_FILE is set, the closing line is also written to that file.
# Usage: dotnet-test-summary.sh [dotnet test args...]
set -uo pipefail
export MSBUILDTERMINALLOGGER=off   # plain, parseable output even on a terminal

log=$(mktemp "${TMPDIR:-/tmp}/dotnet-test.XXXXXX")
trap 'rm -f "$log"' EXIT
dotnet test "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

read -r passed failed skipped projects < <(awk '
  /^[[:space:]]*(Passed|Failed|Skipped)! +- Failed: / {
    line = $0; gsub(/,/, " ", line); n = split(line, w, /[[:space:]]+/)
    for (i = 1; i < n; i++) {
      if (w[i] == "Failed:") f += w[i + 1]
      else if (w[i] == "Passed:") p += w[i + 1]
      else if (w[i] == "Skipped:") s += w[i + 1]
    }
    projects++
  }
  END { print p + 0, f + 0, s + 0, projects + 0 }' "$log")

echo
echo "---- test summary ($projects test project(s) reported) ----"
grep -E '^[[:space:]]+Failed [^ ]+ \[' "$log" | sed -E 's/^[[:space:]]+/  /' | sort -u || true
empty=$(grep -c '^No test is available in ' "$log" || true)
[ "$empty" -eq 0 ] || echo "$empty test assembly(ies) contain no tests"
grep -qE ': error [A-Z]+[0-9]+:' "$log" && echo "build errors: see the 'error' lines above"
[ "$rc" -ne 0 ] && echo "dotnet test exited with code $rc"
if [ $((passed + failed)) -eq 0 ]; then
  echo "no tests ran"
  [ "$rc" -ne 0 ] || rc=1
fi
[ "$failed" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
closing="$passed passed, $failed failed, $skipped skipped"
[ -z "${SUMMARY_FILE:-}" ] || echo "$closing" > "$SUMMARY_FILE"
echo "$closing"
exit "$rc"
