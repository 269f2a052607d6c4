"""A tenant's datasets: CSV uploaded to its storage, imported to Parquet, previewed."""
