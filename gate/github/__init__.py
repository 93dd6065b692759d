"""GitHub: the run's context, the Actions runtime, the REST API."""
