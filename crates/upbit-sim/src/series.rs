//! A market's price history as fixed-interval bars, and the trade prints that
//! make up each bar.
//!
//! Prints are generated **deterministically** from the bar and a seed, so the
//! same bar always yields the same prints: they hit the bar's open, high, low
//! and close exactly, their volumes sum to the bar's volume exactly, and their
//! times lie inside the bar. Candles of any unit, the ticker, `trades/ticks`
//! and the WebSocket streams are all computed from these prints (or, for whole
//! bars, from the bar itself), so every view of the market agrees.

use std::cmp::Ordering;

use domain::{Side, tick::tick_size};
use rand::{Rng, SeedableRng, seq::index};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, prelude::ToPrimitive};

use crate::wire::{MINUTE_MS, Millis};

/// One bar: OHLCV plus quote turnover. `volume == 0` means "no trade".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// First trade price.
    pub open: Decimal,
    /// Highest trade price.
    pub high: Decimal,
    /// Lowest trade price.
    pub low: Decimal,
    /// Last trade price.
    pub close: Decimal,
    /// Base volume (at most 8 decimals).
    pub volume: Decimal,
    /// Quote turnover (KRW).
    pub value: Decimal,
}

impl Bar {
    /// True when the bar holds no trade.
    pub fn is_empty(&self) -> bool {
        self.volume <= Decimal::ZERO
    }
}

/// One trade print on the tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Print {
    /// Execution time (ms).
    pub ts: Millis,
    /// Execution price.
    pub price: Decimal,
    /// Executed base volume.
    pub volume: Decimal,
    /// The taker's side: `Bid` = a buyer lifted the ask (`ask_bid: "BID"`).
    pub taker: Side,
    /// Upbit-style `sequential_id` (unique, > 2^53 for current times).
    pub seq: i64,
}

/// OHLCV of all prints in some time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agg {
    /// First price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
    /// Summed base volume.
    pub volume: Decimal,
    /// Summed quote turnover.
    pub value: Decimal,
    /// Time of the last print.
    pub last_ts: Millis,
}

impl Agg {
    fn of_print(p: &Print) -> Self {
        Self {
            open: p.price,
            high: p.price,
            low: p.price,
            close: p.price,
            volume: p.volume,
            value: p.price * p.volume,
            last_ts: p.ts,
        }
    }

    /// Appends a later piece (pieces must arrive in time order).
    fn then(self, later: Self) -> Self {
        Self {
            open: self.open,
            high: self.high.max(later.high),
            low: self.low.min(later.low),
            close: later.close,
            volume: self.volume + later.volume,
            value: self.value + later.value,
            last_ts: later.last_ts.max(self.last_ts),
        }
    }

    /// Folds a later piece into an optional accumulator.
    pub fn push(acc: Option<Self>, later: Self) -> Option<Self> {
        Some(match acc {
            Some(a) => a.then(later),
            None => later,
        })
    }
}

/// Rounds `p` to the nearest multiple of the KRW tick at its price level.
/// Rounding never leaves the grid: band boundaries are multiples of the ticks
/// on both sides (see `domain::tick`).
pub fn snap_to_grid(p: Decimal) -> Decimal {
    let floor_tick = Decimal::new(1, 8);
    if p <= floor_tick {
        return floor_tick;
    }
    let tick = tick_size(p);
    let snapped = ((p / tick).round() * tick).normalize();
    if snapped <= Decimal::ZERO {
        tick
    } else {
        snapped
    }
}

/// A market's bars on a fixed grid starting at `start`.
#[derive(Debug, Clone)]
pub struct Series {
    start: Millis,
    interval: Millis,
    bars: Vec<Bar>,
    seed: u64,
    /// Typical (median) non-empty bar volume, scales the print count.
    typical_volume: Decimal,
    /// True when `value` was approximated as `close × volume`.
    approx_value: bool,
}

/// Multiplier for the print count: prints per minute of bar at typical volume.
const PRINTS_PER_MINUTE: f64 = 6.0;

impl Series {
    /// A series; `bars[i]` covers `[start + i·interval, start + (i+1)·interval)`.
    /// `typical_volume` scales how many prints a bar gets; it is fixed for the
    /// life of the series so a bar's prints never change.
    pub fn new(
        start: Millis,
        interval: Millis,
        bars: Vec<Bar>,
        params: PrintParams,
        approx_value: bool,
    ) -> Self {
        Self {
            start,
            interval: interval.max(1000),
            bars,
            seed: params.seed,
            typical_volume: params.typical_volume,
            approx_value,
        }
    }

    /// The median non-empty bar volume of `bars` (one for an empty slice).
    pub fn median_volume(bars: &[Bar]) -> Decimal {
        let mut vols: Vec<Decimal> = bars
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| b.volume)
            .collect();
        vols.sort_unstable();
        vols.get(vols.len() / 2).copied().unwrap_or(Decimal::ONE)
    }

    /// Appends bars (synthetic markets grow as the clock moves).
    pub fn extend(&mut self, more: impl IntoIterator<Item = Bar>) {
        self.bars.extend(more);
    }

    /// First bar start.
    pub fn start(&self) -> Millis {
        self.start
    }

    /// Bar length in ms.
    pub fn interval(&self) -> Millis {
        self.interval
    }

    /// End of the last bar (exclusive).
    pub fn end(&self) -> Millis {
        self.start + self.interval * self.bars.len() as i64
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// True without bars.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// True when bar values were approximated from `close × volume`.
    pub fn approx_value(&self) -> bool {
        self.approx_value
    }

    /// The typical (median) non-empty bar volume.
    pub fn typical_volume(&self) -> Decimal {
        self.typical_volume
    }

    /// The bar at `i`.
    pub fn bar(&self, i: usize) -> Option<&Bar> {
        self.bars.get(i)
    }

    /// Start time of bar `i`.
    pub fn bar_start(&self, i: usize) -> Millis {
        self.start + self.interval * i as i64
    }

    /// Index of the bar containing `t`, if inside the series.
    pub fn index_of(&self, t: Millis) -> Option<usize> {
        if t < self.start {
            return None;
        }
        let i = usize::try_from((t - self.start) / self.interval).ok()?;
        (i < self.bars.len()).then_some(i)
    }

    /// Index of the last non-empty bar that starts before `t`.
    pub fn last_nonempty_before(&self, t: Millis) -> Option<usize> {
        if t <= self.start || self.bars.is_empty() {
            return None;
        }
        let upto = usize::try_from((t - 1 - self.start) / self.interval).ok()?;
        let upto = upto.min(self.bars.len() - 1);
        (0..=upto).rev().find(|&i| !self.bars[i].is_empty())
    }

    /// Index of the first non-empty bar at or after index `from`.
    pub fn next_nonempty_from(&self, from: usize) -> Option<usize> {
        (from..self.bars.len()).find(|&i| !self.bars[i].is_empty())
    }

    /// The deterministic trade prints of bar `i`, in time order.
    pub fn prints(&self, i: usize) -> Vec<Print> {
        match self.bars.get(i) {
            Some(bar) => prints_of_bar(
                bar,
                self.bar_start(i),
                self.interval,
                PrintParams {
                    seed: self.seed,
                    typical_volume: self.typical_volume,
                },
                i,
            ),
            None => Vec::new(),
        }
    }

    /// OHLCV of every print in `[from, to)` that happened at or before `now`,
    /// merged with `extra` prints (sorted by time; the simulator's own fills).
    pub fn aggregate(&self, extra: &[Print], from: Millis, to: Millis, now: Millis) -> Option<Agg> {
        let end = to.min(now.saturating_add(1));
        if end <= from {
            return None;
        }
        let mut acc: Option<Agg> = None;
        for p in extra_in(extra, from, end.min(self.start)) {
            acc = Agg::push(acc, Agg::of_print(p));
        }
        if !self.bars.is_empty() && end > self.start && from < self.end() {
            let first = self.index_of(from.max(self.start)).unwrap_or(0);
            let last = self
                .index_of((end - 1).min(self.end() - 1))
                .unwrap_or(self.bars.len() - 1);
            let mut whole_tail: Option<usize> = None;
            for i in first..=last {
                let bar = self.bars[i];
                let bs = self.bar_start(i);
                let be = bs + self.interval;
                let lo = from.max(bs);
                let hi = end.min(be);
                let ex = extra_in(extra, lo, hi);
                if bar.is_empty() && ex.is_empty() {
                    continue;
                }
                if bs >= from && be <= end && ex.is_empty() {
                    acc = Agg::push(
                        acc,
                        Agg {
                            open: bar.open,
                            high: bar.high,
                            low: bar.low,
                            close: bar.close,
                            volume: bar.volume,
                            value: bar.value,
                            last_ts: be - 1,
                        },
                    );
                    whole_tail = Some(i);
                    continue;
                }
                whole_tail = None;
                let own = self.prints(i);
                let own = own.iter().filter(|p| p.ts >= lo && p.ts < hi);
                for p in merge_by_time(own, ex.iter()) {
                    acc = Agg::push(acc, Agg::of_print(p));
                }
            }
            // A whole bar's last print time is only known from its prints.
            if let (Some(i), Some(a)) = (whole_tail, acc.as_mut())
                && let Some(p) = self.prints(i).last()
            {
                a.last_ts = p.ts;
            }
        }
        for p in extra_in(extra, from.max(self.end()), end) {
            acc = Agg::push(acc, Agg::of_print(p));
        }
        acc
    }

    /// A time at or after the last print strictly before `t` (and before `t`),
    /// or `None` when nothing traded before `t`. Used to skip gaps quickly.
    pub fn last_activity_before(&self, extra: &[Print], t: Millis) -> Option<Millis> {
        let from_bars = self
            .last_nonempty_before(t)
            .map(|i| (self.bar_start(i) + self.interval).min(t) - 1);
        let idx = extra.partition_point(|p| p.ts < t);
        let from_extra = idx.checked_sub(1).and_then(|j| extra.get(j)).map(|p| p.ts);
        from_bars.max(from_extra)
    }
}

/// The slice of `extra` (sorted by time) with `from <= ts < to`.
pub fn extra_in(extra: &[Print], from: Millis, to: Millis) -> &[Print] {
    if to <= from {
        return &[];
    }
    let a = extra.partition_point(|p| p.ts < from);
    let b = extra.partition_point(|p| p.ts < to);
    extra.get(a..b).unwrap_or(&[])
}

/// Merges two time-ordered print iterators.
fn merge_by_time<'a>(
    a: impl Iterator<Item = &'a Print>,
    b: impl Iterator<Item = &'a Print>,
) -> Vec<&'a Print> {
    let mut out: Vec<&Print> = a.chain(b).collect();
    out.sort_by(|x, y| x.ts.cmp(&y.ts).then(x.seq.cmp(&y.seq)));
    out
}

/// SplitMix64-style mixing of a seed and an index.
pub fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const UNIT: Decimal = Decimal::from_parts(1, 0, 0, false, 8);

/// The fixed inputs of print generation for one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintParams {
    /// The series seed.
    pub seed: u64,
    /// Typical bar volume (scales the print count).
    pub typical_volume: Decimal,
}

/// The prints of bar number `index` of a series (empty for an empty bar).
pub fn prints_of_bar(
    bar: &Bar,
    bar_start: Millis,
    interval: Millis,
    params: PrintParams,
    index: usize,
) -> Vec<Print> {
    if bar.is_empty() {
        return Vec::new();
    }
    generate_prints(
        bar,
        bar_start,
        interval,
        params.typical_volume,
        mix(params.seed, index as u64),
    )
}

/// Generates the prints of one non-empty bar. See the module docs for the
/// guarantees (OHLC hit exactly, volumes sum exactly, times inside the bar).
fn generate_prints(
    bar: &Bar,
    start: Millis,
    interval: Millis,
    typical: Decimal,
    seed: u64,
) -> Vec<Print> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let units = (bar.volume / UNIT)
        .trunc()
        .to_i64()
        .unwrap_or(i64::MAX)
        .max(1);
    let minutes = (interval as f64 / MINUTE_MS as f64).max(1.0 / 60.0);
    let ratio = (bar.volume / typical.max(UNIT))
        .to_f64()
        .unwrap_or(1.0)
        .max(0.0);
    let wanted = (PRINTS_PER_MINUTE * minutes * ratio.sqrt()).round();
    let lo_n = (minutes.ceil() as i64).clamp(4, 240);
    let hi_n = ((40.0 * minutes) as i64).clamp(8, 4000);
    let mut n = (wanted as i64).clamp(lo_n, hi_n);
    n = n.min(units).min(interval).max(1);
    let n = usize::try_from(n).unwrap_or(1);

    // Distinct, sorted offsets inside the bar.
    let mut offsets: Vec<i64> =
        index::sample(&mut rng, usize::try_from(interval).unwrap_or(usize::MAX), n)
            .into_iter()
            .map(|o| o as i64)
            .collect();
    offsets.sort_unstable();

    let prices = price_path(bar, n, &mut rng);
    let volumes = split_units(units, n, &mut rng);

    let mut prints = Vec::with_capacity(n);
    let mut prev: Option<Decimal> = None;
    let mut prev_side = Side::Bid;
    for (j, ((off, price), vol_units)) in offsets.iter().zip(&prices).zip(&volumes).enumerate() {
        let taker = match prev.map(|p| price.cmp(&p)) {
            Some(Ordering::Greater) => Side::Bid,
            Some(Ordering::Less) => Side::Ask,
            _ => {
                if rng.gen_bool(0.5) {
                    prev_side
                } else {
                    prev_side.opposite()
                }
            }
        };
        prev = Some(*price);
        prev_side = taker;
        let ts = start + off;
        prints.push(Print {
            ts,
            price: *price,
            volume: Decimal::from(*vol_units) * UNIT,
            taker,
            seq: ts.saturating_mul(10_000) + j as i64,
        });
    }
    prints
}

/// `n` prices: open first, close last, high and low in between (low first on
/// an up bar), the rest on a noisy piecewise-linear path inside `[low, high]`.
fn price_path(bar: &Bar, n: usize, rng: &mut ChaCha8Rng) -> Vec<Decimal> {
    match n {
        0 => return Vec::new(),
        1 => return vec![bar.close],
        2 => return vec![bar.open, bar.close],
        3 => {
            let mid = if bar.close >= bar.open {
                bar.low
            } else {
                bar.high
            };
            return vec![bar.open, mid, bar.close];
        }
        _ => {}
    }
    let up = bar.close >= bar.open;
    // Two interior anchor positions for the extremes.
    let a = rng.gen_range(1..n - 2);
    let b = rng.gen_range(a + 1..n - 1);
    let (first_ext, second_ext) = if up {
        (bar.low, bar.high)
    } else {
        (bar.high, bar.low)
    };
    let anchors = [
        (0usize, bar.open),
        (a, first_ext),
        (b, second_ext),
        (n - 1, bar.close),
    ];
    let range = (bar.high - bar.low).to_f64().unwrap_or(0.0);
    let lo = bar.low.to_f64().unwrap_or(0.0);
    let hi = bar.high.to_f64().unwrap_or(0.0);
    let mut out = Vec::with_capacity(n);
    for j in 0..n {
        if let Some((_, p)) = anchors.iter().find(|(k, _)| *k == j) {
            out.push(*p);
            continue;
        }
        let seg = anchors.windows(2).find(|w| j > w[0].0 && j < w[1].0);
        let Some([(ja, pa), (jb, pb)]) = seg.map(|w| [w[0], w[1]]) else {
            out.push(bar.close);
            continue;
        };
        let t = (j - ja) as f64 / (jb - ja) as f64;
        let pa = pa.to_f64().unwrap_or(lo);
        let pb = pb.to_f64().unwrap_or(lo);
        let noise = (rng.r#gen::<f64>() - 0.5) * 0.2 * range;
        let x = (pa + (pb - pa) * t + noise).clamp(lo, hi);
        let snapped = Decimal::from_f64_retain(x)
            .map_or(bar.close, snap_to_grid)
            .clamp(bar.low, bar.high);
        out.push(snapped);
    }
    out
}

/// Splits `units` into `n` positive integer parts with random weights; the
/// parts sum to `units` exactly. Requires `units >= n`.
fn split_units(units: i64, n: usize, rng: &mut ChaCha8Rng) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let n_i = n as i64;
    let spare = units - n_i; // each print gets one unit first
    let weights: Vec<f64> = (0..n).map(|_| 0.1 + rng.r#gen::<f64>().powi(2)).collect();
    let total: f64 = weights.iter().sum();
    let mut parts: Vec<i64> = weights
        .iter()
        .map(|w| 1 + ((spare as f64) * w / total).floor() as i64)
        .collect();
    let assigned: i64 = parts.iter().sum();
    let mut rest = units - assigned;
    // Rounding leftovers go to random prints; exactness is what matters.
    while rest > 0 {
        let k = rng.gen_range(0..n);
        let add = (rest / n_i).max(1);
        parts[k] += add;
        rest -= add;
    }
    while rest < 0 {
        // Float overshoot (only with enormous unit counts): take it back.
        if let Some(k) = parts.iter().position(|&p| p > 1) {
            parts[k] -= 1;
            rest += 1;
        } else {
            break;
        }
    }
    parts
}

#[cfg(test)]
mod tests;
