//! Upbit wire enums: candle intervals (REST path, WebSocket type, length),
//! price-change direction, stream type and the taker side of a trade.

use std::{fmt, str::FromStr};

use chrono::Duration;
use domain::{Side, ValidationError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minute-candle units Upbit supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MinuteUnit {
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 10 minutes.
    M10,
    /// 15 minutes.
    M15,
    /// 30 minutes.
    M30,
    /// 60 minutes.
    M60,
    /// 240 minutes.
    M240,
}

impl MinuteUnit {
    /// Every unit, ascending.
    pub const ALL: [Self; 8] = [
        Self::M1,
        Self::M3,
        Self::M5,
        Self::M10,
        Self::M15,
        Self::M30,
        Self::M60,
        Self::M240,
    ];

    /// The number of minutes.
    pub const fn minutes(self) -> u32 {
        match self {
            Self::M1 => 1,
            Self::M3 => 3,
            Self::M5 => 5,
            Self::M10 => 10,
            Self::M15 => 15,
            Self::M30 => 30,
            Self::M60 => 60,
            Self::M240 => 240,
        }
    }

    /// The unit for a number of minutes, if Upbit supports it.
    pub fn from_minutes(m: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.minutes() == m)
    }
}

/// A candle interval: the REST path, the WebSocket type and the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandleInterval {
    /// 1-second candles (REST keeps only the last 3 months).
    Seconds,
    /// Minute candles of the given unit.
    Minutes(MinuteUnit),
    /// Day candles (00:00 UTC).
    Days,
    /// Week candles (Monday 00:00 UTC).
    Weeks,
    /// Month candles (the 1st, 00:00 UTC).
    Months,
    /// Year candles.
    Years,
}

impl CandleInterval {
    /// Shorthand for minute candles.
    pub const fn minutes(unit: MinuteUnit) -> Self {
        Self::Minutes(unit)
    }

    /// The REST path of this interval's candle endpoint.
    pub fn rest_path(self) -> String {
        match self {
            Self::Seconds => "/v1/candles/seconds".to_owned(),
            Self::Minutes(u) => format!("/v1/candles/minutes/{}", u.minutes()),
            Self::Days => "/v1/candles/days".to_owned(),
            Self::Weeks => "/v1/candles/weeks".to_owned(),
            Self::Months => "/v1/candles/months".to_owned(),
            Self::Years => "/v1/candles/years".to_owned(),
        }
    }

    /// The WebSocket type (`candle.1m`, …); only seconds and minutes stream.
    pub fn ws_type(self) -> Option<String> {
        match self {
            Self::Seconds => Some("candle.1s".to_owned()),
            Self::Minutes(u) => Some(format!("candle.{}m", u.minutes())),
            _ => None,
        }
    }

    /// The interval of a WebSocket type such as `candle.5m`.
    pub fn from_ws_type(ty: &str) -> Option<Self> {
        let rest = ty.strip_prefix("candle.")?;
        if rest == "1s" {
            return Some(Self::Seconds);
        }
        let m: u32 = rest.strip_suffix('m')?.parse().ok()?;
        MinuteUnit::from_minutes(m).map(Self::Minutes)
    }

    /// The fixed length of one candle; `None` for months and years.
    pub fn length(self) -> Option<Duration> {
        match self {
            Self::Seconds => Some(Duration::seconds(1)),
            Self::Minutes(u) => Some(Duration::minutes(i64::from(u.minutes()))),
            Self::Days => Some(Duration::days(1)),
            Self::Weeks => Some(Duration::weeks(1)),
            Self::Months | Self::Years => None,
        }
    }

    /// Short name: `1s`, `1m` … `240m`, `1d`, `1w`, `1mo`, `1y`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seconds => "1s",
            Self::Minutes(MinuteUnit::M1) => "1m",
            Self::Minutes(MinuteUnit::M3) => "3m",
            Self::Minutes(MinuteUnit::M5) => "5m",
            Self::Minutes(MinuteUnit::M10) => "10m",
            Self::Minutes(MinuteUnit::M15) => "15m",
            Self::Minutes(MinuteUnit::M30) => "30m",
            Self::Minutes(MinuteUnit::M60) => "60m",
            Self::Minutes(MinuteUnit::M240) => "240m",
            Self::Days => "1d",
            Self::Weeks => "1w",
            Self::Months => "1mo",
            Self::Years => "1y",
        }
    }
}

impl fmt::Display for CandleInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CandleInterval {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "1s" => Ok(Self::Seconds),
            "1d" => Ok(Self::Days),
            "1w" => Ok(Self::Weeks),
            "1mo" => Ok(Self::Months),
            "1y" => Ok(Self::Years),
            _ => s
                .strip_suffix('m')
                .and_then(|m| m.parse().ok())
                .and_then(MinuteUnit::from_minutes)
                .map(Self::Minutes)
                .ok_or_else(|| {
                    ValidationError::new(
                        "interval",
                        format!(
                            "unknown candle interval {s:?}; expected 1s, 1m, 3m, 5m, 10m, 15m, 30m, 60m, 240m, 1d, 1w, 1mo or 1y"
                        ),
                    )
                }),
        }
    }
}

impl Serialize for CandleInterval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CandleInterval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Direction of the price versus the previous close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Change {
    /// Above the previous close.
    Rise,
    /// Equal to it.
    Even,
    /// Below it.
    Fall,
}

/// WebSocket message origin: the initial snapshot or a realtime update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StreamType {
    /// Initial snapshot after subscribing.
    Snapshot,
    /// Realtime update.
    Realtime,
}

/// Parses Upbit's `ask_bid` (`ASK`/`BID`, any case) into a [`Side`]. For a
/// public trade it is the **taker's** side: `BID` means a buyer took the ask.
pub fn parse_ask_bid(field: &str, raw: &str) -> Result<Side, ValidationError> {
    if raw.eq_ignore_ascii_case("bid") {
        Ok(Side::Bid)
    } else if raw.eq_ignore_ascii_case("ask") {
        Ok(Side::Ask)
    } else {
        Err(ValidationError::new(
            field,
            format!("expected ASK or BID, got {raw:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_paths_names_and_ws_types() {
        for (iv, path, name, ws) in [
            (
                CandleInterval::Minutes(MinuteUnit::M1),
                "/v1/candles/minutes/1",
                "1m",
                Some("candle.1m"),
            ),
            (
                CandleInterval::Minutes(MinuteUnit::M240),
                "/v1/candles/minutes/240",
                "240m",
                Some("candle.240m"),
            ),
            (
                CandleInterval::Seconds,
                "/v1/candles/seconds",
                "1s",
                Some("candle.1s"),
            ),
            (CandleInterval::Days, "/v1/candles/days", "1d", None),
            (CandleInterval::Weeks, "/v1/candles/weeks", "1w", None),
            (CandleInterval::Months, "/v1/candles/months", "1mo", None),
            (CandleInterval::Years, "/v1/candles/years", "1y", None),
        ] {
            assert_eq!(iv.rest_path(), path);
            assert_eq!(iv.as_str(), name);
            assert_eq!(name.parse::<CandleInterval>().unwrap(), iv);
            assert_eq!(iv.ws_type().as_deref(), ws);
            if let Some(ws) = ws {
                assert_eq!(CandleInterval::from_ws_type(ws), Some(iv));
            }
        }
        for u in MinuteUnit::ALL {
            let iv = CandleInterval::Minutes(u);
            assert_eq!(iv.as_str().parse::<CandleInterval>().unwrap(), iv);
            assert_eq!(iv.length().unwrap().num_minutes(), i64::from(u.minutes()));
        }
        assert!("2m".parse::<CandleInterval>().is_err());
        assert_eq!(CandleInterval::from_ws_type("candle.2m"), None);
        assert_eq!(CandleInterval::from_ws_type("ticker"), None);
        assert_eq!(CandleInterval::Months.length(), None);
    }

    #[test]
    fn ask_bid() {
        assert_eq!(parse_ask_bid("ask_bid", "BID").unwrap(), Side::Bid);
        assert_eq!(parse_ask_bid("ask_bid", "ask").unwrap(), Side::Ask);
        assert_eq!(parse_ask_bid("ask_bid", "X").unwrap_err().field, "ask_bid");
    }
}
