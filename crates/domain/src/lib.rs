//! The shared vocabulary of the platform as validated types.
//!
//! Everything here is pure: no I/O, no clock reads, no randomness. A value of
//! one of these types is valid by construction ("parse, don't validate"):
//! constructors, `FromStr` and `Deserialize` all go through the same checks and
//! report the offending field in a [`ValidationError`].
//!
//! Money is exact (`rust_decimal`) in the [`Krw`], [`Price`] and [`Volume`]
//! newtypes; scores and indicators stay `f64` in the crates that compute them.

/// Field-naming validation error shared by every constructor.
pub mod error;
/// Typed identifiers: traders, strategies, credentials, model versions, orders.
pub mod ids;
/// Trader and model-deployment lifecycles as exhaustive transition tables.
pub mod lifecycle;
/// `Market` (`KRW-BTC`) and currency codes.
pub mod market;
/// `Krw`, `Price`, `Volume`: exact money newtypes and their arithmetic.
pub mod money;
/// Orders, fills and their enums (side, order type, time in force, state).
pub mod order;
/// Open positions and closed trades.
pub mod position;
/// Mode, risk profile and regime label enums.
pub mod profile;
/// Redacted secrets (`Debug` prints `***`).
pub mod secret;
/// Signals, reason codes and explainability records.
pub mod signal;
/// Upbit KRW tick sizes, rounding, volume precision and order-total limits.
pub mod tick;

pub use error::ValidationError;
pub use ids::{CredentialId, ModelVersionId, OrderIdentifier, StrategyId, TraderId};
pub use lifecycle::{
    Armed, ModelEvent, ModelStage, ModelTransition, RunState, TraderEvent, TraderState,
    TraderTransition, TransitionError,
};
pub use market::{Currency, Market};
pub use money::{Krw, Price, Volume};
pub use order::{Fill, OrdType, OrderRequest, OrderState, Side, TimeInForce};
pub use position::{Position, TradeRecord};
pub use profile::{AlertLevel, Mode, RegimeLabel, RiskProfile};
pub use secret::Secret;
pub use signal::{ReasonCode, SignalAction};
pub use tick::{MAX_ORDER_TOTAL_KRW, MIN_ORDER_TOTAL_KRW, VOLUME_DECIMALS};
