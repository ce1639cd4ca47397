export {
  gcraCheck,
  gcraTake,
  gcraAdjust,
  gcraTtlMs,
  type GcraState,
  type GcraParams,
  type GcraDecision,
} from './gcra.js';
export { budgetWindow, isBudgetPeriod, BUDGET_PERIODS, type BudgetPeriod, type BudgetWindow } from './windows.js';
export { usdToMicros, usdToMicrosCeil, microsToUsd, MICRO_USD_PER_USD } from './money.js';
