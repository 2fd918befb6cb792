//! Trainer logic: labels, gates, TPE tuning, Thompson-sampling bandit, drift and rollback rules. Pure.
