"""No product module grows past 600 lines: past that, a module holds more than one kind of
thing (README "How a call becomes a pop": one module per concern). Migrations aside."""

from __future__ import annotations

from .imports import product_modules

MAX_LINES = 600


def test_no_product_module_is_over_600_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in product_modules().items()}
    large = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not large, f"over {MAX_LINES} lines: {large}"
