//! The money checks every end-to-end test ends with: the tables are exactly
//! what the recorded fills say, and — for LIVE — every order and fill in the
//! database equals the simulator's own record to the last unit, and the
//! account's balances equal the sub-ledgers of the traders sharing it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;
use domain::{Krw, Mode, TraderId};
use execution::CashBook;
use rust_decimal::Decimal;
use storage::{
    Store,
    orders::{FillRecord, OrderRecord, OrderStatus},
    positions::PositionRecord,
    trades::TradeRow,
};
use trader::portfolio::Portfolio;

use crate::support::World;

/// Everything one trader wrote.
pub(crate) struct Tables {
    pub(crate) orders: Vec<OrderRecord>,
    pub(crate) fills: Vec<FillRecord>,
    pub(crate) positions: Vec<PositionRecord>,
    pub(crate) trades: Vec<TradeRow>,
}

pub(crate) async fn tables(store: &Store, id: TraderId) -> Tables {
    let mut orders = store.orders().list(id, 10_000).await.unwrap();
    orders.reverse();
    Tables {
        orders,
        fills: store
            .fills()
            .list(id, DateTime::UNIX_EPOCH, 10_000)
            .await
            .unwrap(),
        positions: store.positions().list(id).await.unwrap(),
        trades: store
            .trades()
            .list(id, DateTime::UNIX_EPOCH, 10_000)
            .await
            .unwrap(),
    }
}

/// The tables agree with the fills: no order left open, every order's
/// executed totals are the sum of its fills, the positions are the fold of
/// the fills (a rebuild finds nothing to write), the trades' PnL adds up to
/// the realised PnL. Returns the rebuilt book.
pub(crate) fn check_book(t: &Tables, id: TraderId, mode: Mode, seed: Krw) -> Portfolio {
    for o in &t.orders {
        assert!(
            o.status.is_final(),
            "order {} left {} after a graceful stop",
            o.identifier,
            o.status
        );
        let fills: Vec<&FillRecord> = t
            .fills
            .iter()
            .filter(|f| f.fill.identifier == o.identifier)
            .collect();
        let vol: Decimal = fills.iter().map(|f| f.fill.volume.get()).sum();
        let funds: Decimal = fills.iter().map(|f| f.fill.funds.get()).sum();
        let fee: Decimal = fills.iter().map(|f| f.fill.fee.get()).sum();
        assert_eq!(
            o.executed_volume.get(),
            vol,
            "{} executed volume",
            o.identifier
        );
        assert_eq!(
            o.executed_funds.get(),
            funds,
            "{} executed funds",
            o.identifier
        );
        assert_eq!(o.paid_fee.get(), fee, "{} paid fee", o.identifier);
        if o.status == OrderStatus::Failed {
            assert!(fills.is_empty(), "failed order {} has fills", o.identifier);
        }
    }
    let (book, writes) = Portfolio::rebuild(id, mode, seed, &t.fills, &t.positions)
        .unwrap_or_else(|e| panic!("the tables do not match the fills: {e}"));
    assert!(writes.is_empty(), "positions lag the fills: {writes:?}");
    // Realised PnL: proceeds − cost over fully closed families equals the trades.
    let mut by_family: BTreeMap<i64, Vec<&FillRecord>> = BTreeMap::new();
    for f in &t.fills {
        by_family
            .entry(execution::ledger::family_of(&f.fill).unwrap())
            .or_default()
            .push(f);
    }
    let mut realised = Krw::ZERO;
    for fills in by_family.values() {
        let (_, effects) = execution::LotState::replay(fills.iter().map(|f| &f.fill)).unwrap();
        for e in effects {
            if let execution::LotEffect::Reduced(p) | execution::LotEffect::Closed(p) = e {
                realised += p.pnl;
            }
        }
    }
    let traded: Krw = t.trades.iter().map(|r| r.trade.pnl).sum();
    assert_eq!(traded, realised, "trades PnL vs the fills");
    assert_eq!(
        book.cash,
        CashBook::replay(seed, t.fills.iter().map(|f| &f.fill))
    );
    book
}

/// LIVE: every order the simulator holds with this trader's prefix is in
/// the database with the same uuid, state and totals, and its fills are the
/// simulator's trades (uuid, price, volume, funds, fee); orders the database
/// marked failed never reached the simulator; no identifier twice.
pub(crate) fn check_against_sim(world: &World, t: &Tables, prefix: &str) {
    let sim = world.sim_orders(prefix);
    let db: BTreeMap<String, &OrderRecord> = t
        .orders
        .iter()
        .map(|o| (o.identifier.to_string(), o))
        .collect();
    assert_eq!(db.len(), t.orders.len(), "an identifier appears twice");
    let mut intents = BTreeSet::new();
    for o in &t.orders {
        assert!(intents.insert((o.intent_id, o.attempt)), "attempt reused");
    }
    for (ident, so) in &sim {
        let o = db
            .get(ident)
            .unwrap_or_else(|| panic!("the exchange has order {ident} that we do not"));
        assert_eq!(
            o.uuid.as_deref(),
            Some(so.uuid.to_string().as_str()),
            "{ident} uuid"
        );
        assert_eq!(o.side, so.side, "{ident} side");
        assert_eq!(o.ord_type, so.ord_type, "{ident} type");
        assert_eq!(o.market.as_str(), so.market_code, "{ident} market");
        assert_eq!(
            o.price.map(domain::Price::get),
            so.price.map(|p| p.normalize()),
            "{ident} price"
        );
        assert_eq!(
            o.volume.map(domain::Volume::get),
            so.volume.map(|v| v.normalize()),
            "{ident} volume"
        );
        assert_eq!(o.status, OrderStatus::from(so.state), "{ident} state");
        assert_eq!(
            o.executed_volume.get(),
            so.executed_volume.normalize(),
            "{ident} executed"
        );
        assert_eq!(
            o.executed_funds.get(),
            so.executed_funds.normalize(),
            "{ident} funds"
        );
        assert_eq!(o.paid_fee.get(), so.paid_fee.normalize(), "{ident} fee");
        let fills: BTreeMap<String, &FillRecord> = t
            .fills
            .iter()
            .filter(|f| f.fill.identifier.as_str() == ident)
            .map(|f| (f.fill.trade_uuid.clone(), f))
            .collect();
        assert_eq!(
            fills.len(),
            so.trades.len(),
            "{ident}: fills lost or duplicated"
        );
        for tr in &so.trades {
            let f = fills
                .get(&tr.uuid.to_string())
                .unwrap_or_else(|| panic!("{ident}: fill {} lost", tr.uuid));
            assert_eq!(
                f.fill.price.get(),
                tr.price.normalize(),
                "{ident} fill price"
            );
            assert_eq!(
                f.fill.volume.get(),
                tr.volume.normalize(),
                "{ident} fill volume"
            );
            assert_eq!(
                f.fill.funds.get(),
                tr.funds.normalize(),
                "{ident} fill funds"
            );
            assert_eq!(f.fill.fee.get(), tr.fee.normalize(), "{ident} fill fee");
            assert_eq!(f.fill.ts.timestamp_millis(), tr.ts, "{ident} fill time");
        }
    }
    for o in &t.orders {
        let ident = o.identifier.to_string();
        if o.status == OrderStatus::Failed {
            assert!(
                !sim.contains_key(&ident),
                "{ident} is failed here but exists there"
            );
        } else {
            assert!(
                sim.contains_key(&ident),
                "{ident} is {} here but unknown there",
                o.status
            );
        }
    }
}

/// LIVE: the account holds exactly what the traders sharing it recorded:
/// KRW = account seed − Σ trader seeds + Σ trader cash; each coin = Σ lots.
pub(crate) fn check_account(world: &World, books: &[(&Portfolio, Krw)], account_krw: Decimal) {
    let w = world.sim.shared().world();
    let acct = w
        .engine
        .accounts()
        .iter()
        .find(|a| a.access_key == crate::support::ACCESS_KEY)
        .unwrap();
    let krw = acct.balance("KRW");
    let seeds: Decimal = books.iter().map(|(_, s)| s.get()).sum();
    let cash: Decimal = books.iter().map(|(b, _)| b.cash.cash.get()).sum();
    assert_eq!(krw.locked, Decimal::ZERO, "KRW still locked by open orders");
    assert_eq!(
        krw.balance,
        account_krw - seeds + cash,
        "account KRW vs the sub-ledgers"
    );
    let mut coins: BTreeMap<String, Decimal> = BTreeMap::new();
    for (b, _) in books {
        for (m, v) in b.held() {
            *coins.entry(m.base().as_str().to_owned()).or_default() += v.get();
        }
    }
    for (c, bal) in &acct.balances {
        if c == "KRW" {
            continue;
        }
        let want = coins.get(c).copied().unwrap_or_default();
        assert_eq!(
            bal.balance + bal.locked,
            want,
            "{c} on the account vs the lots"
        );
    }
    for (c, v) in coins {
        assert_eq!(acct.balance(&c).balance + acct.balance(&c).locked, v, "{c}");
    }
}
