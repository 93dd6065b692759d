"""Grid carbon intensity: its sources, their provenance, and the carbon-aware wait."""
