"""The CDK stacks (these modules import aws_cdk; `tenancy_infra` itself and `topology` do not).

- `application.build_app`: the whole app (`cdk/app.py` and the infrastructure tests call it)
- `tenancy_stack.TenancyStack`: composes one construct per concern (tables, storage, event_bus,
  silo_provisioning, identity, functions, tenant_access, control_api, app_api, reconciler) and
  grants.py, where each function's role gets what it needs
- `silo.SiloTenantStack`: one silo tenant's dedicated bucket and app table (a standalone template)
"""
