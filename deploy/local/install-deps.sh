#!/usr/bin/env bash
# Install the Debian packages the local test services need, and only those that are missing:
# postfix (+ smtp-sink), dovecot-imapd, postgresql-15, iproute2 (ss), util-linux (runuser, flock, script).
# Runs as root on Debian 12, non-interactively. A stock postfix/dovecot/postgresql instance that the
# package scripts start is stopped again: deploy/local/services-start.sh runs its own instances.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "install-deps.sh: must run as root" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
installed postfix        && [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
installed dovecot-imapd  && [ -x /usr/sbin/dovecot ]  || missing+=(dovecot-imapd)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -x /usr/lib/postgresql/15/bin/psql ]   || missing+=(postgresql-client-15)
command -v ss      >/dev/null 2>&1 || missing+=(iproute2)
command -v runuser >/dev/null 2>&1 && command -v flock >/dev/null 2>&1 || missing+=(util-linux)
command -v script  >/dev/null 2>&1 || missing+=(bsdutils)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all dependencies present"
  exit 0
fi
echo "install-deps.sh: installing ${missing[*]}"

# Keep package scripts from starting stock daemons (the Docker way), unless a policy already exists.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update </dev/null
apt-get install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null

# If a stock instance got started anyway, stop it (errors ignored: usually nothing runs).
for p in "${missing[@]}"; do
  case $p in
    postfix)       postfix stop </dev/null >/dev/null 2>&1 || true ;;
    dovecot-imapd) doveadm stop </dev/null >/dev/null 2>&1 || true ;;
    postgresql-15) command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster 15 main stop </dev/null >/dev/null 2>&1 || true ;;
  esac
done

[ -x /usr/sbin/smtp-sink ] || { echo "install-deps.sh: /usr/sbin/smtp-sink missing after install" >&2; exit 1; }
echo "install-deps.sh: done"
