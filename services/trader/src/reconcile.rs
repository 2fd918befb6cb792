//! Crash safety: what a (re)started trader does before it trades.
//!
//! 1. **Book**: rebuild cash and lots from every recorded fill and apply the
//!    fills a crash left unapplied ([`crate::portfolio::Portfolio::rebuild`]).
//! 2. **Orders**: every order not final in our records is looked up by its
//!    identifier — fills since we last saw it are recorded, intents that never
//!    reached the exchange are marked failed.
//! 3. **Exchange view**: open orders and the recent closed orders carrying our
//!    identifier prefix must all be in our records with the same executed
//!    volume; coins held on the account must cover our lots.
//!
//! Anything the records cannot explain is a [`StepError::Mismatch`]: the
//! trader refuses to trade and raises a CRITICAL event.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Mode, TraderId};
use execution::{ExecOrder, ExecTrade, PaperExecutor};
use rust_decimal::Decimal;
use serde_json::json;
use storage::{Store, events::EventLevel, orders::FillRecord};

use crate::{
    error::StepError,
    journal::Journal,
    orders::{Effects, OrderManager, perform},
    portfolio::Portfolio,
};

/// Fills read per page while rebuilding.
const FILL_PAGE: u32 = 5000;

/// Every fill of `trader`, oldest first.
pub async fn all_fills(store: &Store, trader: TraderId) -> Result<Vec<FillRecord>, StepError> {
    let mut out: Vec<FillRecord> = Vec::new();
    let mut from = DateTime::<Utc>::UNIX_EPOCH;
    loop {
        let page = store.fills().list(trader, from, FILL_PAGE).await?;
        let full = page.len() >= FILL_PAGE as usize;
        let last_ts = page.last().map(|f| f.fill.ts);
        for f in page {
            if !out
                .iter()
                .rev()
                .take(FILL_PAGE as usize)
                .any(|o| o.id == f.id)
            {
                out.push(f);
            }
        }
        match (full, last_ts) {
            (true, Some(ts)) if ts > from => from = ts,
            (true, Some(_)) => {
                return Err(StepError::Mismatch(format!(
                    "more than {FILL_PAGE} fills share one millisecond"
                )));
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Step 1: the book, with the tables brought up to date.
pub async fn rebuild_book(
    store: &Store,
    journal: &Journal,
    trader: TraderId,
    mode: Mode,
    seed: Krw,
    now: DateTime<Utc>,
) -> Result<Portfolio, StepError> {
    let fills = all_fills(store, trader).await?;
    let positions = store.positions().list(trader).await?;
    let (mut port, writes) = Portfolio::rebuild(trader, mode, seed, &fills, &positions)?;
    let n = writes.len();
    let mut fx = Effects::default();
    for w in writes {
        perform(store, journal, &mut port, w, now, &mut fx).await?;
    }
    if n > 0 {
        journal
            .note(
                now,
                EventLevel::Warn,
                "LEDGER_REPAIRED",
                format!("{n} recorded fill(s) were not yet in the positions; applied now"),
                json!({"writes": n}),
            )
            .await;
    }
    Ok(port)
}

/// PAPER: puts the open paper orders back on the paper book.
pub async fn restore_paper(
    store: &Store,
    paper: &PaperExecutor,
    om: &OrderManager,
) -> Result<(), StepError> {
    for t in om.open() {
        let r = &t.record;
        if r.status == storage::orders::OrderStatus::Intent {
            continue;
        }
        let fills = store.fills().list_for_order(&r.identifier).await?;
        let order = ExecOrder {
            uuid: r
                .uuid
                .clone()
                .unwrap_or_else(|| format!("paper-{}", r.identifier)),
            identifier: r.identifier.clone(),
            market: r.market.clone(),
            side: r.side,
            ord_type: r.ord_type,
            price: r.price,
            volume: r.volume,
            time_in_force: r.time_in_force,
            state: domain::OrderState::Wait,
            executed_volume: r.executed_volume,
            executed_funds: r.executed_funds,
            paid_fee: r.paid_fee,
            trades: Some(
                fills
                    .into_iter()
                    .map(|f| ExecTrade {
                        uuid: f.fill.trade_uuid,
                        price: f.fill.price,
                        volume: f.fill.volume,
                        funds: f.fill.funds,
                        fee: Some(f.fill.fee),
                        ts: f.fill.ts,
                    })
                    .collect(),
            ),
            created_at: r.created_at,
        };
        paper.restore(order).await?;
    }
    Ok(())
}

/// Steps 2 and 3 (see the module docs).
pub async fn reconcile_exchange(
    store: &Store,
    om: &mut OrderManager,
    port: &mut Portfolio,
    now: DateTime<Utc>,
) -> Result<Effects, StepError> {
    let mut fx = Effects::default();
    om.sync(port, now, &mut fx).await?;
    if om.executor().mode() == Mode::Paper {
        return Ok(fx);
    }
    let prefix = om.prefix().to_owned();
    let ex = om.executor().clone();
    let open = ex.open_orders(&prefix).await?;
    for o in &open {
        match store.orders().get_by_identifier(&o.identifier).await? {
            None => {
                return Err(StepError::Mismatch(format!(
                    "open order {} ({}) on the exchange is not in our records",
                    o.identifier, o.uuid
                )));
            }
            Some(r) if r.status.is_final() => {
                return Err(StepError::Mismatch(format!(
                    "order {} is {} in our records but open on the exchange",
                    o.identifier, r.status
                )));
            }
            Some(r) => {
                if !om.watched().contains(&r.identifier) {
                    om.watch(r);
                }
            }
        }
    }
    // Recently closed orders: since the newest order we know (minus an
    // hour), never more than 7 days back (Upbit's window).
    let newest = store
        .orders()
        .list(port_trader(om), 1)
        .await?
        .first()
        .map(|r| r.created_at);
    if let Some(newest) = newest {
        let since =
            (newest - Duration::hours(1)).max(now - Duration::days(7) + Duration::minutes(5));
        let closed = ex.closed_orders(&prefix, since).await?;
        for o in &closed {
            let Some(r) = store.orders().get_by_identifier(&o.identifier).await? else {
                return Err(StepError::Mismatch(format!(
                    "closed order {} ({}) on the exchange is not in our records",
                    o.identifier, o.uuid
                )));
            };
            if r.status.is_final() && r.executed_volume != o.executed_volume {
                return Err(StepError::Mismatch(format!(
                    "order {}: we recorded {} executed, the exchange says {}",
                    o.identifier, r.executed_volume, o.executed_volume
                )));
            }
        }
    }
    // Balances: the account must hold at least our lots of each coin.
    let balances = ex.balances().await?;
    let by_currency: BTreeMap<String, Decimal> = balances
        .iter()
        .map(|b| (b.currency.as_str().to_owned(), b.total()))
        .collect();
    for (market, held) in port.held() {
        let have = by_currency
            .get(market.base().as_str())
            .copied()
            .unwrap_or_default();
        if have < held.get() {
            return Err(StepError::Mismatch(format!(
                "the account holds {have} {} but this trader's lots hold {held}",
                market.base()
            )));
        }
    }
    let krw = by_currency.get("KRW").copied().unwrap_or_default();
    if krw < port.cash.cash.get() {
        fx.warnings.push((
            "ACCOUNT_KRW_LOW",
            format!(
                "the account holds {krw} KRW, less than this trader's ledger cash {} \
                 (a shared account or a withdrawal); entries are limited to what the account holds",
                port.cash.cash
            ),
        ));
    }
    Ok(fx)
}

fn port_trader(om: &OrderManager) -> TraderId {
    om.trader()
}
