#!/usr/bin/env bash
# Stop the services started by services-start.sh [DIR] (PostgreSQL, Postfix, Dovecot), wait until their
# ports are free, and remove <repo>/.services/test.env. Succeeds when nothing is running.
# Afterwards only the logs remain (postfix.log, dovecot.log, server.log); the next start wipes them.
# Usage: services-stop.sh [DIR]   (default <repo>/.services)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/services-lib.sh"

svc_dirs "${1:-}"
[ -d "$DIR" ] || [ -d "${PG_CANDIDATES[1]}" ] || [ -d "${MAIL_CANDIDATES[1]}" ] || { rm -f "$ENV_FILE"; exit 0; }
svc_lock
rc=0
svc_stop_all || rc=1
if [ "$rc" -eq 0 ]; then
  rm -f "$STATE" "$ENV_FILE"
  # data, queues and Maildirs go; logs stay for inspection (the next start wipes everything)
  for d in "${MAIL_CANDIDATES[@]}"; do
    base=$([ -f "$d/dovecot.conf" ] && sed -n 's/^base_dir = //p' "$d/dovecot.conf" || true)
    case $base in /run/prospector-dovecot-*) rm -rf "$base" ;; esac
  done
  for d in "${PG_CANDIDATES[@]}" "${MAIL_CANDIDATES[@]}"; do svc_clean_dir "$d"; done
  echo "services-stop.sh: stopped" >&2
fi
exit "$rc"
