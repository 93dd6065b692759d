"""The budget file: its model, its loading and validation, and its JSON Schema."""
