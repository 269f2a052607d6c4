"""A tenant's own secrets (credentials for outside services): values in Secrets Manager under
`/<app>/<stage>/tenants/<tenantId>/<name>`, reached only with the tenant's scoped credentials;
metadata (never a value) in the tenant's partition, for listing and the audit trail."""
