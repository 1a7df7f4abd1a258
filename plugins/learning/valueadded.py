"""Value added (增值评价) per class and per teacher and subject, three ways, each with a 95% interval:

- **gain**: post − pre, the group's mean with a t interval;
- **regression**: post predicted from the prior scores (ordinary least squares over the whole school:
  post ~ pre + the mean of the tests between), value added = observed − predicted, the group's mean residual
  with a t interval;
- **multilevel**: statsmodels' MixedLM, post ~ pre with random intercepts for school and class (for one
  school, class only); a class's value added is its predicted random intercept (BLUP) with the interval from
  its conditional variance. A small class's estimate is pulled (shrunk) toward zero, the school's average,
  in proportion to how little its few students tell us.

A teacher's figure pools the classes they teach in the subject (students weighted alike). Results are per
group only: nothing here ranks or lists students."""
from __future__ import annotations

import math
import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from scipy import stats

from plugins.learning.models import Score

Z = 1.959964


def _mean_ci(values: np.ndarray) -> dict[str, Any]:
    n = len(values)
    if n == 0:
        return {"n": 0, "estimate": None, "low": None, "high": None}
    m = float(values.mean())
    if n < 2:
        return {"n": n, "estimate": round(m, 2), "low": None, "high": None}
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return {"n": n, "estimate": round(m, 2), "low": round(m - half, 2), "high": round(m + half, 2)}


def frame(sess: so.Session, subject: str) -> pd.DataFrame:
    """One row per student with a pre and a post score in ``subject``: the school's earliest and latest test
    of the subject; ``mid`` the mean of the tests between (or the pre score when there were none)."""
    rows = sess.execute(sa.select(Score.student_id, Score.class_id, Score.school_id, Score.test_id, Score.score,
                                  Score.occurred_at).where(Score.subject == subject)).all()
    if not rows:
        return pd.DataFrame(columns=["student", "class_id", "school_id", "pre", "mid", "post"])
    df = pd.DataFrame(rows, columns=["student", "class_id", "school_id", "test_id", "score", "at"])
    order = df.groupby(["school_id", "test_id"])["at"].min().reset_index().sort_values("at")
    out = []
    for school, tests in order.groupby("school_id"):
        ids = list(tests["test_id"])
        if len(ids) < 2:
            continue
        mine = df[df.school_id == school].pivot_table(index=["student", "class_id"], columns="test_id",
                                                      values="score", aggfunc="last")
        have = mine.dropna(subset=[ids[0], ids[-1]])
        middle = [t for t in ids[1:-1] if t in have.columns]
        part = pd.DataFrame({"pre": have[ids[0]], "post": have[ids[-1]],
                             "mid": have[middle].mean(axis=1) if middle else have[ids[0]]}).reset_index()
        part["mid"] = part["mid"].fillna(part["pre"])
        part["school_id"] = school
        out.append(part)
    if not out:
        return pd.DataFrame(columns=["student", "class_id", "school_id", "pre", "mid", "post"])
    return pd.concat(out, ignore_index=True)


def regression_residuals(df: pd.DataFrame) -> np.ndarray:
    x = np.column_stack([np.ones(len(df)), df["pre"].to_numpy(float), df["mid"].to_numpy(float)])
    y = df["post"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return y - x @ beta


def multilevel(df: pd.DataFrame) -> tuple[dict[Any, dict[str, Any]], dict[str, float]]:
    """MixedLM post ~ pre, random intercepts for school (if more than one) and class. Returns per class
    {estimate, low, high, n} and the variance components."""
    import statsmodels.formula.api as smf

    data = df[["post", "pre", "class_id", "school_id"]].astype({"post": float, "pre": float}).copy()
    data["klass"] = data["class_id"].astype(str)
    several = data["school_id"].nunique() > 1
    if several:
        model = smf.mixedlm("post ~ pre", data, groups=data["school_id"], re_formula="1",
                            vc_formula={"klass": "0 + C(klass)"})
    else:
        model = smf.mixedlm("post ~ pre", data, groups=data["klass"])
    with warnings.catch_warnings():  # a variance on the boundary (zero) is an answer here, not a failure
        warnings.simplefilter("ignore")
        res = model.fit(reml=True, method=["lbfgs"])
        if float(np.min(np.diag(np.atleast_2d(res.cov_re)))) < 1e-6 or (several and min(res.vcomp, default=1) < 1e-6):
            # L-BFGS can stop on the boundary (a variance of 0) from statsmodels' start; Powell's search does
            # not: keep whichever fit has the higher restricted likelihood
            other = model.fit(reml=True, method=["powell"])
            res = other if not np.isfinite(res.llf) or other.llf > res.llf else res
    out: dict[Any, dict[str, Any]] = {}
    counts = data.groupby("klass").size()
    try:
        re, cov = res.random_effects, res.random_effects_cov
    except ValueError:  # the class variance is estimated at zero: every class is shrunk to the average
        re, cov = {}, {}
        for klass, n in counts.items():
            out[str(klass)] = _interval(0.0, 0.0, int(n))
    for group, effects in re.items():
        c = cov[group]
        if several:
            names = list(effects.index)
            for k, name in enumerate(names[1:], start=1):
                klass = name.split("[")[-1].rstrip("]").removeprefix("T.")
                if klass not in counts.index:
                    continue
                est = float(effects.iloc[0] + effects.iloc[k])
                var = float(c.iloc[0, 0] + c.iloc[k, k] + 2 * c.iloc[0, k])
                out[klass] = _interval(est, var, int(counts[klass]))
        else:
            out[str(group)] = _interval(float(effects.iloc[0]), float(c.iloc[0, 0]), int(counts[str(group)]))
    components = {"residual": float(res.scale), "class": float(res.vcomp[0]) if several and len(res.vcomp)
                  else float(res.cov_re.iloc[0, 0])}
    if several:
        components["school"] = float(res.cov_re.iloc[0, 0])
    return out, components


def _interval(est: float, var: float, n: int) -> dict[str, Any]:
    half = Z * math.sqrt(max(var, 0.0))
    return {"n": n, "estimate": round(est, 2), "low": round(est - half, 2), "high": round(est + half, 2)}


def report(df: pd.DataFrame, teachers: dict[Any, list[int]] | None = None) -> dict[str, Any]:
    """Per class and per teacher (``teachers``: name → class ids): the three methods with intervals."""
    if len(df) < 10 or df["class_id"].nunique() < 2:
        return {"students": int(len(df)), "classes": [], "teachers": [], "components": None}
    df = df.copy()
    df["gain"] = df["post"].astype(float) - df["pre"].astype(float)
    df["resid"] = regression_residuals(df)
    ml, components = multilevel(df)
    classes = []
    for cid, part in df.groupby("class_id"):
        classes.append({"class_id": int(cid), "gain": _mean_ci(part["gain"].to_numpy()),
                        "regression": _mean_ci(part["resid"].to_numpy()),
                        "multilevel": ml.get(str(cid), {"n": len(part), "estimate": None, "low": None, "high": None})})
    rows = []
    for name, ids in (teachers or {}).items():
        part = df[df["class_id"].isin(ids)]
        if part.empty:
            continue
        pieces = [(ml[str(c)], len(part[part.class_id == c])) for c in ids if str(c) in ml]
        total = sum(n for _, n in pieces)
        est = sum(p["estimate"] * n for p, n in pieces) / total if total else None
        var = sum(((p["high"] - p["low"]) / (2 * Z)) ** 2 * n * n for p, n in pieces) / total ** 2 if total else 0
        rows.append({"teacher": name, "classes": sorted(ids), "gain": _mean_ci(part["gain"].to_numpy()),
                     "regression": _mean_ci(part["resid"].to_numpy()),
                     "multilevel": _interval(est, var, total) if est is not None else None})
    return {"students": int(len(df)), "classes": classes, "teachers": rows,
            "components": {k: round(v, 2) for k, v in components.items()}}


def teachers_by_subject(staff: list[dict], subject: str, names: dict[str, str]) -> dict[tuple, list[int]]:
    """(account id, name) → the class ids where they teach ``subject`` (subject teachers and homeroom
    teachers whose subject it is)."""
    out: dict[tuple, list[int]] = defaultdict(list)
    for s in staff:
        if names.get(s.get("subject") or "") != subject:
            continue
        for r in s["roles"]:
            if r["role"] in ("subject_teacher", "homeroom_teacher") and r["unit_kind"] == "class":
                out[(s["account_id"], s["name"])].append(r["unit_id"])
    return dict(out)
