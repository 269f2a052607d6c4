"""Card execution over datasets: permission, rows read as the tenant, the result cache, the executor."""
