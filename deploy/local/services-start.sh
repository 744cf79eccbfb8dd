#!/usr/bin/env bash
# Start the real services the tests use, on free loopback ports:
#   PostgreSQL 15 (trust auth, fsync off), Postfix SMTP delivering into Maildirs, Dovecot IMAP serving them.
# Mail users user01..user40@example.test, password test-pass; user05+tag@example.test lands in user05's INBOX.
# Fault domains: x@bounce.test is accepted, then bounced with a real RFC 3464 DSN to the sender;
# x@reject.test and unknown x@example.test users are refused at RCPT with 550 5.1.1.
# Anything else (other domains) is accepted and bounced too: nothing leaves the machine.
# Writes <repo>/.services/test.env (PROSPECTOR_TEST_PG/SMTP/IMAP) and prints the same lines.
# Usage: services-start.sh [DIR]   (default <repo>/.services; a running instance in DIR is restarted)
# Ports: preferred PG 55432, SMTP 2525, IMAP 1143 (env PROSPECTOR_PG_PORT / PROSPECTOR_SMTP_PORT /
# PROSPECTOR_IMAP_PORT override the preference); if one is in use, the next free port is taken.
# Directories the daemons' users cannot reach (repo under a 0700 dir) move to /var/tmp/prospector-*-<hash>.
# Stop with services-stop.sh [DIR].
set -euo pipefail
umask 022   # the daemons' users must read configs and traverse directories
. "$(dirname "${BASH_SOURCE[0]}")/services-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "services-start.sh: must run as root (see deploy/local/install-deps.sh)" >&2; exit 1; }
for c in "$PGBIN/initdb" /usr/sbin/postfix /usr/sbin/dovecot ss runuser flock; do
  command -v "$c" >/dev/null 2>&1 || { echo "services-start.sh: $c not found; run deploy/local/install-deps.sh" >&2; exit 1; }
done
for u in postgres mail postfix dovecot dovenull; do
  id "$u" >/dev/null 2>&1 || { echo "services-start.sh: OS user $u missing; run deploy/local/install-deps.sh" >&2; exit 1; }
done

t0=$(date +%s.%N)
svc_dirs "${1:-}"
mkdir -p "$DIR"
svc_lock

# Never delete a live instance's directory: stop it first, and give up if it survives.
svc_stop_all || { echo "services-start.sh: the running instance in $DIR could not be stopped; not touching it" >&2; exit 1; }
rm -f "$STATE" "$ENV_FILE"

# ---------- ports ----------
taken=" "
pick_port() {  # preferred port -> first free port from there
  local p=$1 i
  for ((i = 0; i < 500; i++, p++)); do
    [ "$p" -le 65535 ] || p=20000
    case $taken in *" $p "*) continue ;; esac
    port_listening "$p" && continue
    taken+="$p "; echo "$p"; return 0
  done
  echo "services-start.sh: no free port near $1" >&2; return 1
}
PG_PORT=$(pick_port "${PROSPECTOR_PG_PORT:-55432}"); taken+="$PG_PORT "
SMTP_PORT=$(pick_port "${PROSPECTOR_SMTP_PORT:-2525}"); taken+="$SMTP_PORT "
IMAP_PORT=$(pick_port "${PROSPECTOR_IMAP_PORT:-1143}"); taken+="$IMAP_PORT "

# ---------- directories (every parent must be traversable by the daemons' users) ----------
can_reach() { local u; for u in "$@"; do runuser -u "$u" -- test -x "$DIR" 2>/dev/null || return 1; done; }
if can_reach postgres; then PGD=${PG_CANDIDATES[0]}; else PGD=${PG_CANDIDATES[1]}; fi
if can_reach mail postfix dovecot; then M=${MAIL_CANDIDATES[0]}; else M=${MAIL_CANDIDATES[1]}; fi
for d in "$PGD" "$M"; do  # fail before starting anything if a directory is not ours to wipe
  [ ! -e "$d" ] || [ -e "$d/$MARK" ] ||
    { echo "services-start.sh: $d exists and was not created by this script (no $MARK); choose another DIR" >&2; exit 1; }
done
cat > "$STATE" <<STATE
PG_DIR=$PGD
MAIL_DIR=$M
PG_PORT=$PG_PORT
SMTP_PORT=$SMTP_PORT
IMAP_PORT=$IMAP_PORT
STATE

fail() {
  echo "services-start.sh: $*" >&2
  local f
  [ -z "${pg_job:-}" ] || wait "$pg_job" 2>/dev/null || true   # do not leave a half-started PostgreSQL behind
  for f in "$PGD/server.log" "$M/postfix.log" "$M/dovecot.log"; do
    [ -s "$f" ] && { echo "----- tail $f" >&2; tail -n 25 "$f" >&2; }
  done
  svc_stop_all >/dev/null 2>&1 || true
  rm -f "$STATE"
  exit 1
}

# ---------- PostgreSQL 15 (in the background, while the mail servers start) ----------
as_pg() { runuser -u postgres -- "$@"; }
pg_start() {
  svc_fresh_dir "$PGD" || return 1
  chown postgres: "$PGD"; chmod 700 "$PGD"
  as_pg "$PGBIN/initdb" -D "$PGD/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
    </dev/null >"$PGD/initdb.log" 2>&1 9>&- || { echo "initdb failed:" >&2; tail -n 20 "$PGD/initdb.log" >&2; return 1; }
  cat >> "$PGD/data/postgresql.conf" <<CONF

# ---- prospector test instance (deploy/local/services-start.sh) ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 start </dev/null >/dev/null 2>&1 9>&-
}
pg_start 9>&- &
pg_job=$!

# ---------- Postfix + Dovecot ----------
VUID=$(id -u mail); VGID=$(id -g mail)   # Debian's 'mail' user owns the Maildirs
svc_fresh_dir "$M" || fail "cannot prepare $M"
mkdir -p "$M"/{postfix,spool,pfdata,vmail}
chmod 755 "$M"; chown mail:mail "$M/vmail"; chown postfix "$M/pfdata"
# Dovecot's unix sockets live in base_dir; keep its path short (sun_path is 108 bytes).
DBASE=$M/dovecot-run
[ ${#DBASE} -le 60 ] || DBASE=/run/prospector-dovecot-$HASH
rm -rf "$DBASE" "$M/dovecot-state"; mkdir -p "$DBASE" "$M/dovecot-state"

for i in $(seq -w 1 40); do echo "user$i@example.test:{PLAIN}test-pass"; done > "$M/users"
chmod 644 "$M/users"
# "<addr> <addr>/Maildir/" per user (trailing slash = Maildir); with recipient_delimiter = +,
# user05+tag@example.test is looked up as user05@example.test and delivered into that Maildir.
awk -F: '{print $1, $1"/Maildir/"}' "$M/users" > "$M/postfix/vmailbox"
printf 'bounce.test error:5.1.1 mailbox unknown\n' > "$M/postfix/transport"
# RCPT policy: known users pass (DUNNO; user05+tag is looked up as user05@ too), any other example.test
# address and all of reject.test get 550. Done with an access map rather than reject_unlisted_recipient,
# because the latter also refuses domains routed to the error transport (bounce.test must be accepted).
{ awk -F: '{print $1, "DUNNO"}' "$M/users"
  echo "example.test 550 5.1.1 User unknown in virtual mailbox table"
  echo "reject.test 550 5.1.1 mailbox unknown"; } > "$M/postfix/rcpt_access"

cat > "$M/postfix/main.cf" <<CF
compatibility_level = 3.6
myhostname = mail.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = $M/spool
data_directory = $M/pfdata
maillog_file = $M/postfix.log
maillog_file_prefixes = $M
smtpd_banner = \$myhostname ESMTP test
biff = no
alias_maps =
alias_database =
append_dot_mydomain = no
smtputf8_enable = no
recipient_delimiter = +
virtual_mailbox_domains = example.test
virtual_mailbox_base = $M/vmail
virtual_mailbox_maps = texthash:$M/postfix/vmailbox
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
virtual_minimum_uid = 1
# fault domains: bounce.test -> accepted, then DSN to the sender; reject.test -> 550 at RCPT;
# unknown example.test users -> 550 at RCPT (rcpt_access)
relay_domains = bounce.test, reject.test
transport_maps = texthash:$M/postfix/transport
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$M/postfix/rcpt_access, permit
smtpd_reject_unlisted_recipient = no
# nothing leaves the machine: other domains are accepted and bounced (DSN to the sender)
default_transport = error:5.4.4 external delivery is disabled in the test environment
relay_transport = error:5.4.4 external delivery is disabled in the test environment
# sizes
message_size_limit = 52428800
virtual_mailbox_limit = 104857600
mailbox_size_limit = 0
# speed: no error sleeps, no DNS for clients, quick queue runs so DSNs arrive in well under a second
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
in_flow_delay = 0s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
default_process_limit = 200
CF
cat > "$M/postfix/master.cf" <<CF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix n - n 10 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
# 'postfix start' runs the fatal checks itself (a separate 'postfix check' costs ~3 s). Postfix reports
# errors only to a terminal or syslog: on failure, re-run the check under script(1) to show them.
postfix -c "$M/postfix" start </dev/null >/dev/null 2>&1 9>&- || {
  script -qec "postfix -c '$M/postfix' check" /dev/null </dev/null >&2 9>&- || true
  fail "postfix did not start ($M/postfix)"
}

cat > "$M/dovecot.conf" <<CF
protocols = imap
listen = 127.0.0.1
base_dir = $DBASE
state_dir = $M/dovecot-state
log_path = $M/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
recipient_delimiter = +
first_valid_uid = $VUID
first_valid_gid = $VGID
mail_location = maildir:$M/vmail/%u/Maildir
mailbox_idle_check_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $M/users
}
# Failed logins in tests must not slow every later login from loopback (auth penalty).
login_trusted_networks = 127.0.0.0/8
userdb {
  driver = static
  args = uid=$VUID gid=$VGID home=$M/vmail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 300
  imap_idle_notify_interval = 1 secs
}
CF
dovecot -c "$M/dovecot.conf" </dev/null >/dev/null 2>&1 9>&- || {
  doveconf -c "$M/dovecot.conf" -n >/dev/null 9>&- || true
  fail "dovecot did not start"
}

wait "$pg_job" || fail "PostgreSQL did not start on 127.0.0.1:$PG_PORT"

# ---------- wait until all three accept connections ----------
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ok=0
for ((i = 0; i < 300; i++)); do
  up "$PG_PORT" && up "$SMTP_PORT" && up "$IMAP_PORT" && { ok=1; break; }
  sleep 0.1
done
[ "$ok" = 1 ] || fail "timed out after 30 s waiting for PG $PG_PORT / SMTP $SMTP_PORT / IMAP $IMAP_PORT"

# ---------- test.env ----------
mkdir -p "$(dirname "$ENV_FILE")"
cat > "$ENV_FILE.tmp" <<ENV
PROSPECTOR_TEST_PG=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres
PROSPECTOR_TEST_SMTP=127.0.0.1:$SMTP_PORT
PROSPECTOR_TEST_IMAP=127.0.0.1:$IMAP_PORT
ENV
mv -f "$ENV_FILE.tmp" "$ENV_FILE"
cat "$ENV_FILE"
awk -v a="$t0" -v b="$(date +%s.%N)" -v pg="$PGD" -v m="$M" \
  'BEGIN { printf "services-start.sh: up in %.1f s (pg: %s, mail: %s)\n", b - a, pg, m }' >&2
