"""Reference values for tests/stats.rs, computed independently with SciPy, NumPy and statsmodels.

    python3 -m venv /tmp/refstats && /tmp/refstats/bin/pip install scipy numpy statsmodels
    /tmp/refstats/bin/python tests/reference/stats.py

Printed with 12 significant digits; the tests hold the literals and cite the line that gave them.
Measured with SciPy 1.17.1, NumPy 2.4.6, statsmodels 0.15.0.
"""

import itertools

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

A = [0.42, 0.51, 0.47, 0.60, 0.47]
C = [0.40, 0.47, 0.38, 0.44, 0.39, 0.45]
# Unequal spreads and sizes, so Welch's degrees of freedom are far from n + m - 2.
WIDE = [1.2, 3.4, 0.7, 2.9, 5.1, 2.2, 3.0]
NARROW = [0.5, 0.9, 0.4, 1.1]
TEN = [3.1, 0.2, 5.5, 2.2, 9.9, 4.4, 1.0, 7.7, 6.1, 2.8]
P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]


def show(name, *values):
    print(name, " ".join(f"{v:.12g}" for v in values))


def welch(a, c, name):
    r = stats.ttest_ind(a, c, equal_var=False)
    ci = r.confidence_interval(0.95)
    show(f"welch {name} diff t df p low high", np.mean(a) - np.mean(c), r.statistic, r.df, r.pvalue, ci.low, ci.high)


welch(A, C, "A-C")
welch(WIDE, NARROW, "WIDE-NARROW")
show("student_t ppf 0.975 df=2", stats.t.ppf(0.975, 2))

show("holm", *multipletests(P, alpha=0.05, method="holm")[1])

u = stats.mannwhitneyu(A, C, alternative="two-sided")
show("mannwhitney A-C U U/(n*m)", u.statistic, u.statistic / (len(A) * len(C)))
u = stats.mannwhitneyu(C, A, alternative="two-sided")
show("mannwhitney C-A U U/(n*m)", u.statistic, u.statistic / (len(A) * len(C)))


def hedges(a, c):
    n, m = len(a), len(c)
    sp = np.sqrt(((n - 1) * np.var(a, ddof=1) + (m - 1) * np.var(c, ddof=1)) / (n + m - 2))
    d = (np.mean(a) - np.mean(c)) / sp
    return sp, d, d * (1 - 3 / (4 * (n + m) - 9))


show("hedges A-C pooled_sd cohen_d hedges_g", *hedges(A, C))

# The smallest difference detectable with 80% power at alpha 0.05 two-sided, t approximation:
# (t_{0.975, n+m-2} + t_{0.80, n+m-2}) * sd * sqrt(1/n + 1/m); beside it, the exact value from the
# noncentral t (statsmodels), in units of the pooled SD.
for n, m in [(5, 5), (5, 6), (3, 3), (20, 20)]:
    df = n + m - 2
    approx = (stats.t.ppf(0.975, df) + stats.t.ppf(0.80, df)) * np.sqrt(1 / n + 1 / m)
    exact = TTestIndPower().solve_power(power=0.8, alpha=0.05, nobs1=n, ratio=m / n, alternative="two-sided")
    show(f"mdd sd-units n={n} m={m} t-approx exact", approx, exact)
sp = hedges(A, C)[0]
show("mdd A-C", (stats.t.ppf(0.975, 9) + stats.t.ppf(0.80, 9)) * sp * np.sqrt(1 / 5 + 1 / 6))

for k in [2, 3, 4, 5, 6, 7, 10]:
    x = TEN[:k]
    show(f"iqm first {k} of TEN", stats.trim_mean(x, 0.25))
    show(f"median first {k} of TEN", np.median(x))

xs = np.sort(np.array(TEN[:7]))
show("percentile linear q=0.025 0.5 0.975 of first 7 of TEN", *np.percentile(xs, [2.5, 50, 97.5]))


def ideal_bootstrap(x, statistic):
    """Every resample of x with replacement, equally likely: the exact bootstrap distribution."""
    return np.array([statistic(np.array(r)) for r in itertools.product(x, repeat=len(x))])


iqm = lambda v: stats.trim_mean(v, 0.25)
for name, f in [("median", np.median), ("iqm", iqm), ("mean", np.mean)]:
    one = ideal_bootstrap(TEN[:5], f)
    show(f"ideal bootstrap {name} of first 5 of TEN: 2.5% 97.5%", *np.percentile(one, [2.5, 97.5]))

# Two samples resampled independently (stratified): the difference's exact distribution.
a, c = ideal_bootstrap(A, iqm), ideal_bootstrap(C[:5], iqm)
diff = (a[:, None] - c[None, :]).ravel()
show("ideal bootstrap iqm(A) - iqm(C[:5]): 2.5% 97.5%", *np.percentile(diff, [2.5, 97.5]))

# How far a 10,000-resample percentile lands from the ideal one: spread over 2,000 repetitions.
rng = np.random.default_rng(0)
lows, highs = [], []
A_, C_ = np.array(A), np.array(C[:5])
for _ in range(2000):
    ra = A_[rng.integers(0, 5, size=(10000, 5))]
    rc = C_[rng.integers(0, 5, size=(10000, 5))]
    d = stats.trim_mean(ra, 0.25, axis=1) - stats.trim_mean(rc, 0.25, axis=1)
    lo, hi = np.percentile(d, [2.5, 97.5])
    lows.append(lo)
    highs.append(hi)
show("10k-resample spread (sd) of the iqm difference's 2.5% and 97.5% ends", np.std(lows), np.std(highs))

# The same spread for one sample (the first 5 of TEN), per statistic.
for name, f in [("iqm", lambda r: stats.trim_mean(r, 0.25, axis=1)), ("mean", lambda r: r.mean(axis=1))]:
    x = np.array(TEN[:5])
    ends = np.array([np.percentile(f(x[rng.integers(0, 5, size=(10000, 5))]), [2.5, 97.5]) for _ in range(2000)])
    show(f"10k-resample spread (sd) of the {name} of first 5 of TEN: 2.5% and 97.5% ends", *ends.std(axis=0))
