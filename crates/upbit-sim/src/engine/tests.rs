//! Engine behaviour to the last decimal: locks, fills, fees, avg_buy_price,
//! final states, SMP, validation order and error names.

use std::collections::BTreeMap;

use domain::{Market, Secret};
use rust_decimal_macros::dec;

use super::{
    create::{OrderInput, Released},
    *,
};
use crate::{
    book::Book,
    market::{MarketInfo, MarketState},
    series::{Bar, Print, PrintParams, Series},
    wire::MINUTE_MS,
};

const T0: Millis = 1_735_689_600_000;
const NOW: Millis = T0 + 30 * MINUTE_MS;

fn market(spread: u32) -> MarketState {
    let bars = vec![
        Bar {
            open: dec!(100_000_000),
            high: dec!(100_500_000),
            low: dec!(99_500_000),
            close: dec!(100_000_000),
            volume: dec!(20),
            value: dec!(2_000_000_000),
        };
        10
    ];
    let series = Series::new(
        T0,
        MINUTE_MS,
        bars,
        PrintParams {
            seed: 3,
            typical_volume: dec!(2),
        },
        true,
    );
    let info = MarketInfo {
        market: Market::parse("market", "KRW-BTC").unwrap(),
        korean_name: "비트코인".into(),
        english_name: "Bitcoin".into(),
        warning: false,
        caution: [false; 5],
        offline: false,
        tick_override: None,
    };
    MarketState::new(info, series, spread, NOW)
}

fn engine_with(accounts: &[(&str, &[(&str, Decimal)])]) -> Engine {
    let mut e = Engine::new(1, FeeConfig::default(), Limits::default(), 1);
    for (key, bals) in accounts {
        let balances: BTreeMap<String, Balance> = bals
            .iter()
            .map(|(c, b)| {
                (
                    (*c).to_owned(),
                    Balance {
                        balance: *b,
                        ..Balance::default()
                    },
                )
            })
            .collect();
        e.upsert_account(Account::new((*key).to_owned(), Secret::new("s"), balances));
    }
    e
}

fn input(pairs: &[(&str, &str)]) -> OrderInput {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    };
    OrderInput {
        market: get("market").or_else(|| Some("KRW-BTC".to_owned())),
        side: get("side"),
        ord_type: get("ord_type"),
        price: get("price"),
        volume: get("volume"),
        time_in_force: get("time_in_force"),
        smp_type: get("smp_type"),
        identifier: get("identifier"),
    }
}

/// Validates, places and executes an order; returns its index.
fn submit(e: &mut Engine, m: &mut MarketState, account: usize, pairs: &[(&str, &str)]) -> usize {
    let new = e
        .validate(account, &input(pairs), Some((0, m)), None)
        .unwrap();
    let draft = e.draft(account, &new, "KRW-BTC", "BTC", NOW);
    let oi = e.place(draft, NOW);
    e.execute(oi, m, NOW);
    oi
}

fn bal(e: &Engine, account: usize, c: &str) -> Balance {
    e.account(account).unwrap().balance(c)
}

#[test]
fn limit_bid_locks_price_volume_and_fee_and_cancel_releases_it() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("KRW", dec!(1_000_000))])]);
    let best_bid = m.synthetic_book().best_bid().unwrap();
    let price = best_bid - dec!(2_000);
    let synthetic_there = m
        .synthetic_book()
        .bids
        .iter()
        .find(|l| l.price == price)
        .map_or(dec!(0), |l| l.size);
    let oi = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("ord_type", "limit"),
            ("price", &price.to_string()),
            ("volume", "0.001"),
        ],
    );
    let o = e.order(oi).unwrap();
    assert_eq!(o.state, OrderState::Wait);
    assert!(o.resting);
    let total = price * dec!(0.001);
    assert_eq!(o.reserved_fee, total * dec!(0.0005));
    assert_eq!(o.locked, total + total * dec!(0.0005));
    let k = bal(&e, 0, "KRW");
    assert_eq!(k.locked, o.locked);
    assert_eq!(k.balance + k.locked, dec!(1_000_000));
    // It shows in the merged book.
    assert_eq!(
        e.merged_book(0, &mut m)
            .bids
            .iter()
            .find(|l| l.price == price)
            .map(|l| l.size),
        Some(synthetic_there + dec!(0.001))
    );
    e.cancel(oi, NOW).unwrap();
    let o = e.order(oi).unwrap();
    assert_eq!(
        (o.state, o.locked, o.resting),
        (OrderState::Cancel, dec!(0), false)
    );
    assert_eq!(
        bal(&e, 0, "KRW"),
        Balance {
            balance: dec!(1_000_000),
            ..Balance::default()
        }
    );
    assert!(e.cancel(oi, NOW).is_err(), "cancelling twice fails");
}

#[test]
fn market_buy_walks_the_book_with_exact_fees() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("KRW", dec!(1_000_000_000))])]);
    let book: Book = m.synthetic_book();
    // One and a half levels' worth.
    let total = (book.asks[0].price * book.asks[0].size
        + book.asks[1].price * book.asks[1].size / dec!(2))
    .floor();
    let oi = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("ord_type", "price"),
            ("price", &total.to_string()),
        ],
    );
    // Expected walk over the book seen before the order.
    let mut left = total;
    let mut funds = Decimal::ZERO;
    let mut vol = Decimal::ZERO;
    let mut fills = 0;
    for l in &book.asks {
        let q = (left / l.price)
            .round_dp_with_strategy(8, rust_decimal::RoundingStrategy::ToZero)
            .min(l.size);
        if q.is_zero() {
            break;
        }
        fills += 1;
        funds += q * l.price;
        vol += q;
        left -= q * l.price;
    }
    let o = e.order(oi).unwrap().clone();
    assert_eq!(o.trades.len(), fills);
    assert!(fills > 1, "the order should need several levels");
    assert_eq!(o.executed_funds, funds);
    assert_eq!(o.executed_volume, vol);
    assert_eq!(o.paid_fee, funds * dec!(0.0005));
    assert_eq!(o.locked, dec!(0));
    // Not exactly the total → cancel with fills (Upbit's market-buy rule).
    assert_eq!(
        o.state,
        if funds == total {
            OrderState::Done
        } else {
            OrderState::Cancel
        }
    );
    let krw = bal(&e, 0, "KRW");
    assert_eq!(krw.locked, dec!(0));
    assert_eq!(
        krw.balance,
        dec!(1_000_000_000) - funds - funds * dec!(0.0005)
    );
    let btc = bal(&e, 0, "BTC");
    assert_eq!(btc.balance, vol);
    assert_eq!(btc.avg_buy_price, (funds / vol).round_dp(8).normalize());
    // The consumed levels are gone from the book until the next print.
    let after = e.merged_book(0, &mut m);
    assert!(after.best_ask().unwrap() >= book.asks[fills - 1].price);
    // Own trades are on the tape.
    assert_eq!(m.last().unwrap().price, o.trades.last().unwrap().price);
}

#[test]
fn market_sell_credits_funds_minus_fee_and_resets_avg() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("BTC", dec!(0.5))])]);
    e.account_mut(0)
        .unwrap()
        .balances
        .get_mut("BTC")
        .unwrap()
        .avg_buy_price = dec!(90_000_000);
    let book = m.synthetic_book();
    let oi = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "ask"), ("ord_type", "market"), ("volume", "0.5")],
    );
    let o = e.order(oi).unwrap();
    assert_eq!(o.state, OrderState::Done);
    let mut left = dec!(0.5);
    let mut funds = Decimal::ZERO;
    for l in &book.bids {
        let q = left.min(l.size);
        funds += q * l.price;
        left -= q;
        if left.is_zero() {
            break;
        }
    }
    assert_eq!(o.executed_funds, funds);
    assert_eq!(o.paid_fee, funds * dec!(0.0005));
    assert_eq!(bal(&e, 0, "KRW").balance, funds - funds * dec!(0.0005));
    let btc = bal(&e, 0, "BTC");
    assert_eq!(
        (btc.balance, btc.locked, btc.avg_buy_price),
        (dec!(0), dec!(0), dec!(0))
    );
}

#[test]
fn client_orders_match_each_other_with_partial_fills_and_maker_fees() {
    let mut m = market(5);
    let mut e = engine_with(&[
        ("maker", &[("BTC", dec!(1))]),
        ("taker", &[("KRW", dec!(200_000_000))]),
    ]);
    e.fees.maker_ask_fee = dec!(0.0002);
    let book = m.synthetic_book();
    // Inside the 5-tick spread: better than every synthetic ask.
    let p = book.best_bid().unwrap() + dec!(2000);
    let ask = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "ask"), ("price", &p.to_string()), ("volume", "1")],
    );
    assert!(e.order(ask).unwrap().resting);
    let bid = submit(
        &mut e,
        &mut m,
        1,
        &[
            ("side", "bid"),
            ("price", &p.to_string()),
            ("volume", "0.4"),
        ],
    );
    let (a, b) = (e.order(ask).unwrap(), e.order(bid).unwrap());
    assert_eq!(b.state, OrderState::Done);
    assert_eq!(
        (a.state, a.executed_volume, a.remaining_volume),
        (OrderState::Wait, dec!(0.4), dec!(0.6))
    );
    assert_eq!(a.locked, dec!(0.6));
    let funds = p * dec!(0.4);
    assert_eq!(a.paid_fee, funds * dec!(0.0002));
    assert_eq!(b.paid_fee, funds * dec!(0.0005));
    assert!(a.trades[0].is_maker && !b.trades[0].is_maker);
    assert_eq!(bal(&e, 0, "KRW").balance, funds - funds * dec!(0.0002));
    assert_eq!(
        bal(&e, 0, "BTC"),
        Balance {
            balance: dec!(0),
            locked: dec!(0.6),
            ..Balance::default()
        }
    );
    assert_eq!(bal(&e, 1, "BTC").balance, dec!(0.4));
    assert_eq!(bal(&e, 1, "BTC").avg_buy_price, p);
    // Second partial fill accumulates.
    let bid2 = submit(
        &mut e,
        &mut m,
        1,
        &[
            ("side", "bid"),
            ("price", &p.to_string()),
            ("volume", "0.6"),
        ],
    );
    let a = e.order(ask).unwrap();
    assert_eq!(
        (a.state, a.trades.len(), a.executed_funds),
        (OrderState::Done, 2, p)
    );
    assert_eq!(e.order(bid2).unwrap().state, OrderState::Done);
}

#[test]
fn replayed_prints_fill_resting_orders() {
    let mut m = market(1);
    let mut e = engine_with(&[
        ("a", &[("KRW", dec!(10_000_000))]),
        ("b", &[("BTC", dec!(1))]),
    ]);
    let through = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "bid"), ("price", "99000000"), ("volume", "0.02")],
    );
    let touch = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "bid"), ("price", "98000000"), ("volume", "0.05")],
    );
    let ask = submit(
        &mut e,
        &mut m,
        1,
        &[("side", "ask"), ("price", "101000000"), ("volume", "0.1")],
    );
    let print = |price: Decimal, taker: Side| Print {
        ts: NOW + 1,
        price,
        volume: dec!(0.04),
        taker,
        seq: 1,
    };
    // A seller prints at 98,000,000: through the 99M bid, at the 98M bid.
    e.on_print(0, &print(dec!(98_000_000), Side::Ask));
    let o = e.order(through).unwrap();
    assert_eq!((o.state, o.executed_volume), (OrderState::Done, dec!(0.02)));
    assert_eq!(o.trades[0].price, dec!(99_000_000));
    assert!(o.trades[0].is_maker);
    let o = e.order(touch).unwrap();
    assert_eq!(
        (o.state, o.executed_volume),
        (OrderState::Wait, dec!(0.02)),
        "half the print at the touch"
    );
    // A buyer at the same price does not fill bids at that price.
    e.on_print(0, &print(dec!(98_000_000), Side::Bid));
    assert_eq!(e.order(touch).unwrap().executed_volume, dec!(0.02));
    // A buyer prints through the ask.
    e.on_print(0, &print(dec!(101_500_000), Side::Bid));
    assert_eq!(e.order(ask).unwrap().state, OrderState::Done);
    let krw = bal(&e, 1, "KRW").balance;
    assert_eq!(krw, dec!(10_100_000) - dec!(10_100_000) * dec!(0.0005));
}

#[test]
fn time_in_force_rules() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("KRW", dec!(1_000_000_000))])]);
    let book = m.synthetic_book();
    let ask0 = book.best_ask().unwrap();
    // post_only that would cross → cancel, no trades.
    let po = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("price", &ask0.to_string()),
            ("volume", "0.001"),
            ("time_in_force", "post_only"),
        ],
    );
    let o = e.order(po).unwrap();
    assert_eq!(
        (o.state, o.trades.len(), o.locked),
        (OrderState::Cancel, 0, dec!(0))
    );
    // IOC at the best ask for more than the level holds → partial, rest cancelled.
    let size0 = book.asks[0].size;
    let ioc = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("price", &ask0.to_string()),
            ("volume", &(size0 + dec!(1)).to_string()),
            ("time_in_force", "ioc"),
        ],
    );
    let o = e.order(ioc).unwrap();
    assert_eq!((o.state, o.executed_volume), (OrderState::Cancel, size0));
    // FOK that cannot fill completely → cancel without trades.
    let fok = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("price", &book.asks[1].price.to_string()),
            (
                "volume",
                &(book.asks[0].size + book.asks[1].size + dec!(0.5)).to_string(),
            ),
            ("time_in_force", "fok"),
        ],
    );
    let o = e.order(fok).unwrap();
    assert_eq!((o.state, o.trades.len()), (OrderState::Cancel, 0));
    // Best bid IOC: limited to the best ask at submission.
    let best = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("ord_type", "best"),
            ("price", "10000000"),
            ("time_in_force", "ioc"),
        ],
    );
    let o = e.order(best).unwrap();
    assert!(o.trades.iter().all(|t| t.price == o.best_limit.unwrap()));
    assert_eq!(e.account(0).unwrap().balance("KRW").locked, dec!(0));
}

#[test]
fn self_match_prevention() {
    let mut m = market(5);
    let mut e = engine_with(&[("a", &[("KRW", dec!(100_000_000)), ("BTC", dec!(1))])]);
    let p = m.synthetic_book().best_bid().unwrap() + dec!(2000);
    let ps = p.to_string();
    let resting = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "ask"), ("price", &ps), ("volume", "0.3")],
    );
    // reduce: both lose the overlap.
    let taker = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("price", &ps),
            ("volume", "0.1"),
            ("smp_type", "reduce"),
        ],
    );
    let (r, t) = (e.order(resting).unwrap(), e.order(taker).unwrap());
    assert_eq!(
        (r.remaining_volume, r.prevented_volume, r.state),
        (dec!(0.2), dec!(0.1), OrderState::Wait)
    );
    assert_eq!(
        (t.prevented_volume, t.state, t.trades.len()),
        (dec!(0.1), OrderState::Cancel, 0)
    );
    assert_eq!(t.prevented_locked, p * dec!(0.1) * dec!(1.0005));
    // cancel_maker: the resting order goes, the taker continues on synthetic liquidity.
    let taker = submit(
        &mut e,
        &mut m,
        0,
        &[
            ("side", "bid"),
            ("ord_type", "price"),
            ("price", "6000000"),
            ("smp_type", "cancel_maker"),
        ],
    );
    let r = e.order(resting).unwrap();
    assert_eq!(
        (r.state, r.prevented, r.locked),
        (OrderState::Cancel, true, dec!(0))
    );
    assert!(!e.order(taker).unwrap().trades.is_empty());
    let btc = bal(&e, 0, "BTC");
    assert_eq!(btc.locked, dec!(0));
}

/// `(params, expected error name)`; every case fails validation.
fn check(e: &Engine, m: &mut MarketState, pairs: &[(&str, &str)], want: &str) {
    let err = e
        .validate(0, &input(pairs), Some((0, m)), None)
        .unwrap_err();
    assert_eq!(err.name_text(), want, "{pairs:?}: {}", err.message);
}

#[test]
fn validation_order_and_error_names() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("KRW", dec!(100_000)), ("BTC", dec!(0.0001))])]);
    e.burn_identifier(0, "used");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("price", "100000000"), ("volume", "0.0001")],
            "validation_error",
        ),
        (
            &[
                ("side", "buy"),
                ("price", "100000000"),
                ("volume", "0.0001"),
            ],
            "validation_error",
        ),
        (&[("side", "bid"), ("ord_type", "stop")], "validation_error"),
        (&[("side", "bid"), ("volume", "0.0001")], "validation_error"),
        (
            &[("side", "bid"), ("price", "-1"), ("volume", "1")],
            "validation_error",
        ),
        (
            &[("side", "bid"), ("price", "abc"), ("volume", "1")],
            "validation_error",
        ),
        (
            &[
                ("side", "bid"),
                ("ord_type", "price"),
                ("price", "10000"),
                ("volume", "1"),
            ],
            "create_bid_error",
        ),
        (
            &[
                ("side", "ask"),
                ("ord_type", "market"),
                ("price", "10000"),
                ("volume", "1"),
            ],
            "create_ask_error",
        ),
        (
            &[("side", "ask"), ("ord_type", "price"), ("price", "10000")],
            "create_ask_error",
        ),
        (
            &[("side", "bid"), ("ord_type", "best"), ("price", "10000")],
            "create_bid_error",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000000"),
                ("volume", "0.0001"),
                ("time_in_force", "post_only"),
                ("smp_type", "reduce"),
            ],
            "create_bid_error",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000500"),
                ("volume", "0.0001"),
            ],
            "invalid_price_bid",
        ),
        (
            &[
                ("side", "ask"),
                ("price", "100000500"),
                ("volume", "0.0001"),
            ],
            "invalid_price_ask",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000000"),
                ("volume", "0.000000001"),
            ],
            "invalid_volume_bid",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000000"),
                ("volume", "0.00001"),
            ],
            "under_min_total_bid",
        ),
        (
            &[("side", "bid"), ("ord_type", "price"), ("price", "4999")],
            "under_min_total_bid",
        ),
        (
            &[
                ("side", "ask"),
                ("ord_type", "market"),
                ("volume", "0.00001"),
            ],
            "under_min_total_market_ask",
        ),
        (
            &[("side", "bid"), ("price", "100000000"), ("volume", "11")],
            "over_max_total_bid",
        ),
        (
            &[("side", "bid"), ("price", "100000000"), ("volume", "0.001")],
            "insufficient_funds_bid",
        ),
        (
            &[("side", "ask"), ("price", "100000000"), ("volume", "0.001")],
            "insufficient_funds_ask",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000000"),
                ("volume", "0.0001"),
                ("identifier", "used"),
            ],
            "validation_error",
        ),
        (
            &[
                ("side", "bid"),
                ("price", "100000000"),
                ("volume", "0.0001"),
                ("time_in_force", "gtc"),
            ],
            "validation_error",
        ),
    ];
    for (pairs, want) in cases {
        check(&e, &mut m, pairs, want);
    }
    // The market-order depth rule.
    let depth: Decimal = m
        .synthetic_book()
        .asks
        .iter()
        .map(|l| l.price * l.size)
        .sum();
    e.account_mut(0)
        .unwrap()
        .balances
        .get_mut("KRW")
        .unwrap()
        .balance = dec!(1_000_000_000);
    let over = (depth + dec!(1)).round_dp(0).to_string();
    if depth < dec!(999_000_000) {
        check(
            &e,
            &mut m,
            &[("side", "bid"), ("ord_type", "price"), ("price", &over)],
            "create_bid_error",
        );
    }
    // Unknown market and maintenance.
    assert_eq!(
        e.validate(0, &input(&[("side", "bid")]), None, None)
            .unwrap_err()
            .name_text(),
        "validation_error"
    );
    m.info.offline = true;
    check(
        &e,
        &mut m,
        &[
            ("side", "bid"),
            ("price", "100000000"),
            ("volume", "0.0001"),
        ],
        "market_offline",
    );
}

#[test]
fn released_funds_count_for_cancel_and_new() {
    let mut m = market(1);
    let e = engine_with(&[("a", &[("KRW", dec!(1000))])]);
    let pairs = [
        ("side", "bid"),
        ("price", "100000000"),
        ("volume", "0.0001"),
    ];
    assert!(
        e.validate(0, &input(&pairs), Some((0, &mut m)), None)
            .is_err()
    );
    let released = Released {
        currency: "KRW".into(),
        amount: dec!(10_005),
    };
    assert!(
        e.validate(0, &input(&pairs), Some((0, &mut m)), Some(&released))
            .is_ok()
    );
}

#[test]
fn events_follow_the_order_lifecycle() {
    let mut m = market(1);
    let mut e = engine_with(&[("a", &[("KRW", dec!(10_000_000))])]);
    let oi = submit(
        &mut e,
        &mut m,
        0,
        &[("side", "bid"), ("ord_type", "price"), ("price", "1000000")],
    );
    let kinds: Vec<OrderEventKind> = e
        .drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            EngineEvent::Order { order, kind, .. } if order == oi => Some(kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.first(), Some(&OrderEventKind::Created));
    assert!(matches!(kinds.get(1), Some(OrderEventKind::Trade(0))));
    assert!(matches!(
        kinds.last(),
        Some(OrderEventKind::Cancel | OrderEventKind::Done)
    ));
    assert!(e.drain_events().is_empty());
}
