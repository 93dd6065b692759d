"""MLflow as the store of runs: the run schema, the client, the spool, history rows."""
