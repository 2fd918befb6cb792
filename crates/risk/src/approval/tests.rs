//! Unit tests for PRE-1..8 and the approve entry points: a context where every
//! check passes, then one table row per way to fail, each naming exactly the
//! reason codes it must produce.

use chrono::{DateTime, Duration, Utc};
use domain::{
    Krw, OrderIdentifier, OrderRequest, Position, Price, RegimeLabel, RiskProfile, Side, TraderId,
    Volume,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::{
    ApiStatus, Clusters, GuardEvent, MarketStatus, OrderBook, RiskParams, RuntimeGuard,
    testutil::{deep_book, krw, lvl, m, position, price, t0},
};

fn ident() -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "s", 1, 0).unwrap()
}

fn buy(market: &str, p: Decimal, v: Decimal) -> OrderRequest {
    OrderRequest::limit(
        m(market),
        Side::Bid,
        price(p),
        Volume::new(v).unwrap(),
        None,
        ident(),
    )
    .unwrap()
}

/// Owned inputs of an [`EntryContext`], so table rows can edit them.
struct Fixture {
    params: RiskParams,
    now: DateTime<Utc>,
    equity: Krw,
    cash: Krw,
    reserved: Krw,
    open: Vec<Position>,
    stop: Price,
    regime: RegimeLabel,
    stale: bool,
    score: f64,
    book: OrderBook,
    clusters: Clusters,
    guard: RuntimeGuard,
    api: ApiStatus,
    status: MarketStatus,
    order: OrderRequest,
}

impl Fixture {
    /// Everything passes: a 2,000,000 KRW limit buy of KRW-XRP at 1,000 with a
    /// stop at 980, on a book with ≈ 10 M KRW per ask level, in TREND.
    fn passing() -> Self {
        let mut params = RiskParams::builtin(RiskProfile::Standard);
        // The position cap is tested on its own row; lifted so the others show.
        params.max_position_fraction = Decimal::ONE;
        Self {
            params,
            now: t0(),
            equity: krw(10_000_000),
            cash: krw(10_000_000),
            reserved: krw(0),
            open: vec![],
            stop: price(dec!(980)),
            regime: RegimeLabel::Trend,
            stale: false,
            score: 80.0,
            book: deep_book("KRW-XRP"),
            clusters: Clusters::none(0.7),
            guard: RuntimeGuard::new(krw(10_000_000), t0()),
            api: ApiStatus::default(),
            status: MarketStatus::default(),
            order: buy("KRW-XRP", dec!(1000), dec!(2000)),
        }
    }

    fn ctx(&self) -> EntryContext<'_> {
        EntryContext {
            params: &self.params,
            now: self.now,
            equity: self.equity,
            cash: self.cash,
            reserved: self.reserved,
            open_positions: &self.open,
            stop_price: self.stop,
            regime: self.regime,
            regime_stale: self.stale,
            total_score: self.score,
            entry_threshold: 70.0,
            book: &self.book,
            clusters: &self.clusters,
            guard: &self.guard,
            api: self.api,
            market_status: self.status,
        }
    }

    fn guard_event(&mut self, e: GuardEvent) {
        self.guard.apply(e, t0(), &self.params).unwrap();
    }
}

fn check(name: &str, edit: impl FnOnce(&mut Fixture), want: &[&str]) {
    let mut f = Fixture::passing();
    edit(&mut f);
    let ctx = f.ctx();
    let result = approve_entry(f.order.clone(), &ctx);
    match result {
        Ok(approved) => {
            assert!(want.is_empty(), "{name}: approved, wanted {want:?}");
            assert_eq!(approved.checks().len(), 8, "{name}");
            assert!(approved.checks().iter().all(CheckResult::passed));
            assert_eq!(approved.get(), &f.order);
        }
        Err(refused) => {
            // every check is present, in order, even the passing ones
            let ids: Vec<CheckId> = refused.checks.iter().map(|c| c.check).collect();
            assert_eq!(ids, CheckId::ENTRY.to_vec(), "{name}");
            let got: Vec<String> = refused
                .reason_codes()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect();
            assert_eq!(got, want, "{name}: {refused}");
        }
    }
}

#[test]
fn each_check_fails_for_its_own_reason() {
    check("all pass", |_| {}, &[]);
    check(
        "market buy of the same size passes",
        |f| {
            f.order = OrderRequest::market_buy(m("KRW-XRP"), krw(2_000_000), ident()).unwrap();
        },
        &[],
    );
    check(
        "score just below",
        |f| f.score = 69.99,
        &["PRE1_SCORE_BELOW_THRESHOLD"],
    );
    check("score exactly at threshold passes", |f| f.score = 70.0, &[]);
    check(
        "NaN score",
        |f| f.score = f64::NAN,
        &["PRE1_SCORE_NOT_FINITE"],
    );
    check(
        "CHOP",
        |f| f.regime = RegimeLabel::Chop,
        &["PRE2_REGIME_CHOP", "PRE8_MAX_POSITIONS"],
    );
    check(
        "PANIC",
        |f| f.regime = RegimeLabel::Panic,
        &["PRE2_REGIME_PANIC", "PRE8_MAX_POSITIONS"],
    );
    check("stale regime", |f| f.stale = true, &["PRE2_REGIME_STALE"]);
    check(
        "order above 0.3 × avg depth (3,006,000 KRW)",
        |f| f.order = buy("KRW-XRP", dec!(1000), dec!(3007)),
        &["PRE3_DEPTH_TOO_THIN"],
    );
    check(
        "exactly 0.3 × avg depth passes",
        |f| {
            // avg of 1000..1004 × 10,000 = 10,020,000 → allowed 3,006,000
            f.order = buy("KRW-XRP", dec!(1000), dec!(3006));
        },
        &[],
    );
    check(
        "slippage: a tiny first level, the rest 1 % higher",
        |f| {
            f.book = OrderBook::new(
                m("KRW-XRP"),
                (0..5)
                    .map(|i| {
                        if i == 0 {
                            lvl(dec!(1000), dec!(10))
                        } else {
                            lvl(Decimal::from(1010 + i), dec!(10_000))
                        }
                    })
                    .collect(),
                vec![lvl(dec!(999), dec!(10))],
            )
            .unwrap();
        },
        &["PRE3_SLIPPAGE_TOO_HIGH"],
    );
    check(
        "book cannot fill",
        |f| {
            f.book = OrderBook::new(
                m("KRW-XRP"),
                vec![lvl(dec!(1000), dec!(100_000)), lvl(dec!(1001), dec!(100))],
                vec![],
            )
            .unwrap();
            // the whole book is 100,100,100 KRW
            f.order = buy("KRW-XRP", dec!(1000), dec!(100_200));
            f.cash = krw(1_000_000_000);
            f.equity = krw(1_000_000_000);
        },
        // a book that cannot fill the order is also too thin for PRE-3's ratio
        &["PRE3_DEPTH_TOO_THIN", "PRE3_BOOK_TOO_THIN"],
    );
    check(
        "book of another market",
        |f| f.book = deep_book("KRW-ETH"),
        &["PRE3_BOOK_MARKET_MISMATCH"],
    );
    check(
        "budget below risk per trade and below the order",
        |f| f.cash = krw(50_000),
        &["PRE4_BUDGET_BELOW_RISK", "PRE4_ORDER_EXCEEDS_BUDGET"],
    );
    check(
        "reserved KRW leaves too little for the order",
        |f| f.reserved = krw(9_000_000),
        &["PRE4_ORDER_EXCEEDS_BUDGET"],
    );
    check(
        "two positions already in the same market (FIX-6 allowed, RISK-5 caps)",
        |f| {
            f.open = vec![
                position("KRW-XRP", dec!(1000), dec!(10), dec!(990)),
                position("KRW-XRP", dec!(1000), dec!(10), dec!(990)),
            ];
        },
        &["PRE5_CLUSTER_FULL"],
    );
    check(
        "one position in the same market is fine",
        |f| f.open = vec![position("KRW-XRP", dec!(1000), dec!(10), dec!(990))],
        &[],
    );
    check(
        "two correlated markets held",
        |f| {
            let wave: Vec<f64> = (0..60).map(|i| (f64::from(i) * 0.7).sin()).collect();
            let series = [
                (m("KRW-XRP"), wave.as_slice()),
                (m("KRW-ETH"), wave.as_slice()),
                (m("KRW-SOL"), wave.as_slice()),
            ];
            f.clusters = Clusters::build(&series, 0.7);
            f.open = vec![
                position("KRW-ETH", dec!(1000), dec!(10), dec!(990)),
                position("KRW-SOL", dec!(1000), dec!(10), dec!(990)),
            ];
        },
        &["PRE5_CLUSTER_FULL"],
    );
    check(
        "API failing and rate-limited",
        |f| {
            f.api = ApiStatus {
                api_ok: false,
                rate_limit_ok: false,
            };
        },
        &["PRE6_API_UNHEALTHY", "PRE6_RATE_LIMITED"],
    );
    check(
        "the guard's API flag is PRE-6's, not PRE-8's",
        |f| f.guard_event(GuardEvent::ApiHealth { ok: false }),
        &["PRE6_API_UNHEALTHY"],
    );
    check(
        "maintenance, warning, suspended",
        |f| {
            f.status = MarketStatus {
                exchange_maintenance: true,
                market_warning: true,
                trading_suspended: true,
            };
        },
        &[
            "PRE7_EXCHANGE_MAINTENANCE",
            "PRE7_MARKET_WARNING",
            "PRE7_TRADING_SUSPENDED",
        ],
    );
    check(
        "kill switch",
        |f| {
            f.guard_event(GuardEvent::TripKillSwitch {
                operator: "ops".into(),
                reason: "test".into(),
            });
        },
        &["PRE8_KILL_SWITCH"],
    );
    check(
        "daily loss limit passed: kill switch",
        |f| {
            f.guard_event(GuardEvent::EquityMarked {
                equity: krw(9_000_000),
            });
        },
        &["PRE8_KILL_SWITCH"],
    );
    check(
        "equity 6 % below the day's start, guard not marked yet (RISK-6)",
        |f| {
            f.equity = krw(9_400_000);
            f.cash = krw(9_400_000);
        },
        &["PRE8_DAILY_LOSS_LIMIT"],
    );
    check(
        "equity exactly at the 5 % limit passes",
        |f| {
            f.equity = krw(9_500_000);
            f.cash = krw(9_500_000);
        },
        &[],
    );
    check(
        "past the limit and marked: the kill switch says it once",
        |f| {
            f.guard_event(GuardEvent::EquityMarked {
                equity: krw(9_000_000),
            });
            f.equity = krw(9_000_000);
            f.cash = krw(9_000_000);
        },
        &["PRE8_KILL_SWITCH"],
    );
    check(
        "a new UTC day starts from the last marked equity",
        |f| {
            f.guard_event(GuardEvent::EquityMarked {
                equity: krw(9_600_000),
            });
            // 2 % below 9.6 M is inside today's limit (the guard has not ticked yet)
            f.equity = krw(9_408_000);
            f.cash = krw(9_408_000);
            f.now = t0() + Duration::days(1);
        },
        &[],
    );
    check(
        "DB failing and PANIC seen by the guard",
        |f| {
            f.guard_event(GuardEvent::DbHealth { ok: false });
            f.guard_event(GuardEvent::RegimeChanged {
                label: RegimeLabel::Panic,
            });
        },
        &["PRE8_DB_FAILING", "PRE8_REGIME_PANIC"],
    );
    check(
        "blacklisted market",
        |f| {
            for _ in 0..3 {
                f.guard.record_order_failure(m("KRW-XRP"), t0(), &f.params);
            }
        },
        &["PRE8_MARKET_BLACKLISTED"],
    );
    check(
        "a blacklist expires",
        |f| {
            for _ in 0..3 {
                f.guard
                    .record_order_failure(m("KRW-XRP"), t0() - Duration::minutes(10), &f.params);
            }
        },
        &[],
    );
    check(
        "portfolio cap: 480,000 open + 41,000 > 500,000",
        |f| f.open = vec![position("KRW-BTC", dec!(100), dec!(24000), dec!(80))],
        &["PRE8_PORTFOLIO_RISK_CAP"],
    );
    check(
        "order above the position cap (20 % of equity)",
        |f| {
            f.params.max_position_fraction = dec!(0.2);
            f.order = buy("KRW-XRP", dec!(1000), dec!(2001));
        },
        &["PRE8_POSITION_TOO_LARGE"],
    );
    check(
        "max positions in TREND (5)",
        |f| {
            f.open = ["KRW-A", "KRW-B", "KRW-C", "KRW-D", "KRW-E"]
                .iter()
                .map(|mk| position(mk, dec!(1000), dec!(10), dec!(990)))
                .collect();
        },
        &["PRE8_MAX_POSITIONS"],
    );
    check(
        "stop not below the limit",
        |f| f.stop = price(dec!(1000)),
        &["PRE8_STOP_NOT_BELOW_ENTRY"],
    );
    check(
        "a sell is not an entry",
        |f| {
            f.order = OrderRequest::limit(
                m("KRW-XRP"),
                Side::Ask,
                price(dec!(1000)),
                Volume::new(dec!(2000)).unwrap(),
                None,
                ident(),
            )
            .unwrap();
        },
        &["PRE8_NOT_AN_ENTRY"],
    );
}

#[test]
fn no_short_circuit_every_failed_check_is_reported() {
    let mut f = Fixture::passing();
    f.score = 10.0;
    f.regime = RegimeLabel::Panic;
    f.order = buy("KRW-XRP", dec!(1000), dec!(9000));
    f.cash = krw(60_000);
    f.open = vec![
        position("KRW-XRP", dec!(1000), dec!(10), dec!(990)),
        position("KRW-XRP", dec!(1000), dec!(10), dec!(990)),
    ];
    f.api.rate_limit_ok = false;
    f.status.market_warning = true;
    let refused = approve_entry(f.order.clone(), &f.ctx()).unwrap_err();
    assert_eq!(refused.failed().count(), 8, "{refused}");
    let json = serde_json::to_string(&refused).unwrap();
    assert!(json.contains("\"status\":\"FAIL\""), "{json}");
    assert!(json.contains("PRE5_CLUSTER_FULL"), "{json}");
    // numbers are kept for the record
    let pre3 = &refused.checks[2];
    assert!((pre3.numbers["expected_order_krw"] - 9_000_000.0).abs() < 1e-6);
}

#[test]
fn exits_are_approved_up_to_the_held_volume_whatever_the_state() {
    let pos = position("KRW-XRP", dec!(1000), dec!(10), dec!(990));
    let sell = |v: Decimal| {
        OrderRequest::limit(
            m("KRW-XRP"),
            Side::Ask,
            price(dec!(1000)),
            Volume::new(v).unwrap(),
            None,
            ident(),
        )
        .unwrap()
    };
    let cases: Vec<(&str, OrderRequest, &[&str])> = vec![
        ("all of it", sell(dec!(10)), &[]),
        ("part of it", sell(dec!(5.5)), &[]),
        (
            "market sell",
            OrderRequest::market_sell(
                m("KRW-XRP"),
                Volume::new(dec!(10)).unwrap(),
                price(dec!(1000)),
                ident(),
            )
            .unwrap(),
            &[],
        ),
        (
            "more than held",
            sell(dec!(10.00000001)),
            &["EXIT_EXCEEDS_HELD"],
        ),
        (
            "a buy",
            buy("KRW-XRP", dec!(1000), dec!(10)),
            &["EXIT_NOT_A_SELL"],
        ),
        (
            "another market",
            OrderRequest::limit(
                m("KRW-ETH"),
                Side::Ask,
                price(dec!(1000)),
                Volume::new(dec!(10)).unwrap(),
                None,
                ident(),
            )
            .unwrap(),
            &["EXIT_MARKET_MISMATCH"],
        ),
    ];
    for (name, order, want) in cases {
        match approve_exit(order, &pos) {
            Ok(a) => {
                assert!(want.is_empty(), "{name}");
                assert_eq!(a.checks()[0].check, CheckId::Exit);
            }
            Err(r) => {
                let got: Vec<String> = r.reason_codes().iter().map(ToString::to_string).collect();
                assert_eq!(got, want, "{name}");
            }
        }
    }
}
