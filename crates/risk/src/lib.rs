//! Risk engine: sizing, pre-trade checks PRE-1..8, runtime guard, kill switch; issues RiskApproved orders. Pure.
