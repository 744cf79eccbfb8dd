#!/usr/bin/env bash
# The project's single test command (also what CI runs, via .ci/run):
#   install missing Debian packages, start PostgreSQL/Postfix/Dovecot on free loopback ports, export
#   PROSPECTOR_TEST_PG/SMTP/IMAP, run `dotnet test Prospector.sln -c Release [ARGS]`, stop the services.
# Last line of output: "N passed, N failed, N skipped". Exit non-zero if a test failed, the build failed,
# no test ran, or the services could not be installed/started.
# Usage: deploy/local/test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~Storage]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1} DOTNET_NOLOGO=${DOTNET_NOLOGO:-1} \
  DOTNET_SKIP_FIRST_TIME_EXPERIENCE=${DOTNET_SKIP_FIRST_TIME_EXPERIENCE:-1}

SUMMARY_FILE=$(mktemp "${TMPDIR:-/tmp}/prospector-summary.XXXXXX"); export SUMMARY_FILE
stop_log=$(mktemp "${TMPDIR:-/tmp}/prospector-stop.XXXXXX")
services_started=0
finish() {
  local rc=$? after=0
  trap - EXIT INT TERM
  if [ "$services_started" = 1 ] && ! bash "$HERE/services-stop.sh" >"$stop_log" 2>&1; then
    echo "warning: deploy/local/services-stop.sh failed:"; cat "$stop_log"; after=1
  fi
  if [ ! -s "$SUMMARY_FILE" ]; then
    echo "tests did not run (exit code $rc)"
    [ "$rc" -ne 0 ] || rc=1
    echo "0 passed, 0 failed"
  elif [ "$after" = 1 ]; then
    cat "$SUMMARY_FILE"   # keep the closing line last
  fi
  rm -f "$SUMMARY_FILE" "$stop_log"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$HERE/install-deps.sh"
services_started=1
bash "$HERE/services-start.sh"
while IFS= read -r line; do
  case $line in ''|'#'*) continue ;; *=*) export "${line%%=*}=${line#*=}" ;; esac
done < "$REPO/.services/test.env"

rc=0
bash "$HERE/dotnet-test-summary.sh" Prospector.sln -c Release "$@" || rc=$?
exit "$rc"
