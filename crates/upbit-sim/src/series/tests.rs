//! Print generation guarantees and aggregation over bars, partial bars and extra prints.

use rust_decimal_macros::dec;

use super::*;

fn bar(o: Decimal, h: Decimal, l: Decimal, c: Decimal, v: Decimal) -> Bar {
    Bar {
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
        value: c * v,
    }
}

fn params() -> PrintParams {
    PrintParams {
        seed: 5,
        typical_volume: dec!(2),
    }
}

fn check_prints(b: Bar, interval: Millis) {
    let ps = prints_of_bar(&b, 1_000_000, interval, params(), 3);
    assert!(!ps.is_empty());
    let vol: Decimal = ps.iter().map(|p| p.volume).sum();
    assert_eq!(vol, b.volume, "{b:?}");
    assert_eq!(ps.first().unwrap().price, b.open);
    assert_eq!(ps.last().unwrap().price, b.close);
    if ps.len() >= 4 {
        assert!(ps.iter().any(|p| p.price == b.high));
        assert!(ps.iter().any(|p| p.price == b.low));
    }
    for w in ps.windows(2) {
        assert!(w[0].ts < w[1].ts);
        assert!(w[0].seq < w[1].seq);
    }
    for p in &ps {
        assert!(p.ts >= 1_000_000 && p.ts < 1_000_000 + interval);
        assert!(p.price >= b.low && p.price <= b.high);
        assert!(p.volume > Decimal::ZERO && p.volume.scale() <= 8);
    }
    assert_eq!(ps, prints_of_bar(&b, 1_000_000, interval, params(), 3));
}

#[test]
fn prints_reproduce_the_bar() {
    let cases = [
        bar(dec!(100), dec!(110), dec!(95), dec!(105), dec!(2)),
        bar(dec!(100), dec!(100), dec!(90), dec!(90), dec!(0.00000003)),
        bar(dec!(100), dec!(100), dec!(100), dec!(100), dec!(0.00000001)),
        bar(
            dec!(148601000),
            dec!(148700000),
            dec!(148500000),
            dec!(148650000),
            dec!(27.58904602),
        ),
        bar(
            dec!(0.0234),
            dec!(0.0240),
            dec!(0.0230),
            dec!(0.0231),
            dec!(123456789.12345678),
        ),
    ];
    for b in cases {
        check_prints(b, MINUTE_MS);
        check_prints(b, 60 * MINUTE_MS);
    }
}

#[test]
fn hourly_bars_spread_prints_over_most_minutes() {
    let b = bar(dec!(5000), dec!(5100), dec!(4900), dec!(5050), dec!(120));
    let ps = prints_of_bar(&b, 0, 60 * MINUTE_MS, params(), 0);
    let minutes: std::collections::BTreeSet<i64> = ps.iter().map(|p| p.ts / MINUTE_MS).collect();
    assert!(minutes.len() > 40, "{} minutes with trades", minutes.len());
}

fn series() -> Series {
    let empty = Bar {
        open: dec!(1),
        high: dec!(1),
        low: dec!(1),
        close: dec!(1),
        volume: Decimal::ZERO,
        value: Decimal::ZERO,
    };
    Series::new(
        0,
        MINUTE_MS,
        vec![
            bar(dec!(100), dec!(110), dec!(95), dec!(105), dec!(2)),
            empty,
            bar(dec!(105), dec!(106), dec!(101), dec!(102), dec!(1)),
        ],
        params(),
        true,
    )
}

#[test]
fn aggregate_whole_partial_and_extra() {
    let s = series();
    let all = s.aggregate(&[], 0, 3 * MINUTE_MS, i64::MAX / 2).unwrap();
    assert_eq!(
        (all.open, all.high, all.low, all.close, all.volume),
        (dec!(100), dec!(110), dec!(95), dec!(102), dec!(3))
    );
    assert_eq!(all.last_ts, s.prints(2).last().unwrap().ts);
    // Nothing in the empty minute.
    assert_eq!(
        s.aggregate(&[], MINUTE_MS, 2 * MINUTE_MS, i64::MAX / 2),
        None
    );
    // `now` cuts the open bar: only prints at or before now count.
    let ps = s.prints(0);
    let cut = ps[1].ts;
    let part = s.aggregate(&[], 0, MINUTE_MS, cut).unwrap();
    assert_eq!(part.volume, ps[0].volume + ps[1].volume);
    assert_eq!(part.close, ps[1].price);
    // Extra prints (the simulator's own fills) merge in time order, even
    // after the data ends.
    let extra = [
        Print {
            ts: MINUTE_MS + 5,
            price: dec!(120),
            volume: dec!(0.5),
            taker: Side::Bid,
            seq: 1,
        },
        Print {
            ts: 10 * MINUTE_MS,
            price: dec!(90),
            volume: dec!(0.25),
            taker: Side::Ask,
            seq: 2,
        },
    ];
    let with = s
        .aggregate(&extra, 0, 20 * MINUTE_MS, i64::MAX / 2)
        .unwrap();
    assert_eq!(
        (with.high, with.low, with.close, with.volume),
        (dec!(120), dec!(90), dec!(90), dec!(3.75))
    );
    let mid = s
        .aggregate(&extra, MINUTE_MS, 2 * MINUTE_MS, i64::MAX / 2)
        .unwrap();
    assert_eq!(
        (mid.open, mid.volume, mid.last_ts),
        (dec!(120), dec!(0.5), MINUTE_MS + 5)
    );
}

#[test]
fn indexes_and_gaps() {
    let s = series();
    assert_eq!(s.index_of(-1), None);
    assert_eq!(s.index_of(MINUTE_MS + 1), Some(1));
    assert_eq!(s.index_of(3 * MINUTE_MS), None);
    assert_eq!(s.last_nonempty_before(3 * MINUTE_MS), Some(2));
    assert_eq!(s.last_nonempty_before(2 * MINUTE_MS), Some(0));
    assert_eq!(s.last_nonempty_before(0), None);
    assert_eq!(s.next_nonempty_from(1), Some(2));
    assert_eq!(
        s.last_activity_before(&[], 2 * MINUTE_MS),
        Some(MINUTE_MS - 1)
    );
    assert_eq!(s.last_activity_before(&[], 0), None);
    assert_eq!(s.end(), 3 * MINUTE_MS);
    assert!(s.approx_value());
}

#[test]
fn snapping_stays_on_the_grid() {
    for (p, want) in [
        (dec!(148601234), dec!(148601000)),
        (dec!(999_800), dec!(1_000_000)),
        (dec!(3141.5), dec!(3142)),
        (dec!(0.000000001), dec!(0.00000001)),
    ] {
        assert_eq!(snap_to_grid(p), want);
    }
}
