"""How values read for people, on every surface."""

from __future__ import annotations

import pytest

from bot.core.display import freshness


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (0, "live"),
        (0.4, "cached just now"),
        (12, "cached 12 s ago"),
        (119.4, "cached 119 s ago"),
        (180, "cached 3 min ago"),
    ],
)
def test_freshness(age, text):
    assert freshness(age) == text
