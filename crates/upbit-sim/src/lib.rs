//! A faithful Upbit simulator: REST + WebSocket server, matching engine, accounts, faults, replay and synthetic markets.
