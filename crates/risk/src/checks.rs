//! The pre-trade checklist PRE-1..8 (SPEC §12). Each check is a named function
//! from the candidate order and the [`EntryContext`] to a [`CheckResult`]:
//! pass, or fail with reason codes and messages, always with the numbers it
//! looked at (so a stored refusal explains itself, STR-6).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Krw, OrdType, OrderRequest, Position, Price, ReasonCode, RegimeLabel, Side};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::{
    BlockReason, Clusters, OrderBook, RiskParams, RuntimeGuard,
    portfolio::{open_risk, remaining_budget},
};

/// The levels PRE-3 averages over (the "5" of `avg_depth5`).
pub const DEPTH_LEVELS: usize = 5;

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckId {
    /// PRE-1: total_score ≥ entry threshold.
    #[serde(rename = "PRE1_SCORE")]
    Pre1Score,
    /// PRE-2: the regime allows entries (not CHOP/PANIC, not stale).
    #[serde(rename = "PRE2_REGIME")]
    Pre2Regime,
    /// PRE-3: order ≤ avg depth × liquidity ratio, slippage within limit.
    #[serde(rename = "PRE3_LIQUIDITY")]
    Pre3Liquidity,
    /// PRE-4: remaining budget ≥ risk per trade, and covers the order.
    #[serde(rename = "PRE4_BUDGET")]
    Pre4Budget,
    /// PRE-5: correlation cluster limit.
    #[serde(rename = "PRE5_CORRELATION")]
    Pre5Correlation,
    /// PRE-6: exchange API health and rate limit.
    #[serde(rename = "PRE6_API_HEALTH")]
    Pre6ApiHealth,
    /// PRE-7: trading hours, maintenance, market warning.
    #[serde(rename = "PRE7_MARKET_STATUS")]
    Pre7MarketStatus,
    /// PRE-8: risk manager (guard, kill switch, portfolio cap, max positions, blacklist).
    #[serde(rename = "PRE8_RISK_MANAGER")]
    Pre8RiskManager,
    /// Exit approval (not a PRE check; used by `approve_exit`).
    #[serde(rename = "EXIT")]
    Exit,
}

impl CheckId {
    /// The eight entry checks, in order.
    pub const ENTRY: [Self; 8] = [
        Self::Pre1Score,
        Self::Pre2Regime,
        Self::Pre3Liquidity,
        Self::Pre4Budget,
        Self::Pre5Correlation,
        Self::Pre6ApiHealth,
        Self::Pre7MarketStatus,
        Self::Pre8RiskManager,
    ];
}

/// One reason a check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReason {
    /// Machine-readable code, e.g. `PRE3_DEPTH_TOO_THIN`.
    pub code: ReasonCode,
    /// Plain words with the numbers.
    pub message: String,
}

/// Pass or fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckOutcome {
    /// The check passed.
    Pass,
    /// The check failed for these reasons (at least one).
    Fail {
        /// Every failing condition.
        reasons: Vec<CheckReason>,
    },
}

/// The result of one check, with the numbers it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which check.
    pub check: CheckId,
    /// Pass or fail.
    pub outcome: CheckOutcome,
    /// The numbers the check compared (name → value; NaN means unknown).
    pub numbers: BTreeMap<String, f64>,
}

impl CheckResult {
    /// True on pass.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Pass)
    }

    /// The failing reasons (empty on pass).
    pub fn reasons(&self) -> &[CheckReason] {
        match &self.outcome {
            CheckOutcome::Pass => &[],
            CheckOutcome::Fail { reasons } => reasons,
        }
    }
}

/// Builds a [`CheckResult`] from collected failures and numbers.
struct Builder {
    check: CheckId,
    reasons: Vec<CheckReason>,
    numbers: BTreeMap<String, f64>,
}

impl Builder {
    fn new(check: CheckId) -> Self {
        Self {
            check,
            reasons: Vec::new(),
            numbers: BTreeMap::new(),
        }
    }

    fn num(&mut self, name: &str, v: f64) -> &mut Self {
        self.numbers.insert(name.to_owned(), v);
        self
    }

    fn fail(&mut self, code: &'static str, message: String) -> &mut Self {
        self.reasons.push(CheckReason {
            code: ReasonCode::new_static(code),
            message,
        });
        self
    }

    fn finish(self) -> CheckResult {
        CheckResult {
            check: self.check,
            outcome: if self.reasons.is_empty() {
                CheckOutcome::Pass
            } else {
                CheckOutcome::Fail {
                    reasons: self.reasons,
                }
            },
            numbers: self.numbers,
        }
    }
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// PRE-6 inputs: the trader's view of the exchange connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStatus {
    /// Recent requests succeed.
    pub api_ok: bool,
    /// Not throttled (no recent 429, Remaining-Req has room).
    pub rate_limit_ok: bool,
}

impl Default for ApiStatus {
    fn default() -> Self {
        Self {
            api_ok: true,
            rate_limit_ok: true,
        }
    }
}

/// PRE-7 inputs: exchange and market status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketStatus {
    /// Upbit announced maintenance now (or outside trading hours).
    pub exchange_maintenance: bool,
    /// Upbit market warning (CAUTION) on this market.
    pub market_warning: bool,
    /// Trading suspended / delisting notice for this market.
    pub trading_suspended: bool,
}

/// Everything the entry checks need besides the order itself.
#[derive(Debug, Clone, Copy)]
pub struct EntryContext<'a> {
    /// Risk parameters.
    pub params: &'a RiskParams,
    /// Now (from the injected clock).
    pub now: DateTime<Utc>,
    /// Account equity (cash + positions at mark).
    pub equity: Krw,
    /// Free KRW cash.
    pub cash: Krw,
    /// KRW committed to open orders.
    pub reserved: Krw,
    /// Open positions.
    pub open_positions: &'a [Position],
    /// The protective stop the entry will carry (for its risk to stop).
    pub stop_price: Price,
    /// Current regime label.
    pub regime: RegimeLabel,
    /// The regime output is older than its max age.
    pub regime_stale: bool,
    /// The candidate's final score (STR-2).
    pub total_score: f64,
    /// The strategy's entry threshold (STR-5).
    pub entry_threshold: f64,
    /// The candidate market's order book.
    pub book: &'a OrderBook,
    /// Correlation clusters of this cycle.
    pub clusters: &'a Clusters,
    /// The runtime guard.
    pub guard: &'a RuntimeGuard,
    /// PRE-6 inputs.
    pub api: ApiStatus,
    /// PRE-7 inputs.
    pub market_status: MarketStatus,
}

/// The KRW the order commits before fees and its estimated volume.
pub(crate) fn order_commitment(order: &OrderRequest, book: &OrderBook) -> (Krw, Decimal) {
    match (order.ord_type(), order.price(), order.volume()) {
        (OrdType::Limit, Some(p), Some(v)) => (p * v, v.get()),
        (OrdType::Price | OrdType::Best, Some(funds), None) => {
            let krw = Krw::from_decimal(funds.get());
            (krw, book.estimate_buy(krw).volume)
        }
        _ => (order.notional().unwrap_or(Krw::ZERO), Decimal::ZERO),
    }
}

/// PRE-1: `total_score ≥ entry_threshold` (a NaN score fails).
pub fn pre1_score(ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre1Score);
    b.num("total_score", ctx.total_score)
        .num("entry_threshold", ctx.entry_threshold);
    if !ctx.total_score.is_finite() {
        b.fail(
            "PRE1_SCORE_NOT_FINITE",
            "the total score is not a number".to_owned(),
        );
    } else if ctx.total_score < ctx.entry_threshold {
        b.fail(
            "PRE1_SCORE_BELOW_THRESHOLD",
            format!(
                "total score {:.2} is below the entry threshold {:.2}",
                ctx.total_score, ctx.entry_threshold
            ),
        );
    }
    b.finish()
}

/// PRE-2: the regime allows entries (REG-4: not CHOP, not PANIC) and is fresh.
pub fn pre2_regime(ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre2Regime);
    b.num(
        "max_positions",
        f64::from(ctx.params.max_positions(ctx.regime)),
    );
    match ctx.regime {
        RegimeLabel::Chop => {
            b.fail(
                "PRE2_REGIME_CHOP",
                "CHOP allows no new entries (REG-4)".to_owned(),
            );
        }
        RegimeLabel::Panic => {
            b.fail(
                "PRE2_REGIME_PANIC",
                "PANIC allows no new entries (REG-4)".to_owned(),
            );
        }
        RegimeLabel::BreakoutRotation | RegimeLabel::Trend | RegimeLabel::Range => {}
    }
    if ctx.regime_stale {
        b.fail(
            "PRE2_REGIME_STALE",
            "the regime output is stale; no entries on an old regime".to_owned(),
        );
    }
    b.finish()
}

/// PRE-3: `expected_order_krw ≤ avg_depth5 × liquidity_min_ratio` on the asks,
/// and the expected slippage on the book within `slippage_limit` (RISK-3).
pub fn pre3_liquidity(order: &OrderRequest, ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre3Liquidity);
    let p = ctx.params;
    let (order_krw, _) = order_commitment(order, ctx.book);
    let avg_depth = ctx.book.ask_depth_avg(DEPTH_LEVELS);
    let allowed = avg_depth.times(p.liquidity_min_ratio);
    let estimate = ctx.book.estimate_buy(order_krw);
    b.num("expected_order_krw", f(order_krw.get()))
        .num("avg_depth5_krw", f(avg_depth.get()))
        .num("liquidity_min_ratio", f(p.liquidity_min_ratio))
        .num(
            "depth_ratio",
            if avg_depth.get() > Decimal::ZERO {
                f(order_krw.get() / avg_depth.get())
            } else {
                f64::NAN
            },
        )
        .num("slippage_limit", f(p.slippage_limit))
        .num("expected_slippage", estimate.slippage.map_or(f64::NAN, f));
    if ctx.book.market() != order.market() {
        b.fail(
            "PRE3_BOOK_MARKET_MISMATCH",
            format!(
                "the book is for {}, the order for {}",
                ctx.book.market(),
                order.market()
            ),
        );
    }
    if order_krw > allowed {
        b.fail(
            "PRE3_DEPTH_TOO_THIN",
            format!(
                "order {order_krw} KRW exceeds {} × avg top-5 ask depth {} KRW = {} KRW",
                p.liquidity_min_ratio,
                avg_depth.floor_won(),
                allowed.floor_won()
            ),
        );
    }
    if !estimate.complete {
        b.fail(
            "PRE3_BOOK_TOO_THIN",
            format!("the visible asks cannot fill {order_krw} KRW"),
        );
    } else if let Some(s) = estimate.slippage
        && s > p.slippage_limit
    {
        b.fail(
            "PRE3_SLIPPAGE_TOO_HIGH",
            format!(
                "expected slippage {} exceeds the limit {}",
                s.round_dp(6),
                p.slippage_limit
            ),
        );
    }
    b.finish()
}

/// PRE-4: remaining budget (cash − reserved) ≥ the per-trade risk, and ≥ the
/// order's cost with fees.
pub fn pre4_budget(order: &OrderRequest, ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre4Budget);
    let p = ctx.params;
    let budget = remaining_budget(ctx.cash, ctx.reserved);
    let risk_krw = ctx.equity.times(p.risk_fraction());
    let (order_krw, _) = order_commitment(order, ctx.book);
    let cost = order_krw.times(Decimal::ONE + p.fee_rate);
    b.num("remaining_budget", f(budget.get()))
        .num("risk_per_trade_krw", f(risk_krw.get()))
        .num("order_cost_with_fee", f(cost.get()));
    if budget < risk_krw {
        b.fail(
            "PRE4_BUDGET_BELOW_RISK",
            format!("remaining budget {budget} KRW is below the per-trade risk {risk_krw} KRW"),
        );
    }
    if cost > budget {
        b.fail(
            "PRE4_ORDER_EXCEEDS_BUDGET",
            format!("order cost with fees {cost} KRW exceeds the remaining budget {budget} KRW"),
        );
    }
    b.finish()
}

/// PRE-5: at most `max_per_cluster` open positions in the candidate's
/// correlation cluster, counting the new one (RISK-5).
pub fn pre5_correlation(order: &OrderRequest, ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre5Correlation);
    let in_cluster = ctx
        .clusters
        .open_in_cluster(order.market(), ctx.open_positions);
    let max = ctx.params.max_per_cluster;
    b.num("open_in_cluster", in_cluster as f64)
        .num("max_per_cluster", f64::from(max))
        .num("corr_high", ctx.params.corr_high)
        .num(
            "max_corr_with_open",
            ctx.clusters
                .max_corr_with_open(order.market(), ctx.open_positions)
                .unwrap_or(f64::NAN),
        );
    if in_cluster >= max as usize {
        b.fail(
            "PRE5_CLUSTER_FULL",
            format!(
                "{in_cluster} open position(s) already in {}'s correlation cluster (max {max})",
                order.market()
            ),
        );
    }
    b.finish()
}

/// PRE-6: API healthy and not rate-limited (inputs and the guard's flag).
pub fn pre6_api_health(ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre6ApiHealth);
    if !ctx.api.api_ok || ctx.guard.api_failing() {
        b.fail(
            "PRE6_API_UNHEALTHY",
            "the exchange API is failing".to_owned(),
        );
    }
    if !ctx.api.rate_limit_ok {
        b.fail(
            "PRE6_RATE_LIMITED",
            "the exchange rate limit is exhausted (RUN-3 back-off)".to_owned(),
        );
    }
    b.finish()
}

/// PRE-7: no exchange maintenance, no market warning, trading not suspended.
pub fn pre7_market_status(ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre7MarketStatus);
    let s = ctx.market_status;
    if s.exchange_maintenance {
        b.fail(
            "PRE7_EXCHANGE_MAINTENANCE",
            "Upbit is in maintenance".to_owned(),
        );
    }
    if s.market_warning {
        b.fail(
            "PRE7_MARKET_WARNING",
            "the market carries an Upbit warning".to_owned(),
        );
    }
    if s.trading_suspended {
        b.fail(
            "PRE7_TRADING_SUSPENDED",
            "trading on the market is suspended".to_owned(),
        );
    }
    b.finish()
}

/// PRE-8: the risk manager — the order is a buy with a stop below it, the
/// runtime guard allows entries (kill switch, losses, slippage, DB, PANIC),
/// the equity given is not past the daily loss limit (RISK-6, also before the
/// guard has seen it),
/// the market is not blacklisted (RUN-1), the order is within the per-position
/// cap, open risk plus this order's risk
/// stays within the portfolio cap (RISK-1) and a position slot is free (RISK-4).
pub fn pre8_risk_manager(order: &OrderRequest, ctx: &EntryContext<'_>) -> CheckResult {
    let mut b = Builder::new(CheckId::Pre8RiskManager);
    let p = ctx.params;
    let (order_krw, volume) = order_commitment(order, ctx.book);
    let open = open_risk(ctx.open_positions);
    let cap = ctx.equity.times(p.max_portfolio_risk);
    let order_risk = (order_krw.times(Decimal::ONE + p.fee_rate)
        - Krw::from_decimal(ctx.stop_price.get() * volume))
    .max(Krw::ZERO);
    let max_positions = p.max_positions(ctx.regime);
    let open_count = ctx.open_positions.len();
    let position_cap = ctx.equity.times(p.max_position_fraction);
    b.num("position_cap", f(position_cap.get()));
    b.num("open_risk", f(open.get()))
        .num("order_risk", f(order_risk.get()))
        .num("portfolio_risk_cap", f(cap.get()))
        .num("open_positions", open_count as f64)
        .num("max_positions", f64::from(max_positions));

    if order.side() != Side::Bid || !matches!(order.ord_type(), OrdType::Limit | OrdType::Price) {
        b.fail(
            "PRE8_NOT_AN_ENTRY",
            format!(
                "entries must be limit or market buys, got {} {}",
                order.side(),
                order.ord_type()
            ),
        );
    }
    if let Some(limit) = order.price().filter(|_| order.ord_type() == OrdType::Limit)
        && ctx.stop_price >= limit
    {
        b.fail(
            "PRE8_STOP_NOT_BELOW_ENTRY",
            format!("stop {} is not below the entry {limit}", ctx.stop_price),
        );
    }
    let blocks = ctx.guard.blocks(ctx.now, p);
    // RISK-6 on the equity given here too, so an entry past the daily loss
    // limit is refused even before the guard was marked with that equity.
    if !blocks.contains(&BlockReason::KillSwitch)
        && let Some((loss, limit)) = daily_loss_past_limit(ctx)
    {
        b.fail(
            "PRE8_DAILY_LOSS_LIMIT",
            format!("today's loss {loss} KRW exceeds the daily loss limit {limit} KRW (RISK-6)"),
        );
    }
    for block in blocks {
        let code = match block {
            // API failures are PRE-6's.
            BlockReason::ApiFailing => continue,
            BlockReason::KillSwitch => "PRE8_KILL_SWITCH",
            BlockReason::ConsecutiveLosses { .. } => "PRE8_CONSECUTIVE_LOSSES",
            BlockReason::SlippageAnomaly { .. } => "PRE8_SLIPPAGE_ANOMALY",
            BlockReason::DbFailing => "PRE8_DB_FAILING",
            BlockReason::RegimePanic => "PRE8_REGIME_PANIC",
        };
        b.fail(code, format!("runtime guard blocks entries: {block:?}"));
    }
    if let Some(until) = ctx.guard.blacklisted_until(order.market(), ctx.now) {
        b.fail(
            "PRE8_MARKET_BLACKLISTED",
            format!("{} is blacklisted until {until} (RUN-1)", order.market()),
        );
    }
    if order_krw > position_cap {
        b.fail(
            "PRE8_POSITION_TOO_LARGE",
            format!(
                "order {order_krw} KRW exceeds {} × equity = {position_cap} KRW",
                p.max_position_fraction
            ),
        );
    }
    if open + order_risk > cap {
        b.fail(
            "PRE8_PORTFOLIO_RISK_CAP",
            format!(
                "open risk {open} KRW + this order's {order_risk} KRW exceeds the cap {cap} KRW"
            ),
        );
    }
    if open_count >= max_positions as usize {
        b.fail(
            "PRE8_MAX_POSITIONS",
            format!(
                "{open_count} open position(s); {} allows {max_positions}",
                ctx.regime
            ),
        );
    }
    b.finish()
}

/// `(loss, limit)` when `ctx.equity` is further below the day's start equity
/// than `daily_loss_limit` allows. The day's start is the guard's, or — when
/// `ctx.now` is on a later UTC day than the guard has seen — the last equity
/// the guard was marked with (what its day roll would start from).
fn daily_loss_past_limit(ctx: &EntryContext<'_>) -> Option<(Krw, Krw)> {
    let g = ctx.guard;
    let start = if ctx.now.date_naive() > g.day() {
        g.day_start_equity() + g.daily_pnl()
    } else {
        g.day_start_equity()
    };
    if start.get() <= Decimal::ZERO {
        return None;
    }
    let loss = start - ctx.equity;
    let limit = start.times(ctx.params.daily_loss_limit);
    (loss > limit).then_some((loss, limit))
}

/// Runs all eight checks (never short-circuits).
pub fn run_entry_checks(order: &OrderRequest, ctx: &EntryContext<'_>) -> Vec<CheckResult> {
    vec![
        pre1_score(ctx),
        pre2_regime(ctx),
        pre3_liquidity(order, ctx),
        pre4_budget(order, ctx),
        pre5_correlation(order, ctx),
        pre6_api_health(ctx),
        pre7_market_status(ctx),
        pre8_risk_manager(order, ctx),
    ]
}
