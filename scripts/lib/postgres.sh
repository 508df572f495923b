# shellcheck shell=bash
# Starts a throw-away PostgreSQL server on loopback for the tests and exports TEST_POSTGRES_URL.
# Installs Debian's postgresql package first when it is missing and we are root (CI, fresh machines).
# Sourced by scripts/test; the server is stopped and its data removed when the calling shell exits.

pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# A loopback port nobody listens on, in bash alone (a minimal image may have no python3): a refused connection
# means the port is free.
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

ensure_postgres() {
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    echo "postgres: using TEST_POSTGRES_URL from the environment"
    return 0
  fi
  local bin
  bin=$(pg_bin_dir || true)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres: not installed and not root; install Debian's 'postgresql' package or set TEST_POSTGRES_URL" >&2
      return 1
    fi
    echo "postgres: installing Debian's postgresql package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin_dir)
  fi
  PG_TEST_DIR=$(mktemp -d /tmp/mlc-pg.XXXXXX)
  local port run_as=()
  port=$(free_port) || { echo "postgres: no free loopback port found" >&2; return 1; }
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_TEST_DIR"
    run_as=(su postgres -s /bin/sh -c)
  else
    run_as=(sh -c)
  fi
  "${run_as[@]}" "$bin/initdb -D $PG_TEST_DIR/data -A trust -U postgres --no-sync >$PG_TEST_DIR/initdb.log 2>&1" \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  "${run_as[@]}" "$bin/pg_ctl -D $PG_TEST_DIR/data -w -t 60 -l $PG_TEST_DIR/server.log \
      -o '-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start" >/dev/null \
    || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  PG_TEST_BIN=$bin
  PG_TEST_RUN_AS=("${run_as[@]}")
  export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  trap stop_postgres EXIT
  echo "postgres: $("$bin/postgres" --version) on 127.0.0.1:$port"
}

stop_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR/data" ]; then
    "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BIN/pg_ctl -D $PG_TEST_DIR/data -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
  fi
}
