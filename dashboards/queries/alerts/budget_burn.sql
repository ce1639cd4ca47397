-- How full the fullest budget of each virtual key is: the largest switchyard.budget.usage (used +
-- reserved over the limit, to 4 decimals as the sidecar writes it) its requests saw in the rule's
-- window (5 minutes). A request refused for an exhausted budget (412 before any attempt) reserves
-- nothing and carries no usage: it counts as 1 (full), so the rule keeps firing while the key is
-- locked out. Requests without a key (config or metadata budgets) come under '(no key)'.
SELECT
    if(VirtualKey = '', '(no key)', VirtualKey) AS virtual_key,
    round(toFloat64(max(if(Attempts = 0 AND HttpStatus = 412, 1, BudgetUsage))), 4) AS budget_usage
FROM llm_requests
WHERE $__timeFilter(Timestamp)
GROUP BY virtual_key
