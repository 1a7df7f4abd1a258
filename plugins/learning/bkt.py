"""Bayesian Knowledge Tracing (Corbett & Anderson 1995), the model pyBKT implements: per knowledge point a
two-state hidden Markov model — not yet mastered / mastered — with four parameters: ``prior`` P(L0),
``learn`` P(T) (no forgetting), ``guess`` P(correct | not mastered) and ``slip`` P(wrong | mastered).

- ``update``: the live step after one response (posterior given the answer, then the chance to learn);
- ``fit``: the parameters by expectation–maximisation (Baum–Welch, scaled forward–backward) over many
  students' sequences at once, vectorised with numpy; guess and slip are held to ≤ 0.3 and ≤ 0.1 (DOMAIN.md)
  so that "mastered" keeps its meaning;
- ``trace``: the predicted chance of a right answer before each response, and the mastery after each.

Written here rather than calling pyBKT, which does not import with the scikit-learn this platform installs;
tests/learning/test_bkt.py runs pyBKT on the same data and holds both to the same parameters and mastery."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_GUESS, MAX_SLIP = 0.3, 0.1
FLOOR = 1e-4
# Without forgetting, a long run of right answers drives mastery to 1 − 1e-10, from where a week of wrong
# answers barely moves it. Teachers expect a run of mistakes to show: mastery is held at CAP at most (the
# comparison with pyBKT runs without it, cap=1.0).
CAP = 0.98


@dataclass(frozen=True)
class Params:
    prior: float = 0.3
    learn: float = 0.12
    guess: float = 0.2
    slip: float = 0.08

    def as_dict(self) -> dict[str, float]:
        return {"prior": self.prior, "learn": self.learn, "guess": self.guess, "slip": self.slip}


DEFAULT = Params()


def predict(p: float, prm: Params) -> float:
    """P(next answer right) when the student is mastered with probability ``p``."""
    return p * (1 - prm.slip) + (1 - p) * prm.guess


def update(p: float, correct: bool, prm: Params, cap: float = CAP) -> float:
    """Mastery after one response: Bayes on the answer, then the chance of learning from the practice."""
    if correct:
        post = p * (1 - prm.slip) / max(p * (1 - prm.slip) + (1 - p) * prm.guess, 1e-12)
    else:
        post = p * prm.slip / max(p * prm.slip + (1 - p) * (1 - prm.guess), 1e-12)
    return min(cap, post + (1 - post) * prm.learn)


def trace(seq: list[int] | np.ndarray, prm: Params, cap: float = CAP) -> tuple[np.ndarray, np.ndarray]:
    """For one student's sequence: (P(right) predicted before each response, mastery after each)."""
    p, preds, after = prm.prior, [], []
    for c in seq:
        preds.append(predict(p, prm))
        p = update(p, bool(c), prm, cap)
        after.append(p)
    return np.array(preds), np.array(after)


def _pad(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n, t = len(seqs), max(len(s) for s in seqs)
    obs = np.zeros((n, t), dtype=np.int8)
    mask = np.zeros((n, t), dtype=bool)
    for i, s in enumerate(seqs):
        obs[i, :len(s)] = s
        mask[i, :len(s)] = True
    return obs, mask


def _clip(prm: Params) -> Params:
    return Params(prior=float(np.clip(prm.prior, FLOOR, 1 - FLOOR)), learn=float(np.clip(prm.learn, FLOOR, 1 - FLOOR)),
                  guess=float(np.clip(prm.guess, FLOOR, MAX_GUESS)), slip=float(np.clip(prm.slip, FLOOR, MAX_SLIP)))


def _estep(obs: np.ndarray, mask: np.ndarray, prm: Params) -> tuple[Params, float]:
    """One EM round over padded sequences: expected counts, and the new parameters with the log-likelihood."""
    n, t = obs.shape
    # emission probabilities per step and state (0: not mastered, 1: mastered); padding emits 1 for both
    e = np.empty((n, t, 2))
    e[..., 0] = np.where(obs == 1, prm.guess, 1 - prm.guess)
    e[..., 1] = np.where(obs == 1, 1 - prm.slip, prm.slip)
    e[~mask] = 1.0
    a = np.array([[1 - prm.learn, prm.learn], [0.0, 1.0]])
    alpha = np.empty((n, t, 2))
    scale = np.empty((n, t))
    cur = np.stack([np.full(n, 1 - prm.prior), np.full(n, prm.prior)], axis=1) * e[:, 0]
    for k in range(t):
        if k:
            cur = (alpha[:, k - 1] @ a) * e[:, k]
        s = cur.sum(axis=1)
        alpha[:, k] = cur / s[:, None]
        scale[:, k] = s
    beta = np.ones((n, t, 2))
    for k in range(t - 2, -1, -1):
        nxt = e[:, k + 1] * beta[:, k + 1]
        beta[:, k] = (nxt @ a.T) / scale[:, k + 1][:, None]
    gamma = alpha * beta
    gamma /= gamma.sum(axis=2, keepdims=True)
    loglik = float(np.log(scale[mask]).sum())
    # transitions not-mastered → mastered between steps k and k+1 (both real)
    both = mask[:, 1:] & mask[:, :-1]
    xi01 = alpha[:, :-1, 0] * prm.learn * e[:, 1:, 1] * beta[:, 1:, 1] / scale[:, 1:]
    from0 = gamma[:, :-1, 0]
    g0, g1 = gamma[..., 0][mask], gamma[..., 1][mask]
    right = obs[mask] == 1
    new = Params(prior=float(gamma[:, 0, 1].mean()),
                 learn=float(xi01[both].sum() / max(from0[both].sum(), 1e-12)),
                 guess=float(g0[right].sum() / max(g0.sum(), 1e-12)),
                 slip=float(g1[~right].sum() / max(g1.sum(), 1e-12)))
    return _clip(new), loglik


def fit(seqs: list[list[int] | np.ndarray], start: Params = DEFAULT, *, iterations: int = 100,
        tol: float = 1e-5) -> tuple[Params, float, int]:
    """EM over many students' sequences of one knowledge point (each oldest first, 1 = right). Returns the
    parameters, the log-likelihood and the rounds it took. Sequences are cut to their last 200 responses."""
    seqs = [np.asarray(s[-200:], dtype=np.int8) for s in seqs if len(s)]
    if not seqs:
        return start, 0.0, 0
    obs, mask = _pad(seqs)
    prm, last = _clip(start), -np.inf
    for k in range(1, iterations + 1):
        new, loglik = _estep(obs, mask, prm)
        if abs(loglik - last) < tol * max(1.0, abs(loglik)):
            return new, loglik, k
        prm, last = new, loglik
    return prm, last, iterations


def fit_restarts(seqs: list, starts: tuple[Params, ...] | None = None, **kw) -> Params:
    """The best of a few starting points (EM finds a local optimum): the one with the highest likelihood."""
    starts = starts or (DEFAULT, Params(0.5, 0.2, 0.25, 0.05), Params(0.2, 0.05, 0.15, 0.1))
    best, best_ll = DEFAULT, -np.inf
    for s in starts:
        prm, ll, _ = fit(seqs, s, **kw)
        if ll > best_ll:
            best, best_ll = prm, ll
    return best


def mastery_after(seqs: list[np.ndarray], prm: Params, cap: float = CAP) -> np.ndarray:
    """Mastery after the last response of each sequence, all at once (the nightly re-trace)."""
    obs, mask = _pad([np.asarray(s, dtype=np.int8) for s in seqs])
    p = np.full(len(seqs), prm.prior)
    for k in range(obs.shape[1]):
        right = obs[:, k] == 1
        num = np.where(right, p * (1 - prm.slip), p * prm.slip)
        den = np.where(right, p * (1 - prm.slip) + (1 - p) * prm.guess, p * prm.slip + (1 - p) * (1 - prm.guess))
        post = num / np.maximum(den, 1e-12)
        p = np.where(mask[:, k], np.minimum(cap, post + (1 - post) * prm.learn), p)
    return p
