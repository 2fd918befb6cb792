//! [`RiskParams`]: every risk number of SPEC §12 / STAB-1 / RUN-1 in one
//! validated struct, and the five built-in profiles of FIX-10.
//!
//! # Built-in profiles
//!
//! | field                               | SAFETY_FIRST | STANDARD | PROFIT_FIRST | CRAZY  | AI_MODE (start) |
//! |-------------------------------------|-------------:|---------:|-------------:|-------:|----------------:|
//! | `risk_per_trade` (RISK-1)           | 0.005        | 0.01     | 0.01         | 0.01   | 0.01            |
//! | `risk_multiplier` (STR-2)           | 0.9          | 1.0      | 1.1          | 1.25   | 1.0             |
//! | `max_portfolio_risk` (RISK-1)       | 0.03         | 0.05     | 0.06         | 0.08   | 0.05            |
//! | `max_position_fraction`             | 0.15         | 0.2      | 0.25         | 0.35   | 0.2             |
//! | `liquidity_min_ratio` (PRE-3)       | 0.2          | 0.3      | 0.3          | 0.4    | 0.3             |
//! | `slippage_limit` (RISK-3)           | 0.003        | 0.005    | 0.005        | 0.007  | 0.005           |
//! | `fee_rate` (Upbit KRW)              | 0.0005       | 0.0005   | 0.0005       | 0.0005 | 0.0005          |
//! | `corr_high` (RISK-5)                | 0.6          | 0.7      | 0.7          | 0.7    | 0.7             |
//! | `max_per_cluster` (RISK-5)          | 1            | 2        | 2            | 2      | 2               |
//! | `absolute_max_positions` (RISK-4)   | 10           | 10       | 10           | 10     | 10              |
//! | `positions_scale` (RISK-4)          | 0.6          | 1.0      | 1.2          | 1.4    | 1.0             |
//! | `stop_atr_multiple`                 | 2.0          | 2.0      | 2.0          | 2.5    | 2.0             |
//! | `daily_loss_limit` (RISK-6)         | 0.03         | 0.05     | 0.06         | 0.08   | 0.05            |
//! | `consecutive_loss_limit` (STAB-1)   | 3            | 5        | 6            | 8      | 5               |
//! | `slippage_anomaly_threshold`        | 0.01         | 0.01     | 0.012        | 0.015  | 0.01            |
//! | `slippage_anomaly_cooldown_minutes` | 60           | 30       | 30           | 15     | 30              |
//! | `order_failure_limit` (RUN-1)       | 3            | 3        | 3            | 3      | 3               |
//! | `blacklist_minutes` (RUN-1)         | 10           | 10       | 10           | 10     | 10              |
//!
//! Reasoning:
//! * **STANDARD is the SPEC §12 default set** (RISK_PER_TRADE 1 %, MAX_PORTFOLIO_RISK
//!   5 %, LIQUIDITY_MIN_RATIO 0.3, CORR_HIGH 0.7, SLIPPAGE_LIMIT 0.5 %,
//!   ABSOLUTE_MAX_POSITIONS 10, two positions per cluster, DAILY_LOSS_LIMIT 5 %)
//!   plus the STAB-2 rollback count (5 consecutive losses) as its block count.
//! * `risk_per_trade` stays inside RISK-1's 0.5–1 % for every profile
//!   (validated, AI overrides included), and so does the **effective**
//!   per-trade risk: [`RiskParams::risk_fraction`] is `risk_per_trade ×
//!   risk_multiplier` clamped at RISK-1's 1 % ceiling. The STR-2 multiplier
//!   lifts PROFIT_FIRST's and CRAZY's scores, but never their per-trade risk
//!   above 1 %. Profiles differ in how many positions and how much total risk
//!   they carry, never in breaking the per-trade rule or RISK-5's two
//!   positions per correlation cluster (validated: at most 2).
//! * SAFETY_FIRST halves the per-trade risk, keeps at most 3 % of equity at
//!   risk, allows one position per correlation cluster (and calls 0.6
//!   correlated), tolerates less slippage and stops the day after a 3 % loss or
//!   three losses in a row. Its multiplier 0.9 also lifts the base score an
//!   entry needs from 70 to ≈ 78 (STR-2), and with its strategy's entry
//!   threshold of 75 to ≈ 83 (see docs/strategy.md).
//! * PROFIT_FIRST and CRAZY scale the regime's position count up (BASE_BY_REGIME
//!   × 1.2 / × 1.4, never above 10), widen the portfolio cap and the daily loss
//!   limit, and accept more correlated and less liquid books. CRAZY's stop is
//!   2.5 ATR so its larger positions survive ordinary noise.
//! * `max_position_fraction` caps one position's notional (entry price ×
//!   volume) as a fraction of equity. RISK-2 alone sizes by the stop distance:
//!   with a 2-ATR stop on 5-minute candles (≈ 0.5–1 % below entry) a 1 % risk
//!   means a position of 100–200 % of equity, i.e. the first entry would take
//!   the whole budget and the regime's position count (RISK-4) would be
//!   meaningless. STANDARD's 0.2 lets the five TREND slots each take a fifth.
//! * The slippage anomaly threshold (STAB-1) is 2× the slippage limit or more: a
//!   fill that far from the estimate means the book or the feed is wrong, and
//!   new entries pause for the cool-down.
//! * RUN-1 is fixed by the runbook: 3 failures, 10 minutes.
//! * AI_MODE starts from STANDARD and takes a validated [`RiskOverrides`] set from
//!   the deployed model version ([`RiskParams::ai_mode`]).

use domain::{RegimeLabel, RiskProfile, ValidationError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::serde_decimal;

/// Upbit's KRW-market trading fee (0.05 %).
pub const UPBIT_FEE_RATE: Decimal = Decimal::from_parts(5, 0, 0, false, 4);

/// RISK-1's ceiling on the fraction of equity one trade may risk (1 %).
pub const RISK_PER_TRADE_CEILING: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// RISK-4's hard cap on concurrent positions.
pub const ABSOLUTE_MAX_POSITIONS: u32 = 10;

/// Every risk parameter. Construct with [`RiskParams::builtin`],
/// [`RiskParams::ai_mode`] or by deserialising (which validates); after editing
/// fields by hand call [`RiskParams::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Unchecked")]
pub struct RiskParams {
    /// The profile these numbers came from.
    pub profile: RiskProfile,
    /// RISK-1: fraction of equity risked per trade (to the stop), 0.005–0.01.
    #[serde(with = "serde_decimal")]
    pub risk_per_trade: Decimal,
    /// STR-2: multiplies the final score and the per-trade risk, 0.5–1.5.
    #[serde(with = "serde_decimal")]
    pub risk_multiplier: Decimal,
    /// RISK-1: cap on the sum of open positions' risk to stop, as a fraction of equity.
    #[serde(with = "serde_decimal")]
    pub max_portfolio_risk: Decimal,
    /// Cap on one position's notional (entry × volume) as a fraction of equity.
    #[serde(with = "serde_decimal")]
    pub max_position_fraction: Decimal,
    /// PRE-3: an order may take at most this fraction of the average top-5 level depth.
    #[serde(with = "serde_decimal")]
    pub liquidity_min_ratio: Decimal,
    /// RISK-3: largest acceptable expected slippage versus the best ask.
    #[serde(with = "serde_decimal")]
    pub slippage_limit: Decimal,
    /// Exchange fee per fill (Upbit KRW: 0.0005).
    #[serde(with = "serde_decimal")]
    pub fee_rate: Decimal,
    /// RISK-5: correlation above which two markets share a cluster.
    pub corr_high: f64,
    /// RISK-5: open positions allowed per correlation cluster.
    pub max_per_cluster: u32,
    /// RISK-4: hard cap on concurrent positions (at most 10).
    pub absolute_max_positions: u32,
    /// RISK-4: multiplier on BASE_BY_REGIME.
    pub positions_scale: f64,
    /// Initial stop distance below entry, in ATR multiples.
    pub stop_atr_multiple: f64,
    /// RISK-6: daily net loss (fraction of the day's starting equity) that trips the kill switch.
    #[serde(with = "serde_decimal")]
    pub daily_loss_limit: Decimal,
    /// STAB-1: losing trades in a row that block new entries until the next UTC day.
    pub consecutive_loss_limit: u32,
    /// STAB-1: a fill this far from its expected price is a slippage anomaly.
    #[serde(with = "serde_decimal")]
    pub slippage_anomaly_threshold: Decimal,
    /// STAB-1: minutes new entries stay blocked after a slippage anomaly.
    pub slippage_anomaly_cooldown_minutes: u32,
    /// RUN-1: failed orders on one market (within the blacklist window) before it is blacklisted.
    pub order_failure_limit: u32,
    /// RUN-1: how long a market stays blacklisted, in minutes.
    pub blacklist_minutes: u32,
}

/// The deserialisation mirror of [`RiskParams`]; validated by `TryFrom`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unchecked {
    profile: RiskProfile,
    #[serde(with = "serde_decimal")]
    risk_per_trade: Decimal,
    #[serde(with = "serde_decimal")]
    risk_multiplier: Decimal,
    #[serde(with = "serde_decimal")]
    max_portfolio_risk: Decimal,
    #[serde(with = "serde_decimal")]
    max_position_fraction: Decimal,
    #[serde(with = "serde_decimal")]
    liquidity_min_ratio: Decimal,
    #[serde(with = "serde_decimal")]
    slippage_limit: Decimal,
    #[serde(with = "serde_decimal")]
    fee_rate: Decimal,
    corr_high: f64,
    max_per_cluster: u32,
    absolute_max_positions: u32,
    positions_scale: f64,
    stop_atr_multiple: f64,
    #[serde(with = "serde_decimal")]
    daily_loss_limit: Decimal,
    consecutive_loss_limit: u32,
    #[serde(with = "serde_decimal")]
    slippage_anomaly_threshold: Decimal,
    slippage_anomaly_cooldown_minutes: u32,
    order_failure_limit: u32,
    blacklist_minutes: u32,
}

impl TryFrom<Unchecked> for RiskParams {
    type Error = ValidationError;

    fn try_from(u: Unchecked) -> Result<Self, ValidationError> {
        let p = Self {
            profile: u.profile,
            risk_per_trade: u.risk_per_trade,
            risk_multiplier: u.risk_multiplier,
            max_portfolio_risk: u.max_portfolio_risk,
            max_position_fraction: u.max_position_fraction,
            liquidity_min_ratio: u.liquidity_min_ratio,
            slippage_limit: u.slippage_limit,
            fee_rate: u.fee_rate,
            corr_high: u.corr_high,
            max_per_cluster: u.max_per_cluster,
            absolute_max_positions: u.absolute_max_positions,
            positions_scale: u.positions_scale,
            stop_atr_multiple: u.stop_atr_multiple,
            daily_loss_limit: u.daily_loss_limit,
            consecutive_loss_limit: u.consecutive_loss_limit,
            slippage_anomaly_threshold: u.slippage_anomaly_threshold,
            slippage_anomaly_cooldown_minutes: u.slippage_anomaly_cooldown_minutes,
            order_failure_limit: u.order_failure_limit,
            blacklist_minutes: u.blacklist_minutes,
        };
        p.validate()?;
        Ok(p)
    }
}

/// A partial set of parameters from a deployed model version (AI_MODE). Absent
/// fields keep the STANDARD value; unknown fields are rejected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskOverrides {
    /// See [`RiskParams::risk_per_trade`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub risk_per_trade: Option<Decimal>,
    /// See [`RiskParams::risk_multiplier`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub risk_multiplier: Option<Decimal>,
    /// See [`RiskParams::max_portfolio_risk`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_portfolio_risk: Option<Decimal>,
    /// See [`RiskParams::max_position_fraction`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_position_fraction: Option<Decimal>,
    /// See [`RiskParams::liquidity_min_ratio`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub liquidity_min_ratio: Option<Decimal>,
    /// See [`RiskParams::slippage_limit`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub slippage_limit: Option<Decimal>,
    /// See [`RiskParams::corr_high`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corr_high: Option<f64>,
    /// See [`RiskParams::max_per_cluster`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_cluster: Option<u32>,
    /// See [`RiskParams::positions_scale`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positions_scale: Option<f64>,
    /// See [`RiskParams::stop_atr_multiple`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_atr_multiple: Option<f64>,
    /// See [`RiskParams::daily_loss_limit`].
    #[serde(
        with = "serde_decimal::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub daily_loss_limit: Option<Decimal>,
    /// See [`RiskParams::consecutive_loss_limit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_loss_limit: Option<u32>,
}

fn d(mantissa: i64, scale: u32) -> Decimal {
    Decimal::new(mantissa, scale)
}

fn check_dec(field: &str, v: Decimal, lo: Decimal, hi: Decimal) -> Result<(), ValidationError> {
    if v < lo || v > hi {
        return Err(ValidationError::new(
            field,
            format!("must be within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

fn check_dec_open_lo(
    field: &str,
    v: Decimal,
    lo: Decimal,
    hi: Decimal,
) -> Result<(), ValidationError> {
    if v <= lo || v > hi {
        return Err(ValidationError::new(
            field,
            format!("must be within ({lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

fn check_f64(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(ValidationError::new(
            field,
            format!("must be a finite number within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

fn check_u32(field: &str, v: u32, lo: u32, hi: u32) -> Result<(), ValidationError> {
    if v < lo || v > hi {
        return Err(ValidationError::new(
            field,
            format!("must be within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

impl RiskParams {
    /// The built-in numbers of `profile` (table in the module docs). AI_MODE
    /// gives its starting point (STANDARD's numbers labelled AI_MODE).
    pub fn builtin(profile: RiskProfile) -> Self {
        let standard = Self {
            profile: RiskProfile::Standard,
            risk_per_trade: d(1, 2),
            risk_multiplier: Decimal::ONE,
            max_portfolio_risk: d(5, 2),
            max_position_fraction: d(2, 1),
            liquidity_min_ratio: d(3, 1),
            slippage_limit: d(5, 3),
            fee_rate: UPBIT_FEE_RATE,
            corr_high: 0.7,
            max_per_cluster: 2,
            absolute_max_positions: ABSOLUTE_MAX_POSITIONS,
            positions_scale: 1.0,
            stop_atr_multiple: 2.0,
            daily_loss_limit: d(5, 2),
            consecutive_loss_limit: 5,
            slippage_anomaly_threshold: d(1, 2),
            slippage_anomaly_cooldown_minutes: 30,
            order_failure_limit: 3,
            blacklist_minutes: 10,
        };
        match profile {
            RiskProfile::Standard => standard,
            RiskProfile::AiMode => Self {
                profile: RiskProfile::AiMode,
                ..standard
            },
            RiskProfile::SafetyFirst => Self {
                profile,
                risk_per_trade: d(5, 3),
                risk_multiplier: d(9, 1),
                max_portfolio_risk: d(3, 2),
                max_position_fraction: d(15, 2),
                liquidity_min_ratio: d(2, 1),
                slippage_limit: d(3, 3),
                corr_high: 0.6,
                max_per_cluster: 1,
                positions_scale: 0.6,
                daily_loss_limit: d(3, 2),
                consecutive_loss_limit: 3,
                slippage_anomaly_cooldown_minutes: 60,
                ..standard
            },
            RiskProfile::ProfitFirst => Self {
                profile,
                risk_multiplier: d(11, 1),
                max_portfolio_risk: d(6, 2),
                max_position_fraction: d(25, 2),
                positions_scale: 1.2,
                daily_loss_limit: d(6, 2),
                consecutive_loss_limit: 6,
                slippage_anomaly_threshold: d(12, 3),
                ..standard
            },
            RiskProfile::Crazy => Self {
                profile,
                risk_multiplier: d(125, 2),
                max_portfolio_risk: d(8, 2),
                max_position_fraction: d(35, 2),
                liquidity_min_ratio: d(4, 1),
                slippage_limit: d(7, 3),
                positions_scale: 1.4,
                stop_atr_multiple: 2.5,
                daily_loss_limit: d(8, 2),
                consecutive_loss_limit: 8,
                slippage_anomaly_threshold: d(15, 3),
                slippage_anomaly_cooldown_minutes: 15,
                ..standard
            },
        }
    }

    /// AI_MODE: STANDARD's numbers with a deployed model version's overrides
    /// applied, then validated as a whole (an override can never produce an
    /// invalid set; the error names the offending field).
    pub fn ai_mode(overrides: &RiskOverrides) -> Result<Self, ValidationError> {
        Self::builtin(RiskProfile::AiMode).with_overrides(overrides)
    }

    /// These numbers with a model version's overrides applied, validated as
    /// a whole (an AI_MODE strategy stored with its own numbers keeps every
    /// one the model does not set).
    pub fn with_overrides(&self, overrides: &RiskOverrides) -> Result<Self, ValidationError> {
        let base = self.clone();
        let p = Self {
            risk_per_trade: overrides.risk_per_trade.unwrap_or(base.risk_per_trade),
            risk_multiplier: overrides.risk_multiplier.unwrap_or(base.risk_multiplier),
            max_portfolio_risk: overrides
                .max_portfolio_risk
                .unwrap_or(base.max_portfolio_risk),
            max_position_fraction: overrides
                .max_position_fraction
                .unwrap_or(base.max_position_fraction),
            liquidity_min_ratio: overrides
                .liquidity_min_ratio
                .unwrap_or(base.liquidity_min_ratio),
            slippage_limit: overrides.slippage_limit.unwrap_or(base.slippage_limit),
            corr_high: overrides.corr_high.unwrap_or(base.corr_high),
            max_per_cluster: overrides.max_per_cluster.unwrap_or(base.max_per_cluster),
            positions_scale: overrides.positions_scale.unwrap_or(base.positions_scale),
            stop_atr_multiple: overrides
                .stop_atr_multiple
                .unwrap_or(base.stop_atr_multiple),
            daily_loss_limit: overrides.daily_loss_limit.unwrap_or(base.daily_loss_limit),
            consecutive_loss_limit: overrides
                .consecutive_loss_limit
                .unwrap_or(base.consecutive_loss_limit),
            ..base
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks every field's range and the cross-field rules, naming the first
    /// offending field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_dec(
            "risk_per_trade",
            self.risk_per_trade,
            d(5, 3),
            RISK_PER_TRADE_CEILING,
        )?;
        check_dec("risk_multiplier", self.risk_multiplier, d(5, 1), d(15, 1))?;
        check_dec_open_lo(
            "max_portfolio_risk",
            self.max_portfolio_risk,
            Decimal::ZERO,
            d(1, 1),
        )?;
        if self.max_portfolio_risk < self.risk_fraction() {
            return Err(ValidationError::new(
                "max_portfolio_risk",
                format!(
                    "must be at least risk_per_trade × risk_multiplier ({}), got {}",
                    self.risk_fraction(),
                    self.max_portfolio_risk
                ),
            ));
        }
        check_dec_open_lo(
            "max_position_fraction",
            self.max_position_fraction,
            Decimal::ZERO,
            Decimal::ONE,
        )?;
        check_dec_open_lo(
            "liquidity_min_ratio",
            self.liquidity_min_ratio,
            Decimal::ZERO,
            Decimal::ONE,
        )?;
        check_dec_open_lo(
            "slippage_limit",
            self.slippage_limit,
            Decimal::ZERO,
            d(2, 2),
        )?;
        check_dec("fee_rate", self.fee_rate, Decimal::ZERO, d(1, 2))?;
        check_f64("corr_high", self.corr_high, 0.1, 1.0)?;
        // RISK-5: at most two positions in one correlation cluster.
        check_u32("max_per_cluster", self.max_per_cluster, 1, 2)?;
        check_u32(
            "absolute_max_positions",
            self.absolute_max_positions,
            1,
            ABSOLUTE_MAX_POSITIONS,
        )?;
        check_f64("positions_scale", self.positions_scale, 0.1, 2.0)?;
        check_f64("stop_atr_multiple", self.stop_atr_multiple, 0.5, 10.0)?;
        check_dec_open_lo(
            "daily_loss_limit",
            self.daily_loss_limit,
            Decimal::ZERO,
            d(2, 1),
        )?;
        check_u32("consecutive_loss_limit", self.consecutive_loss_limit, 1, 50)?;
        check_dec(
            "slippage_anomaly_threshold",
            self.slippage_anomaly_threshold,
            self.slippage_limit,
            d(1, 1),
        )?;
        check_u32(
            "slippage_anomaly_cooldown_minutes",
            self.slippage_anomaly_cooldown_minutes,
            1,
            1440,
        )?;
        check_u32("order_failure_limit", self.order_failure_limit, 1, 10)?;
        check_u32("blacklist_minutes", self.blacklist_minutes, 1, 1440)?;
        Ok(())
    }

    /// `risk_per_trade × risk_multiplier`, clamped at RISK-1's 1 % ceiling:
    /// the fraction of equity one trade risks (RISK-2).
    pub fn risk_fraction(&self) -> Decimal {
        (self.risk_per_trade * self.risk_multiplier).min(RISK_PER_TRADE_CEILING)
    }

    /// The risk multiplier as `f64`, for the score formula (STR-2).
    pub fn risk_multiplier_f64(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.risk_multiplier.to_f64().unwrap_or(1.0)
    }

    /// RISK-4: `min(round(BASE_BY_REGIME(label) × positions_scale), absolute_max_positions)`.
    /// Zero in CHOP and PANIC.
    pub fn max_positions(&self, label: RegimeLabel) -> u32 {
        let scaled = (f64::from(label.base_max_positions()) * self.positions_scale).round();
        let scaled = if scaled.is_finite() && scaled > 0.0 {
            scaled as u32
        } else {
            0
        };
        scaled.min(self.absolute_max_positions.min(ABSOLUTE_MAX_POSITIONS))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn every_builtin_is_valid_and_labelled() {
        for p in RiskProfile::ALL {
            let params = RiskParams::builtin(*p);
            params.validate().unwrap();
            assert_eq!(params.profile, *p);
        }
    }

    #[test]
    fn standard_is_the_spec_default_set() {
        let s = RiskParams::builtin(RiskProfile::Standard);
        assert_eq!(s.risk_per_trade, dec!(0.01));
        assert_eq!(s.max_portfolio_risk, dec!(0.05));
        assert_eq!(s.liquidity_min_ratio, dec!(0.3));
        assert_eq!(s.slippage_limit, dec!(0.005));
        assert_eq!(s.absolute_max_positions, 10);
        assert_eq!(s.max_per_cluster, 2);
        assert!((s.corr_high - 0.7).abs() < 1e-12);
        assert_eq!(s.daily_loss_limit, dec!(0.05));
        assert_eq!(s.fee_rate, dec!(0.0005));
    }

    #[test]
    fn profiles_are_ordered_by_aggressiveness() {
        let ps: Vec<RiskParams> = [
            RiskProfile::SafetyFirst,
            RiskProfile::Standard,
            RiskProfile::ProfitFirst,
            RiskProfile::Crazy,
        ]
        .iter()
        .map(|p| RiskParams::builtin(*p))
        .collect();
        for w in ps.windows(2) {
            assert!(w[0].risk_fraction() <= w[1].risk_fraction());
            assert!(w[0].max_portfolio_risk <= w[1].max_portfolio_risk);
            assert!(w[0].max_position_fraction <= w[1].max_position_fraction);
            assert!(w[0].positions_scale <= w[1].positions_scale);
            assert!(w[0].daily_loss_limit <= w[1].daily_loss_limit);
        }
    }

    #[test]
    fn max_positions_table() {
        let cases = [
            (RiskProfile::Standard, RegimeLabel::BreakoutRotation, 7),
            (RiskProfile::Standard, RegimeLabel::Trend, 5),
            (RiskProfile::Standard, RegimeLabel::Range, 3),
            (RiskProfile::Standard, RegimeLabel::Chop, 0),
            (RiskProfile::Standard, RegimeLabel::Panic, 0),
            (RiskProfile::SafetyFirst, RegimeLabel::BreakoutRotation, 4), // 4.2
            (RiskProfile::SafetyFirst, RegimeLabel::Range, 2),            // 1.8
            (RiskProfile::Crazy, RegimeLabel::BreakoutRotation, 10),      // 9.8
            (RiskProfile::Crazy, RegimeLabel::Trend, 7),
            (RiskProfile::Crazy, RegimeLabel::Panic, 0),
        ];
        for (profile, label, want) in cases {
            assert_eq!(
                RiskParams::builtin(profile).max_positions(label),
                want,
                "{profile} {label}"
            );
        }
        let mut p = RiskParams::builtin(RiskProfile::Standard);
        p.positions_scale = 2.0;
        assert_eq!(p.max_positions(RegimeLabel::BreakoutRotation), 10); // 14 capped
        p.absolute_max_positions = 4;
        assert_eq!(p.max_positions(RegimeLabel::Trend), 4);
    }

    fn check_invalid(edit: impl Fn(&mut RiskParams), field: &str) {
        let mut p = RiskParams::builtin(RiskProfile::Standard);
        edit(&mut p);
        let err = p.validate().unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }

    #[test]
    fn validation_names_the_field() {
        check_invalid(|p| p.risk_per_trade = dec!(0.02), "risk_per_trade");
        check_invalid(|p| p.risk_per_trade = dec!(0.004), "risk_per_trade");
        check_invalid(|p| p.risk_multiplier = dec!(2), "risk_multiplier");
        check_invalid(|p| p.max_portfolio_risk = dec!(0), "max_portfolio_risk");
        check_invalid(|p| p.max_portfolio_risk = dec!(0.009), "max_portfolio_risk");
        check_invalid(|p| p.liquidity_min_ratio = dec!(1.5), "liquidity_min_ratio");
        check_invalid(
            |p| p.max_position_fraction = dec!(0),
            "max_position_fraction",
        );
        check_invalid(
            |p| p.max_position_fraction = dec!(1.01),
            "max_position_fraction",
        );
        check_invalid(|p| p.slippage_limit = dec!(0), "slippage_limit");
        check_invalid(|p| p.fee_rate = dec!(-0.001), "fee_rate");
        check_invalid(|p| p.corr_high = f64::NAN, "corr_high");
        check_invalid(|p| p.max_per_cluster = 0, "max_per_cluster");
        check_invalid(|p| p.absolute_max_positions = 11, "absolute_max_positions");
        check_invalid(|p| p.positions_scale = f64::INFINITY, "positions_scale");
        check_invalid(|p| p.stop_atr_multiple = 0.1, "stop_atr_multiple");
        check_invalid(|p| p.daily_loss_limit = dec!(0.5), "daily_loss_limit");
        check_invalid(|p| p.consecutive_loss_limit = 0, "consecutive_loss_limit");
        check_invalid(
            |p| p.slippage_anomaly_threshold = dec!(0.001),
            "slippage_anomaly_threshold",
        );
        check_invalid(|p| p.blacklist_minutes = 0, "blacklist_minutes");
        check_invalid(|p| p.order_failure_limit = 0, "order_failure_limit");
    }

    #[test]
    fn serde_round_trips_and_validates() {
        for p in RiskProfile::ALL {
            let params = RiskParams::builtin(*p);
            let json = serde_json::to_string(&params).unwrap();
            let back: RiskParams = serde_json::from_str(&json).unwrap();
            assert_eq!(back, params);
        }
        let mut v = serde_json::to_value(RiskParams::builtin(RiskProfile::Standard)).unwrap();
        // numbers are accepted as well as strings
        v["risk_per_trade"] = serde_json::json!(0.0075);
        let p: RiskParams = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p.risk_per_trade, dec!(0.0075));
        v["risk_per_trade"] = serde_json::json!("0.5");
        let err = serde_json::from_value::<RiskParams>(v.clone()).unwrap_err();
        assert!(err.to_string().contains("risk_per_trade"), "{err}");
        v["risk_per_trade"] = serde_json::json!("0.01");
        v["surprise"] = serde_json::json!(1);
        let err = serde_json::from_value::<RiskParams>(v).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");
    }

    #[test]
    fn ai_mode_applies_validated_overrides() {
        let none = RiskParams::ai_mode(&RiskOverrides::default()).unwrap();
        let standard = RiskParams::builtin(RiskProfile::Standard);
        assert_eq!(none.profile, RiskProfile::AiMode);
        assert_eq!(
            RiskParams {
                profile: RiskProfile::Standard,
                ..none
            },
            standard
        );
        let o: RiskOverrides =
            serde_json::from_str(r#"{"risk_per_trade": 0.006, "positions_scale": 1.3}"#).unwrap();
        let p = RiskParams::ai_mode(&o).unwrap();
        assert_eq!(p.risk_per_trade, dec!(0.006));
        assert!((p.positions_scale - 1.3).abs() < 1e-12);
        assert_eq!(p.max_portfolio_risk, standard.max_portfolio_risk);
        let bad = RiskOverrides {
            daily_loss_limit: Some(dec!(0.9)),
            ..RiskOverrides::default()
        };
        assert_eq!(
            RiskParams::ai_mode(&bad).unwrap_err().field,
            "daily_loss_limit"
        );
        assert!(serde_json::from_str::<RiskOverrides>(r#"{"fee_rate": 0}"#).is_err());
    }

    #[test]
    fn overrides_apply_on_top_of_any_base() {
        // A stored AI_MODE set with numbers of its own keeps every one the
        // overrides leave alone; the result is validated as a whole.
        let mut base = RiskParams::builtin(RiskProfile::AiMode);
        base.consecutive_loss_limit = 7;
        base.validate().unwrap();
        let o = RiskOverrides {
            risk_per_trade: Some(dec!(0.006)),
            ..RiskOverrides::default()
        };
        let p = base.with_overrides(&o).unwrap();
        assert_eq!(p.risk_per_trade, dec!(0.006));
        assert_eq!(p.consecutive_loss_limit, 7);
        assert_eq!(p.profile, RiskProfile::AiMode);
        assert_eq!(
            base.with_overrides(&RiskOverrides::default()).unwrap(),
            base
        );
        let bad = RiskOverrides {
            risk_multiplier: Some(dec!(9)),
            ..RiskOverrides::default()
        };
        assert_eq!(
            base.with_overrides(&bad).unwrap_err().field,
            "risk_multiplier"
        );
    }
}
