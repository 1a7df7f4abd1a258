"""The district's published tables cannot give a hidden cell back. An attacker holds everything a cockpit
publishes for a sensitive figure — each school's visible cells and total, the district's total of each
category and the grand total — and bounds every hidden cell by linear programming (scipy's linprog, the
smallest and the largest value the published totals allow, cells non-negative). The constraints are those of
a table with margins (a transportation polytope, whose vertices are integral), so the LP bounds are the
integer bounds: a hidden cell is recovered exactly when its two bounds meet. None may."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from foundation.cockpit.pipeline import Spec, district_table
from foundation.cockpit.suppress import MIN_CELL, margins, protect


def _spec() -> Spec:
    return Spec(key="t.levels", plugin="t", title={"zh": "t"}, unit="students", sensitive=True, tile="wellbeing",
                chart="bar", periods=False, keep_intervals=False, compute=lambda s, i: [], caps=())


class _Row:
    def __init__(self, cells):
        self.cells = cells


def publish(matrix: list[list[int]]) -> dict:
    """What the cockpit publishes for ``matrix`` (schools × levels), through the real pipeline."""
    schools = [(i + 1, f"school {i + 1}") for i in range(len(matrix))]
    rows = {("t.levels", sid): _Row([{"group": {"level": f"L{j}"}, "count": n} for j, n in enumerate(r)])
            for (sid, _), r in zip(schools, matrix, strict=True)}
    return district_table(_spec(), schools, rows, "zh")


def published_grid(table: dict) -> list[list[int | None]]:
    """The table with margins as the attacker reads it: None where hidden."""
    grid = [[c["count"] for c in r["cells"]] + [r["total"]] for r in table["rows"]]
    grid.append([c["count"] for c in table["foot"]["cells"]] + [table["foot"]["total"]])
    return grid


def attack(grid: list[list[int | None]]) -> dict[tuple[int, int], tuple[float, float]]:
    """Each hidden cell's smallest and largest value consistent with everything published."""
    n_rows, n_cols = len(grid), len(grid[0])
    hidden = [(i, j) for i in range(n_rows) for j in range(n_cols) if grid[i][j] is None]
    if not hidden:
        return {}
    var = {cell: k for k, cell in enumerate(hidden)}
    eqs, rhs = [], []

    def line(cells: list[tuple[int, int]], total: tuple[int, int]) -> None:
        a, b = np.zeros(len(hidden)), 0.0
        for cell, sign in [(c, 1.0) for c in cells] + [(total, -1.0)]:
            if cell in var:
                a[var[cell]] += sign
            else:
                b -= sign * grid[cell[0]][cell[1]]
        eqs.append(a)
        rhs.append(b)

    for i in range(n_rows):
        line([(i, j) for j in range(n_cols - 1)], (i, n_cols - 1))
    for j in range(n_cols):
        line([(i, j) for i in range(n_rows - 1)], (n_rows - 1, j))
    a_eq, b_eq = np.array(eqs), np.array(rhs)
    bounds = {}
    for cell, k in var.items():
        c = np.zeros(len(hidden))
        c[k] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
        bounds[cell] = (low.fun, -high.fun if high.status == 0 else float("inf"))  # 3: no upper bound at all
    return bounds


def assert_safe(matrix: list[list[int]]) -> int:
    """Publish ``matrix``, attack it; returns how many cells were hidden."""
    table = publish(matrix)
    grid, truth = published_grid(table), margins(matrix)
    for i, row in enumerate(grid):  # every published cell is what it is, and none under 5 is shown
        for j, v in enumerate(row):
            if v is not None:
                assert v == truth[i][j] and not 0 < v < MIN_CELL, (i, j, v)
    for (i, j), (low, high) in attack(grid).items():
        assert low <= truth[i][j] + 1e-6 and truth[i][j] <= high + 1e-6
        assert high - low >= 1 - 1e-6, f"cell {(i, j)} = {truth[i][j]} recovered from the totals in {matrix}"
    return sum(v is None for row in grid for v in row)


def test_a_lone_small_cell_and_its_totals():
    # a school with one small cell, the category's district total is small too
    hidden = assert_safe([[3, 40, 22], [50, 60, 70], [45, 33, 29]])
    assert hidden >= 4


def test_small_cells_in_one_column_need_more_than_row_partners():
    # two schools' small cells in the same category: the row partners alone would form a bridge
    assert_safe([[2, 30, 30, 30], [40, 1, 50, 60], [70, 80, 90, 4], [11, 12, 13, 14]])


def test_a_school_whose_total_is_small():
    assert_safe([[1, 2, 0], [30, 40, 50], [60, 70, 80]])


def test_a_category_with_a_single_person_in_the_district():
    assert_safe([[0, 30, 1], [40, 50, 0], [60, 70, 0]])


def test_zeros_stay_published_and_nothing_small_needs_nothing():
    table = publish([[0, 30, 40], [50, 60, 70]])
    assert all(v is not None for row in published_grid(table) for v in row)


def test_a_single_school():
    assert_safe([[3, 7, 12]])


cell_values = st.one_of(st.integers(0, 6), st.integers(0, 60), st.just(0), st.integers(1, 4))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6).flatmap(lambda r: st.integers(1, 5).flatmap(
    lambda c: st.lists(st.lists(cell_values, min_size=c, max_size=c), min_size=r, max_size=r))))
def test_no_random_table_gives_a_hidden_cell_back(matrix):
    assert_safe(matrix)


@pytest.mark.parametrize("seed", range(3))
def test_a_district_sized_table(seed):
    """100 schools × 3 levels, sparse red cells: as the wellbeing figure looks for the whole district."""
    rng = np.random.default_rng(seed)
    matrix = [[int(rng.integers(150, 900)), int(rng.integers(0, 30)), int(rng.choice([0, 0, 1, 2, 3, 6]))]
              for _ in range(100)]
    assert_safe(matrix)
    assert protect(matrix) == protect(matrix)  # deterministic


def test_the_attack_does_recover_what_a_weaker_rule_leaves():
    """The attacker is real: with each school's row protected alone (the per-school rule of the figures API),
    the district's category totals give a small cell back."""
    matrix = [[3, 40, 22], [50, 9, 70], [45, 33, 29]]
    truth = margins(matrix)
    grid = [row[:] for row in truth]
    for i, j in [(0, 0), (0, 2)]:  # the school's 3 and its complementary 22, nothing else hidden
        grid[i][j] = None
    bounds = attack(grid)
    assert bounds[(0, 0)][0] == pytest.approx(3) and bounds[(0, 0)][1] == pytest.approx(3)
