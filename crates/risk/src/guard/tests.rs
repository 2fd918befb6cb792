//! Unit tests for the runtime guard: each rule's trip point, its reset, and
//! that refused transitions change nothing.

use chrono::{Duration, TimeZone};
use domain::RiskProfile;
use rust_decimal_macros::dec;

use super::*;
use crate::testutil::{krw, m, t0};

fn params() -> RiskParams {
    RiskParams::builtin(RiskProfile::Standard)
}

fn guard() -> RuntimeGuard {
    RuntimeGuard::new(krw(10_000_000), t0())
}

fn mark(g: &mut RuntimeGuard, equity: i64, at: DateTime<Utc>) -> GuardTransition {
    g.apply(
        GuardEvent::EquityMarked {
            equity: krw(equity),
        },
        at,
        &params(),
    )
    .unwrap()
}

fn close(g: &mut RuntimeGuard, pnl: i64, at: DateTime<Utc>) -> GuardTransition {
    g.apply(
        GuardEvent::TradeClosed {
            market: m("KRW-XRP"),
            pnl: krw(pnl),
        },
        at,
        &params(),
    )
    .unwrap()
}

#[test]
fn daily_loss_trips_the_kill_switch_only_beyond_the_limit() {
    // (equity marked, tripped?) — limit is 5 % of 10 M = 500,000, strictly greater trips.
    for (equity, tripped) in [
        (10_500_000, false),
        (9_600_000, false),
        (9_500_000, false),
        (9_499_999, true),
        (0, true),
    ] {
        let mut g = guard();
        let t = mark(&mut g, equity, t0());
        assert_eq!(
            matches!(g.kill_switch(), KillSwitch::Tripped { .. }),
            tripped,
            "{equity}"
        );
        assert_eq!(
            t.effects
                .iter()
                .any(|e| matches!(e, GuardEffect::KillSwitchTripped { .. })),
            tripped
        );
        assert_eq!(g.entries_allowed(t0(), &params()), !tripped);
    }
}

#[test]
fn kill_switch_survives_the_day_and_needs_a_confirmed_resume() {
    let p = params();
    let mut g = guard();
    mark(&mut g, 9_000_000, t0());
    assert_eq!(g.blocks(t0(), &p), vec![BlockReason::KillSwitch]);
    // next day: still on (RUN-4 needs a manual resume)
    let tomorrow = t0() + Duration::days(1);
    let t = g.apply(GuardEvent::Tick, tomorrow, &p).unwrap();
    assert!(matches!(t.effects[0], GuardEffect::DayRolled { .. }));
    assert_eq!(g.blocks(tomorrow, &p), vec![BlockReason::KillSwitch]);
    // an unconfirmed resume is refused and changes nothing
    let before = g.clone();
    let err = g
        .apply(
            GuardEvent::ManualResume {
                operator: "ops".into(),
                confirmed: false,
            },
            tomorrow,
            &p,
        )
        .unwrap_err();
    assert_eq!(err, GuardError::ResumeNotConfirmed);
    assert_eq!(g, before);
    // a second trip is refused
    assert_eq!(
        g.apply(
            GuardEvent::TripKillSwitch {
                operator: "ops".into(),
                reason: "again".into()
            },
            tomorrow,
            &p
        )
        .unwrap_err(),
        GuardError::AlreadyTripped
    );
    let t = g
        .apply(
            GuardEvent::ManualResume {
                operator: "ops".into(),
                confirmed: true,
            },
            tomorrow,
            &p,
        )
        .unwrap();
    assert_eq!(t.blocks_before, vec![BlockReason::KillSwitch]);
    assert!(t.blocks_after.is_empty());
    // the day's baseline is the resumed equity: a small further loss does not re-trip
    mark(&mut g, 8_800_000, tomorrow);
    assert!(g.entries_allowed(tomorrow, &p));
    assert_eq!(g.daily_pnl(), krw(-200_000));
    // nothing left to resume
    assert_eq!(
        g.apply(
            GuardEvent::ManualResume {
                operator: "ops".into(),
                confirmed: true
            },
            tomorrow,
            &p
        )
        .unwrap_err(),
        GuardError::NothingToResume
    );
}

#[test]
fn manual_trip_blocks_until_resumed() {
    let p = params();
    let mut g = guard();
    let t = g
        .apply(
            GuardEvent::TripKillSwitch {
                operator: "ops".into(),
                reason: "exchange incident".into(),
            },
            t0(),
            &p,
        )
        .unwrap();
    assert!(matches!(
        &t.effects[0],
        GuardEffect::KillSwitchTripped {
            cause: KillCause::Manual { .. }
        }
    ));
    assert!(!g.entries_allowed(t0() + Duration::days(3), &p));
}

#[test]
fn day_boundary_is_midnight_utc() {
    let start = Utc
        .with_ymd_and_hms(2025, 9, 1, 23, 59, 0)
        .single()
        .unwrap();
    let mut g = RuntimeGuard::new(krw(10_000_000), start);
    mark(&mut g, 9_700_000, start);
    // 00:00:00 the next day: new baseline 9.7 M; a 400 k loss since is 4.1 % — no trip
    let midnight = Utc.with_ymd_and_hms(2025, 9, 2, 0, 0, 0).single().unwrap();
    let t = mark(&mut g, 9_300_000, midnight);
    assert!(matches!(
        t.effects[0],
        GuardEffect::DayRolled { start_equity, .. } if start_equity == krw(9_700_000)
    ));
    assert!(matches!(g.kill_switch(), KillSwitch::Off));
    assert_eq!(g.day_start_equity(), krw(9_700_000));
    // the same 700 k total loss within one day would have tripped
    let mut same_day = RuntimeGuard::new(krw(10_000_000), start);
    mark(&mut same_day, 9_300_000, start);
    assert!(matches!(same_day.kill_switch(), KillSwitch::Tripped { .. }));
}

#[test]
fn consecutive_losses_block_until_the_next_day() {
    use chrono::Timelike;
    let p = params();
    let mut g = guard();
    let t = t0();
    for _ in 0..4 {
        close(&mut g, -1_000, t);
    }
    close(&mut g, 0, t); // a break-even trade ends the streak
    assert_eq!(g.consecutive_losses(), 0);
    for i in 0..5 {
        let tr = close(&mut g, -1_000, t);
        assert_eq!(
            tr.effects
                .iter()
                .any(|e| matches!(e, GuardEffect::ConsecutiveLossBlock { count: 5 })),
            i == 4
        );
    }
    assert_eq!(
        g.blocks(t, &p),
        vec![BlockReason::ConsecutiveLosses { count: 5, limit: 5 }]
    );
    // still blocked at 23:59, clear at 00:00 even before any event is applied
    let late = t.with_hour(23).unwrap().with_minute(59).unwrap();
    assert!(!g.entries_allowed(late, &p));
    let next_day = t + Duration::hours(12);
    assert!(g.entries_allowed(next_day, &p));
    g.apply(GuardEvent::Tick, next_day, &p).unwrap();
    assert_eq!(g.consecutive_losses(), 0);
}

#[test]
fn slippage_anomaly_cools_down() {
    let p = params();
    let mut g = guard();
    let ev = |s| GuardEvent::SlippageObserved {
        market: m("KRW-XRP"),
        slippage: s,
    };
    // at the threshold: not an anomaly
    let t = g.apply(ev(dec!(0.01)), t0(), &p).unwrap();
    assert!(t.effects.is_empty());
    // negative (favourable) slippage never is
    g.apply(ev(dec!(-0.5)), t0(), &p).unwrap();
    assert!(g.entries_allowed(t0(), &p));
    g.apply(ev(dec!(0.02)), t0(), &p).unwrap();
    let until = t0() + Duration::minutes(30);
    assert_eq!(
        g.blocks(t0() + Duration::minutes(29), &p),
        vec![BlockReason::SlippageAnomaly { until }]
    );
    assert!(g.entries_allowed(until, &p));
    // a manual resume may clear it early
    g.apply(
        GuardEvent::ManualResume {
            operator: "ops".into(),
            confirmed: true,
        },
        t0() + Duration::minutes(1),
        &p,
    )
    .unwrap();
    assert!(g.entries_allowed(t0() + Duration::minutes(1), &p));
}

#[test]
fn health_flags_and_panic_block_while_set() {
    let p = params();
    let mut g = guard();
    let cases = [
        (
            GuardEvent::ApiHealth { ok: false },
            Some(BlockReason::ApiFailing),
        ),
        (GuardEvent::ApiHealth { ok: true }, None),
        (
            GuardEvent::DbHealth { ok: false },
            Some(BlockReason::DbFailing),
        ),
        (GuardEvent::DbHealth { ok: true }, None),
        (
            GuardEvent::RegimeChanged {
                label: RegimeLabel::Panic,
            },
            Some(BlockReason::RegimePanic),
        ),
        (
            GuardEvent::RegimeChanged {
                label: RegimeLabel::Chop,
            },
            None,
        ),
    ];
    for (event, block) in cases {
        let name = event.name();
        let t = g.apply(event, t0(), &p).unwrap();
        assert_eq!(t.effects.len(), 1, "{name}");
        assert_eq!(
            g.blocks(t0(), &p),
            block.into_iter().collect::<Vec<_>>(),
            "{name}"
        );
    }
    // repeating a state is audited but has no effect
    let t = g
        .apply(GuardEvent::DbHealth { ok: true }, t0(), &p)
        .unwrap();
    assert!(t.effects.is_empty());
}

#[test]
fn three_failures_in_ten_minutes_blacklist_for_ten_minutes() {
    let p = params();
    let xrp = m("KRW-XRP");
    // spaced more than the window apart: never blacklisted
    let mut g = guard();
    for i in 0..5 {
        let t = g.record_order_failure(xrp.clone(), t0() + Duration::minutes(11 * i), &p);
        assert!(t.effects.is_empty());
    }
    // a success resets the count
    let mut g = guard();
    g.record_order_failure(xrp.clone(), t0(), &p);
    g.record_order_failure(xrp.clone(), t0(), &p);
    g.apply(
        GuardEvent::OrderSucceeded {
            market: xrp.clone(),
        },
        t0(),
        &p,
    )
    .unwrap();
    assert!(
        g.record_order_failure(xrp.clone(), t0(), &p)
            .effects
            .is_empty()
    );
    // three within the window
    let mut g = guard();
    g.record_order_failure(xrp.clone(), t0(), &p);
    g.record_order_failure(xrp.clone(), t0() + Duration::minutes(4), &p);
    let t = g.record_order_failure(xrp.clone(), t0() + Duration::minutes(9), &p);
    let until = t0() + Duration::minutes(19);
    assert_eq!(
        t.effects,
        vec![GuardEffect::MarketBlacklisted {
            market: xrp.clone(),
            until
        }]
    );
    assert_eq!(
        g.blacklisted_until(&xrp, t0() + Duration::minutes(18)),
        Some(until)
    );
    assert_eq!(g.blacklisted_until(&xrp, until), None);
    assert_eq!(g.blacklisted_until(&m("KRW-BTC"), t0()), None);
    // the blacklist does not block other markets' entries
    assert!(g.entries_allowed(t0() + Duration::minutes(10), &p));
}

#[test]
fn state_round_trips_through_serde() {
    let p = params();
    let mut g = guard();
    mark(&mut g, 9_000_000, t0());
    g.record_order_failure(m("KRW-XRP"), t0(), &p);
    g.apply(GuardEvent::ApiHealth { ok: false }, t0(), &p)
        .unwrap();
    let json = serde_json::to_string(&g).unwrap();
    let back: RuntimeGuard = serde_json::from_str(&json).unwrap();
    assert_eq!(back, g);
    let t = mark(&mut g, 9_000_000, t0());
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.contains("\"event\":\"EQUITY_MARKED\""), "{json}");
    let back: GuardTransition = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[test]
fn snapshot_restores_loss_count_kill_switch_and_blacklist() {
    let p = params();
    let mut g = guard();
    mark(&mut g, 9_700_000, t0());
    close(&mut g, -1, t0());
    g.record_order_failure(m("KRW-XRP"), t0(), &p);
    g.record_order_failure(m("KRW-XRP"), t0(), &p);
    g.record_order_failure(m("KRW-XRP"), t0(), &p);
    let snap = g.snapshot();
    assert_eq!(snap.daily_loss, krw(300_000));
    assert_eq!(snap.consecutive_losses, 1);

    // Same day, equity moved on while the trader was down: the limit keeps
    // counting from the day's start (10 M), so 4.9 M more loss trips it.
    let later = t0() + Duration::minutes(5);
    let mut back = RuntimeGuard::restore(snap.clone(), krw(9_600_000), later, &p);
    assert_eq!(back.day_start_equity(), krw(9_900_000));
    assert_eq!(back.consecutive_losses(), 1);
    assert!(back.blacklisted_until(&m("KRW-XRP"), later).is_some());
    let t = mark(&mut back, 9_300_000, later);
    assert!(
        t.effects
            .iter()
            .any(|e| matches!(e, GuardEffect::KillSwitchTripped { .. })),
        "{t:?}"
    );
    // ... and the tripped switch survives another restart, on a later day too.
    let next_day = t0() + Duration::days(1);
    let again = RuntimeGuard::restore(back.snapshot(), krw(9_300_000), next_day, &p);
    assert!(matches!(again.kill_switch(), KillSwitch::Tripped { .. }));
    assert_eq!(again.day_start_equity(), krw(9_300_000));
    assert_eq!(again.consecutive_losses(), 0);
    // the blacklist expired meanwhile
    assert_eq!(again.blacklisted_until(&m("KRW-XRP"), next_day), None);

    // A restored loss streak at the limit blocks entries again.
    let mut streak = guard();
    for _ in 0..p.consecutive_loss_limit {
        close(&mut streak, -1, t0());
    }
    let restored = RuntimeGuard::restore(streak.snapshot(), krw(10_000_000), later, &p);
    assert!(!restored.entries_allowed(later, &p));
}

#[test]
fn only_the_exact_mark_asks_for_liquidation() {
    assert!(asks_liquidation(&format!(
        "tripped by admin from the dashboard{LIQUIDATE_MARK}"
    )));
    for reason in [
        "tripped by liquidator from the dashboard; open positions are kept",
        "liquidate",
        "operator: LIQUIDATE everything",
        "; liquidate every open position, later",
        "",
    ] {
        assert!(!asks_liquidation(reason), "{reason:?}");
    }
}
