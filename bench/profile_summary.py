"""Summaries of py-spy profiles (``py-spy record -f raw``: one collapsed stack per line).

``inclusive(path)`` gives, for each function, the share of samples in which it is on the
stack; ``python bench/profile_summary.py FILE [N]`` prints the top N.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def _name(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function file.py"
    func, _, where = frame.partition(" (")
    filename = where.split(":")[0].rsplit("/", 1)[-1]
    return f"{func} {filename}".strip()


def inclusive(path: Path) -> tuple[int, Counter]:
    total = 0
    counts: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        total += int(n)
        for name in {_name(frame) for frame in stack.split(";")}:
            counts[name] += int(n)
    return total, counts


def top(path: Path, n: int = 40, contains: str = "") -> list[tuple[str, float]]:
    total, counts = inclusive(path)
    rows = [(name, round(100 * c / total, 1)) for name, c in counts.most_common()
            if contains in name]
    return rows[:n]


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, share in top(target, int(sys.argv[2]) if len(sys.argv) > 2 else 40):
        print(f"{share:5.1f}%  {name}")
