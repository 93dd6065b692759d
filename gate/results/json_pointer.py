"""Any JSON file, read with JSON Pointers (RFC 6901): `/stats/tokens`, `/results/0/accuracy`."""

from __future__ import annotations

from gate.errors import quoted
from gate.results.model import fail, load_json, number

TOOL = "the JSON file"


def pointer_problem(pointer: str) -> str | None:
    """Why `pointer` is not a JSON Pointer, or None."""
    if pointer and not pointer.startswith("/"):
        return "a JSON Pointer starts with '/' (e.g. /stats/tokens), or is empty for the whole document"
    for token in pointer.split("/")[1:]:
        rest = token.replace("~0", "").replace("~1", "")
        if "~" in rest:
            return "'~' in a JSON Pointer is written ~0, and '/' inside a key ~1"
    return None


def resolve(document: object, pointer: str, source: str) -> float:
    """The finite number at `pointer` in `document`; an error naming the pointer when there is none."""
    current = document
    walked = ""
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        walked += "/" + raw
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise fail(
                source,
                f"field {pointer!r} is missing (nothing at {walked!r})",
                "check the JSON Pointer in the budget's `results:` against the file the benchmark writes",
            )
    value = number(current)
    if value is None:
        raise fail(source, f"field {pointer!r} is {quoted(current)}, not a number", "point at a plain JSON number")
    return value


def parse_document(text: str, source: str) -> object:
    return load_json(text, source, TOOL)
