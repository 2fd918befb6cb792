//! Limiter decisions with explicit instants (no sleeping).

use std::sync::Arc;

use chrono::TimeZone;
use runtime::TestClock;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn ms(n: i64) -> chrono::Duration {
    chrono::Duration::milliseconds(n)
}

fn limiter() -> (RateLimiter, TestClock) {
    let clock = TestClock::new(t0());
    let limits = RateLimits {
        margin: Duration::ZERO,
        ..RateLimits::default()
    };
    (RateLimiter::new(limits, Arc::new(clock.clone())), clock)
}

#[test]
fn remaining_req_header() {
    let rr = RemainingReq::parse("group=default; min=1800; sec=29").unwrap();
    assert_eq!(rr.group, "default");
    assert_eq!(rr.sec, Some(29));
    assert_eq!(rr.min, Some(1800));
    assert_eq!(rr.rate_group(), Some(RateGroup::Default));
    for (raw, group) in [
        ("group=candles; min=600; sec=9", Some(RateGroup::Candles)),
        (
            "group=order-cancel-all;sec=0",
            Some(RateGroup::OrderCancelAll),
        ),
        ("group=exchange.order; sec=7", Some(RateGroup::Order)),
        ("group=candle; sec=7", Some(RateGroup::Candles)),
        ("group=origin; sec=0", None),
    ] {
        assert_eq!(
            RemainingReq::parse(raw).unwrap().rate_group(),
            group,
            "{raw}"
        );
    }
    assert_eq!(RemainingReq::parse("min=1; sec=2"), None);
    assert_eq!(RemainingReq::parse(""), None);
    assert_eq!(RemainingReq::parse("group=x; sec=abc").unwrap().sec, None);
}

#[test]
fn local_window_allows_exactly_the_limit_per_second() {
    let (l, _) = limiter();
    for i in 0..10 {
        assert_eq!(
            l.check_at(RateGroup::Candles, t0() + ms(i)),
            Decision::Proceed
        );
    }
    // The 11th within the same second waits until the first one leaves.
    assert_eq!(
        l.check_at(RateGroup::Candles, t0() + ms(500)),
        Decision::Wait(Duration::from_millis(500))
    );
    // Other groups are independent.
    assert_eq!(
        l.check_at(RateGroup::Ticker, t0() + ms(500)),
        Decision::Proceed
    );
    // One second after the first send, exactly one slot is free.
    assert_eq!(
        l.check_at(RateGroup::Candles, t0() + ms(1000)),
        Decision::Proceed
    );
    assert_eq!(
        l.check_at(RateGroup::Candles, t0() + ms(1000)),
        Decision::Wait(Duration::from_millis(1))
    );
}

#[test]
fn sliding_window_never_exceeds_the_limit_in_any_second() {
    let (l, _) = limiter();
    let mut sent = Vec::new();
    // Ask every 7 ms for 3 s; record what proceeded.
    for step in 0..430 {
        let now = t0() + ms(step * 7);
        if l.check_at(RateGroup::Default, now) == Decision::Proceed {
            sent.push(now);
        }
    }
    for (i, start) in sent.iter().enumerate() {
        let in_window = sent[i..]
            .iter()
            .take_while(|t| **t < *start + chrono::Duration::seconds(1))
            .count();
        assert!(in_window <= 30, "{in_window} sends within 1 s of {start}");
    }
    assert!(sent.len() >= 85, "throughput collapsed: {}", sent.len());
}

#[test]
fn cancel_all_group_is_one_per_two_seconds() {
    let (l, _) = limiter();
    assert_eq!(
        l.check_at(RateGroup::OrderCancelAll, t0()),
        Decision::Proceed
    );
    assert_eq!(
        l.check_at(RateGroup::OrderCancelAll, t0() + ms(1500)),
        Decision::Wait(Duration::from_millis(500))
    );
    assert_eq!(
        l.check_at(RateGroup::OrderCancelAll, t0() + ms(2000)),
        Decision::Proceed
    );
}

#[test]
fn server_budget_caps_sends_until_the_second_passes() {
    let (l, _) = limiter();
    assert_eq!(l.check_at(RateGroup::Order, t0()), Decision::Proceed);
    // Someone else used the account's budget: only 2 left this second.
    l.observe_at(
        &RemainingReq::parse("group=order; min=720; sec=2").unwrap(),
        t0() + ms(10),
    );
    assert_eq!(
        l.check_at(RateGroup::Order, t0() + ms(20)),
        Decision::Proceed
    );
    assert_eq!(
        l.check_at(RateGroup::Order, t0() + ms(30)),
        Decision::Proceed
    );
    assert_eq!(
        l.check_at(RateGroup::Order, t0() + ms(40)),
        Decision::Wait(Duration::from_millis(970))
    );
    // A stale, larger value from an earlier in-flight request does not raise it.
    l.observe_at(
        &RemainingReq::parse("group=order; sec=9").unwrap(),
        t0() + ms(50),
    );
    assert_eq!(
        l.check_at(RateGroup::Order, t0() + ms(60)),
        Decision::Wait(Duration::from_millis(950))
    );
    assert_eq!(
        l.check_at(RateGroup::Order, t0() + ms(1010)),
        Decision::Proceed
    );
    // Unknown groups and headers without sec are ignored.
    l.observe_at(&RemainingReq::parse("group=origin; sec=0").unwrap(), t0());
    l.observe_at(&RemainingReq::parse("group=ticker; min=600").unwrap(), t0());
    assert_eq!(l.check_at(RateGroup::Ticker, t0()), Decision::Proceed);
}

#[test]
fn a_429_stops_the_group_until_the_second_rolls_over() {
    let (l, clock) = limiter();
    l.on_429_at(RateGroup::Ticker, None, t0());
    assert_eq!(
        l.check_at(RateGroup::Ticker, t0() + ms(300)),
        Decision::Wait(Duration::from_millis(700))
    );
    assert_eq!(
        l.check_at(RateGroup::Candles, t0() + ms(300)),
        Decision::Proceed
    );
    assert_eq!(l.stopped_until(RateGroup::Ticker), Some(t0() + ms(1000)));
    assert_eq!(
        l.check_at(RateGroup::Ticker, t0() + ms(1000)),
        Decision::Proceed
    );
    // A longer server hint wins.
    l.on_429_at(RateGroup::Ticker, Some(Duration::from_secs(3)), t0());
    assert_eq!(
        l.check_at(RateGroup::Ticker, t0() + ms(2000)),
        Decision::Wait(Duration::from_secs(1))
    );
    clock.set(t0() + ms(3000));
    assert_eq!(l.stopped_until(RateGroup::Ticker), None);
}

#[test]
fn a_418_blocks_everything_and_escalates() {
    let (l, clock) = limiter();
    assert_eq!(l.on_418_at(None, t0()), Duration::from_secs(30));
    assert_eq!(
        l.check_at(RateGroup::Candles, t0() + ms(1000)),
        Decision::Blocked(Duration::from_secs(29))
    );
    assert_eq!(
        l.check_at(RateGroup::Default, t0() + ms(1000)),
        Decision::Blocked(Duration::from_secs(29))
    );
    assert_eq!(
        l.blocked_until(),
        Some(t0() + chrono::Duration::seconds(30))
    );
    let later = t0() + chrono::Duration::seconds(30);
    assert_eq!(l.check_at(RateGroup::Candles, later), Decision::Proceed);
    // Second block without a success in between: doubled.
    assert_eq!(l.on_418_at(None, later), Duration::from_mins(1));
    // A server-given duration is used as is.
    assert_eq!(
        l.on_418_at(Some(Duration::from_secs(5)), later),
        Duration::from_secs(5)
    );
    l.on_success();
    assert_eq!(l.on_418_at(None, later), Duration::from_secs(30));
    clock.set(later + chrono::Duration::seconds(61));
    assert_eq!(l.blocked_until(), None);
}

#[tokio::test]
async fn acquire_fails_fast_when_blocked_or_the_wait_is_too_long() {
    let (l, _) = limiter();
    l.on_418(Some(Duration::from_secs(10)));
    let err = l
        .acquire(RateGroup::Ticker, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, UpbitError::Blocked { .. }), "{err:?}");

    let (l, _) = limiter();
    l.on_429(RateGroup::Ticker, Some(Duration::from_secs(10)));
    let err = l
        .acquire(RateGroup::Ticker, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            UpbitError::RateLimited {
                group: Some(RateGroup::Ticker),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(l.acquire(RateGroup::Market, Duration::ZERO).await.is_ok());
}

#[test]
fn wire_names_round_trip() {
    for g in RateGroup::ALL {
        assert_eq!(RateGroup::from_wire(g.wire_name()), Some(g));
    }
    let limits = RateLimits::default().with_limit(RateGroup::Order, Limit::per_second(8));
    assert_eq!(limits.limit(RateGroup::Order).max, 8);
    assert_eq!(RateLimits::default().limit(RateGroup::Order).max, 12);
    assert_eq!(RateLimits::default().limit(RateGroup::Default).max, 30);
}

#[test]
fn absurd_server_durations_cannot_overflow_or_block_forever() {
    let (l, _) = limiter();
    let block = l.on_418_at(Some(Duration::from_secs(u64::MAX)), t0());
    assert_eq!(block, Duration::from_secs(u64::MAX));
    match l.check_at(RateGroup::Candles, t0()) {
        Decision::Blocked(left) => assert!(left <= Duration::from_hours(24), "{left:?}"),
        other => panic!("{other:?}"),
    }
    l.on_429_at(RateGroup::Ticker, Some(Duration::MAX), t0());
    let far = l.check_at(RateGroup::Ticker, t0() + chrono::Duration::days(2));
    assert_eq!(far, Decision::Proceed, "a day-capped 429 pause has ended");
    // Saturates at the end of time instead of overflowing.
    l.on_429_at(
        RateGroup::Market,
        Some(Duration::MAX),
        DateTime::<Utc>::MAX_UTC,
    );
    l.observe_at(
        &RemainingReq::parse("group=market; sec=0").unwrap(),
        DateTime::<Utc>::MAX_UTC,
    );
}
