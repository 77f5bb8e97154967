#!/usr/bin/env bash
# Installs every Debian 12 package pgopt needs to build, test and benchmark. Idempotent; run as root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

# Build: compiler, CMake, and the libraries the code links against (docs/dependencies.md says why).
build_pkgs=(build-essential cmake pkg-config git
  libpq-dev libpg-query-dev libprotobuf-c-dev libboost1.81-dev libtomlplusplus-dev
  libssl-dev libcli11-dev libfmt-dev zlib1g-dev libzstd-dev libjemalloc-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev liburing-dev)
# Test and benchmark peers: a real server with HypoPG, the reference pooler and analyzer, real drivers.
test_pkgs=(postgresql-15 postgresql-client-15 postgresql-contrib postgresql-15-hypopg
  lintian pgbouncer pgbadger python3 python3-yaml python3-psycopg python3-asyncpg
  default-jre-headless libpostgresql-jdbc-java procps iproute2 util-linux time openssl chromium
  patroni etcd-server haproxy curl strace)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's postgresql package may start a cluster and pgbouncer a service; our tests start their own
# servers on free ports, so the packaged ones are left as they are (they listen on 5432/6432, which
# our scripts never assume are free).

# Integration tests run PostgreSQL as this non-root user (initdb refuses root).
if ! id pgopt-test >/dev/null 2>&1; then
  useradd --system --create-home --shell /bin/bash pgopt-test
fi

# ---------------------------------------------------------------------------------------------------
# node-postgres for the real-driver tests (tests/integration/pooler/drivers/node_prepared.js).
# `pg` is not packaged by Debian, so npm installs it into its own prefix; the tests put
# $PGOPT_NODE_PREFIX/node_modules on NODE_PATH. Node itself comes from Debian unless a node is present
# already (NodeSource's nodejs bundles npm, and Debian's npm package conflicts with it).
PGOPT_NODE_PREFIX=${PGOPT_NODE_PREFIX:-/opt/pgopt-node}
node_pkgs=()
command -v node >/dev/null 2>&1 || node_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || node_pkgs+=(npm)
if [ ${#node_pkgs[@]} -gt 0 ]; then
  echo "setup.sh: installing ${node_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${node_pkgs[@]}" >/dev/null
fi
if [ ! -f "$PGOPT_NODE_PREFIX/node_modules/pg/package.json" ]; then
  echo "setup.sh: installing node-postgres (pg@8) into $PGOPT_NODE_PREFIX"
  mkdir -p "$PGOPT_NODE_PREFIX"
  npm install --prefix "$PGOPT_NODE_PREFIX" --no-audit --no-fund --loglevel=error pg@8 >/dev/null
fi
# ---------------------------------------------------------------------------------------------------

echo "setup.sh: ok"
