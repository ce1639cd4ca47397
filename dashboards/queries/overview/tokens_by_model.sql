-- Input and output tokens per answering model.
SELECT
    $__timeInterval(Timestamp) AS time,
    Model AS model,
    sum(InputTokens) AS input_tokens,
    sum(OutputTokens) AS output_tokens
FROM llm_requests
WHERE $__timeFilter(Timestamp) AND Model != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY time, model
ORDER BY time, model
