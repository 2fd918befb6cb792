"""ccxt (a real third-party Upbit client) against upbit-sim.

Run by tests/ccxt/run.sh with SIM_URL, SIM_ACCESS_KEY, SIM_SECRET_KEY and
SIM_KRW / SIM_BTC (the account's starting balances). Every step checks what
ccxt parsed against the exact decimal strings Upbit's API returned, and the
balances and fees after each order. Any mismatch raises and exits non-zero.
"""

import json
import os
import sys
import urllib.request
from decimal import Decimal

import ccxt

FEE = Decimal("0.0005")
SYMBOL = "BTC/KRW"


class Mismatch(AssertionError):
    pass


def check(cond, what, *details):
    if not cond:
        raise Mismatch(what + (": " + " | ".join(str(d) for d in details) if details else ""))
    print(f"  ok  {what}")


def d(v):
    return Decimal(str(v))


def close(a, b, what, tol=Decimal("1e-8")):
    """A ccxt float against an exact decimal."""
    check(abs(d(a) - d(b)) <= tol * max(Decimal(1), abs(d(b))), what, a, b)


def raw(path):
    with urllib.request.urlopen(os.environ["SIM_URL"] + path, timeout=10) as r:
        return json.loads(r.read())


def balances(ex):
    """Exact (free, used) per currency from the raw answer, checked against ccxt's parse."""
    b = ex.fetch_balance()
    out = {}
    for item in b["info"]:
        cur = item["currency"]
        free, used = d(item["balance"]), d(item["locked"])
        close(b[cur]["free"], free, f"ccxt free {cur} = raw balance")
        close(b[cur]["used"], used, f"ccxt used {cur} = raw locked")
        out[cur] = (free, used)
    return out


def main():
    url = os.environ["SIM_URL"]
    start_krw = Decimal(os.environ["SIM_KRW"])
    start_btc = Decimal(os.environ["SIM_BTC"])
    ex = ccxt.upbit(
        {
            "apiKey": os.environ["SIM_ACCESS_KEY"],
            "secret": os.environ["SIM_SECRET_KEY"],
            "urls": {"api": {"public": url, "private": url}},
            "enableRateLimit": True,
            "timeout": 10000,
        }
    )
    print(f"ccxt {ccxt.__version__} against {url}")

    print("load_markets")
    markets = ex.load_markets()
    listed = raw("/v1/market/all")
    check(len(markets) == len(listed), "every listed market loaded", len(markets), len(listed))
    check(SYMBOL in markets, "BTC/KRW is a market")
    check(markets[SYMBOL]["id"] == "KRW-BTC", "market id", markets[SYMBOL]["id"])
    check(markets[SYMBOL]["quote"] == "KRW", "quote currency")

    print("fetch_ohlcv")
    candles = ex.fetch_ohlcv(SYMBOL, "1m", limit=50)
    check(len(candles) == 50, "50 one-minute candles", len(candles))
    times = [c[0] for c in candles]
    check(times == sorted(times) and len(set(times)) == 50, "oldest first, distinct")
    check(all(t2 - t1 >= 60_000 for t1, t2 in zip(times, times[1:])), "one minute apart or more")
    for ts, o, h, l, c, v in candles:
        if not (l <= min(o, c) and h >= max(o, c) and v > 0):
            raise Mismatch(f"inconsistent candle {ts}: {o} {h} {l} {c} {v}")
    newest = raw("/v1/candles/minutes/1?market=KRW-BTC&count=1")[0]
    check(candles[-1][4] == newest["trade_price"], "newest close matches the API", candles[-1], newest)
    hourly = ex.fetch_ohlcv(SYMBOL, "1h", limit=5)
    check(len(hourly) == 5 and all(b[0] - a[0] == 3_600_000 for a, b in zip(hourly, hourly[1:])), "hourly candles")
    days = ex.fetch_ohlcv(SYMBOL, "1d", limit=2)
    check(1 <= len(days) <= 2, "day candles", len(days))

    print("fetch_ticker / fetch_tickers")
    ticker = ex.fetch_ticker(SYMBOL)
    api_ticker = raw("/v1/ticker?markets=KRW-BTC")[0]
    check(ticker["last"] == api_ticker["trade_price"], "last = trade_price", ticker["last"], api_ticker["trade_price"])
    check(ticker["open"] == api_ticker["opening_price"], "open = opening_price")
    both = ex.fetch_tickers([SYMBOL, "ETH/KRW"])
    check(set(both) == {SYMBOL, "ETH/KRW"}, "two tickers", list(both))

    print("fetch_order_book")
    book = ex.fetch_order_book(SYMBOL)
    bids, asks = book["bids"], book["asks"]
    check(len(bids) == 30 and len(asks) == 30, "30 levels a side", len(bids), len(asks))
    check(bids[0][0] < asks[0][0], "bid below ask", bids[0], asks[0])
    check([p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True), "bids descending")
    check([p for p, _ in asks] == sorted(p for p, _ in asks), "asks ascending")

    print("fetch_trades")
    trades = ex.fetch_trades(SYMBOL, limit=20)
    check(len(trades) == 20, "20 trades", len(trades))
    check(all(t["side"] in ("buy", "sell") and t["amount"] > 0 for t in trades), "sides and amounts")
    check([t["timestamp"] for t in trades] == sorted(t["timestamp"] for t in trades), "oldest first")

    print("fetch_balance")
    bal = balances(ex)
    check(bal["KRW"] == (start_krw, Decimal(0)), "KRW as funded", bal["KRW"])
    check(bal["BTC"] == (start_btc, Decimal(0)), "BTC as funded", bal["BTC"])

    print("limit order: create, fetch, cancel")
    tick = Decimal(1000)
    price = (d(bids[0][0]) - 10 * tick).quantize(Decimal(1))
    amount = Decimal("0.001")
    order = ex.create_order(SYMBOL, "limit", "buy", float(amount), float(price), {"clientOrderId": "ccxt-limit-1"})
    check(order["status"] == "open", "created open", order["status"])
    notional = price * amount
    reserved = notional * FEE
    check(d(order["info"]["reserved_fee"]) == reserved, "fee reserved at 0.05 %", order["info"]["reserved_fee"], reserved)
    check(d(order["info"]["locked"]) == notional + reserved, "locked = price x volume + fee")
    bal = balances(ex)
    check(bal["KRW"] == (start_krw - notional - reserved, notional + reserved), "KRW locked by the bid", bal["KRW"])
    fetched = ex.fetch_order(order["id"], SYMBOL)
    check(fetched["id"] == order["id"] and fetched["status"] == "open", "fetch_order finds it open")
    check(fetched["clientOrderId"] == "ccxt-limit-1", "client order id kept", fetched["clientOrderId"])
    close(fetched["price"], price, "price")
    close(fetched["amount"], amount, "amount")
    check(fetched["filled"] == 0 and fetched["remaining"] == float(amount), "nothing filled")
    check(order["id"] in [o["id"] for o in ex.fetch_open_orders(SYMBOL)], "listed as open")
    cancelled = ex.cancel_order(order["id"], SYMBOL)
    check(cancelled["id"] == order["id"], "cancel answered")
    after = ex.fetch_order(order["id"], SYMBOL)
    check(after["status"] == "canceled", "status canceled", after["status"])
    check(d(after["info"]["locked"]) == 0, "nothing left locked")
    check(order["id"] in [o["id"] for o in ex.fetch_canceled_orders(SYMBOL)], "listed as canceled")
    check(balances(ex)["KRW"] == (start_krw, Decimal(0)), "KRW fully released")

    print("market buy (KRW total)")
    spend = Decimal(100000)
    buy = ex.create_order(SYMBOL, "market", "buy", None, None, {"cost": float(spend)})
    check(buy["info"]["ord_type"] == "price", "sent as ord_type=price", buy["info"])
    done = ex.fetch_order(buy["id"], SYMBOL)
    check(done["status"] in ("closed", "canceled"), "finished", done["status"])
    funds = sum(d(t["funds"]) for t in done["info"]["trades"])
    filled = d(done["info"]["executed_volume"])
    check(len(done["info"]["trades"]) >= 1 and filled > 0, "filled", filled)
    # Volumes have 8 decimals, so the last level walked can leave less than
    # one volume step (1e-8) at its price unspent — about 1.4 KRW for BTC.
    step = max(d(t["price"]) for t in done["info"]["trades"]) * Decimal("0.00000001")
    check(spend - funds < step and funds <= spend, "spent the KRW total (less than one volume step left)", funds, step)
    paid = d(done["info"]["paid_fee"])
    check(paid == funds * FEE, "fee = 0.05 % of the funds", paid, funds * FEE)
    close(done["fee"]["cost"], paid, "ccxt fee cost")
    check(done["fee"]["currency"] == "KRW", "fee in KRW")
    close(done["cost"], funds, "ccxt cost = sum of fills")
    close(done["filled"], filled, "ccxt filled")
    check(done["average"] is not None and d(done["average"]) > 0, "average price")
    bal = balances(ex)
    check(bal["KRW"] == (start_krw - funds - paid, Decimal(0)), "KRW = start - funds - fee", bal["KRW"])
    check(bal["BTC"] == (start_btc + filled, Decimal(0)), "BTC credited", bal["BTC"])
    avg = next(i for i in ex.fetch_balance()["info"] if i["currency"] == "BTC")["avg_buy_price"]
    check(d(avg) > 0, "avg_buy_price set", avg)
    krw_after_buy = bal["KRW"][0]

    print("market sell (volume)")
    sell = ex.create_order(SYMBOL, "market", "sell", float(filled))
    check(sell["info"]["ord_type"] == "market", "sent as ord_type=market")
    sold = ex.fetch_order(sell["id"], SYMBOL)
    check(sold["status"] == "closed", "sell done", sold["status"])
    proceeds = sum(d(t["funds"]) for t in sold["info"]["trades"])
    sell_fee = d(sold["info"]["paid_fee"])
    check(sell_fee == proceeds * FEE, "sell fee = 0.05 % of the proceeds", sell_fee)
    close(sold["fee"]["cost"], sell_fee, "ccxt sell fee")
    close(sold["filled"], filled, "sold everything bought")
    bal = balances(ex)
    check(bal["KRW"] == (krw_after_buy + proceeds - sell_fee, Decimal(0)), "KRW = + proceeds - fee", bal["KRW"])
    check(bal["BTC"] == (start_btc, Decimal(0)), "BTC back to the start", bal["BTC"])
    closed = [o["id"] for o in ex.fetch_closed_orders(SYMBOL)]
    check(sell["id"] in closed, "the sell is listed as closed")

    print("errors map to ccxt exceptions")
    try:
        twice_the_krw = (2 * start_krw / price).quantize(Decimal("0.0001"))
        ex.create_order(SYMBOL, "limit", "buy", float(twice_the_krw), float(price))
        raise Mismatch("an order beyond the balance was accepted")
    except ccxt.InsufficientFunds as e:
        print(f"  ok  insufficient funds -> {type(e).__name__}")
    try:
        ex.fetch_order("00000000-0000-4000-8000-000000000000", SYMBOL)
        raise Mismatch("an unknown order was found")
    except ccxt.OrderNotFound as e:
        print(f"  ok  unknown order -> {type(e).__name__}")
    wrong = ccxt.upbit({"apiKey": os.environ["SIM_ACCESS_KEY"], "secret": "wrong", "urls": {"api": {"public": url, "private": url}}})
    wrong.markets = ex.markets
    wrong.markets_by_id = ex.markets_by_id
    try:
        wrong.fetch_balance()
        raise Mismatch("a wrong secret was accepted")
    except ccxt.AuthenticationError as e:
        print(f"  ok  wrong secret -> {type(e).__name__}")

    print("ccxt conformance: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
