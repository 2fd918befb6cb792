#!/usr/bin/env bash
# Validates docker-compose.yml offline with compose v1 (docker-compose 1.29,
# what Debian installs; it rejects unknown keys) — and with the v2 plugin when
# present — using the variables of .env.example plus placeholder secrets, then
# checks the deployment's shape: MariaDB on a named volume with a healthcheck,
# the dashboard-api with the Docker socket, dashboard-web, the trainer, and no
# trader service that compose would run (traders are created by the API).
#
#   tests/containers/compose-config.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v docker-compose >/dev/null 2>&1 || {
  echo "docker-compose is missing: apt-get install -y docker-compose" >&2
  exit 1
}
env_file=$(mktemp)
out=$(mktemp)
trap 'rm -f "$env_file" "$out"' EXIT
sed -e 's/^MASTER_KEY=$/MASTER_KEY=cGxhY2Vob2xkZXItcGxhY2Vob2xkZXItcGxhY2Vob2w=/' \
    -e 's/^MARIADB_PASSWORD=$/MARIADB_PASSWORD=placeholder/' \
    -e 's/^MARIADB_ROOT_PASSWORD=$/MARIADB_ROOT_PASSWORD=placeholder-root/' \
    .env.example > "$env_file"

docker-compose --env-file "$env_file" -f docker-compose.yml config > "$out"
echo "compose v1: valid"
if docker compose version >/dev/null 2>&1; then
  docker compose --env-file "$env_file" -f docker-compose.yml config -q
  echo "compose v2: valid"
fi

fail() { echo "compose shape: $*" >&2; exit 1; }
for svc in mariadb dashboard-api dashboard-web trainer; do
  grep -q "^  $svc:$" "$out" || fail "service $svc missing"
done
grep -q "^  mariadb-data:" "$out" || fail "no named volume mariadb-data"
grep -q "mariadb-data:/var/lib/mysql" "$out" || fail "MariaDB does not use the named volume"
grep -q "healthcheck.sh" "$out" || fail "MariaDB has no healthcheck"
grep -q "/var/run/docker.sock:/var/run/docker.sock" "$out" || fail "the dashboard-api lacks the Docker socket"
grep -q "TRADER_RUNTIME: docker" "$out" || fail "the dashboard-api does not use the docker runtime"
# The only trader entry is the image build with scale 0: compose runs no trader.
awk '/^  [a-z]/ { on = ($1 == "trader-image:") } on' "$out" | grep -q "scale: 0" \
  || fail "trader-image must have scale 0"
if grep -E "^  trader[a-z0-9-]*:$" "$out" | grep -v "^  trader-image:$" | grep -q .; then
  fail "a trader service is listed; traders are created by the dashboard-api (FIX-4/5)"
fi
echo "compose shape: ok"
