//! `trainer regime-replay`: replays Regime Engine v1.0 over historical candle
//! files and writes one regime per step as CSV
//! (`ts,label,score,<the six inputs>`), for inspecting and tuning the
//! thresholds (docs/regime.md) on real or simulated data.
//!
//! Candles are streamed (k-way merged by open time) into an
//! [`InputsTracker`]; at every step time `t` all candles that closed by `t`
//! (open time + `--candle-interval` ≤ `t`) have been fed, and the engine is
//! asked for the regime at `t`. Memory stays O(markets × window), so a year
//! of 1-minute data for hundreds of markets replays in one pass.

use std::{collections::BTreeMap, fs, io::Read, path::PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use domain::Market;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use indicators::Interval;
use regime::{EngineConfig, InputsTracker, Regime, RegimeError, RegimeInputs};

use crate::candle_csv::{CandleReader, CandleRow, MergedCandles};

/// The long `--help` text of `trainer regime-replay`.
pub const LONG_ABOUT: &str = "Replay Regime Engine v1.0 over candle files and write one regime per step as CSV \
                  (ts,label,score,btc_adx_4h,btc_atr_pct_4h,breadth_up_1h,dispersion_1h,\
                  top5_value_share_1h,whipsaw_5m).\n\n\
                  Input files are CSV or CSV.gz with the header \
                  market,timestamp_utc,open,high,low,close,volume,value (timestamp = candle open \
                  time, UTC), each sorted by timestamp_utc. An empty or missing `value` (KRW \
                  turnover) is approximated as close × volume; the run reports how many rows \
                  were approximated. Steps without enough history are written with label \
                  INSUFFICIENT_DATA and an empty score.";

/// Arguments of `trainer regime-replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Candle files (CSV or CSV.gz, gzip detected by content), merged by time.
    #[arg(long = "data", value_name = "FILE", required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Output CSV file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Time between regime evaluations, e.g. 1m, 5m, 1h (units s, m, h, d).
    #[arg(long, default_value = "1m", value_parser = parse_step)]
    pub step: Duration,
    /// Interval of the input candles (1m, 5m, 15m, 1h, 4h, 1d): a candle counts once it has closed.
    #[arg(long, default_value = "1m")]
    pub candle_interval: Interval,
    /// The market whose 4h ADX / ATR feed btc_adx_4h and btc_atr_pct_4h.
    #[arg(long, default_value = "KRW-BTC")]
    pub btc: Market,
    /// Engine configuration as JSON (inputs / thresholds / staleness; missing fields take defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override the whipsaw bar interval (default 5m). Only for data coarser than
    /// 5 minutes, e.g. `--candle-interval 1h --whipsaw-interval 1h`; the column is then a proxy.
    #[arg(long)]
    pub whipsaw_interval: Option<Interval>,
    /// Override the fewest markets a cross-sectional input needs (default 5).
    #[arg(long)]
    pub min_markets: Option<usize>,
}

/// Parses `30s`, `1m`, `4h`, `1d`.
pub fn parse_step(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{raw:?}: missing unit (s, m, h or d)"))?;
    let (n, unit) = raw.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{raw:?}: expected a number then a unit, e.g. 1m"))?;
    if n <= 0 {
        return Err(format!("{raw:?}: must be positive"));
    }
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{raw:?}: unit must be s, m, h or d")),
    };
    Duration::try_seconds(secs).ok_or_else(|| format!("{raw:?}: too long"))
}

/// Replay options, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Engine configuration.
    pub config: EngineConfig,
    /// Step between evaluations.
    pub step: Duration,
    /// Interval of the input candles.
    pub candle_interval: Interval,
    /// The BTC market.
    pub btc: Market,
}

/// One output row.
#[derive(Debug, Clone)]
pub struct ReplayRow {
    /// Evaluation time.
    pub ts: DateTime<Utc>,
    /// The inputs at `ts`.
    pub inputs: RegimeInputs,
    /// The regime, or why there is none.
    pub outcome: Result<Regime, RegimeError>,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Candles read.
    pub candles: u64,
    /// Rows whose `value` was approximated as close × volume.
    pub approximated_values: u64,
    /// Rows emitted.
    pub rows: u64,
    /// Rows per label (`INSUFFICIENT_DATA` / `INVALID_INPUT` included).
    pub labels: BTreeMap<String, u64>,
    /// Distinct markets seen.
    pub markets: usize,
}

/// The label column for an outcome.
pub fn label_of(outcome: &Result<Regime, RegimeError>) -> &'static str {
    match outcome {
        Ok(r) => r.label.as_str(),
        Err(RegimeError::InsufficientData { .. }) => "INSUFFICIENT_DATA",
        Err(RegimeError::InvalidInput { .. }) => "INVALID_INPUT",
        Err(RegimeError::InvalidConfig(_)) => "INVALID_CONFIG",
    }
}

/// First step time: the smallest multiple of `step` (since the epoch) ≥ `t`.
fn first_step(t: DateTime<Utc>, step: Duration) -> anyhow::Result<DateTime<Utc>> {
    let s = step.num_seconds().max(1);
    let secs = t.timestamp();
    let aligned = secs.div_euclid(s) * s + if secs.rem_euclid(s) == 0 { 0 } else { s };
    DateTime::from_timestamp(aligned, 0).context("step time out of range")
}

/// Replays `rows` (ordered by open time), calling `sink` for every step.
pub fn replay(
    rows: impl Iterator<Item = anyhow::Result<CandleRow>>,
    opts: &ReplayOptions,
    mut sink: impl FnMut(&ReplayRow) -> anyhow::Result<()>,
) -> anyhow::Result<ReplaySummary> {
    opts.config.inputs.validate().context("config.inputs")?;
    opts.config
        .thresholds
        .validate()
        .context("config.thresholds")?;
    if opts.step <= Duration::zero() {
        bail!("step must be positive");
    }
    let mut tracker = InputsTracker::new(opts.btc.clone(), opts.config.inputs.clone());
    let mut summary = ReplaySummary::default();
    let base = opts.candle_interval.duration();
    let mut next: Option<DateTime<Utc>> = None;
    let mut last_close: Option<DateTime<Utc>> = None;
    let mut emit = |t: DateTime<Utc>,
                    tracker: &mut InputsTracker,
                    summary: &mut ReplaySummary|
     -> anyhow::Result<()> {
        let inputs = tracker.inputs(t);
        let outcome = Regime::assess(t, inputs, &opts.config.thresholds);
        *summary
            .labels
            .entry(label_of(&outcome).to_owned())
            .or_default() += 1;
        summary.rows += 1;
        sink(&ReplayRow {
            ts: t,
            inputs,
            outcome,
        })
    };
    for row in rows {
        let row = row?;
        let closes_at = row
            .candle
            .ts
            .checked_add_signed(base)
            .context("candle time out of range")?;
        let mut t = match next {
            Some(t) => t,
            None => first_step(closes_at, opts.step)?,
        };
        while t < closes_at {
            emit(t, &mut tracker, &mut summary)?;
            t = t
                .checked_add_signed(opts.step)
                .context("step time out of range")?;
        }
        next = Some(t);
        last_close = Some(last_close.map_or(closes_at, |l| l.max(closes_at)));
        tracker.push(&row.market, &row.candle);
        summary.candles += 1;
    }
    if let (Some(mut t), Some(end)) = (next, last_close) {
        while t <= end {
            emit(t, &mut tracker, &mut summary)?;
            t = t
                .checked_add_signed(opts.step)
                .context("step time out of range")?;
        }
    }
    summary.markets = tracker.market_count();
    Ok(summary)
}

/// The CSV header of the output.
pub const HEADER: [&str; 9] = [
    "ts",
    "label",
    "score",
    "btc_adx_4h",
    "btc_atr_pct_4h",
    "breadth_up_1h",
    "dispersion_1h",
    "top5_value_share_1h",
    "whipsaw_5m",
];

/// Formats one output row (NaN inputs and missing scores as empty fields).
pub fn format_row(row: &ReplayRow) -> Vec<String> {
    let num = |x: f64, decimals: usize| {
        if x.is_finite() {
            format!("{x:.decimals$}")
        } else {
            String::new()
        }
    };
    let mut out = vec![
        row.ts.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        label_of(&row.outcome).to_owned(),
        row.outcome
            .as_ref()
            .map_or_else(|_| String::new(), |r| num(r.score, 2)),
    ];
    out.extend(row.inputs.iter().map(|(_, v)| num(v, 6)));
    out
}

fn load_options(args: &ReplayArgs) -> anyhow::Result<ReplayOptions> {
    let mut config = match &args.config {
        Some(path) => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            serde_json::from_str::<EngineConfig>(&text)
                .with_context(|| format!("invalid config {}", path.display()))?
        }
        None => EngineConfig::default(),
    };
    if let Some(i) = args.whipsaw_interval {
        config.inputs.whipsaw_interval = i;
    }
    if let Some(n) = args.min_markets {
        config.inputs.min_markets = n;
    }
    Ok(ReplayOptions {
        config,
        step: args.step,
        candle_interval: args.candle_interval,
        btc: args.btc.clone(),
    })
}

/// Runs the subcommand: read, replay, write, report.
pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let opts = load_options(args)?;
    let total_bytes: u64 = args
        .data
        .iter()
        .map(|p| fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let readers = args
        .data
        .iter()
        .map(|p| {
            let bar = bar.clone();
            CandleReader::open(p, move |f| Box::new(bar.wrap_read(f)) as Box<dyn Read>)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut merged = MergedCandles::new(readers)?;
    let mut writer = csv::Writer::from_path(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    writer.write_record(HEADER)?;
    let started = std::time::Instant::now();
    let mut summary = replay(merged.by_ref(), &opts, |row| {
        if row.ts.timestamp() % 86_400 == 0 {
            bar.set_message(row.ts.format("%Y-%m-%d").to_string());
        }
        writer
            .write_record(format_row(row))
            .context("failed to write a row")
    })?;
    writer.flush().context("failed to flush the output")?;
    bar.finish_and_clear();
    summary.approximated_values = merged.approximated_values();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    tracing::info!(
        candles = summary.candles,
        rows = summary.rows,
        markets = summary.markets,
        candles_per_sec = format!("{:.0}", summary.candles as f64 / secs),
        labels = ?summary.labels,
        out = %args.out.display(),
        "regime replay done"
    );
    if summary.approximated_values > 0 {
        tracing::info!(
            rows = summary.approximated_values,
            "empty `value` column: KRW turnover approximated as close × volume"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_parsing() {
        for (raw, want) in [
            ("1m", Some(60)),
            ("5m", Some(300)),
            ("1h", Some(3600)),
            ("4h", Some(14_400)),
            ("1d", Some(86_400)),
            ("30s", Some(30)),
            (" 2m ", Some(120)),
            ("0m", None),
            ("m", None),
            ("5", None),
            ("5x", None),
            ("-1m", None),
            ("", None),
        ] {
            let got = parse_step(raw).ok().map(|d| d.num_seconds());
            assert_eq!(got, want, "{raw:?}");
        }
    }

    #[test]
    fn first_step_is_aligned() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let check = |at: &str, step: i64, want: &str| {
            assert_eq!(
                first_step(t(at), Duration::seconds(step)).unwrap(),
                t(want),
                "{at} {step}"
            );
        };
        check("2025-09-01T00:01:00Z", 60, "2025-09-01T00:01:00Z");
        check("2025-09-01T00:01:30Z", 60, "2025-09-01T00:02:00Z");
        check("2025-09-01T00:01:00Z", 300, "2025-09-01T00:05:00Z");
        check("2025-09-01T01:00:00Z", 3600, "2025-09-01T01:00:00Z");
    }
}
