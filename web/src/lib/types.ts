// Shapes of the dashboard-api JSON (docs/api.md). Money is always a decimal string.

export type Mode = 'PAPER' | 'LIVE';
export type Level = 'INFO' | 'WARN' | 'CRITICAL';
export type ProfitRange = '24h' | '7d' | '30d' | 'all';

export interface Me {
  username: string;
  csrf_token: string;
}

export interface Regime {
  label: string;
  score: number;
  ts: string;
  age_secs: number;
  stale: boolean;
  inputs?: Record<string, number> | null;
}

export interface DashboardSummary {
  regime: Regime | null;
  traders: { total: number; paper: number; live: number; kill_switch?: number };
}

export interface ProfitPoint {
  ts: string;
  return_pct: number;
}

export interface ProfitSeries {
  trader_id: number;
  name: string;
  points: ProfitPoint[];
}

export interface ActionEvent {
  id: number;
  ts: string;
  trader_id: number | null;
  trader_name: string | null;
  level: Level;
  kind: string;
  message: string;
  data?: unknown;
}

export interface TraderStrategyRef {
  id: number;
  name: string;
  version: number;
}

export interface Trader {
  id: number;
  name: string;
  seed_krw: string;
  strategy: TraderStrategyRef;
  credential_id: number | null;
  mode: Mode;
  run_state: string;
  armed: boolean;
  profit_krw: string;
  profit_pct: number;
  alive: boolean;
  last_heartbeat_at: string | null;
  protection_until: string | null;
  created_at: string;
  /** The runtime guard and kill switch as the trader persisted them (RUN-4, STAB-1). */
  guard?: Guard;
}

export interface KillSwitchState {
  on: boolean;
  reason: string | null;
  since: string | null;
  liquidate: boolean;
}

export interface Guard {
  kill_switch: KillSwitchState;
  blocked_entries: { code: string; message: string }[];
  trading_day: string | null;
  daily_pnl_krw: string;
  daily_pnl_pct: number;
  daily_loss_limit_pct: number;
  consecutive_losses: number;
  consecutive_loss_limit: number;
  blacklist: { market: string; until: string }[];
  updated_at: string | null;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Strategy {
  id: number;
  name: string;
  risk_profile: string;
  version: number;
  definition: JsonObject;
  protection_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface StrategyVersion {
  version: number;
  definition: JsonObject;
  created_at: string;
  created_by: string | null;
}

export interface RiskProfile {
  id: string;
  name: string;
  params: JsonObject;
}

export interface Credential {
  id: number;
  name: string;
  access_key_masked: string;
  created_at: string;
  in_use_by: number[];
  check?: 'ok' | 'unreachable';
}
