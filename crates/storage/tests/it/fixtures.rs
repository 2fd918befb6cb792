//! Builders for test data that go through the real constructors and the
//! store's own API (no hand-written rows).

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{CredentialId, Krw, Market, RiskProfile, Secret, StrategyId, TraderId};
use serde_json::json;
use storage::{
    MasterKey, Store,
    credentials::NewCredential,
    strategies::{NewStrategy, Strategy},
    traders::{NewTrader, Trader},
};

/// A fixed instant all tests start from (time is an input).
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 30, 0).single().unwrap() + Duration::milliseconds(123)
}

/// `KRW-<base>`.
pub(crate) fn market(base: &str) -> Market {
    Market::parse("market", &format!("KRW-{base}")).unwrap()
}

/// A fixed master key.
pub(crate) fn master_key() -> MasterKey {
    MasterKey::from_bytes([42; 32])
}

/// A strategy named `name` (version 1, STANDARD).
pub(crate) async fn strategy(store: &Store, name: &str) -> Strategy {
    store
        .strategies()
        .create(
            &NewStrategy {
                name: name.to_owned(),
                definition: json!({"modules": {"tp": 0.3, "vcb": 0.25}, "entry_threshold": 70}),
                risk_profile: RiskProfile::Standard,
            },
            "admin",
            t0(),
        )
        .await
        .unwrap()
}

/// A credential named `name`.
pub(crate) async fn credential(store: &Store, name: &str) -> CredentialId {
    store
        .credentials()
        .create(
            &NewCredential {
                name: name.to_owned(),
                access_key: format!("AK{name}0123456789"),
                secret: Secret::new(format!("secret-of-{name}")),
            },
            &master_key(),
            "admin",
            t0(),
        )
        .await
        .unwrap()
        .id
}

/// A PAPER trader named `name` on a fresh strategy, with 1,000,000 KRW.
pub(crate) async fn trader(store: &Store, name: &str) -> Trader {
    let s = strategy(store, &format!("strategy-of-{name}")).await;
    trader_on(store, name, s.id, None).await
}

/// A trader on an existing strategy.
pub(crate) async fn trader_on(
    store: &Store,
    name: &str,
    strategy_id: StrategyId,
    credential_id: Option<CredentialId>,
) -> Trader {
    store
        .traders()
        .create(
            &NewTrader {
                name: name.to_owned(),
                strategy_id,
                seed_krw: Krw::from_i64(1_000_000),
                credential_id,
            },
            "admin",
            t0(),
        )
        .await
        .unwrap()
}

/// An id that no row has.
pub(crate) fn missing_trader() -> TraderId {
    TraderId::new(987_654).unwrap()
}
