//! Command-line flags of `upbit-sim` and their translation into a `SimConfig`.

use std::{fs::File, io::BufWriter, net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use upbit_sim::{AccountSpec, MarketSource, Scenario, SimConfig};

/// A faithful Upbit (KRW spot) simulator: the same REST paths, JWT checks,
/// JSON shapes, errors, rate limits and WebSocket streams as api.upbit.com,
/// over replayed real candles or a seeded synthetic market.
///
/// Point a client at `http://ADDR` (REST, paths start with /v1/) and
/// `ws://ADDR/websocket/v1`. Accounts are created with
/// `POST /_sim/accounts` (or `--account`); the admin API lives under /_sim/.
#[derive(Debug, Parser)]
#[command(name = "upbit-sim", version)]
pub(crate) struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged).
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub(crate) listen: SocketAddr,

    /// Replay real candles from these CSV or CSV.gz files (columns
    /// market,timestamp_utc,open,high,low,close,volume,value; value may be
    /// empty and is then approximated as close×volume). Repeatable.
    #[arg(long = "data", value_name = "FILE", num_args = 1.., conflicts_with = "synthetic")]
    pub(crate) data: Vec<PathBuf>,

    /// Generate a synthetic market instead: trend, range, chop, panic,
    /// breakout-rotation or mixed.
    #[arg(long, value_name = "SCENARIO", value_parser = parse_scenario)]
    pub(crate) synthetic: Option<Scenario>,

    /// Number of synthetic KRW markets (KRW-BTC first, then real listings, then SYNnnn).
    #[arg(long, default_value_t = 10)]
    pub(crate) markets: usize,

    /// Seed of the synthetic generator, order ids and fault sampling.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,

    /// Minutes of synthetic history generated before the start time.
    #[arg(long, default_value_t = 1440)]
    pub(crate) history_minutes: u32,

    /// Sim seconds per wall second: 1 = real time, 60 = a minute per second,
    /// 0 = frozen (advance with POST /_sim/clock); at most 100000.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub(crate) speed: f64,

    /// Keep accounts and orders in this JSON file (written atomically; read at start).
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// Sim start time, RFC 3339 (e.g. 2025-09-10T00:00:00Z). Default: replay →
    /// 200 bars into the data (or the time saved in --state); synthetic → now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) start: Option<DateTime<Utc>>,

    /// Create an account at start: ACCESS:SECRET:KRW=1000000,BTC=0.1 (repeatable).
    #[arg(long = "account", value_name = "SPEC")]
    pub(crate) accounts: Vec<String>,

    /// Disable rate limiting (the Remaining-Req header is still sent).
    #[arg(long)]
    pub(crate) no_rate_limit: bool,

    /// Write the synthetic candles (--synthetic, --markets, --seed, --start)
    /// for --export-minutes minutes to this CSV file and exit.
    #[arg(long, value_name = "FILE", requires = "synthetic")]
    pub(crate) export_csv: Option<PathBuf>,

    /// Minutes to export with --export-csv.
    #[arg(long, default_value_t = 1440)]
    pub(crate) export_minutes: u32,

    /// Log format: `text` or `json` (JSON lines).
    #[arg(long, env = runtime::env::LOG_FORMAT, default_value = "text")]
    pub(crate) log_format: String,
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    s.parse::<Scenario>().map_err(|e| e.message)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    upbit_sim::server::parse_speed(s)
}

/// Parses `ACCESS:SECRET:KRW=1000000,BTC=0.1`.
fn parse_account(raw: &str) -> anyhow::Result<AccountSpec> {
    let mut parts = raw.splitn(3, ':');
    let (Some(access), Some(secret)) = (parts.next(), parts.next()) else {
        bail!("--account must look like ACCESS:SECRET:KRW=1000000,BTC=0.1");
    };
    let balances: Vec<(String, String)> = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("balance {kv:?} must look like KRW=1000000"))
        })
        .collect::<anyhow::Result<_>>()?;
    let pairs: Vec<(&str, &str)> = balances
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(AccountSpec::new(access, secret, &pairs))
}

impl Args {
    /// The simulator configuration for these flags.
    pub(crate) fn config(&self) -> anyhow::Result<SimConfig> {
        let source = match (&self.synthetic, self.data.is_empty()) {
            (Some(scenario), true) => MarketSource::Synthetic {
                scenario: *scenario,
                markets: self.markets,
                seed: self.seed,
                history_minutes: self.history_minutes,
            },
            (None, false) => MarketSource::Files(self.data.clone()),
            (None, true) => bail!("give either --data FILE… or --synthetic SCENARIO"),
            (Some(_), false) => bail!("--data and --synthetic cannot be combined"),
        };
        let mut config = SimConfig::new(source);
        config.listen = self.listen;
        config.speed = self.speed;
        config.start = self.start;
        config.state_file.clone_from(&self.state);
        config.seed = self.seed;
        config.rate.enabled = !self.no_rate_limit;
        config.accounts = self
            .accounts
            .iter()
            .map(|a| parse_account(a))
            .collect::<anyhow::Result<_>>()?;
        Ok(config)
    }
}

/// `--export-csv`: writes synthetic candles and exits.
pub(crate) fn export(args: &Args, path: &PathBuf) -> anyhow::Result<()> {
    let Some(scenario) = args.synthetic else {
        bail!("--export-csv needs --synthetic");
    };
    let start = args
        .start
        .unwrap_or_else(|| runtime::Clock::now(&runtime::SystemClock));
    let rows = upbit_sim::generate(
        scenario,
        args.markets,
        args.seed,
        start,
        args.export_minutes,
    );
    let file =
        File::create(path).with_context(|| format!("failed to create {}", path.display()))?;
    upbit_sim::data::write(&rows, BufWriter::new(file)).context("failed to write the CSV")?;
    tracing::info!(rows = rows.len(), path = %path.display(), "exported synthetic candles");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_build_a_config() {
        let a = Args::try_parse_from([
            "upbit-sim",
            "--listen",
            "127.0.0.1:0",
            "--synthetic",
            "panic",
            "--markets",
            "3",
            "--seed",
            "7",
            "--speed",
            "0",
            "--account",
            "ak:sk:KRW=1000,BTC=0.5",
        ])
        .unwrap();
        let c = a.config().unwrap();
        assert!(matches!(
            c.source,
            MarketSource::Synthetic {
                scenario: Scenario::Panic,
                markets: 3,
                seed: 7,
                ..
            }
        ));
        assert!(c.speed.abs() < f64::EPSILON);
        assert_eq!(
            c.accounts[0].balances.get("BTC").map(String::as_str),
            Some("0.5")
        );
        assert!(Args::try_parse_from(["upbit-sim", "--synthetic", "crash"]).is_err());
        assert!(
            Args::try_parse_from(["upbit-sim", "--speed", "-1", "--synthetic", "trend"]).is_err()
        );
        let none = Args::try_parse_from(["upbit-sim"]).unwrap();
        assert!(none.config().is_err());
        assert!(parse_account("nocolon").is_err());
    }
}
