//! One market's live state: its series, the replay cursor (which prints have
//! "happened"), the simulator's own fills, the synthetic book and the
//! quotation views (candles, ticker, trades) computed from all of them.

use std::collections::HashMap;

use domain::{Market, Side, tick::tick_size};
use rust_decimal::Decimal;

use crate::{
    book::{self, Book, BookProfile, Level},
    series::{Agg, Print, Series, extra_in},
    units::CandleUnit,
    wire::{DAY_MS, Millis, day_start},
};

/// Listing metadata served by `/v1/market/all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketInfo {
    /// The code.
    pub market: Market,
    /// Korean name.
    pub korean_name: String,
    /// English name.
    pub english_name: String,
    /// `market_event.warning`.
    pub warning: bool,
    /// `market_event.caution.*` in `CAUTION_KEYS` order.
    pub caution: [bool; 5],
    /// Maintenance: orders answer 403 `market_offline`.
    pub offline: bool,
    /// A fixed tick overriding the KRW table (e.g. USDT's 0.5 exception).
    pub tick_override: Option<Decimal>,
}

/// Where the replay stands inside the series.
#[derive(Debug, Clone, Default)]
struct Cursor {
    /// Bar whose prints are (or will be) loaded; `== len` when exhausted.
    bar: usize,
    prints: Vec<Print>,
    loaded: bool,
    next: usize,
}

/// One candle: its bucket start and the aggregate of its prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// Bucket start (UTC ms).
    pub start: Millis,
    /// OHLCV.
    pub agg: Agg,
    /// Close of the previous UTC day (day candles only).
    pub prev_close: Option<Decimal>,
}

/// Everything the ticker shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickerData {
    /// Latest print.
    pub last: Print,
    /// Today's (UTC) aggregate.
    pub day: Agg,
    /// Close of the previous UTC day (today's open when there is none).
    pub prev_close: Decimal,
    /// Rolling 24 h base volume.
    pub volume_24h: Decimal,
    /// Rolling 24 h quote turnover.
    pub value_24h: Decimal,
    /// 52-week high and the day it happened.
    pub high_52w: (Decimal, Millis),
    /// 52-week low and the day it happened.
    pub low_52w: (Decimal, Millis),
}

/// One market's live state.
#[derive(Debug, Clone)]
pub struct MarketState {
    /// Listing metadata.
    pub info: MarketInfo,
    /// The price history (replayed or generated).
    pub series: Series,
    /// The simulator's own trades, in time order.
    extra: Vec<Print>,
    extra_counter: i64,
    cursor: Cursor,
    last: Option<Print>,
    profile: BookProfile,
    book_version: u64,
    book_cache: Option<(u64, Book)>,
    /// Synthetic liquidity taken by client orders since the last refresh.
    consumed: HashMap<(Side, Decimal), Decimal>,
    day_cache: HashMap<Millis, Option<Agg>>,
    w52_cache: Option<(Millis, Option<Extremes52w>)>,
}

/// The 52-week (highest, lowest) prices with the time each was seen.
type Extremes52w = ((Decimal, Millis), (Decimal, Millis));

impl MarketState {
    /// A market positioned at `now`: prints up to `now` count as history.
    pub fn new(info: MarketInfo, series: Series, spread_ticks: u32, now: Millis) -> Self {
        let minutes_per_bar = Decimal::from(series.interval() / 60_000).max(Decimal::ONE);
        let level_mean = (series.typical_volume() / minutes_per_bar * Decimal::new(15, 2))
            .round_dp(8)
            .max(Decimal::new(1, 8));
        let profile = BookProfile {
            spread_ticks,
            level_mean,
            seed: crate::series::mix(hash_str(info.market.as_str()), 77),
        };
        let mut m = Self {
            info,
            series,
            extra: Vec::new(),
            extra_counter: 0,
            cursor: Cursor::default(),
            last: None,
            profile,
            book_version: 0,
            book_cache: None,
            consumed: HashMap::new(),
            day_cache: HashMap::new(),
            w52_cache: None,
        };
        m.position_at(now);
        m
    }

    fn position_at(&mut self, now: Millis) {
        let s = &self.series;
        self.cursor = Cursor::default();
        if s.is_empty() || now < s.start() {
            return;
        }
        let Some(i) = s.index_of(now) else {
            self.cursor.bar = s.len();
            self.last = s
                .last_nonempty_before(s.end())
                .and_then(|j| s.prints(j).last().copied());
            return;
        };
        let prints = s.prints(i);
        let next = prints.partition_point(|p| p.ts <= now);
        self.last = match next.checked_sub(1) {
            Some(k) => prints.get(k).copied(),
            None => s
                .last_nonempty_before(s.bar_start(i))
                .and_then(|j| s.prints(j).last().copied()),
        };
        self.cursor = Cursor {
            bar: i,
            prints,
            loaded: true,
            next,
        };
    }

    /// Replays every print in `(previous now, now]`, appending them to `out`.
    pub fn advance(&mut self, now: Millis, out: &mut Vec<Print>) {
        loop {
            let len = self.series.len();
            if self.cursor.bar >= len {
                break;
            }
            if self.series.bar_start(self.cursor.bar) > now {
                break;
            }
            if !self.cursor.loaded {
                self.cursor.prints = self.series.prints(self.cursor.bar);
                self.cursor.loaded = true;
                self.cursor.next = 0;
            }
            while let Some(p) = self.cursor.prints.get(self.cursor.next) {
                if p.ts > now {
                    break;
                }
                out.push(*p);
                self.last = Some(*p);
                self.book_version += 1;
                self.cursor.next += 1;
            }
            if self.cursor.next < self.cursor.prints.len() {
                break;
            }
            self.cursor.bar += 1;
            self.cursor.loaded = false;
            self.cursor.prints.clear();
        }
        if !out.is_empty() {
            self.consumed.clear();
        }
    }

    /// The latest print at or before now.
    pub fn last(&self) -> Option<Print> {
        self.last
    }

    /// The tick at `price` for this market.
    pub fn tick(&self, price: Decimal) -> Decimal {
        self.info.tick_override.unwrap_or_else(|| tick_size(price))
    }

    /// Records one of the simulator's own trades (a client order that took
    /// liquidity) on the tape, returning the print.
    pub fn record_trade(
        &mut self,
        ts: Millis,
        price: Decimal,
        volume: Decimal,
        taker: Side,
    ) -> Print {
        self.extra_counter += 1;
        let ts = self
            .extra
            .last()
            .map_or(ts, |p| ts.max(p.ts))
            .max(self.last.map_or(ts, |p| p.ts));
        let p = Print {
            ts,
            price,
            volume,
            taker,
            seq: ts.saturating_mul(10_000) + 5_000 + self.extra_counter % 5_000,
        };
        self.extra.push(p);
        self.last = Some(p);
        self.invalidate_days(ts);
        p
    }

    /// The simulator's own trades (for persistence).
    pub fn extra_prints(&self) -> &[Print] {
        &self.extra
    }

    /// Restores persisted own trades.
    pub fn restore_extra(&mut self, mut prints: Vec<Print>, now: Millis) {
        prints.sort_by_key(|p| (p.ts, p.seq));
        self.extra = prints;
        self.extra_counter = self.extra.len() as i64;
        if let Some(p) = self.extra.iter().rev().find(|p| p.ts <= now)
            && self.last.is_none_or(|l| l.ts <= p.ts)
        {
            self.last = Some(*p);
        }
        self.day_cache.clear();
        self.w52_cache = None;
    }

    fn invalidate_days(&mut self, ts: Millis) {
        self.day_cache.remove(&day_start(ts));
        self.w52_cache = None;
    }

    /// OHLCV of `[from, to)` as of `now`.
    pub fn aggregate(&self, from: Millis, to: Millis, now: Millis) -> Option<Agg> {
        self.series.aggregate(&self.extra, from, to, now)
    }

    /// The aggregate of one UTC day (cached once the day is complete).
    fn day_agg(&mut self, day: Millis, now: Millis) -> Option<Agg> {
        if let Some(a) = self.day_cache.get(&day) {
            return *a;
        }
        let a = self.aggregate(day, day + DAY_MS, now);
        if day + DAY_MS <= now {
            self.day_cache.insert(day, a);
        }
        a
    }

    /// The latest print strictly before `t` (any source), as a time bound.
    fn activity_before(&self, t: Millis) -> Option<Millis> {
        self.series.last_activity_before(&self.extra, t)
    }

    /// Close of the last trade before `t`.
    pub fn close_before(&mut self, t: Millis, now: Millis) -> Option<Decimal> {
        let mut probe = t;
        // Walk back day by day over days with trades (cached aggregates).
        for _ in 0..4000 {
            let at = self.activity_before(probe)?;
            let day = day_start(at);
            if let Some(a) = self.day_agg(day, now.min(t - 1)) {
                return Some(a.close);
            }
            probe = day;
        }
        None
    }

    /// Up to `count` candles, newest first, whose bucket starts before `to`
    /// (exclusive) and at or before `now`.
    pub fn candles(
        &mut self,
        unit: CandleUnit,
        to: Option<Millis>,
        count: usize,
        now: Millis,
    ) -> Vec<Candle> {
        let mut out = Vec::with_capacity(count.min(200));
        let mut probe = match to {
            Some(t) => (t - 1).min(now),
            None => now,
        };
        // Skip a data-less stretch between the probe and the last activity.
        match self.activity_before(probe + 1) {
            Some(a) => probe = probe.min(a),
            None => return out,
        }
        while out.len() < count {
            let (start, end) = unit.bucket(probe);
            let agg = if unit == CandleUnit::Days {
                self.day_agg(start, now)
            } else if matches!(
                unit,
                CandleUnit::Weeks | CandleUnit::Months | CandleUnit::Years
            ) {
                self.days_agg(start, end, now)
            } else {
                self.aggregate(start, end, now)
            };
            if let Some(agg) = agg {
                let prev_close = if unit == CandleUnit::Days {
                    self.close_before(start, now)
                } else {
                    None
                };
                out.push(Candle {
                    start,
                    agg,
                    prev_close,
                });
            }
            match self.activity_before(start) {
                Some(a) => probe = a,
                None => break,
            }
        }
        out
    }

    /// Aggregate of the whole UTC days in `[from, to)`, from the day cache.
    fn days_agg(&mut self, from: Millis, to: Millis, now: Millis) -> Option<Agg> {
        let mut acc = None;
        let mut d = from;
        while d < to && d <= now {
            if let Some(a) = self.day_agg(d, now) {
                acc = Agg::push(acc, a);
            }
            d += DAY_MS;
        }
        acc
    }

    /// The ticker as of `now`, or `None` before the first trade.
    pub fn ticker(&mut self, now: Millis) -> Option<TickerData> {
        let last = self.last?;
        let today = day_start(now);
        let day_of_last = day_start(last.ts);
        let day = self.day_agg(day_of_last, now)?;
        let prev_close = self.close_before(day_of_last, now).unwrap_or(day.open);
        let h24 = self.aggregate(now - DAY_MS + 1, now + 1, now);
        let (high_52w, low_52w) = self
            .week52(today, now)
            .unwrap_or(((day.high, day_of_last), (day.low, day_of_last)));
        let (high_52w, low_52w) = (
            if day.high > high_52w.0 {
                (day.high, day_of_last)
            } else {
                high_52w
            },
            if day.low < low_52w.0 {
                (day.low, day_of_last)
            } else {
                low_52w
            },
        );
        Some(TickerData {
            last,
            day,
            prev_close,
            volume_24h: h24.map_or(Decimal::ZERO, |a| a.volume),
            value_24h: h24.map_or(Decimal::ZERO, |a| a.value),
            high_52w,
            low_52w,
        })
    }

    /// 52-week high/low over complete days before `today` (cached per day).
    fn week52(
        &mut self,
        today: Millis,
        now: Millis,
    ) -> Option<((Decimal, Millis), (Decimal, Millis))> {
        if let Some((d, v)) = self.w52_cache
            && d == today
        {
            return v;
        }
        let mut hi: Option<(Decimal, Millis)> = None;
        let mut lo: Option<(Decimal, Millis)> = None;
        let first = self
            .series
            .start()
            .min(self.extra.first().map_or(i64::MAX, |p| p.ts));
        let mut d = today - 364 * DAY_MS;
        d = d.max(day_start(first));
        while d < today {
            if let Some(a) = self.day_agg(d, now) {
                if hi.is_none_or(|(h, _)| a.high > h) {
                    hi = Some((a.high, d));
                }
                if lo.is_none_or(|(l, _)| a.low < l) {
                    lo = Some((a.low, d));
                }
            }
            d += DAY_MS;
        }
        let v = hi.zip(lo);
        self.w52_cache = Some((today, v));
        v
    }

    /// Every print in `[from, to)` at or before `now`, in time order.
    pub fn prints_between(&self, from: Millis, to: Millis, now: Millis) -> Vec<Print> {
        let end = to.min(now + 1);
        let mut out = Vec::new();
        if end <= from {
            return out;
        }
        let s = &self.series;
        if !s.is_empty() && end > s.start() && from < s.end() {
            let first = s.index_of(from.max(s.start())).unwrap_or(0);
            let last = s
                .index_of((end - 1).min(s.end() - 1))
                .unwrap_or(s.len() - 1);
            for i in first..=last {
                out.extend(
                    s.prints(i)
                        .into_iter()
                        .filter(|p| p.ts >= from && p.ts < end),
                );
            }
        }
        out.extend_from_slice(extra_in(&self.extra, from, end));
        out.sort_by_key(|p| (p.ts, p.seq));
        out
    }

    /// `trades/ticks`: up to `count` prints of the UTC day starting at `day`,
    /// newest first, strictly before `before` (time) and `cursor` (sequential id).
    pub fn trades(
        &self,
        day: Millis,
        before: Option<Millis>,
        cursor: Option<i64>,
        count: usize,
        now: Millis,
    ) -> Vec<Print> {
        let mut out = Vec::new();
        let mut upper = (day + DAY_MS).min(now + 1);
        if let Some(b) = before {
            upper = upper.min(b);
        }
        if let Some(c) = cursor {
            upper = upper.min(c.div_euclid(10_000) + 1);
        }
        while out.len() < count && upper > day {
            let Some(a) = self.activity_before(upper) else {
                break;
            };
            if a < day {
                break;
            }
            let top = upper.min(a + 1);
            let from = (top - 3_600_000).max(day);
            let chunk = self.prints_between(from, top, now);
            for p in chunk.into_iter().rev() {
                if cursor.is_some_and(|c| p.seq >= c) {
                    continue;
                }
                out.push(p);
                if out.len() >= count {
                    break;
                }
            }
            upper = from;
        }
        out
    }

    /// The synthetic book for the current version, minus liquidity already
    /// taken by client orders. Empty before the first trade.
    pub fn synthetic_book(&mut self) -> Book {
        let Some(last) = self.last else {
            return Book::default();
        };
        let book = match &self.book_cache {
            Some((v, b)) if *v == self.book_version => b.clone(),
            _ => {
                let b = book::synth(&self.profile, last.price, last.taker, self.book_version);
                self.book_cache = Some((self.book_version, b.clone()));
                b
            }
        };
        if self.consumed.is_empty() {
            return book;
        }
        let take =
            |side: Side, levels: Vec<Level>, consumed: &HashMap<(Side, Decimal), Decimal>| {
                levels
                    .into_iter()
                    .filter_map(|l| {
                        let used = consumed.get(&(side, l.price)).copied().unwrap_or_default();
                        let size = l.size - used;
                        (size > Decimal::ZERO).then_some(Level {
                            price: l.price,
                            size,
                        })
                    })
                    .collect()
            };
        Book {
            asks: take(Side::Ask, book.asks, &self.consumed),
            bids: take(Side::Bid, book.bids, &self.consumed),
        }
    }

    /// Marks `size` of the synthetic level at `price` on `side` as taken.
    pub fn consume(&mut self, side: Side, price: Decimal, size: Decimal) {
        *self.consumed.entry((side, price)).or_default() += size;
    }

    /// Per-market seed for the book (stable across runs).
    pub fn profile(&self) -> &BookProfile {
        &self.profile
    }
}

/// FNV-1a of a string (stable seeds per market code).
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
