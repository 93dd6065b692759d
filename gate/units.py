"""Unit conversions and SI prefixes, in one place. Pure."""

from __future__ import annotations

J_PER_KWH = 3_600_000.0


def j_to_kwh(energy_j: float) -> float:
    return energy_j / J_PER_KWH


def kwh_to_j(energy_kwh: float) -> float:
    return energy_kwh * J_PER_KWH


def emissions_g(energy_kwh: float, intensity_g_per_kwh: float, pue: float = 1.0) -> float:
    """Grams of CO2-equivalent for `energy_kwh` drawn at the IT load, scaled by the site PUE."""
    return energy_kwh * pue * intensity_g_per_kwh


# Units the report writes with an SI prefix (kWh has its own scale and stays as it is).
SI_PREFIXED_UNITS = frozenset({"J", "W", "g", "s"})
_SI_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))


def si_prefix(value: float) -> tuple[float, str] | None:
    """(scale, prefix) of the largest SI prefix whose scale `value` reaches: 0.01234 -> (1e-3, 'm').

    Within 0.05%, so that a value shown to 4 significant digits reads 1 k rather than 1000 (999.96).
    None for 0 and below nano.
    """
    magnitude = abs(value)
    for scale, prefix in _SI_PREFIXES:
        if magnitude >= scale * 0.9995:
            return scale, prefix
    return None


# What a benchmark counts: the word its J-per-item figure is read in ("J per token"). The metric keeps
# one stable name, energy_per_prediction_j, whatever the word, so a benchmark's history survives a rename.
DEFAULT_ITEM_UNIT = "prediction"
PER_ITEM_METRIC = "energy_per_prediction_j"


def plural(word: str) -> str:
    """The English plural of a count noun: token -> tokens, batch -> batches, query -> queries."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return f"{word}es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return f"{word[:-1]}ies"
    return f"{word}s"


def metric_label(metric: str, label: str, item_unit: str = DEFAULT_ITEM_UNIT) -> str:
    """The metric's label with the benchmark's item word: 'Energy per prediction' -> 'Energy per token'."""
    if metric == PER_ITEM_METRIC and item_unit != DEFAULT_ITEM_UNIT:
        return f"Energy per {item_unit}"
    return label
