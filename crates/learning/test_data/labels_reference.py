"""Independent reference for learning::labels (OPT-1), written from the
definitions in crates/learning/src/labels.rs without looking at the Rust code
path: candles indexed by epoch minute in a dict, plain loops.

Reads the candle slice beside this file and writes labels_expected.csv.gz:
entry delay and gap limits, market, snapshot time (epoch seconds), status, entry minute, and the five
labels as repr() floats. Run: python3 labels_reference.py
"""
import csv
import datetime as dt
import gzip
import io
import math

DATA = "upbit_krw_doge_btc_1m_2025-09-06_2025-09-07T06.csv.gz"
H1, H4 = 60, 240
# (max_entry_delay_minutes, max_gap_minutes): the defaults, and a strict pair
# that turns KRW-DOGE's real no-trade minutes into NO_ENTRY and GAP cases.
CONFIGS = ((5, 15), (1, 2))


def epoch_min(ts):
    d = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return int(d.timestamp()) // 60


def label(c, t_sec, cu_min, DELAY, GAP):
    first = math.ceil(t_sec / 60)
    deadline_sec = t_sec + DELAY * 60
    entry = None
    m = first
    while m * 60 <= deadline_sec:
        if m < cu_min and m in c:
            entry = m
            break
        m += 1
    if entry is None:
        # every minute up to the deadline sealed?
        return ("NO_ENTRY",) if cu_min * 60 > deadline_sec else ("PENDING",)
    end = entry + H4
    if cu_min < end:
        return ("PENDING",)
    p0 = c[entry][0]
    peak, hi, lo, dd = p0, p0, p0, 0.0
    close60 = close240 = p0
    last = entry - 1
    for m in range(entry, end):
        if m not in c:
            continue
        o, h, l, cl = c[m]
        if m - last - 1 > GAP:
            return ("GAP",)
        last = m
        peak = max(peak, h)
        dd = max(dd, 1 - l / peak)
        hi, lo = max(hi, h), min(lo, l)
        if m < entry + H1:
            close60 = cl
        close240 = cl
    if end - last - 1 > GAP:
        return ("GAP",)
    return ("READY", entry, close60 / p0 - 1, close240 / p0 - 1, hi / p0 - 1, 1 - lo / p0, dd)


def main():
    by_market = {}
    last_min = 0
    with gzip.open(DATA, "rt") as f:
        for r in csv.DictReader(f):
            m = epoch_min(r["timestamp_utc"])
            last_min = max(last_min, m)
            by_market.setdefault(r["market"], {})[m] = tuple(
                float(r[k]) for k in ("open", "high", "low", "close")
            )
    cu = last_min + 1  # everything in the file is sealed
    start = int(dt.datetime(2025, 9, 6, tzinfo=dt.timezone.utc).timestamp())
    snaps = [start + 30 + 7 * 60 * i for i in range(0, 28 * 60 // 7)]
    # every minute (+30 s) around KRW-DOGE's longest no-trade runs
    for hh, mm in ((18, 15), (19, 0)):
        base = int(dt.datetime(2025, 9, 6, hh, mm, tzinfo=dt.timezone.utc).timestamp())
        snaps += [base + 60 * i for i in range(15)]
    snaps = sorted(set(snaps))
    with open("labels_expected.csv.gz", "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
    ) as gz, io.TextIOWrapper(gz, newline="") as out:
        w = csv.writer(out)
        w.writerow(["delay", "gap", "market", "t", "status", "entry_min", "ret_60m", "ret_240m", "mfe_240m", "mae_240m", "dd_240m"])
        for delay, gap in CONFIGS:
            for market in sorted(by_market):
                for t in snaps:
                    r = label(by_market[market], t, cu, delay, gap)
                    w.writerow([delay, gap, market, t, r[0]] + [repr(x) for x in r[1:]])


main()
