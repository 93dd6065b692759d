"""The stages of `green-gate check`, each a function from frozen inputs to a frozen result.

plan → measure (or paired) → baseline → decide → record → publish; gate.commands.check strings
them together, and docs/architecture.md draws the picture.
"""
