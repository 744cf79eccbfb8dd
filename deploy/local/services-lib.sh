# Shared by services-start.sh and services-stop.sh (sourced, not run).
# Layout for a services DIR (default <repo>/.services):
#   DIR/pg    PostgreSQL 15 (data/, server.log)      or /var/tmp/prospector-pg-<hash>   if 'postgres' cannot reach DIR
#   DIR/mail  Postfix + Dovecot (configs, Maildirs)  or /var/tmp/prospector-mail-<hash> if mail/postfix/dovecot cannot
#   DIR/services.state  chosen dirs and ports (read by services-stop.sh)
# <hash> is derived from DIR's absolute path, so stop finds an instance even without the state file.

PGBIN=/usr/lib/postgresql/15/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ENV_FILE=$REPO/.services/test.env
LOCK_FILE=/var/tmp/prospector-services.lock

svc_dirs() {  # $1 = DIR or empty
  DIR=$(realpath -m -- "${1:-$REPO/.services}")
  HASH=$(printf %s "$DIR" | sha256sum | cut -c1-12)
  PG_CANDIDATES=("$DIR/pg" "/var/tmp/prospector-pg-$HASH")
  MAIL_CANDIDATES=("$DIR/mail" "/var/tmp/prospector-mail-$HASH")
  STATE=$DIR/services.state
}

svc_lock() {  # serialise start/stop (port choice) across checkouts; fd 9 must not leak into daemons
  exec 9>"$LOCK_FILE"
  flock -w 120 9 || { echo "timed out waiting for $LOCK_FILE" >&2; exit 1; }
}

# Alive = exists and is not a zombie (daemons are re-parented to PID 1, which may reap them late).
# Directories we create carry this marker; we never wipe a directory without it (e.g. a DIR of ~ and ~/mail).
MARK=.prospector-services
svc_fresh_dir() {  # wipe (only if ours) and recreate
  if [ -e "$1" ] && [ ! -e "$1/$MARK" ]; then
    echo "refusing to delete $1: it was not created by deploy/local/services-start.sh (no $MARK)" >&2; return 1
  fi
  rm -rf "$1"; mkdir -p "$1"; touch "$1/$MARK"
}
svc_clean_dir() {  # after a clean stop: keep only the logs
  [ -e "$1/$MARK" ] || return 0
  find "$1" -mindepth 1 -maxdepth 1 ! -name '*.log' ! -name "$MARK" -exec rm -rf {} +
}

pid_alive() {
  local st
  [ -n "${1:-}" ] && st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}
pid_from() { [ -f "$1" ] && head -n1 "$1" | tr -dc 0-9 || true; }

wait_pid_gone() {  # pid, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
  return 1
}

port_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# Stop whatever instance belongs to DIR (any candidate location). Returns non-zero if something survives.
# Signals go straight to the daemons' masters (pids from their pid files), as pg_ctl/postfix/doveadm stop
# would send them, but without those tools' 1 s polling; all three shut down in parallel.
svc_stop_all() {
  local d pid base ok=0 i p
  local -a pids=() names=() hard=()
  for d in "${PG_CANDIDATES[@]}"; do
    pid=$(pid_from "$d/data/postmaster.pid")
    pid_alive "$pid" && { pids+=("$pid"); names+=("PostgreSQL ($d)"); hard+=(QUIT); }   # INT = fast, QUIT = immediate
  done
  for d in "${MAIL_CANDIDATES[@]}"; do
    pid=$(pid_from "$d/spool/pid/master.pid")
    pid_alive "$pid" && { pids+=("$pid"); names+=("Postfix ($d)"); hard+=(KILL); }
    [ -f "$d/dovecot.conf" ] && base=$(sed -n 's/^base_dir = //p' "$d/dovecot.conf") || base=
    pid=; [ -z "$base" ] || pid=$(pid_from "$base/master.pid")
    pid_alive "$pid" && { pids+=("$pid"); names+=("Dovecot ($d)"); hard+=(KILL); }
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for i in "${!pids[@]}"; do
    if [ "${hard[$i]}" = QUIT ]; then kill -INT "${pids[$i]}" 2>/dev/null || true
    else kill -TERM "${pids[$i]}" 2>/dev/null || true; fi
  done
  for i in "${!pids[@]}"; do
    wait_pid_gone "${pids[$i]}" 15 && continue
    echo "${names[$i]} (pid ${pids[$i]}) ignored the stop request; sending SIG${hard[$i]}" >&2
    kill "-${hard[$i]}" "${pids[$i]}" 2>/dev/null || true
    wait_pid_gone "${pids[$i]}" 5 || { echo "${names[$i]} (pid ${pids[$i]}) did not stop" >&2; ok=1; }
  done
  # the ports this instance used must be free again (children may linger briefly)
  if [ -f "$STATE" ]; then
    for p in $(sed -n 's/^\(PG\|SMTP\|IMAP\)_PORT=//p' "$STATE"); do
      for ((i = 0; i < 100; i++)); do port_listening "$p" || break; sleep 0.1; done
      port_listening "$p" && { echo "port $p is still in use after stopping" >&2; ok=1; }
    done
  fi
  return $ok
}
