#!/usr/bin/env bash
# R1, the kill soak (docs/reliability.md): 2,000 email sends over 2 real worker processes on PostgreSQL, through the
# local Postfix into Dovecot's Maildirs, with ~50 kill -9 of a worker (each restarted at once); then duplicates and
# lost steps are counted and the R1 section of docs/reliability.md is rewritten.
#   1. uses the running local services (.services/test.env) if they answer, else starts them with
#      services-start.sh; stops them at the end only if this script started them (they are shared);
#   2. builds the bench (and the server it references) in Release;
#   3. runs `Prospector.Bench r1 [ARGS]` from the repository root.
# Usage: deploy/local/soak-r1.sh [--no-build] [r1 options: --sends 2000 --kills 50 --seed 1 --no-doc …; --help lists them]
# Exit code: the verb's (0 = 0 duplicates, 0 lost, no unexpected worker exit, no timeout), 2 for bad options, 1 otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
cd "$REPO"
export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1} DOTNET_NOLOGO=${DOTNET_NOLOGO:-1} \
  DOTNET_SKIP_FIRST_TIME_EXPERIENCE=${DOTNET_SKIP_FIRST_TIME_EXPERIENCE:-1}

build=1
args=()
for a in "$@"; do
  case $a in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

ENV_FILE=$REPO/.services/test.env
answers() {  # host:port accepts a TCP connection
  local host=${1%:*} port=${1##*:}
  [ -n "$host" ] && [ -n "$port" ] && (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}
services_up() {
  [ -f "$ENV_FILE" ] || return 1
  local pg smtp imap
  pg=$(sed -n 's/^PROSPECTOR_TEST_PG=//p' "$ENV_FILE")
  smtp=$(sed -n 's/^PROSPECTOR_TEST_SMTP=//p' "$ENV_FILE")
  imap=$(sed -n 's/^PROSPECTOR_TEST_IMAP=//p' "$ENV_FILE")
  pg=$(printf %s "$pg" | tr ';' '\n' | sed -n 's/^Host=//p'):$(printf %s "$pg" | tr ';' '\n' | sed -n 's/^Port=//p')
  answers "$pg" && answers "$smtp" && answers "$imap"
}

services_started=0
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$services_started" = 1 ]; then
    echo "soak-r1.sh: stopping the services this script started"
    bash "$HERE/services-stop.sh" || echo "warning: deploy/local/services-stop.sh failed" >&2
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

if services_up; then
  echo "soak-r1.sh: using the running services ($ENV_FILE); they stay up afterwards"
else
  echo "soak-r1.sh: services not answering; starting them (deploy/local/services-start.sh)"
  services_started=1
  bash "$HERE/services-start.sh"
fi

if [ "$build" = 1 ]; then
  dotnet build bench/Prospector.Bench -c Release -v q -nologo
fi

set +e
dotnet bench/Prospector.Bench/bin/Release/net10.0/Prospector.Bench.dll r1 "${args[@]}"
rc=$?
set -e
exit "$rc"
