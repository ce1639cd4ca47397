-- Spend per virtual key over the time range: requests, those the policy refused (401/403/412/429
-- before any attempt), cost, tokens and the fullest any of its budgets got. Requests without a key
-- come under '' (shown as "(no key)"), so the rows add up to the Cost stat. Exact for any range,
-- cheap for long ones: the days wholly inside the range come from the daily rollup llm_spend_1d
-- (one row per key and day), only the partial days at its two edges from llm_requests. The rollup
-- has no service, provider or model, so this panel is not filtered by them (refusals have no
-- provider or model anyway; the key names the caller).
WITH
    -- the first and last days wholly inside the range, in the server's time zone like the rollup's Day
    if(toStartOfDay($__fromTime) = $__fromTime, toDate($__fromTime), toDate($__fromTime) + 1) AS first_day,
    toDate($__toTime) - 1 AS last_day
SELECT
    VirtualKey AS virtual_key,
    sum(Requests) AS requests,
    sum(Refused) AS refused,
    sum(CostUSD) AS cost_usd,
    sum(InputTokens) AS input_tokens,
    sum(OutputTokens) AS output_tokens,
    max(MaxBudgetUsage) AS peak_budget_usage
FROM (
    SELECT VirtualKey, Requests, Refused, CostUSD, InputTokens, OutputTokens, MaxBudgetUsage
    FROM llm_spend_1d
    WHERE Day >= first_day AND Day <= last_day
    UNION ALL
    SELECT
        VirtualKey,
        1 AS Requests,
        Attempts = 0 AND HttpStatus IN (401, 403, 412, 429) AS Refused,
        CostUSD, InputTokens, OutputTokens,
        BudgetUsage AS MaxBudgetUsage
    FROM llm_requests
    WHERE $__timeFilter(Timestamp)
      AND (Timestamp < toDateTime(first_day) OR Timestamp >= toDateTime(last_day + 1))
)
GROUP BY virtual_key
ORDER BY cost_usd DESC, requests DESC, virtual_key
