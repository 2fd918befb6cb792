//! Regime Engine v1.0: six inputs to a label and a regime_score (REG-1..4). Pure.
