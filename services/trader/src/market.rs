//! Market data for one cycle. Candles and the regime come from the database
//! (the trainer's collector writes them once per deployment; a trader never
//! polls quotation REST for candles; all markets' new candles are one
//! statement). The market list with its warning flags (every 10 minutes) and
//! the order books of the markets a cycle is about to trade or holds (one
//! request) come from `UPBIT_API_URL`.
//!
//! Each market keeps a rolling window of completed 1-minute candles (what
//! the strategy needs) plus one number per minute for the 24 h traded value,
//! loaded once and then extended incrementally.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use domain::{Market, RegimeLabel};
use indicators::Candle;
use regime::{Classification, StalenessPolicy, staleness::freshness};
use risk::{BookLevel, OrderBook};
use storage::{
    StorageError, Store,
    market_data::{CandleInterval, RANGE_MANY_MARKETS},
    regimes::StoredRegime,
};
use upbit::{MarketListing, Orderbook, UpbitClient, UpbitError};

/// Minutes in the 24 h value window.
const DAY_MINUTES: usize = 1440;
/// How often the market list is re-read.
const LISTING_EVERY: Duration = Duration::minutes(10);
/// Markets per order-book request (a cycle reads the books of the markets
/// about to trade and the held ones: one request in practice).
const BOOK_CHUNK: usize = 100;
/// Levels read per order book.
const BOOK_LEVELS: u8 = 15;
/// Candles read per statement. Each statement's rows are folded into the
/// rolling windows before the next is read, so this bounds the memory a
/// warm-up (24 h of every market) needs beyond the windows themselves —
/// about 14 markets' day per statement; a per-minute refresh of 500 markets
/// is still one statement.
const CANDLES_PER_READ: usize = 20_000;

#[derive(Debug, Default)]
struct Series {
    candles: VecDeque<Candle>,
    /// (open time, KRW value) of the last 24 h of minutes.
    values: VecDeque<(DateTime<Utc>, f64)>,
    last: Option<DateTime<Utc>>,
}

impl Series {
    fn push(&mut self, c: Candle, window: usize) {
        let value = if c.value > 0.0 {
            c.value
        } else {
            c.close * c.volume
        };
        match self.last {
            Some(t) if c.ts < t => return,
            Some(t) if c.ts == t => {
                // a re-read of the newest candle: replace it
                self.candles.pop_back();
                self.values.pop_back();
            }
            _ => {}
        }
        self.last = Some(c.ts);
        self.values
            .push_back((c.ts, if value.is_finite() { value } else { 0.0 }));
        self.candles.push_back(c);
        while self.candles.len() > window {
            self.candles.pop_front();
        }
        while self.values.len() > DAY_MINUTES {
            self.values.pop_front();
        }
    }

    fn value_24h(&self, now: DateTime<Utc>) -> f64 {
        let since = now - Duration::hours(24);
        self.values
            .iter()
            .filter(|(t, _)| *t >= since && *t < now)
            .map(|(_, v)| v)
            .sum()
    }
}

/// The current regime as a cycle uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeView {
    /// Label and confidence (a neutral RANGE / 0 when there is none).
    pub classification: Classification,
    /// Missing or older than the staleness policy allows: no entries (PRE-2).
    pub stale: bool,
    /// When it was computed, if there is one.
    pub ts: Option<DateTime<Utc>>,
    /// There is a stored regime at all.
    pub present: bool,
}

/// Why a data read failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] StorageError),
    /// Upbit (or the simulator) failed.
    #[error(transparent)]
    Exchange(#[from] UpbitError),
}

/// Candles, listings and books for one trader.
#[derive(Debug)]
pub struct MarketData {
    quotes: UpbitClient,
    window: usize,
    series: BTreeMap<Market, Series>,
    listings: BTreeMap<Market, MarketListing>,
    listings_at: Option<DateTime<Utc>>,
    staleness: StalenessPolicy,
}

fn to_candle(c: &storage::market_data::Candle) -> Candle {
    let close = c.close.to_f64_lossy();
    let volume = c.volume.to_f64_lossy();
    Candle {
        ts: c.ts,
        open: c.open.to_f64_lossy(),
        high: c.high.to_f64_lossy(),
        low: c.low.to_f64_lossy(),
        close,
        volume,
        value: c.value.map_or(close * volume, domain::Krw::to_f64_lossy),
    }
}

impl MarketData {
    /// Keeps `window` 1-minute candles per market for scoring.
    pub fn new(quotes: UpbitClient, window: usize) -> Self {
        Self {
            quotes,
            window: window.max(2),
            series: BTreeMap::new(),
            listings: BTreeMap::new(),
            listings_at: None,
            staleness: StalenessPolicy::default(),
        }
    }

    /// Re-reads the KRW market list (with warnings) when it is older than 10 minutes.
    pub async fn refresh_listings(&mut self, now: DateTime<Utc>) -> Result<(), UpbitError> {
        if self.listings_at.is_some_and(|t| now - t < LISTING_EVERY) && !self.listings.is_empty() {
            return Ok(());
        }
        let list = self.quotes.krw_markets(true).await?;
        self.listings = list.into_iter().map(|l| (l.market.clone(), l)).collect();
        self.listings_at = Some(now);
        Ok(())
    }

    /// Known KRW markets.
    pub fn markets(&self) -> Vec<Market> {
        self.listings.keys().cloned().collect()
    }

    /// Upbit's warning or a caution flag on `market`.
    pub fn warned(&self, market: &Market) -> bool {
        self.listings
            .get(market)
            .is_some_and(|l| l.warning || l.has_caution())
    }

    /// Brings every listed market's candles up to `now` (completed candles
    /// only): one statement per 500 markets ([`storage::market_data::Candles::range_many`]) —
    /// the markets seen before from their newest candle on, new ones over
    /// the whole window.
    pub async fn refresh_candles(
        &mut self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let keep = i64::try_from(self.window.max(DAY_MINUTES)).unwrap_or(i64::MAX);
        let markets = self.markets();
        let (known, fresh): (Vec<Market>, Vec<Market>) = markets
            .into_iter()
            .partition(|m| self.series.get(m).is_some_and(|s| s.last.is_some()));
        let mut reads: Vec<(Vec<Market>, DateTime<Utc>)> = Vec::new();
        if !fresh.is_empty() {
            reads.push((fresh, now - Duration::minutes(keep)));
        }
        let since = known
            .iter()
            .filter_map(|m| self.series.get(m).and_then(|s| s.last))
            .min();
        if let Some(since) = since {
            // A long gap (the database was down) reads at most the window.
            reads.push((known, since.max(now - Duration::minutes(keep))));
        }
        for (markets, from) in reads {
            // Markets per statement: at most 500, and about CANDLES_PER_READ
            // candles (one per minute per market).
            let minutes = usize::try_from((now - from).num_minutes().max(1)).unwrap_or(usize::MAX);
            let per = (CANDLES_PER_READ / minutes.saturating_add(1)).clamp(1, RANGE_MANY_MARKETS);
            for chunk in markets.chunks(per) {
                let rows = store
                    .candles()
                    .range_many(chunk, CandleInterval::M1, from, now)
                    .await?;
                for r in rows.iter().filter(|c| c.ts + Duration::minutes(1) <= now) {
                    self.series
                        .entry(r.market.clone())
                        .or_default()
                        .push(to_candle(r), self.window);
                }
            }
        }
        Ok(())
    }

    /// Completed 1-minute candles of `market`, oldest first.
    pub fn candles(&self, market: &Market) -> Vec<Candle> {
        self.series
            .get(market)
            .map(|s| s.candles.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Traded KRW over the last 24 h.
    pub fn value_24h(&self, market: &Market, now: DateTime<Utc>) -> f64 {
        self.series.get(market).map_or(0.0, |s| s.value_24h(now))
    }

    /// Last completed close.
    pub fn last_close(&self, market: &Market) -> Option<f64> {
        self.series
            .get(market)
            .and_then(|s| s.candles.back())
            .map(|c| c.close)
    }

    /// Order books of `markets`, as the risk engine's validated snapshots.
    /// A book that fails validation (crossed, unordered) is left out.
    pub async fn books(
        &self,
        markets: &[Market],
    ) -> Result<BTreeMap<Market, OrderBook>, UpbitError> {
        let mut out = BTreeMap::new();
        for chunk in markets.chunks(BOOK_CHUNK) {
            if chunk.is_empty() {
                continue;
            }
            let books = self.quotes.orderbooks(chunk, Some(BOOK_LEVELS)).await?;
            for b in books {
                if let Some(ob) = to_book(&b) {
                    out.insert(b.market.clone(), ob);
                }
            }
        }
        Ok(out)
    }

    /// The newest stored regime and whether it may be used at `now`.
    pub async fn regime(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<RegimeView, StorageError> {
        let latest: Option<StoredRegime> = store.regimes().latest().await?;
        Ok(match latest {
            None => RegimeView {
                classification: Classification {
                    label: RegimeLabel::Range,
                    score: 0.0,
                },
                stale: true,
                ts: None,
                present: false,
            },
            Some(r) => {
                let fresh = freshness(r.record.ts, now, &self.staleness).is_fresh();
                RegimeView {
                    classification: Classification {
                        label: r.record.label,
                        score: if r.record.regime_score.is_finite() {
                            r.record.regime_score.clamp(0.0, 100.0)
                        } else {
                            0.0
                        },
                    },
                    stale: !fresh,
                    ts: Some(r.record.ts),
                    present: true,
                }
            }
        })
    }
}

/// Converts an Upbit order book into the risk engine's snapshot.
pub fn to_book(b: &Orderbook) -> Option<OrderBook> {
    let lv = |l: &upbit::OrderbookLevel| BookLevel {
        price: l.price,
        volume: l.size,
    };
    OrderBook::new(
        b.market.clone(),
        b.asks.iter().map(lv).collect(),
        b.bids.iter().map(lv).collect(),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn c(min: i64, close: f64, value: f64) -> Candle {
        Candle {
            ts: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
                + Duration::minutes(min),
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
            value,
        }
    }

    #[test]
    fn series_keeps_a_window_and_a_day_of_values() {
        let mut s = Series::default();
        for m in 0..2000 {
            s.push(c(m, 100.0, 10.0), 50);
        }
        assert_eq!(s.candles.len(), 50);
        assert_eq!(s.values.len(), DAY_MINUTES);
        let now = c(2000, 0.0, 0.0).ts;
        assert!((s.value_24h(now) - 14_400.0).abs() < 1e-6);
        // a re-read of the newest minute replaces it, an older one is ignored
        s.push(c(1999, 101.0, 20.0), 50);
        assert_eq!(s.candles.len(), 50);
        assert!((s.candles.back().unwrap().close - 101.0).abs() < 1e-12);
        s.push(c(10, 1.0, 1.0), 50);
        assert!((s.candles.back().unwrap().close - 101.0).abs() < 1e-12);
        // no turnover: close × volume
        let mut t = Series::default();
        t.push(c(0, 7.0, 0.0), 5);
        assert!((t.value_24h(c(1, 0.0, 0.0).ts) - 7.0).abs() < 1e-12);
    }
}
