#!/bin/sh
# Run a command against a throw-away PostgreSQL server:
#   with_postgres.sh COMMAND [ARGS...]
# initdb + pg_ctl start a server on 127.0.0.1 at a free port, with its data
# directory and unix socket in a fresh temporary directory, as an
# unprivileged user (postgres when run as root). The command gets
# IX_PG_DSN; the server is stopped and the directory removed on every exit
# path. If PostgreSQL cannot be started, this fails loudly (never skips).
set -u

fail() { echo "with_postgres: FAIL: $*" >&2; exit 1; }

PGBIN=${PGBIN:-}
if [ -z "$PGBIN" ]; then
    for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$d/initdb" ]; then PGBIN=$d; break; fi
    done
fi
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] ||
    fail "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
[ $# -ge 1 ] || fail "usage: with_postgres.sh COMMAND [ARGS...]"

TMP=$(mktemp -d /tmp/ix-pg.XXXXXX) || fail "mktemp"
chmod 755 "$TMP"
mkdir "$TMP/sock"

# Run as an unprivileged user: postgres refuses to run as root.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || fail "running as root but there is no postgres user"
    chown -R postgres "$TMP"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

cleanup() {
    if [ -f "$TMP/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate -w -t 20 stop >/dev/null 2>&1
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

as_pg "$PGBIN/initdb" -D "$TMP/data" -U postgres --auth=trust -E UTF8 --no-sync \
    >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; fail "initdb failed"; }

# A free port: try a few random ones (a port taken meanwhile just fails the start).
started=
for attempt in 1 2 3 4 5 6 7 8; do
    PORT=$(( 20000 + ($$ * 7 + attempt * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 30000 ))
    if as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -t 30 \
        -o "-p $PORT -k $TMP/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
done
[ -n "$started" ] || { cat "$TMP/server.log" >&2; fail "pg_ctl start failed on 8 ports"; }

export IX_PG_DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres connect_timeout=5"
echo "with_postgres: server on 127.0.0.1:$PORT ($PGBIN)" >&2
timeout -k 5 240 "$@"
rc=$?
[ $rc -eq 124 ] && echo "with_postgres: FAIL: command timed out" >&2
exit $rc
