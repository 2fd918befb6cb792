//! `trainer regime-replay` end to end: CLI parsing, output shape, explicit
//! INSUFFICIENT_DATA rows during warm-up, labels afterwards, determinism.

use clap::Parser;
use trainer::{
    cli::{Cli, Command},
    regime_replay::{HEADER, run},
};

use crate::support::{Scratch, hourly_csv, read};

const MARKETS: [&str; 6] = [
    "KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-SOL", "KRW-DOGE", "KRW-LINK",
];

fn args(list: &[&str]) -> trainer::regime_replay::ReplayArgs {
    let mut argv = vec!["trainer", "regime-replay"];
    argv.extend_from_slice(list);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::RegimeReplay(a) => a,
        Command::Run(_) => panic!("parsed as `run`"),
    }
}

#[test]
fn help_documents_every_flag_and_the_value_approximation() {
    let err = Cli::try_parse_from(["trainer", "regime-replay", "--help"]).unwrap_err();
    let help = err.to_string();
    for flag in [
        "--data",
        "--out",
        "--step",
        "--candle-interval",
        "--btc",
        "--config",
        "--whipsaw-interval",
        "--min-markets",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(help.contains("close × volume"), "{help}");
    assert!(
        Cli::try_parse_from(["trainer", "regime-replay", "--out", "x"]).is_err(),
        "--data is required"
    );
    assert!(
        Cli::try_parse_from([
            "trainer",
            "regime-replay",
            "--data",
            "a",
            "--out",
            "b",
            "--step",
            "0m"
        ])
        .is_err()
    );
    assert!(
        Cli::try_parse_from([
            "trainer",
            "regime-replay",
            "--data",
            "a",
            "--out",
            "b",
            "--btc",
            "BTC"
        ])
        .is_err()
    );
}

#[test]
fn replays_hourly_files_end_to_end() {
    let s = Scratch::new("replay");
    // 8 days of hourly candles, split over two files (one gzipped).
    let text = hourly_csv(&MARKETS, "2025-01-01T00:00:00Z", 24 * 8);
    let head = &text[..text.len() / 2];
    let cut = head.rfind('\n').unwrap() + 1;
    let first = s.write("part1.csv", &text[..cut]);
    let second = s.write_gz(
        "part2.csv.gz",
        &format!("{}{}", crate::support::HEADER, &text[cut..]),
    );
    let out = s.path("out.csv");
    let a = args(&[
        "--data",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--step",
        "1h",
        "--candle-interval",
        "1h",
        "--whipsaw-interval",
        "1h",
    ]);
    run(&a).unwrap();
    let csv = read(&out);
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), HEADER.join(","));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // One row per hour from the first close (01:00) to the last (day 8, 24:00).
    assert_eq!(rows.len(), 24 * 8);
    assert_eq!(rows[0][0], "2025-01-01T01:00:00Z");
    assert_eq!(rows.last().unwrap()[0], "2025-01-09T00:00:00Z");
    // Warm-up: 4h ADX needs 28 completed bars (112 h) → explicit insufficient data.
    assert_eq!(rows[0][1], "INSUFFICIENT_DATA");
    assert_eq!(rows[0][2], "", "no score without a regime");
    assert_eq!(rows[0][3], "", "missing input written empty");
    let classified: Vec<_> = rows
        .iter()
        .filter(|r| r[1] != "INSUFFICIENT_DATA")
        .collect();
    assert!(classified.len() >= 70, "{} classified", classified.len());
    for r in &classified {
        assert!(
            ["BREAKOUT_ROTATION", "TREND", "RANGE", "CHOP", "PANIC"].contains(&r[1]),
            "{r:?}"
        );
        let score: f64 = r[2].parse().unwrap();
        assert!((0.0..=100.0).contains(&score), "{r:?}");
        assert!(r[3..].iter().all(|v| v.parse::<f64>().is_ok()), "{r:?}");
    }
    // Deterministic: the same input gives byte-identical output.
    let out2 = s.path("out2.csv");
    let mut a2 = a.clone();
    a2.out = out2.clone();
    run(&a2).unwrap();
    assert_eq!(read(&out2), csv);
}

#[test]
fn config_file_and_overrides_apply() {
    let s = Scratch::new("config");
    let data = s.write(
        "d.csv",
        &hourly_csv(&MARKETS[..3], "2025-01-01T00:00:00Z", 24 * 6),
    );
    let out = s.path("o.csv");
    // Three markets are below the default min_markets (5): every row insufficient.
    let base = [
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--step",
        "1h",
        "--candle-interval",
        "1h",
        "--whipsaw-interval",
        "1h",
    ];
    run(&args(&base)).unwrap();
    assert!(
        read(&out)
            .lines()
            .skip(1)
            .all(|l| l.contains("INSUFFICIENT_DATA"))
    );
    // min_markets 3 from a config file: later rows classified.
    let cfg = s.write("c.json", r#"{"inputs": {"min_markets": 3}}"#);
    let mut with_cfg = base.to_vec();
    with_cfg.extend(["--config", cfg.to_str().unwrap()]);
    run(&args(&with_cfg)).unwrap();
    assert!(
        read(&out)
            .lines()
            .skip(1)
            .any(|l| !l.contains("INSUFFICIENT_DATA"))
    );
    // An invalid config is rejected, naming the field.
    let bad = s.write("bad.json", r#"{"thresholds": {"panic_breadth_max": 2}}"#);
    let mut with_bad = base.to_vec();
    with_bad.extend(["--config", bad.to_str().unwrap()]);
    let err = run(&args(&with_bad)).unwrap_err();
    assert!(format!("{err:#}").contains("panic_breadth_max"), "{err:#}");
    // A missing input file is an error, not a panic.
    let mut missing = base.to_vec();
    missing[1] = "/nonexistent/file.csv";
    assert!(run(&args(&missing)).is_err());
}
