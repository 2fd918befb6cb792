//! The synthetic market universe: real KRW listings first (names, realistic
//! price levels and turnover), then generated codes once the list runs out.
//! Per-market beta, idiosyncratic volatility, spread and warning flags are
//! drawn from the seed.

use domain::{Currency, Market};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, prelude::FromPrimitive};

use crate::series::{mix, snap_to_grid};

/// `(code, korean name, english name, price level in KRW, KRW turnover per minute)`.
const LISTINGS: &[(&str, &str, &str, f64, f64)] = &[
    ("BTC", "비트코인", "Bitcoin", 140_000_000.0, 250_000_000.0),
    ("ETH", "이더리움", "Ethereum", 5_000_000.0, 80_000_000.0),
    ("XRP", "엑스알피(리플)", "XRP", 3_000.0, 200_000_000.0),
    ("SOL", "솔라나", "Solana", 250_000.0, 40_000_000.0),
    ("DOGE", "도지코인", "Dogecoin", 300.0, 60_000_000.0),
    ("ADA", "에이다", "Cardano", 1_000.0, 25_000_000.0),
    ("TRX", "트론", "TRON", 400.0, 8_000_000.0),
    ("LINK", "체인링크", "Chainlink", 30_000.0, 12_000_000.0),
    ("AVAX", "아발란체", "Avalanche", 40_000.0, 9_000_000.0),
    ("SUI", "수이", "Sui", 5_000.0, 20_000_000.0),
    ("XLM", "스텔라루멘", "Lumen", 500.0, 15_000_000.0),
    (
        "BCH",
        "비트코인캐시",
        "Bitcoin Cash",
        700_000.0,
        6_000_000.0,
    ),
    ("HBAR", "헤데라", "Hedera", 300.0, 10_000_000.0),
    ("DOT", "폴카닷", "Polkadot", 7_000.0, 5_000_000.0),
    (
        "NEAR",
        "니어프로토콜",
        "NEAR Protocol",
        4_000.0,
        6_000_000.0,
    ),
    (
        "ETC",
        "이더리움클래식",
        "Ethereum Classic",
        30_000.0,
        7_000_000.0,
    ),
    ("APT", "앱토스", "Aptos", 8_000.0, 5_000_000.0),
    ("SHIB", "시바이누", "Shiba Inu", 0.02, 8_000_000.0),
    (
        "POL",
        "폴리곤 에코시스템 토큰",
        "POL (ex-MATIC)",
        300.0,
        4_000_000.0,
    ),
    ("ATOM", "코스모스", "Cosmos", 7_000.0, 4_000_000.0),
    ("ARB", "아비트럼", "Arbitrum", 600.0, 5_000_000.0),
    ("SAND", "샌드박스", "The Sandbox", 400.0, 4_000_000.0),
    ("AAVE", "에이브", "Aave", 400_000.0, 5_000_000.0),
    ("UNI", "유니스왑", "Uniswap", 12_000.0, 4_000_000.0),
    ("SEI", "세이", "Sei", 400.0, 6_000_000.0),
    ("ONDO", "온도파이낸스", "Ondo Finance", 1_300.0, 7_000_000.0),
    ("ENA", "에테나", "Ethena", 800.0, 9_000_000.0),
    ("PEPE", "페페", "Pepe", 0.015, 6_000_000.0),
    ("IMX", "이뮤터블엑스", "Immutable X", 900.0, 2_000_000.0),
    ("STX", "스택스", "Stacks", 1_000.0, 3_000_000.0),
    ("ALGO", "알고랜드", "Algorand", 300.0, 3_000_000.0),
    ("THETA", "쎄타토큰", "Theta Token", 1_100.0, 1_500_000.0),
    ("MANA", "디센트럴랜드", "Decentraland", 400.0, 2_000_000.0),
    ("AXS", "엑시인피니티", "Axie Infinity", 3_500.0, 1_500_000.0),
    ("FLOW", "플로우", "Flow", 500.0, 1_500_000.0),
    ("VET", "비체인", "VeChain", 35.0, 2_500_000.0),
    ("IOTA", "아이오타", "IOTA", 250.0, 1_500_000.0),
    ("ZIL", "질리카", "Zilliqa", 15.0, 1_200_000.0),
    ("CHZ", "칠리즈", "Chiliz", 55.0, 2_000_000.0),
    ("QTUM", "퀀텀", "Qtum", 3_000.0, 1_000_000.0),
    ("NEO", "네오", "NEO", 9_000.0, 1_000_000.0),
    (
        "BAT",
        "베이직어텐션토큰",
        "Basic Attention Token",
        200.0,
        800_000.0,
    ),
    ("ZRX", "제로엑스", "0x Protocol", 350.0, 800_000.0),
    ("1INCH", "1인치네트워크", "1inch Network", 300.0, 900_000.0),
    ("GRT", "더그래프", "The Graph", 130.0, 1_500_000.0),
    (
        "ENS",
        "이더리움네임서비스",
        "Ethereum Name Service",
        30_000.0,
        1_200_000.0,
    ),
    ("ARKM", "아캄", "Arkham", 700.0, 1_300_000.0),
    ("W", "웜홀", "Wormhole", 120.0, 1_100_000.0),
];

/// The five `market_event.caution` keys, in Upbit's order.
pub const CAUTION_KEYS: [&str; 5] = [
    "PRICE_FLUCTUATIONS",
    "TRADING_VOLUME_SOARING",
    "DEPOSIT_AMOUNT_SOARING",
    "GLOBAL_PRICE_DIFFERENCES",
    "CONCENTRATION_OF_SMALL_ACCOUNTS",
];

/// Static description of one synthetic market.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSpec {
    /// The market code.
    pub market: Market,
    /// Korean display name.
    pub korean_name: String,
    /// English display name.
    pub english_name: String,
    /// Starting price (on the tick grid).
    pub start_price: Decimal,
    /// Typical KRW turnover per minute.
    pub turnover_per_min: f64,
    /// Sensitivity to the BTC-led market factor (BTC = 1).
    pub beta: f64,
    /// Idiosyncratic volatility per minute (log return).
    pub idio_vol: f64,
    /// Quoted spread in ticks.
    pub spread_ticks: u32,
    /// `market_event.warning` (investment warning).
    pub warning: bool,
    /// `market_event.caution` flags in [`CAUTION_KEYS`] order.
    pub caution: [bool; 5],
    /// Rotation group (0..4) used by the `breakout-rotation` scenario.
    pub group: usize,
}

/// The first `n` markets of the universe for `seed`. Index 0 is always KRW-BTC.
pub fn universe(n: usize, seed: u64) -> Vec<MarketSpec> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x00C0_FFEE));
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (code, ko, en, price, turnover) = if let Some(&(c, k, e, p, t)) = LISTINGS.get(i) {
            (c.to_owned(), k.to_owned(), e.to_owned(), p, t)
        } else {
            let code = format!("SYN{i:03}");
            let price = 10f64.powf(rng.gen_range(0.5..5.5));
            let turnover = 10f64.powf(rng.gen_range(5.7..6.7));
            (
                code.clone(),
                format!("합성코인{i:03}"),
                format!("Synthetic {code}"),
                price,
                turnover,
            )
        };
        let Ok(base) = Currency::parse("market", &code) else {
            continue;
        };
        let (beta, idio, spread) = match i {
            0 => (1.0, 0.0002, 1),
            1 => (1.1, 0.0005, 1),
            2..=4 => (rng.gen_range(1.15..1.4), rng.gen_range(0.0006..0.0010), 1),
            _ => (
                rng.gen_range(1.2..1.8),
                rng.gen_range(0.0007..0.0018),
                rng.gen_range(1..=3),
            ),
        };
        // A price level jitter of ±10 % keeps runs with different seeds apart.
        let jitter = rng.gen_range(0.9..1.1);
        let start_price = Decimal::from_f64(price * jitter).map_or(Decimal::ONE, snap_to_grid);
        let flagged = i >= 10;
        let warning = flagged && rng.gen_bool(0.03);
        let mut caution = [false; 5];
        if flagged && rng.gen_bool(0.08) {
            caution[rng.gen_range(0..5)] = true;
        }
        out.push(MarketSpec {
            market: Market::krw(&base),
            korean_name: ko,
            english_name: en,
            start_price,
            turnover_per_min: turnover,
            beta,
            idio_vol: idio,
            spread_ticks: spread,
            warning,
            caution,
            group: i % 4,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use domain::tick::is_on_tick;

    use super::*;

    #[test]
    fn btc_leads_and_codes_are_unique() {
        let u = universe(200, 42);
        assert_eq!(u.len(), 200);
        assert_eq!(u[0].market.as_str(), "KRW-BTC");
        assert!((u[0].beta - 1.0).abs() < f64::EPSILON);
        let mut codes: Vec<&str> = u.iter().map(|m| m.market.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 200);
        for m in &u {
            assert!(is_on_tick(m.start_price), "{}", m.market);
            assert!(m.spread_ticks >= 1);
        }
        assert_eq!(universe(200, 42), u, "deterministic");
    }
}
