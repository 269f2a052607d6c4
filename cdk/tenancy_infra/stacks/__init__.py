"""The CDK stacks (these modules import aws_cdk; `tenancy_infra` itself and `topology` do not).

- `application.build_app`: the whole app (`cdk/app.py` and the infrastructure tests call it)
- `tenancy_stack.TenancyStack`: tables, bucket, bus, functions and their triggers, the control API
- `silo.SiloTenantStack`: one silo tenant's dedicated bucket and app table (a standalone template)
"""
