"""pyupbit (a second real third-party client) against upbit-sim.

pyupbit hard-codes https://api.upbit.com, so every request it makes through
`requests` is rerouted to SIM_URL. It exercises the request forms the
simulator must accept besides ccxt's: private GET parameters as a form body,
cancels with a JSON body, `markets=A&markets=B`, `isDetails`, candle paging
by `to`, the deprecated GET /v1/orders list, and a `Remaining-Req` header on
every answer (pyupbit refuses answers without one).
"""

import json
import os
import sys
import urllib.request
from decimal import Decimal

import requests

UPBIT = "https://api.upbit.com"
SIM = os.environ["SIM_URL"]
_request = requests.sessions.Session.request
seen = []


def rerouted(self, method, url, *args, **kwargs):
    if isinstance(url, str) and url.startswith(UPBIT):
        url = SIM + url[len(UPBIT):]
    seen.append((method.upper(), url.split("?")[0][len(SIM):]))
    return _request(self, method, url, *args, **kwargs)


requests.sessions.Session.request = rerouted

import pyupbit  # noqa: E402  (after the reroute, on purpose)

FEE = Decimal("0.0005")


class Mismatch(AssertionError):
    pass


def check(cond, what, *details):
    if not cond:
        raise Mismatch(what + (": " + " | ".join(str(d) for d in details) if details else ""))
    print(f"  ok  {what}")


def d(v):
    return Decimal(str(v))


def raw(path):
    with urllib.request.urlopen(SIM + path, timeout=10) as r:
        return json.loads(r.read())


def holdings(up):
    return {b["currency"]: (d(b["balance"]), d(b["locked"])) for b in up.get_balances()}


def order(up, uuid):
    o = up.get_order(uuid)
    if "error" in o:
        raise Mismatch(f"get_order {uuid}: {o}")
    return o


def main():
    start_krw = Decimal(os.environ["SIM_KRW"])
    start_btc = Decimal(os.environ["SIM_BTC"])
    print(f"pyupbit {pyupbit.__version__} against {SIM}")

    print("quotation")
    tickers = pyupbit.get_tickers(fiat="KRW")
    check(len(tickers) == len(raw("/v1/market/all")) and "KRW-BTC" in tickers, "get_tickers", tickers)
    df = pyupbit.get_ohlcv("KRW-BTC", interval="minute1", count=300)
    check(df is not None and len(df) == 300, "300 minute candles over two pages", None if df is None else len(df))
    check(df.index.is_monotonic_increasing and df.index.is_unique, "oldest first, no overlap between pages")
    newest = raw("/v1/candles/minutes/1?market=KRW-BTC&count=1")[0]
    check(df["close"].iloc[-1] == newest["trade_price"], "newest close", df["close"].iloc[-1], newest["trade_price"])
    prices = pyupbit.get_current_price(["KRW-BTC", "KRW-ETH"])
    api = {t["market"]: t["trade_price"] for t in raw("/v1/ticker?markets=KRW-BTC,KRW-ETH")}
    check(prices == api, "get_current_price for two markets", prices, api)
    book = pyupbit.get_orderbook("KRW-BTC")
    units = book["orderbook_units"]
    check(len(units) == 30 and units[0]["bid_price"] < units[0]["ask_price"], "30-level order book")

    print("exchange")
    up = pyupbit.Upbit(os.environ["SIM_ACCESS_KEY"], os.environ["SIM_SECRET_KEY"])
    h = holdings(up)
    check(h["KRW"] == (start_krw, 0) and h["BTC"] == (start_btc, 0), "get_balances", h)
    check(up.get_balance("KRW") == float(start_krw), "get_balance KRW")

    price = int(units[0]["bid_price"]) - 10_000
    placed = up.buy_limit_order("KRW-BTC", price, 0.001)
    check("uuid" in placed and placed["state"] == "wait", "buy_limit_order", placed)
    notional = Decimal(price) * Decimal("0.001")
    check(d(placed["locked"]) == notional * (1 + FEE), "locked incl. the 0.05 % fee", placed["locked"])
    check(order(up, placed["uuid"])["state"] == "wait", "get_order (form body)")
    waiting = up.get_order("KRW-BTC")
    check(placed["uuid"] in [o["uuid"] for o in waiting], "open orders via GET /v1/orders", waiting)
    h = holdings(up)
    check(h["KRW"] == (start_krw - notional * (1 + FEE), notional * (1 + FEE)), "KRW locked", h["KRW"])
    cancelled = up.cancel_order(placed["uuid"])
    check(cancelled.get("uuid") == placed["uuid"], "cancel_order (JSON body)", cancelled)
    check(order(up, placed["uuid"])["state"] == "cancel", "cancelled")
    check(holdings(up)["KRW"] == (start_krw, 0), "KRW released")

    buy = up.buy_market_order("KRW-BTC", 50_000)
    check(buy.get("ord_type") == "price", "buy_market_order", buy)
    o = order(up, buy["uuid"])
    funds = sum(d(t["funds"]) for t in o["trades"])
    vol = d(o["executed_volume"])
    check(o["state"] in ("done", "cancel") and vol > 0, "market buy filled", o["state"], vol)
    check(d(o["paid_fee"]) == funds * FEE, "buy fee 0.05 %", o["paid_fee"], funds)
    h = holdings(up)
    check(h["KRW"] == (start_krw - funds * (1 + FEE), 0), "KRW after the buy", h["KRW"])
    check(h["BTC"] == (start_btc + vol, 0), "BTC after the buy", h["BTC"])

    sell = up.sell_market_order("KRW-BTC", float(vol))
    check(sell.get("ord_type") == "market", "sell_market_order", sell)
    o = order(up, sell["uuid"])
    proceeds = sum(d(t["funds"]) for t in o["trades"])
    check(o["state"] == "done", "market sell done", o["state"])
    check(d(o["paid_fee"]) == proceeds * FEE, "sell fee 0.05 %")
    h = holdings(up)
    check(h["KRW"] == (start_krw - funds * (1 + FEE) + proceeds * (1 - FEE), 0), "KRW after the sell", h["KRW"])
    check(h["BTC"] == (start_btc, 0), "BTC back to the start", h["BTC"])

    check(all(path.startswith("/v1/") for _, path in seen), "every request went to the simulator")
    print(f"pyupbit conformance: all checks passed ({len(seen)} requests)")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
