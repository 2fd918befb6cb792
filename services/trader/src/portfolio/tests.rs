//! The book's crash-safety contract: applying fills one by one and writing
//! each mirror write gives the same tables as rebuilding from the fills
//! after a crash at any point between a fill and its write.

use chrono::TimeZone;
use domain::{OrderIdentifier, TraderId};
use rust_decimal_macros::dec;

use super::*;

fn trader() -> TraderId {
    TraderId::new(4).unwrap()
}

fn fill(id: i64, family: i64, attempt: u32, side: Side, p: Decimal, v: Decimal) -> FillRecord {
    let price = Price::new(p).unwrap();
    let volume = Volume::new(v).unwrap();
    let funds = price * volume;
    FillRecord {
        id,
        trader_id: trader(),
        fill: Fill {
            trade_uuid: format!("tr{id}"),
            order_uuid: format!("or{family}-{attempt}"),
            identifier: OrderIdentifier::for_attempt(trader(), "salt", family, attempt).unwrap(),
            market: "KRW-XRP".parse().unwrap(),
            side,
            price,
            volume,
            funds,
            fee: funds.times(dec!(0.0005)),
            ts: Utc
                .timestamp_opt(1_756_684_800 + id * 60, 0)
                .single()
                .unwrap(),
        },
    }
}

/// A tiny stand-in for the positions table: applies writes like storage does.
#[derive(Default)]
struct Tables {
    next_id: i64,
    positions: BTreeMap<i64, Position>,
    trades: Vec<TradeRecord>,
}

impl Tables {
    fn write(&mut self, book: &mut Portfolio, w: Write) {
        match w {
            Write::Open { family, position } => {
                self.next_id += 1;
                self.positions.insert(self.next_id, position);
                book.opened(family, self.next_id);
            }
            Write::Update { id, position, .. } => {
                self.positions.insert(id, position);
            }
            Write::Close {
                id,
                trade,
                remaining,
                ..
            } => {
                self.trades.push(trade);
                match remaining {
                    Some(p) => {
                        self.positions.insert(id, p);
                    }
                    None => {
                        self.positions.remove(&id);
                    }
                }
            }
        }
    }

    fn records(&self) -> Vec<PositionRecord> {
        self.positions
            .iter()
            .map(|(id, p)| PositionRecord {
                id: *id,
                position: p.clone(),
                mark_price: None,
                updated_at: p.open_time,
            })
            .collect()
    }
}

fn history() -> Vec<FillRecord> {
    vec![
        fill(1, 10, 0, Side::Bid, dec!(1000), dec!(10)),
        fill(2, 11, 0, Side::Bid, dec!(2000), dec!(5)),
        fill(3, 10, 1, Side::Bid, dec!(1001), dec!(10)),
        fill(4, 10, 100, Side::Ask, dec!(1100), dec!(7)),
        fill(5, 11, 100, Side::Ask, dec!(2100), dec!(5)),
        fill(6, 10, 101, Side::Ask, dec!(1050), dec!(13)),
        fill(7, 12, 0, Side::Bid, dec!(1010), dec!(3)),
    ]
}

/// Runs the history live, crashing (dropping the write) after fill `crash_at`.
fn run_live(crash_at: Option<i64>) -> (Tables, Portfolio) {
    let seed = Krw::from_i64(1_000_000);
    let mut t = Tables::default();
    let mut book = Portfolio::new(trader(), Mode::Paper, seed);
    let all = history();
    let mut i = 0;
    while i < all.len() {
        let f = &all[i];
        let w = book
            .apply(
                f.id,
                &f.fill,
                Some(EntryMeta {
                    stop: Price::new(dec!(900)).unwrap(),
                }),
                None,
            )
            .unwrap();
        if crash_at == Some(f.id) {
            // The process dies here: the fill is recorded, its write is lost.
            // A new process rebuilds from the fills recorded so far.
            let (mut rebuilt, writes) =
                Portfolio::rebuild(trader(), Mode::Paper, seed, &all[..=i], &t.records()).unwrap();
            assert!(!writes.is_empty(), "the lost write is found again");
            for w in writes {
                t.write(&mut rebuilt, w);
            }
            book = rebuilt;
        } else if let Some(w) = w {
            t.write(&mut book, w);
        }
        i += 1;
    }
    (t, book)
}

#[test]
fn a_crash_between_any_fill_and_its_write_changes_nothing() {
    let (clean, clean_book) = run_live(None);
    let pnl: Krw = clean.trades.iter().map(|t| t.pnl).sum();
    // lots 10 and 11 closed, 12 open
    assert_eq!(clean.positions.len(), 1);
    assert_eq!(clean.trades.len(), 3);
    for crash in 1..=7 {
        let (t, book) = run_live(Some(crash));
        // (a lot re-opened by recovery carries the fallback stop; the money is identical)
        let key = |t: &TradeRecord| {
            (
                t.market.clone(),
                t.entry_time,
                t.entry_price,
                t.size,
                t.exit_time,
                t.exit_price,
                t.pnl,
            )
        };
        let got: Vec<_> = t.trades.iter().map(key).collect();
        let want: Vec<_> = clean.trades.iter().map(key).collect();
        assert_eq!(got, want, "crash after fill {crash}");
        let a: Vec<&Position> = t.positions.values().collect();
        let b: Vec<&Position> = clean.positions.values().collect();
        // the stop of a lot opened by recovery is the fallback one; sizes,
        // costs, entry prices and watermarks are identical
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.size, x.cost_krw, x.avg_entry_price),
                (y.size, y.cost_krw, y.avg_entry_price)
            );
        }
        assert_eq!(book.cash, clean_book.cash, "crash after fill {crash}");
        assert_eq!(t.trades.iter().map(|t| t.pnl).sum::<Krw>(), pnl);
    }
    // a clean rebuild needs no writes
    let (_, writes) = Portfolio::rebuild(
        trader(),
        Mode::Paper,
        Krw::from_i64(1_000_000),
        &history(),
        &clean.records(),
    )
    .unwrap();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn mismatches_are_reported_not_papered_over() {
    let seed = Krw::from_i64(1_000_000);
    let (clean, _) = run_live(None);
    // a stored lot whose size disagrees with its applied fills
    let mut recs = clean.records();
    recs[0].position.size = Volume::new(dec!(2)).unwrap();
    let err = Portfolio::rebuild(trader(), Mode::Paper, seed, &history(), &recs).unwrap_err();
    assert!(err.0.contains("stored size"), "{err}");
    // a stored lot without fills
    let mut recs = clean.records();
    recs[0].position.tags = vec!["fam:99".to_owned(), "wm:1".to_owned()];
    let err = Portfolio::rebuild(trader(), Mode::Paper, seed, &history(), &recs).unwrap_err();
    assert!(err.0.contains("no fills"), "{err}");
    // another trader's fill
    let mut other = history();
    other[0].trader_id = TraderId::new(5).unwrap();
    let err = Portfolio::rebuild(trader(), Mode::Paper, seed, &other, &[]).unwrap_err();
    assert!(err.0.contains("not this trader's"), "{err}");
    // an oversell
    let mut bad = history();
    bad.push(fill(8, 12, 100, Side::Ask, dec!(1000), dec!(4)));
    let err = Portfolio::rebuild(trader(), Mode::Paper, seed, &bad, &[]).unwrap_err();
    assert!(err.0.contains("selling 4"), "{err}");
}
