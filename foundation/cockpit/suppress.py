"""Suppression of a published table (脱敏), by construction: the district's schools × categories with each
school's total (the row totals), the district's total of each category (the column totals) and the grand
total. A count from 1 to 4 is hidden (primary suppression); then more cells are hidden until no hidden cell
can be worked out from the published ones (complementary suppression):

- in every line (a school's row with its total, a category's column with the district's total) that hides a
  cell, at least two are hidden, or subtracting the others from the total would give it back;
- and no hidden cell is a *bridge* of the hidden cells' graph (rows and columns as vertices, hidden cells as
  edges): every hidden cell lies on a cycle of hidden cells, so adding 1 and taking 1 in turn round the
  cycle keeps every published total, and the cell's value cannot be pinned.

Totals are cells like the others here (a school's total under 5 is hidden too). The table is seen with its
margins as one (R+1)×(C+1) table whose every row and column sums to zero once the margins change sign, so
the same two rules hold for inner cells and totals alike. Complementary cells are the smallest ones holding
someone, inner cells before totals (a hidden empty cell could only grow, which gives the direction away).
tests/test_cockpit_suppression.py tries to recover each hidden cell by linear programming and fails.
"""
from __future__ import annotations

from collections.abc import Iterable

MIN_CELL = 5
Cell = tuple[int, int]


def margins(matrix: list[list[int]]) -> list[list[int]]:
    """The table with its row totals (last column), column totals (last row) and grand total."""
    cols = len(matrix[0]) if matrix else 0
    rows = [list(r) + [sum(r)] for r in matrix]
    rows.append([sum(r[j] for r in rows) for j in range(cols + 1)])
    return rows


def protect(matrix: list[list[int]], min_cell: int = MIN_CELL) -> set[Cell]:
    """The cells to hide in ``matrix`` published with its margins, as (row, column) of the table with margins
    (row ``len(matrix)`` is the column totals, column ``len(matrix[0])`` the row totals)."""
    full = margins(matrix)
    if not full or not full[0]:
        return set()
    n_rows, n_cols = len(full), len(full[0])
    hidden = {(i, j) for i in range(n_rows) for j in range(n_cols) if 0 < full[i][j] < min_cell}
    while True:
        added = _lines(full, hidden) or _bridge(full, hidden)
        if not added:
            return hidden


def _rank(full: list[list[int]], cell: Cell) -> tuple:
    """Which candidate to hide first: someone in it, an inner cell, the smallest, then the first."""
    i, j = cell
    inner = i < len(full) - 1 and j < len(full[0]) - 1
    return (full[i][j] == 0, not inner, full[i][j], i, j)


def _pick(full: list[list[int]], hidden: set[Cell], candidates: Iterable[Cell]) -> Cell | None:
    free = [c for c in candidates if c not in hidden]
    return min(free, key=lambda c: _rank(full, c)) if free else None


def _lines(full: list[list[int]], hidden: set[Cell]) -> bool:
    """Hide one more cell in each line that hides exactly one. True when something was added."""
    n_rows, n_cols = len(full), len(full[0])
    added = False
    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + \
            [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    for line in lines:
        if sum(c in hidden for c in line) == 1:
            cell = _pick(full, hidden, line)
            if cell is not None:
                hidden.add(cell)
                added = True
    return added


def _component(edges: set[Cell], start: tuple[str, int]) -> set[tuple[str, int]]:
    adj: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for i, j in edges:
        adj.setdefault(("r", i), []).append(("c", j))
        adj.setdefault(("c", j), []).append(("r", i))
    seen, todo = {start}, [start]
    while todo:
        for nxt in adj.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _bridge(full: list[list[int]], hidden: set[Cell]) -> bool:
    """Put the first bridge of the hidden cells on a cycle: hide a cell joining the two sides it separates
    (a row of the column's side with a column of the row's side). True when something was added."""
    for i, j in sorted(hidden):
        rest = hidden - {(i, j)}
        side_a = _component(rest, ("r", i))
        if ("c", j) in side_a:
            continue  # on a cycle already
        side_b = _component(rest, ("c", j))
        rows_b = [k for kind, k in side_b if kind == "r"]
        cols_a = [k for kind, k in side_a if kind == "c"]
        cell = _pick(full, hidden, [(r, c) for r in rows_b for c in cols_a])
        if cell is not None:
            hidden.add(cell)
            return True
    return False
