"""Stack floors: a function's bare-boto3 baseline wrapped in only the Powertools features and the
pydantic validation that the function's conventions require, before any of Tenancy's own code.

Each module's `floor(baseline_handler)` returns the floor's handler; `bench/cold.py floor
<features>:<function>` imports both and serves the first event through it. Every floor has `core`
(Powertools Logger and Metrics decorators, one pydantic model validated); the others add:

- `api`: the REST event handler with validation (`APIGatewayRestResolver(enable_validation=True)`,
  a route with a validated path parameter), as tenant_api and app_api use it;
- `batch`: the batch utility on DynamoDB stream records (`BatchProcessor`, `process_partial_response`,
  the record's data class and its deserialized image), as the provisioning stream consumer uses it;
- `parser`: the parser's EventBridge model (`EventBridgeModel` subclass validating the event), as
  the rule consumers tenant_provisioner and provisioning_completion use it.

No floor has the Tracer: the figures are with tracing off, where Tenancy never imports the X-Ray SDK.
"""
