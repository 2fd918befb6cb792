#!/usr/bin/env bash
# Real third-party Upbit clients against the simulator. Pinned ccxt (Python)
# with its base URL pointed at upbit-sim loads markets, fetches candles,
# tickers, the order book, trades and balances, creates / fetches / cancels a
# limit order and does a market buy and a market sell, checking balances and
# fees after each step (ccxt_check.py); pinned pyupbit, rerouted from its
# hard-coded host, does the same with its own request forms
# (pyupbit_check.py). Any mismatch fails.
#
#   UPBIT_SIM_BIN=path/to/upbit-sim tests/ccxt/run.sh
#
# Without UPBIT_SIM_BIN the binary is built with cargo. The Python venv lives
# outside the clone (UPBIT_CCXT_VENV, default ~/.cache/upbit-platform/venv)
# and is rebuilt only when requirements.txt changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${UPBIT_SIM_BIN:-}" ]; then
  target="${CARGO_TARGET_DIR:-$root/target}"
  (cd "$root" && cargo build -q -p upbit-sim-bin)
  UPBIT_SIM_BIN="$target/debug/upbit-sim"
fi
[ -x "$UPBIT_SIM_BIN" ] || { echo "upbit-sim binary not found: $UPBIT_SIM_BIN" >&2; exit 1; }

# --- the pinned client venv (cached) -------------------------------------------
venv="${UPBIT_CCXT_VENV:-$HOME/.cache/upbit-platform/venv}"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "creating the client venv in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

# --- the simulator on a free port ------------------------------------------------
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
log=$(mktemp -t upbit-sim-ccxt.XXXXXX.log)
"$UPBIT_SIM_BIN" --listen "127.0.0.1:$port" --synthetic trend --markets 5 --seed 7 \
  --speed 0 --start 2026-01-05T06:00:00Z --log-format text >"$log" 2>&1 &
sim_pid=$!
cleanup() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -sf "$base/_sim/health" >/dev/null 2>&1 && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "upbit-sim exited during start-up:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.1
done
curl -sf "$base/_sim/health" >/dev/null || { echo "upbit-sim did not come up:" >&2; cat "$log" >&2; exit 1; }

# --- an account through the admin API ----------------------------------------------
access="ccxt-$(date +%s)-$$"
secret="ccxt-secret-$RANDOM$RANDOM$RANDOM"
krw=10000000
btc=0.01
curl -sf -X POST "$base/_sim/accounts" -H 'Content-Type: application/json' \
  -d "{\"access_key\":\"$access\",\"secret_key\":\"$secret\",\"balances\":{\"KRW\":\"$krw\",\"BTC\":\"$btc\"}}" \
  >/dev/null || { echo "POST /_sim/accounts failed" >&2; exit 1; }

run_check() {
  local script=$1 access=$2 secret=$3
  set +e
  SIM_URL="$base" SIM_ACCESS_KEY="$access" SIM_SECRET_KEY="$secret" SIM_KRW="$krw" SIM_BTC="$btc" \
    "$venv/bin/python" -W ignore "$here/$script"
  local status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    echo "$script FAILED (exit $status); simulator log:" >&2
    tail -n 50 "$log" >&2
    exit "$status"
  fi
}

run_check ccxt_check.py "$access" "$secret"
# A fresh account for the second client.
curl -sf -X POST "$base/_sim/accounts" -H 'Content-Type: application/json' \
  -d "{\"access_key\":\"py-$access\",\"secret_key\":\"$secret\",\"balances\":{\"KRW\":\"$krw\",\"BTC\":\"$btc\"}}" \
  >/dev/null || { echo "POST /_sim/accounts failed" >&2; exit 1; }
run_check pyupbit_check.py "py-$access" "$secret"
