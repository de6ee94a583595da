#!/usr/bin/env bash
# Start a throw-away local PostgreSQL for k6bot's PostgreSQL tests and say where it is.
#
#   source .ci/postgres.sh        # exports K6BOT_TEST_POSTGRES_URL in the calling shell
#   bash .ci/postgres.sh          # prints `export K6BOT_TEST_POSTGRES_URL=…` (eval it)
#
# Installs the Debian `postgresql` package when no server binaries are found (apt-get; needs root),
# creates a cluster in a temporary directory owned by the `postgres` user, listens on 127.0.0.1 on a free
# port (never 5432, so a system cluster is left alone), creates the database `k6bot_test` and prints
# K6BOT_TEST_POSTGRES_URL=postgresql+asyncpg://k6bot:k6bot@127.0.0.1:<port>/k6bot_test.
# The tests create one database per test from there (the role may CREATEDB), so nothing is shared.
# Stop it with: pg_ctl -D "$K6BOT_PG_DATA" stop   (the data directory is exported as K6BOT_PG_DATA).
# On failure it prints why on stderr and returns non-zero; the PostgreSQL tests are then skipped.

_k6bot_pg_main() {
    local log_prefix="[postgres.sh]"
    local bindir=""
    local candidate
    for candidate in /usr/lib/postgresql/*/bin; do
        [ -x "$candidate/initdb" ] && bindir="$candidate"
    done
    if [ -z "$bindir" ]; then
        if [ "$(id -u)" != "0" ]; then
            echo "$log_prefix PostgreSQL is not installed and this is not root: cannot apt-get install it." >&2
            return 1
        fi
        echo "$log_prefix installing postgresql (apt-get)…" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || return 1
        apt-get install -y -qq postgresql >&2 || return 1
        for candidate in /usr/lib/postgresql/*/bin; do
            [ -x "$candidate/initdb" ] && bindir="$candidate"
        done
        if [ -z "$bindir" ]; then
            echo "$log_prefix postgresql installed but no initdb found under /usr/lib/postgresql/*/bin" >&2
            return 1
        fi
    fi

    # PostgreSQL refuses to run as root: run it as the `postgres` user when we are root.
    local run_as=()
    local owner
    owner="$(id -un)"
    if [ "$(id -u)" = "0" ]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres >&2 || return 1
        fi
        owner="postgres"
        run_as=(runuser -u postgres --)
    fi

    local data
    data="$(mktemp -d /tmp/k6bot-pg.XXXXXX)" || return 1
    chown "$owner" "$data" || return 1
    chmod 700 "$data"

    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" ||
        return 1

    "${run_as[@]}" "$bindir/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --no-locale >"$data/initdb.log" 2>&1 || {
        echo "$log_prefix initdb failed:" >&2
        cat "$data/initdb.log" >&2
        return 1
    }
    "${run_as[@]}" "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=200 -c fsync=off" start >&2 || {
        echo "$log_prefix the server did not start:" >&2
        cat "$data/server.log" >&2
        return 1
    }
    local psql=("${run_as[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q)
    "${psql[@]}" -d postgres -c "CREATE ROLE k6bot LOGIN PASSWORD 'k6bot' CREATEDB" >&2 || return 1
    "${psql[@]}" -d postgres -c "CREATE DATABASE k6bot_test OWNER k6bot" >&2 || return 1

    export K6BOT_PG_DATA="$data/db"
    export K6BOT_TEST_POSTGRES_URL="postgresql+asyncpg://k6bot:k6bot@127.0.0.1:$port/k6bot_test"
    echo "$log_prefix PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $data/db)" >&2
    echo "export K6BOT_PG_DATA=$K6BOT_PG_DATA"
    echo "export K6BOT_TEST_POSTGRES_URL=$K6BOT_TEST_POSTGRES_URL"
    return 0
}

_k6bot_pg_main
_k6bot_pg_status=$?
unset -f _k6bot_pg_main
# `return` works when sourced; `exit` when executed.
return "$_k6bot_pg_status" 2>/dev/null || exit "$_k6bot_pg_status"
