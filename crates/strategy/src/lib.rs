//! Score-Strategy: screener, score modules, aggregator, strategy definitions (STR-1..8). Pure.
