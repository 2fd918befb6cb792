//! The trader's own book: cash and position lots, kept as exact folds over
//! its fills (`execution::ledger`) and mirrored into the `positions` /
//! `trades` tables.
//!
//! A lot is one order family: an entry and the exits of the position it
//! opened share the family id (the `intent` of their identifiers). The
//! stored lot carries its family and a watermark — the row id of the last
//! fill applied to it — in its tags, written in the same transaction as the
//! change it describes. [`Portfolio::rebuild`] therefore knows exactly which
//! recorded fills a crash (or a database outage) left unapplied, and
//! re-applies them: the same fold, the same writes, no fill lost or counted
//! twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{
    Fill, Krw, Market, Mode, Position, Price, Side, TradeRecord, TraderId, Volume,
    tick::round_price,
};
use execution::{CashBook, ClosedPart, LedgerError, LotEffect, LotState, ledger::family_of};
use rust_decimal::Decimal;
use storage::{orders::FillRecord, positions::PositionRecord};

/// What the exit rules need besides the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotMeta {
    /// Stop set at entry (defines 1 R).
    pub initial_stop: Price,
    /// Current protective stop (trailing).
    pub stop: Price,
    /// Highest mark since entry.
    pub high_water: Price,
    /// Take-profit steps done.
    pub stages_done: usize,
    /// The PANIC reduction was applied.
    pub panic_reduced: bool,
    /// Row id of the last fill applied.
    pub watermark: i64,
}

/// The entry plan's numbers a new lot starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    /// Initial stop.
    pub stop: Price,
}

/// What an exit order was for, applied to the lot when it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitMeta {
    /// The take-profit step it executes.
    pub take_profit_stage: Option<usize>,
    /// It is the PANIC reduction.
    pub panic: bool,
}

/// One lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// Order family (intent id).
    pub family: i64,
    /// Market.
    pub market: Market,
    /// The `positions` row, once written.
    pub position_id: Option<i64>,
    /// The fold.
    pub state: LotState,
    /// Exit-rule state.
    pub meta: LotMeta,
    /// Realised PnL since the lot (re)opened.
    pub realized: Krw,
}

/// A change to write to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A new lot.
    Open {
        /// Family.
        family: i64,
        /// The lot.
        position: Position,
    },
    /// The lot changed (a further buy, a new stop).
    Update {
        /// Family.
        family: i64,
        /// Row id.
        id: i64,
        /// The lot.
        position: Position,
    },
    /// A sale: the closed part and what is left (None: the lot is closed).
    Close {
        /// Family.
        family: i64,
        /// Row id.
        id: i64,
        /// The closed part.
        trade: TradeRecord,
        /// The rest.
        remaining: Option<Position>,
        /// Net PnL of the whole round trip, when this closes the lot.
        round_trip_pnl: Option<Krw>,
    },
}

/// The stored lots do not match the fills (beyond what re-applying explains).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger mismatch: {0}")]
pub struct Mismatch(pub String);

impl From<LedgerError> for Mismatch {
    fn from(e: LedgerError) -> Self {
        Self(e.to_string())
    }
}

const FAMILY: &str = "fam:";
const WATERMARK: &str = "wm:";
const INITIAL_STOP: &str = "istop:";
const STAGES: &str = "tp:";
const PANIC: &str = "panic";

impl Lot {
    fn tags(&self) -> Vec<String> {
        let mut t = vec![
            format!("{FAMILY}{}", self.family),
            format!("{WATERMARK}{}", self.meta.watermark),
            format!("{INITIAL_STOP}{}", self.meta.initial_stop),
            format!("{STAGES}{}", self.meta.stages_done),
        ];
        if self.meta.panic_reduced {
            t.push(PANIC.to_owned());
        }
        t
    }

    /// The domain position (None when nothing is held).
    pub fn position(&self, trader: TraderId) -> Option<Position> {
        if !self.state.is_open() {
            return None;
        }
        Some(Position {
            trader_id: trader,
            market: self.market.clone(),
            open_time: self.state.open_time?,
            avg_entry_price: self.state.avg_entry_price()?,
            size: self.state.size,
            cost_krw: self.state.cost,
            stop_price: self.meta.stop,
            high_water: self.meta.high_water,
            tags: self.tags(),
        })
    }
}

/// Parsed tags of a stored lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tags {
    family: i64,
    watermark: i64,
    initial_stop: Option<Price>,
    stages: usize,
    panic: bool,
}

fn parse_tags(tags: &[String]) -> Option<Tags> {
    let mut family = None;
    let mut watermark = None;
    let mut initial_stop = None;
    let mut stages = 0;
    let mut panic = false;
    for t in tags {
        if let Some(v) = t.strip_prefix(FAMILY) {
            family = v.parse().ok();
        } else if let Some(v) = t.strip_prefix(WATERMARK) {
            watermark = v.parse().ok();
        } else if let Some(v) = t.strip_prefix(INITIAL_STOP) {
            initial_stop = v.parse().ok();
        } else if let Some(v) = t.strip_prefix(STAGES) {
            stages = v.parse().unwrap_or(0);
        } else if t == PANIC {
            panic = true;
        }
    }
    Some(Tags {
        family: family?,
        watermark: watermark?,
        initial_stop,
        stages,
        panic,
    })
}

/// Cash and lots of one trader.
#[derive(Debug, Clone)]
pub struct Portfolio {
    trader: TraderId,
    mode: Mode,
    /// Cash.
    pub cash: CashBook,
    /// Open lots by family.
    pub lots: BTreeMap<i64, Lot>,
    /// Stop distance used when a lot's plan was lost (fraction below entry).
    fallback_stop: Decimal,
}

impl Portfolio {
    /// An empty book with `seed` cash.
    pub fn new(trader: TraderId, mode: Mode, seed: Krw) -> Self {
        Self {
            trader,
            mode,
            cash: CashBook::new(seed),
            lots: BTreeMap::new(),
            fallback_stop: Decimal::new(3, 2),
        }
    }

    fn fallback_meta(&self, entry: Price, watermark: i64) -> LotMeta {
        let raw = entry.get() * (Decimal::ONE - self.fallback_stop);
        let stop = round_price(raw, Side::Bid).unwrap_or(entry);
        LotMeta {
            initial_stop: stop,
            stop,
            high_water: entry,
            stages_done: 0,
            panic_reduced: false,
            watermark,
        }
    }

    /// Rebuilds the book from every recorded fill (row-id order) and the
    /// stored lots, returning the writes that bring the tables up to date
    /// (fills recorded but not yet applied). Fills of other traders, lots
    /// without a family tag, lots whose applied fills do not add up to their
    /// stored size, and oversells are a [`Mismatch`].
    pub fn rebuild(
        trader: TraderId,
        mode: Mode,
        seed: Krw,
        fills: &[FillRecord],
        positions: &[PositionRecord],
    ) -> Result<(Self, Vec<Write>), Mismatch> {
        let mut fills: Vec<&FillRecord> = fills.iter().collect();
        fills.sort_by_key(|f| f.id);
        let mut book = Self::new(trader, mode, seed);
        let mut families: BTreeMap<i64, Vec<&FillRecord>> = BTreeMap::new();
        for f in &fills {
            if f.fill.identifier.trader() != Some(trader) || f.trader_id != trader {
                return Err(Mismatch(format!(
                    "fill {} ({}) is not this trader's",
                    f.fill.trade_uuid, f.fill.identifier
                )));
            }
            let fam = family_of(&f.fill)
                .ok_or_else(|| Mismatch(format!("fill {} has no family", f.fill.trade_uuid)))?;
            book.cash.apply(&f.fill);
            families.entry(fam).or_default().push(f);
        }
        let mut stored: BTreeMap<i64, &PositionRecord> = BTreeMap::new();
        for p in positions {
            let tags = parse_tags(&p.position.tags).ok_or_else(|| {
                Mismatch(format!(
                    "position {} carries no family/watermark tags",
                    p.id
                ))
            })?;
            if stored.insert(tags.family, p).is_some() {
                return Err(Mismatch(format!(
                    "two stored lots of family {}",
                    tags.family
                )));
            }
            if !families.contains_key(&tags.family) {
                return Err(Mismatch(format!(
                    "position {} (family {}) has no fills",
                    p.id, tags.family
                )));
            }
        }
        let mut writes = Vec::new();
        for (fam, list) in families {
            let market = list[0].fill.market.clone();
            if let Some(p) = stored.get(&fam) {
                let tags = parse_tags(&p.position.tags)
                    .ok_or_else(|| Mismatch(format!("position {} tags", p.id)))?;
                let (applied, pending): (Vec<&FillRecord>, Vec<&FillRecord>) =
                    list.iter().partition(|f| f.id <= tags.watermark);
                let (state, effects) = LotState::replay(applied.iter().map(|f| &f.fill))?;
                if state.size != p.position.size {
                    return Err(Mismatch(format!(
                        "lot {fam}: stored size {} but its applied fills hold {}",
                        p.position.size, state.size
                    )));
                }
                let mut lot = Lot {
                    family: fam,
                    market,
                    position_id: Some(p.id),
                    state,
                    meta: LotMeta {
                        initial_stop: tags.initial_stop.unwrap_or(p.position.stop_price),
                        stop: p.position.stop_price,
                        high_water: p.position.high_water,
                        stages_done: tags.stages,
                        panic_reduced: tags.panic,
                        watermark: tags.watermark,
                    },
                    realized: realized_since_open(&effects),
                };
                for f in pending {
                    if let Some(w) = book.apply_to(&mut lot, f.id, &f.fill, None, None)? {
                        writes.push(w);
                    }
                }
                if lot.state.is_open() {
                    book.lots.insert(fam, lot);
                }
            } else {
                let (state, effects) = LotState::replay(list.iter().map(|f| &f.fill))?;
                if !state.is_open() {
                    continue;
                }
                let last = list.last().map_or(0, |f| f.id);
                let entry = state
                    .avg_entry_price()
                    .ok_or_else(|| Mismatch(format!("lot {fam} has no entry price")))?;
                let lot = Lot {
                    family: fam,
                    market,
                    position_id: None,
                    meta: book.fallback_meta(entry, last),
                    realized: realized_since_open(&effects),
                    state,
                };
                if let Some(position) = lot.position(trader) {
                    writes.push(Write::Open {
                        family: fam,
                        position,
                    });
                }
                book.lots.insert(fam, lot);
            }
        }
        Ok((book, writes))
    }

    /// Applies one newly recorded fill (its row id) and returns the write
    /// that mirrors it. `entry` seeds a new lot's stop; `exit` marks what an
    /// exit order was for.
    pub fn apply(
        &mut self,
        fill_id: i64,
        fill: &Fill,
        entry: Option<EntryMeta>,
        exit: Option<ExitMeta>,
    ) -> Result<Option<Write>, Mismatch> {
        let fam = family_of(fill)
            .ok_or_else(|| Mismatch(format!("fill {} has no family", fill.trade_uuid)))?;
        self.cash.apply(fill);
        let mut lot = self.lots.remove(&fam).unwrap_or_else(|| Lot {
            family: fam,
            market: fill.market.clone(),
            position_id: None,
            state: LotState::default(),
            meta: LotMeta {
                initial_stop: fill.price,
                stop: fill.price,
                high_water: fill.price,
                stages_done: 0,
                panic_reduced: false,
                watermark: 0,
            },
            realized: Krw::ZERO,
        });
        let w = self.apply_to(&mut lot, fill_id, fill, entry, exit)?;
        if lot.state.is_open() {
            self.lots.insert(fam, lot);
        }
        Ok(w)
    }

    fn apply_to(
        &self,
        lot: &mut Lot,
        fill_id: i64,
        fill: &Fill,
        entry: Option<EntryMeta>,
        exit: Option<ExitMeta>,
    ) -> Result<Option<Write>, Mismatch> {
        let effect = lot.state.apply(fill)?;
        lot.meta.watermark = fill_id;
        let fam = lot.family;
        Ok(match effect {
            LotEffect::Opened => {
                let mut meta = match entry {
                    Some(e) => LotMeta {
                        initial_stop: e.stop,
                        stop: e.stop,
                        high_water: fill.price,
                        stages_done: 0,
                        panic_reduced: false,
                        watermark: fill_id,
                    },
                    None => self.fallback_meta(fill.price, fill_id),
                };
                meta.watermark = fill_id;
                lot.meta = meta;
                lot.position_id = None;
                lot.realized = Krw::ZERO;
                lot.position(self.trader).map(|position| Write::Open {
                    family: fam,
                    position,
                })
            }
            LotEffect::Added => {
                lot.meta.high_water = lot.meta.high_water.max(fill.price);
                match (lot.position_id, lot.position(self.trader)) {
                    (Some(id), Some(position)) => Some(Write::Update {
                        family: fam,
                        id,
                        position,
                    }),
                    (None, Some(position)) => Some(Write::Open {
                        family: fam,
                        position,
                    }),
                    _ => None,
                }
            }
            LotEffect::Reduced(part) | LotEffect::Closed(part) => {
                if let Some(x) = exit {
                    if x.panic {
                        lot.meta.panic_reduced = true;
                    }
                    if let Some(stage) = x.take_profit_stage {
                        lot.meta.stages_done = lot.meta.stages_done.max(stage + 1);
                    }
                }
                lot.realized += part.pnl;
                let trade = self.trade(lot, &part);
                let closed = !lot.state.is_open();
                let Some(id) = lot.position_id else {
                    return Err(Mismatch(format!(
                        "lot {fam} sold before its position row was written"
                    )));
                };
                Some(Write::Close {
                    family: fam,
                    id,
                    trade,
                    remaining: lot.position(self.trader),
                    round_trip_pnl: closed.then_some(lot.realized),
                })
            }
        })
    }

    fn trade(&self, lot: &Lot, part: &ClosedPart) -> TradeRecord {
        TradeRecord {
            trader_id: self.trader,
            market: lot.market.clone(),
            entry_time: part.entry_time,
            entry_price: part.entry_price,
            size: part.size,
            stop_price: lot.meta.stop,
            exit_time: part.exit_time,
            exit_price: part.exit_price,
            pnl: part.pnl,
            mode: self.mode,
        }
    }

    /// Records the row id of a lot just opened.
    pub fn opened(&mut self, family: i64, id: i64) {
        if let Some(l) = self.lots.get_mut(&family) {
            l.position_id = Some(id);
        }
    }

    /// Open positions as the risk engine sees them.
    pub fn positions(&self) -> Vec<Position> {
        self.lots
            .values()
            .filter_map(|l| l.position(self.trader))
            .collect()
    }

    /// Volume held per market.
    pub fn held(&self) -> BTreeMap<Market, Volume> {
        let mut out: BTreeMap<Market, Volume> = BTreeMap::new();
        for l in self.lots.values() {
            *out.entry(l.market.clone()).or_default() += l.state.size;
        }
        out
    }

    /// Cash plus every lot at its mark (a lot without a mark counts at cost).
    pub fn equity(&self, marks: &BTreeMap<Market, Price>) -> Krw {
        self.cash.cash
            + self
                .lots
                .values()
                .map(|l| {
                    marks
                        .get(&l.market)
                        .map_or(l.state.cost, |m| *m * l.state.size)
                })
                .sum::<Krw>()
    }

    /// The time of the oldest open lot, if any.
    pub fn oldest_open(&self) -> Option<DateTime<Utc>> {
        self.lots.values().filter_map(|l| l.state.open_time).min()
    }
}

fn realized_since_open(effects: &[LotEffect]) -> Krw {
    let mut r = Krw::ZERO;
    for e in effects {
        match e {
            LotEffect::Opened | LotEffect::Closed(_) => r = Krw::ZERO,
            LotEffect::Reduced(p) => r += p.pnl,
            LotEffect::Added => {}
        }
    }
    r
}

#[cfg(test)]
mod tests;
