//! The bookkeeping with explicit times: job order, coverage, gap repair,
//! the stream buffer and its limits.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Market, Price, Volume};
use rust_decimal::Decimal;
use storage::market_data::{Candle, CandleInterval};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn m(code: &str) -> Market {
    code.parse().unwrap()
}

fn policy() -> Policy {
    Policy {
        settle: Duration::seconds(3),
        seal_interval: Duration::minutes(5),
        max_buffer_minutes: 3,
        drop_after: 3,
        exclude_after: 4,
        retry_initial: StdDuration::from_secs(1),
        retry_max: StdDuration::from_secs(8),
    }
}

fn candle(market: &str, ts: &str, close: i64) -> Candle {
    let p = Price::new(Decimal::from(close)).unwrap();
    Candle {
        market: m(market),
        interval: CandleInterval::M1,
        ts: at(ts),
        open: p,
        high: p,
        low: p,
        close: p,
        volume: Volume::new(Decimal::ONE).unwrap(),
        value: Some(Krw::from_decimal(Decimal::from(close))),
    }
}

/// Two markets, BTC backfilled from 10:00, ETH from 11:00 (newest stored 11:20).
fn book() -> Book {
    let mut b = Book::new(policy());
    let removed = b.set_markets(
        &[m("KRW-BTC"), m("KRW-ETH")],
        vec![
            (m("KRW-BTC"), at("2025-09-01T10:00:30Z"), None),
            (
                m("KRW-ETH"),
                at("2025-09-01T11:00:00Z"),
                Some(at("2025-09-01T11:20:00Z")),
            ),
        ],
        at("2025-09-01T12:00:00Z"),
    );
    assert!(removed.is_empty());
    b
}

#[test]
fn minute_floor_and_target() {
    for (t, want) in [
        ("2025-09-01T12:00:00Z", "2025-09-01T12:00:00Z"),
        ("2025-09-01T12:00:59.999Z", "2025-09-01T12:00:00Z"),
        ("2025-09-01T12:01:00.001Z", "2025-09-01T12:01:00Z"),
    ] {
        assert_eq!(minute_floor(at(t)), at(want), "{t}");
    }
    let b = book();
    // 3 s settle: 12:01:02 still belongs to minute 12:00's settling.
    assert_eq!(
        b.target(at("2025-09-01T12:01:02Z")),
        at("2025-09-01T12:00:00Z")
    );
    assert_eq!(
        b.target(at("2025-09-01T12:01:03Z")),
        at("2025-09-01T12:01:00Z")
    );
}

#[test]
fn backfill_jobs_run_most_behind_first_and_complete_coverage() {
    let mut b = book();
    let wall = Instant::now();
    let now = at("2025-09-01T12:00:10Z");
    assert_eq!(b.coverage(), Some(at("2025-09-01T10:00:00Z")));
    let first = b.next_job(now, wall).unwrap();
    assert_eq!(
        (first.market.as_str(), first.from, first.to, first.urgent),
        (
            "KRW-BTC",
            at("2025-09-01T10:00:00Z"),
            at("2025-09-01T12:00:00Z"),
            true
        )
    );
    let second = b.next_job(now, wall).unwrap();
    assert_eq!(
        (second.market.as_str(), second.from),
        ("KRW-ETH", at("2025-09-01T11:00:00Z"))
    );
    // Both in flight: nothing else to do.
    assert_eq!(b.next_job(now, wall), None);
    b.job_done(&first, 120, Some(at("2025-09-01T11:59:00Z")), now);
    assert_eq!(
        b.coverage(),
        Some(at("2025-09-01T11:00:00Z")),
        "ETH still behind"
    );
    assert!(!b.take_backfilled(now));
    b.job_done(&second, 60, Some(at("2025-09-01T11:59:00Z")), now);
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:00:00Z")));
    assert!(b.take_backfilled(now), "first full coverage is announced");
    assert!(!b.take_backfilled(now), "once");
    assert_eq!(b.stats.rest_jobs, 2);
    assert_eq!(b.stats.rest_candles, 180);
    // Sealed and not due: nothing until the next minute settles.
    assert_eq!(b.next_job(at("2025-09-01T12:01:02Z"), wall), None);
    // Without a stream, REST is the only source: every new minute is urgent.
    let j = b.next_job(at("2025-09-01T12:01:03Z"), wall).unwrap();
    assert!(j.urgent);
    assert_eq!(
        (j.from, j.to),
        (at("2025-09-01T12:00:00Z"), at("2025-09-01T12:01:00Z"))
    );
}

#[test]
fn a_live_stream_covers_recent_minutes_and_rest_only_seals_periodically() {
    let mut b = book();
    let wall = Instant::now();
    let t0 = at("2025-09-01T12:00:10Z");
    assert_eq!(b.connected(t0, None), None, "a first connect is no gap");
    assert_eq!(b.live().unwrap().since, at("2025-09-01T12:00:00Z"));
    // Backfill up to the connect minute.
    for _ in 0..2 {
        let j = b.next_job(t0, wall).unwrap();
        assert!(j.urgent);
        b.job_done(&j, 10, None, t0);
    }
    // Streamed candles are buffered; the newest message of a minute wins.
    b.buffer_ws(candle("KRW-BTC", "2025-09-01T12:00:00Z", 100));
    b.buffer_ws(candle("KRW-BTC", "2025-09-01T12:00:00Z", 101));
    b.buffer_ws(candle("KRW-ETH", "2025-09-01T12:00:00Z", 50));
    assert_eq!(b.buffered(), 2);
    // Not flushed yet: coverage stops at the sealed point.
    let t1 = at("2025-09-01T12:01:05Z");
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:00:00Z")));
    let ticket = b.take_flush(t1);
    assert_eq!(ticket.candles.len(), 2);
    assert_eq!(
        ticket.candles[0].close,
        Price::new(Decimal::from(101)).unwrap()
    );
    b.flush_done(&ticket);
    // Flushed at 12:01:05 with a 3 s settle: complete through 12:01:02.
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:01:02Z")));
    assert_eq!(
        b.track(&m("KRW-BTC")).unwrap().last_candle_ts,
        Some(at("2025-09-01T12:00:00Z"))
    );
    // Covered by the stream (flushed every second): REST waits for the seal interval.
    let flush_at = |b: &mut Book, t: &str| {
        let f = b.take_flush(at(t));
        b.flush_done(&f);
    };
    flush_at(&mut b, "2025-09-01T12:04:05Z");
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:04:02Z")));
    assert_eq!(b.next_job(at("2025-09-01T12:04:05Z"), wall), None);
    flush_at(&mut b, "2025-09-01T12:05:10Z");
    let seal = b.next_job(at("2025-09-01T12:05:10Z"), wall).unwrap();
    assert!(!seal.urgent);
    assert_eq!(
        (seal.from, seal.to),
        (at("2025-09-01T12:00:00Z"), at("2025-09-01T12:05:00Z"))
    );
    // A sealed minute is final: later stream copies of it are ignored.
    b.job_done(&seal, 5, None, at("2025-09-01T12:05:10Z"));
    b.buffer_ws(candle(seal.market.as_str(), "2025-09-01T12:04:00Z", 1));
    b.buffer_ws(candle(seal.market.as_str(), "2025-09-01T12:05:00Z", 2));
    assert_eq!(b.take_flush(at("2025-09-01T12:05:11Z")).candles.len(), 1);
}

#[test]
fn a_reconnect_opens_a_gap_that_rest_repairs() {
    let mut b = book();
    let wall = Instant::now();
    let t0 = at("2025-09-01T12:00:10Z");
    b.connected(t0, None);
    while let Some(j) = b.next_job(t0, wall) {
        b.job_done(&j, 1, None, t0);
    }
    let flush = b.take_flush(at("2025-09-01T12:03:00Z"));
    b.flush_done(&flush);
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:02:57Z")));
    // Lost at 12:03, back at 12:07:30.
    b.disconnected();
    assert_eq!(
        b.coverage(),
        Some(at("2025-09-01T12:00:00Z")),
        "stream copy no longer trusted"
    );
    let back = at("2025-09-01T12:07:30Z");
    let gap = b.connected(back, Some(at("2025-09-01T12:03:00Z"))).unwrap();
    assert_eq!((gap.from, gap.to), (at("2025-09-01T12:03:00Z"), back));
    assert_eq!(b.take_repaired_gap(), None);
    // Both markets are urgent up to the reconnect minute.
    let jobs: Vec<Job> = std::iter::from_fn(|| b.next_job(back, wall)).collect();
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.iter()
            .all(|j| j.urgent && j.to == at("2025-09-01T12:07:00Z"))
    );
    b.job_done(&jobs[0], 7, None, back);
    assert_eq!(b.take_repaired_gap(), None, "one market still missing");
    b.job_done(&jobs[1], 7, None, back);
    assert_eq!(b.take_repaired_gap(), Some(gap));
    assert_eq!(b.take_repaired_gap(), None);
    assert_eq!(b.stats.gaps_repaired, 1);
    assert_eq!(b.stats.ws_reconnects, 1);
    // Once flushed after the reconnect, the stream covers again.
    let flush = b.take_flush(at("2025-09-01T12:08:10Z"));
    b.flush_done(&flush);
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:08:07Z")));
}

#[test]
fn a_flush_from_before_a_reconnect_proves_nothing() {
    let mut b = book();
    let wall = Instant::now();
    let t0 = at("2025-09-01T12:00:10Z");
    b.connected(t0, None);
    while let Some(j) = b.next_job(t0, wall) {
        b.job_done(&j, 1, None, t0);
    }
    let stale = b.take_flush(at("2025-09-01T12:05:00Z"));
    b.disconnected();
    b.connected(at("2025-09-01T12:05:30Z"), Some(at("2025-09-01T12:04:00Z")));
    b.flush_done(&stale);
    assert_eq!(b.live().unwrap().flushed_through, None);
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:00:00Z")));
}

#[test]
fn failures_back_off_and_permanent_ones_drop_the_market() {
    let mut b = book();
    let wall = Instant::now();
    let now = at("2025-09-01T12:00:10Z");
    let j = b.next_job(now, wall).unwrap();
    assert_eq!(j.market.as_str(), "KRW-BTC");
    // Transient: 1 s, 2 s, 4 s, 8 s, 8 s (capped).
    let mut delays = Vec::new();
    for _ in 0..5 {
        match b.job_failed(&j, FailureKind::Transient, true, wall) {
            Failure::Retry(d) => delays.push(d.as_secs()),
            Failure::Dropped => panic!("transient errors never drop"),
        }
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 8]);
    assert_eq!((b.stats.rest_errors, b.stats.rest_rate_limited), (5, 5));
    // Backing off: the other market is picked, BTC only after its delay.
    let other = b.next_job(now, wall).unwrap();
    assert_eq!(other.market.as_str(), "KRW-ETH");
    assert_eq!(b.next_job(now, wall), None);
    let again = b.next_job(now, wall + StdDuration::from_secs(9)).unwrap();
    assert_eq!(again.market.as_str(), "KRW-BTC");
    // Permanent: dropped after the third in a row.
    b.buffer_ws(candle("KRW-ETH", "2025-09-01T12:00:00Z", 5));
    assert!(matches!(
        b.job_failed(&other, FailureKind::Permanent, false, wall),
        Failure::Retry(_)
    ));
    assert!(matches!(
        b.job_failed(&other, FailureKind::Permanent, false, wall),
        Failure::Retry(_)
    ));
    assert_eq!(
        b.job_failed(&other, FailureKind::Permanent, false, wall),
        Failure::Dropped
    );
    assert_eq!(b.markets(), vec![m("KRW-BTC")]);
    assert_eq!(b.buffered(), 0, "its buffered candles go too");
    assert_eq!(b.stats.markets_dropped, 1);
    // Abandoning (shutdown) counts nothing.
    b.job_abandoned(&again);
    assert_eq!(b.stats.rest_errors, 8);
    assert!(!b.track(&m("KRW-BTC")).unwrap().in_flight);
}

#[test]
fn a_full_buffer_sheds_the_oldest_minutes_to_rest() {
    let mut b = book();
    let wall = Instant::now();
    let t0 = at("2025-09-01T12:00:10Z");
    b.connected(t0, None);
    while let Some(j) = b.next_job(t0, wall) {
        b.job_done(&j, 1, None, t0);
    }
    // Cap: 3 minutes × 2 markets = 6 entries.
    for minute in 0..5 {
        let ts = format!("2025-09-01T12:0{minute}:00Z");
        b.buffer_ws(candle("KRW-BTC", &ts, 10 + minute));
        b.buffer_ws(candle("KRW-ETH", &ts, 20 + minute));
    }
    assert_eq!(b.buffered(), 6);
    assert_eq!(b.stats.ws_shed, 4);
    // The shed minutes (12:00, 12:01) are no longer trusted from the stream.
    let btc = b.track(&m("KRW-BTC")).unwrap();
    assert_eq!(btc.ws_from, at("2025-09-01T12:02:00Z"));
    let flush = b.take_flush(at("2025-09-01T12:05:05Z"));
    b.flush_done(&flush);
    assert_eq!(
        b.coverage(),
        Some(at("2025-09-01T12:00:00Z")),
        "REST must fill 12:00-12:02"
    );
    let j = b.next_job(at("2025-09-01T12:05:05Z"), wall).unwrap();
    assert!(j.urgent);
}

#[test]
fn a_failed_flush_keeps_newer_messages() {
    let mut b = book();
    b.connected(at("2025-09-01T12:00:10Z"), None);
    b.buffer_ws(candle("KRW-BTC", "2025-09-01T12:00:00Z", 1));
    b.buffer_ws(candle("KRW-BTC", "2025-09-01T12:01:00Z", 2));
    let ticket = b.take_flush(at("2025-09-01T12:01:30Z"));
    assert_eq!(b.buffered(), 0);
    // A newer message for 12:01 arrives while the write fails.
    b.buffer_ws(candle("KRW-BTC", "2025-09-01T12:01:00Z", 3));
    b.flush_failed(ticket);
    assert_eq!(b.stats.db_errors, 1);
    let again = b.take_flush(at("2025-09-01T12:01:40Z"));
    let closes: Vec<String> = again
        .candles
        .iter()
        .map(|c| c.close.get().to_string())
        .collect();
    assert_eq!(closes, vec!["1", "3"]);
}

#[test]
fn market_list_changes_and_health() {
    let mut b = book();
    b.buffer_ws(candle("KRW-ETH", "2025-09-01T11:30:00Z", 1));
    b.buffer_ws(candle("KRW-DOGE", "2025-09-01T11:30:00Z", 1));
    assert_eq!(b.buffered(), 1, "untracked markets are ignored");
    let removed = b.set_markets(
        &[m("KRW-BTC"), m("KRW-XRP")],
        vec![(m("KRW-XRP"), at("2025-09-01T11:59:00Z"), None)],
        at("2025-09-01T12:00:00Z"),
    );
    assert_eq!(removed, vec![m("KRW-ETH")]);
    assert_eq!(b.markets(), vec![m("KRW-BTC"), m("KRW-XRP")]);
    assert_eq!(b.buffered(), 0);
    let now = at("2025-09-01T12:00:00Z");
    let health = b.health(now);
    let lags: Vec<(&str, i64)> = health
        .iter()
        .map(|h| (h.market.as_str(), h.lag_ms))
        .collect();
    assert_eq!(lags, vec![("KRW-BTC", 2 * 3_600_000), ("KRW-XRP", 60_000)]);
    assert!(
        health
            .iter()
            .all(|h| h.updated_at == now && h.last_candle_ts.is_none())
    );
    // A market that is ahead of `now` (clock skew) reports zero lag, never negative.
    let early = b.health(at("2025-09-01T09:00:00Z"));
    assert!(early.iter().all(|h| h.lag_ms == 0));
}

#[test]
fn fetch_start_respects_lookback_and_overlap() {
    let now = at("2025-09-10T12:00:30Z");
    let day = Duration::days(1);
    let half = Duration::minutes(30);
    for (latest, want) in [
        (None, "2025-09-09T12:00:00Z"),
        (Some("2025-09-10T11:00:00Z"), "2025-09-10T10:30:00Z"),
        (Some("2025-09-01T00:00:00Z"), "2025-09-09T12:00:00Z"),
        (Some("2025-09-10T12:00:00Z"), "2025-09-10T11:30:00Z"),
    ] {
        assert_eq!(
            crate::collector::fetch_start(now, day, latest.map(at), half),
            at(want),
            "{latest:?}"
        );
    }
}

#[test]
fn a_failing_market_stops_holding_coverage_back() {
    let mut b = book();
    let wall = Instant::now();
    let now = at("2025-09-01T12:00:10Z");
    let btc = b.next_job(now, wall).unwrap();
    let eth = b.next_job(now, wall).unwrap();
    assert_eq!(
        (btc.market.as_str(), eth.market.as_str()),
        ("KRW-BTC", "KRW-ETH")
    );
    b.job_done(&eth, 1, None, now);
    for failures in 0..4 {
        assert_eq!(b.coverage(), Some(at("2025-09-01T10:00:00Z")), "{failures}");
        assert!(!b.excluded(&btc.market));
        b.job_failed(&btc, FailureKind::Transient, false, wall);
    }
    // Four failures in a row (the policy's `exclude_after`): BTC no longer
    // holds the others back, but is still retried.
    assert!(b.excluded(&btc.market));
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:00:00Z")));
    let again = b.next_job(now, wall + StdDuration::from_mins(1)).unwrap();
    assert_eq!(again.market, btc.market);
    b.job_done(&again, 1, None, now);
    assert!(!b.excluded(&btc.market));
    // When every market fails, coverage is still reported (the oldest).
    let mut all = book();
    for _ in 0..2 {
        let j = all.next_job(now, wall).unwrap();
        for _ in 0..4 {
            all.job_failed(&j, FailureKind::Transient, false, wall);
        }
    }
    assert_eq!(all.coverage(), Some(at("2025-09-01T10:00:00Z")));
}

#[test]
fn a_market_listed_while_streaming_counts_from_the_next_minute() {
    let mut b = book();
    let wall = Instant::now();
    let t0 = at("2025-09-01T12:00:10Z");
    b.connected(t0, None);
    while let Some(j) = b.next_job(t0, wall) {
        b.job_done(&j, 1, None, t0);
    }
    let flush_at = |b: &mut Book, t: &str| {
        let f = b.take_flush(at(t));
        b.flush_done(&f);
    };
    flush_at(&mut b, "2025-09-01T12:30:20Z");
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:30:17Z")));
    // Listed at 12:30:20; the stream only carries it after resubscribing.
    let keep = [m("KRW-BTC"), m("KRW-ETH"), m("KRW-XRP")];
    b.set_markets(
        &keep,
        vec![(m("KRW-XRP"), at("2025-09-01T11:30:20Z"), None)],
        at("2025-09-01T12:30:20Z"),
    );
    assert_eq!(
        b.track(&m("KRW-XRP")).unwrap().ws_from,
        at("2025-09-01T12:31:00Z")
    );
    let j = b.next_job(at("2025-09-01T12:30:21Z"), wall).unwrap();
    assert_eq!(
        (j.market.as_str(), j.to),
        ("KRW-XRP", at("2025-09-01T12:30:00Z"))
    );
    b.job_done(&j, 60, None, at("2025-09-01T12:30:21Z"));
    // Minute 12:30 of XRP is neither sealed nor streamed yet.
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:30:00Z")));
    flush_at(&mut b, "2025-09-01T12:31:05Z");
    let j = b.next_job(at("2025-09-01T12:31:05Z"), wall).unwrap();
    assert!(j.urgent && j.market.as_str() == "KRW-XRP");
    b.job_done(&j, 1, None, at("2025-09-01T12:31:05Z"));
    assert_eq!(b.coverage(), Some(at("2025-09-01T12:31:02Z")));
}
