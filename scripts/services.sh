# Sourced by scripts/test: make sure PostgreSQL and Redis answer and export DATABASE_URL and REDIS_URL.
# Uses the URLs when set; else the standard local ports, starting an installed server that is down;
# else a private throwaway PostgreSQL cluster under var/. Stops with advice when none can be had.

_py() { .venv/bin/python "$@"; }

_pg_up() {
  _py - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                password=u.password, dbname="postgres", connect_timeout=3).close()
PY
}

_redis_up() {
  _py -c "import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()" "$1" >/dev/null 2>&1
}

_wait() {  # _wait CHECK URL
  for _ in $(seq 1 40); do "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    _wait _pg_up "$DATABASE_URL" && return 0
    echo "DATABASE_URL is set to $DATABASE_URL but PostgreSQL does not answer there." >&2
    return 1
  fi
  local url="postgres://postgres@127.0.0.1:5432/bizops"
  if _pg_up "$url"; then export DATABASE_URL="$url"; return 0; fi

  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "Starting the local PostgreSQL $version cluster..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    if _wait _pg_up "$url"; then export DATABASE_URL="$url"; return 0; fi
  fi

  local initdb; initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] || initdb=$(command -v initdb || true)
  if [ -n "$initdb" ]; then
    local bindir; bindir=$(dirname "$initdb")
    local dir="$PWD/var/pgtest" port=54329
    url="postgres://postgres@127.0.0.1:$port/bizops"
    if ! _pg_up "$url"; then
      echo "Starting a private PostgreSQL cluster in $dir on port $port..."
      mkdir -p "$PWD/var"
      if [ ! -f "$dir/PG_VERSION" ]; then
        rm -rf "$dir"; mkdir -p "$dir"
        if [ "$(id -u)" = 0 ]; then chown postgres "$dir" 2>/dev/null; fi
        _as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
      fi
      _as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
    fi
    if _wait _pg_up "$url"; then export DATABASE_URL="$url"; return 0; fi
  fi
  cat >&2 <<MSG
The tests need PostgreSQL, and none could be reached or started.
  - Set DATABASE_URL=postgres://USER@HOST:PORT/bizops to use a running server, or
  - install one: 'apt-get install postgresql' (Debian/Ubuntu) or 'brew install postgresql@15' (macOS),
    then run 'make test' again: it starts an installed server that is down.
MSG
  return 1
}

_as_pg() {  # initdb refuses to run as root: run PostgreSQL's tools as the postgres user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    _wait _redis_up "$REDIS_URL" && return 0
    echo "REDIS_URL is set to $REDIS_URL but Redis does not answer there." >&2
    return 1
  fi
  local url="redis://127.0.0.1:6379/0"
  if _redis_up "$url"; then export REDIS_URL="$url"; return 0; fi
  if command -v redis-server >/dev/null 2>&1; then
    echo "Starting a local Redis on port 6379..."
    mkdir -p "$PWD/var/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log" >/dev/null
    if _wait _redis_up "$url"; then export REDIS_URL="$url"; return 0; fi
  fi
  cat >&2 <<MSG
The tests need Redis, and none could be reached or started.
  - Set REDIS_URL=redis://HOST:PORT/0 to use a running server, or
  - install one: 'apt-get install redis-server' (Debian/Ubuntu) or 'brew install redis' (macOS).
MSG
  return 1
}
