//! Upbit REST + WebSocket client: JWT, rate limiter, typed errors, exact amounts. Read-only and order endpoints are split.
