//! The read-only REST clients.
//!
//! [`UpbitRawClient`](crate::http::client::UpbitRawClient) maps each endpoint to its wire model; [`UpbitClient`](crate::http::client::UpbitClient)
//! returns domain types (exact decimals, UTC instants, KRW markets) and adds
//! the candle backfill that pages through any span 200 candles at a time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Currency, Market, ValidationError};
use runtime::SharedClock;
use rust_decimal::Decimal;

use crate::{
    common::enums::CandleInterval,
    http::{
        error::UpbitError,
        models::{
            AccountWire, CandleWire, InstrumentWire, MarketWire, OrderbookWire, TickerWire,
            TradeTickWire,
        },
        parse,
        query::{
            CandleQuery, MAX_CANDLES_PER_REQUEST, MAX_ORDERBOOK_LEVELS, Params, TradesQuery,
            join_markets,
        },
        rate_limit::RateGroup,
        transport::{ApiRequest, HttpConfig, UpbitTransport},
    },
    model::{Balance, Candle, Instrument, MarketListing, Orderbook, Ticker, Trade},
};

/// Endpoint-shaped calls returning wire models.
#[derive(Debug, Clone)]
pub struct UpbitRawClient {
    transport: UpbitTransport,
}

impl UpbitRawClient {
    /// Wraps a transport.
    pub fn new(transport: UpbitTransport) -> Self {
        Self { transport }
    }

    /// The transport.
    pub fn transport(&self) -> &UpbitTransport {
        &self.transport
    }

    /// `GET /v1/market/all`.
    pub async fn market_all(&self, is_details: bool) -> Result<Vec<MarketWire>, UpbitError> {
        let req = ApiRequest::get("/v1/market/all", RateGroup::Market)
            .params(Params::new().push_opt("is_details", is_details.then_some(true)));
        self.transport.request(&req).await
    }

    /// `GET /v1/candles/{interval}` (newest first, as sent).
    pub async fn candles(
        &self,
        interval: CandleInterval,
        query: &CandleQuery,
    ) -> Result<Vec<CandleWire>, UpbitError> {
        let req =
            ApiRequest::get(&interval.rest_path(), RateGroup::Candles).params(query.to_params()?);
        self.transport.request(&req).await
    }

    /// `GET /v1/ticker?markets=…`.
    pub async fn ticker(&self, markets: &[Market]) -> Result<Vec<TickerWire>, UpbitError> {
        let req = ApiRequest::get("/v1/ticker", RateGroup::Ticker)
            .params(Params::new().push("markets", join_markets(markets)?));
        self.transport.request(&req).await
    }

    /// `GET /v1/ticker/all?quote_currencies=…`.
    pub async fn ticker_all(
        &self,
        quote_currencies: &[Currency],
    ) -> Result<Vec<TickerWire>, UpbitError> {
        if quote_currencies.is_empty() {
            return Err(ValidationError::new(
                "quote_currencies",
                "at least one quote currency is required",
            )
            .into());
        }
        let joined = quote_currencies
            .iter()
            .map(Currency::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let req = ApiRequest::get("/v1/ticker/all", RateGroup::Ticker)
            .params(Params::new().push("quote_currencies", joined));
        self.transport.request(&req).await
    }

    /// `GET /v1/orderbook?markets=…` with optional depth (1–30) and level.
    pub async fn orderbook(
        &self,
        markets: &[Market],
        count: Option<u8>,
        level: Option<Decimal>,
    ) -> Result<Vec<OrderbookWire>, UpbitError> {
        if let Some(c) = count
            && (c == 0 || c > MAX_ORDERBOOK_LEVELS)
        {
            return Err(ValidationError::new(
                "count",
                format!("must be 1-{MAX_ORDERBOOK_LEVELS}, got {c}"),
            )
            .into());
        }
        let req = ApiRequest::get("/v1/orderbook", RateGroup::Orderbook).params(
            Params::new()
                .push("markets", join_markets(markets)?)
                .push_opt("count", count)
                .push_opt("level", level),
        );
        self.transport.request(&req).await
    }

    /// `GET /v1/orderbook/instruments?markets=…`.
    pub async fn orderbook_instruments(
        &self,
        markets: &[Market],
    ) -> Result<Vec<InstrumentWire>, UpbitError> {
        let req = ApiRequest::get("/v1/orderbook/instruments", RateGroup::Orderbook)
            .params(Params::new().push("markets", join_markets(markets)?));
        self.transport.request(&req).await
    }

    /// `GET /v1/trades/ticks`.
    pub async fn trades_ticks(
        &self,
        query: &TradesQuery,
    ) -> Result<Vec<TradeTickWire>, UpbitError> {
        let req = ApiRequest::get("/v1/trades/ticks", RateGroup::Trade).params(query.to_params()?);
        self.transport.request(&req).await
    }

    /// `GET /v1/accounts` (signed).
    pub async fn accounts(&self) -> Result<Vec<AccountWire>, UpbitError> {
        let req = ApiRequest::get("/v1/accounts", RateGroup::Default).signed();
        self.transport.request(&req).await
    }
}

/// Calls returning domain types.
#[derive(Debug, Clone)]
pub struct UpbitClient {
    raw: UpbitRawClient,
}

fn decode_err(context: &str) -> impl Fn(ValidationError) -> UpbitError + '_ {
    move |e| UpbitError::decode(context, e.to_string())
}

impl UpbitClient {
    /// Wraps a transport.
    pub fn new(transport: UpbitTransport) -> Self {
        Self {
            raw: UpbitRawClient::new(transport),
        }
    }

    /// A public (unsigned) client from a configuration.
    pub fn from_config(config: HttpConfig, clock: SharedClock) -> Result<Self, UpbitError> {
        UpbitTransport::new(config, clock).map(Self::new)
    }

    /// The raw client.
    pub fn raw(&self) -> &UpbitRawClient {
        &self.raw
    }

    /// The transport.
    pub fn transport(&self) -> &UpbitTransport {
        self.raw.transport()
    }

    /// KRW markets (other quote markets are skipped, FIX-1). With
    /// `with_details`, warning and caution flags are filled in.
    pub async fn krw_markets(&self, with_details: bool) -> Result<Vec<MarketListing>, UpbitError> {
        let wire = self.raw.market_all(with_details).await?;
        let mut out = Vec::with_capacity(wire.len());
        for w in &wire {
            if let Some(m) = parse::market_listing(w).map_err(decode_err("market/all"))? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Up to `count` (1–200) candles starting before `to` (exclusive; `None`
    /// = latest, including the open candle), **oldest first**.
    pub async fn candles(
        &self,
        market: &Market,
        interval: CandleInterval,
        to: Option<DateTime<Utc>>,
        count: u16,
    ) -> Result<Vec<Candle>, UpbitError> {
        let query = CandleQuery {
            market: market.clone(),
            to,
            count,
        };
        let wire = self.raw.candles(interval, &query).await?;
        let mut out = wire
            .iter()
            .map(|w| parse::candle(w, interval))
            .collect::<Result<Vec<_>, _>>()
            .map_err(decode_err("candles"))?;
        if out.iter().any(|c| &c.market != market) {
            return Err(UpbitError::decode(
                "candles",
                "response holds another market",
            ));
        }
        out.sort_by_key(|c| c.open_time);
        Ok(out)
    }

    /// Every candle with `start <= open_time < end`, oldest first, paging
    /// backwards from `end` 200 candles per request (respecting the rate
    /// limit). Intervals without trades have no candle (gaps stay gaps).
    pub async fn candles_between(
        &self,
        market: &Market,
        interval: CandleInterval,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Candle>, UpbitError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let mut out = self
            .page_back(market, interval, Some(end), Some(start), None)
            .await?;
        out.retain(|c| c.open_time >= start && c.open_time < end);
        Ok(out)
    }

    /// The latest `count` candles (any number) before `to` (`None` = now,
    /// including the open candle), oldest first.
    pub async fn latest_candles(
        &self,
        market: &Market,
        interval: CandleInterval,
        count: usize,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<Candle>, UpbitError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut out = self
            .page_back(market, interval, to, None, Some(count))
            .await?;
        let excess = out.len().saturating_sub(count);
        out.drain(..excess);
        Ok(out)
    }

    async fn page_back(
        &self,
        market: &Market,
        interval: CandleInterval,
        end: Option<DateTime<Utc>>,
        start: Option<DateTime<Utc>>,
        want: Option<usize>,
    ) -> Result<Vec<Candle>, UpbitError> {
        let mut by_time: BTreeMap<DateTime<Utc>, Candle> = BTreeMap::new();
        let mut to = end;
        loop {
            let page = self
                .candles(market, interval, to, MAX_CANDLES_PER_REQUEST)
                .await?;
            let Some(oldest) = page.first().map(|c| c.open_time) else {
                break;
            };
            if let Some(prev) = to
                && page.iter().any(|c| c.open_time >= prev)
            {
                return Err(UpbitError::decode(
                    "candles",
                    format!(
                        "candles at or after `to` = {prev} returned; paging would not progress"
                    ),
                ));
            }
            let full_page = page.len() >= usize::from(MAX_CANDLES_PER_REQUEST);
            for c in page {
                by_time.insert(c.open_time, c);
            }
            let reached_start = start.is_some_and(|s| oldest <= s);
            let have_enough = want.is_some_and(|n| by_time.len() >= n);
            if reached_start || have_enough || !full_page {
                break;
            }
            to = Some(oldest);
        }
        Ok(by_time.into_values().collect())
    }

    /// Tickers of `markets`.
    pub async fn tickers(&self, markets: &[Market]) -> Result<Vec<Ticker>, UpbitError> {
        let wire = self.raw.ticker(markets).await?;
        wire.iter()
            .map(parse::ticker)
            .collect::<Result<_, _>>()
            .map_err(decode_err("ticker"))
    }

    /// Order books of `markets`, `count` levels (default 30).
    pub async fn orderbooks(
        &self,
        markets: &[Market],
        count: Option<u8>,
    ) -> Result<Vec<Orderbook>, UpbitError> {
        let wire = self.raw.orderbook(markets, count, None).await?;
        wire.iter()
            .map(parse::orderbook)
            .collect::<Result<_, _>>()
            .map_err(decode_err("orderbook"))
    }

    /// The order book of one market.
    pub async fn orderbook(&self, market: &Market) -> Result<Orderbook, UpbitError> {
        self.orderbooks(std::slice::from_ref(market), None)
            .await?
            .into_iter()
            .find(|o| &o.market == market)
            .ok_or_else(|| UpbitError::decode("orderbook", format!("no order book for {market}")))
    }

    /// Instrument info (tick sizes) of `markets`.
    pub async fn instruments(&self, markets: &[Market]) -> Result<Vec<Instrument>, UpbitError> {
        let wire = self.raw.orderbook_instruments(markets).await?;
        wire.iter()
            .map(parse::instrument)
            .collect::<Result<_, _>>()
            .map_err(decode_err("orderbook/instruments"))
    }

    /// Recent trades (newest first, as sent).
    pub async fn trades(&self, query: &TradesQuery) -> Result<Vec<Trade>, UpbitError> {
        let wire = self.raw.trades_ticks(query).await?;
        wire.iter()
            .map(parse::trade)
            .collect::<Result<_, _>>()
            .map_err(decode_err("trades/ticks"))
    }

    /// Account balances (signed; needs a credential on the transport). Also
    /// the way to validate a credential: an `Auth`/`Permission` error means
    /// the key is wrong, expired, IP-restricted or lacks "View Account".
    pub async fn accounts(&self) -> Result<Vec<Balance>, UpbitError> {
        let wire = self.raw.accounts().await?;
        wire.iter()
            .map(parse::balance)
            .collect::<Result<_, _>>()
            .map_err(decode_err("accounts"))
    }
}
