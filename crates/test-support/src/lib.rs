//! Test helpers: start the simulator, a fake Telegram, per-test databases, fixture builders.
