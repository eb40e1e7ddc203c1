#include "leaks/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS_POINTS 128

void ix_trend_params_default(struct ix_trend_params *p, int sampled)
{
    p->min_points = 24;
    p->min_growth = sampled ? 8 : 5;
    p->z = 4;
    p->mk_z = 3;
    p->min_tau = 0.5;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Indices of at most MAX_PAIRS_POINTS points of [lo, hi), evenly spread,
 * always including both ends. */
static int thin(int lo, int hi, int *idx)
{
    int n = hi - lo;
    if (n <= MAX_PAIRS_POINTS) {
        for (int i = 0; i < n; i++)
            idx[i] = lo + i;
        return n;
    }
    for (int i = 0; i < MAX_PAIRS_POINTS; i++)
        idx[i] = lo + (int)((double)i * (n - 1) / (MAX_PAIRS_POINTS - 1) + 0.5);
    return MAX_PAIRS_POINTS;
}

static void mann_kendall(const struct ix_trend_point *p, const int *idx, int m, double *z,
                         double *tau)
{
    double s = 0;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) {
            double d = p[idx[j]].count - p[idx[i]].count;
            s += (d > 0) - (d < 0);
        }
    double nn = (double)m;
    double var = nn * (nn - 1) * (2 * nn + 5) / 18.0;
    *tau = m > 1 ? s / (nn * (nn - 1) / 2) : 0;
    if (var <= 0)
        *z = 0;
    else
        *z = s > 0 ? (s - 1) / sqrt(var) : s < 0 ? (s + 1) / sqrt(var) : 0;
}

static double theil_sen(const struct ix_trend_point *p, const int *idx, int m)
{
    size_t cap = (size_t)m * (size_t)(m - 1) / 2, k = 0;
    double *sl = malloc((cap ? cap : 1) * sizeof *sl);
    if (!sl) /* fall back to the end points */
        return m > 1 && p[idx[m - 1]].t_ns > p[idx[0]].t_ns
                   ? (p[idx[m - 1]].value - p[idx[0]].value) /
                         ((double)(p[idx[m - 1]].t_ns - p[idx[0]].t_ns) / 1e9)
                   : 0;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) {
            double dt = (double)(p[idx[j]].t_ns - p[idx[i]].t_ns) / 1e9;
            if (dt > 0)
                sl[k++] = (p[idx[j]].value - p[idx[i]].value) / dt;
        }
    double med = 0;
    if (k) {
        qsort(sl, k, sizeof *sl, cmp_double);
        med = k % 2 ? sl[k / 2] : (sl[k / 2 - 1] + sl[k / 2]) / 2;
    }
    free(sl);
    return med;
}

/* P(N <= k) for N ~ Poisson(lambda), k >= 0. */
static double poisson_cdf(int k, double lambda)
{
    double term = exp(-lambda), sum = term;
    for (int i = 1; i <= k; i++) {
        term *= lambda / i;
        sum += term;
    }
    return sum;
}

/* Growth of `recent` samples where `expected` were due is too little for a
 * series still growing at even half its rate. The normal bound above
 * (half, less two deviations) is 0 at 16 expected and lets a flat plateau
 * (recent 0) pass for a growing one below that; the exact Poisson tail
 * judges small counts. Only from 8 expected samples: fewer say nothing. */
static int implausibly_slow(double recent, double expected)
{
    if (expected < 8)
        return 0;
    if (recent < 0)
        return 1;
    return poisson_cdf((int)recent, expected / 2) < 0.005;
}

void ix_trend_analyze(const struct ix_trend_point *p, int n, const struct ix_trend_params *prm,
                      struct ix_trend *out)
{
    memset(out, 0, sizeof *out);
    if (n < prm->min_points) {
        out->why_not = "too few snapshots";
        return;
    }
    /* Growth began the last time the series was at its minimum. */
    int onset = 0;
    for (int i = 1; i < n; i++)
        if (p[i].count <= p[onset].count)
            onset = i;
    out->onset = onset;
    /* Both ends as the mean of a tenth of the segment: the onset is the
     * minimum, chosen among many points, so a single point would favour
     * growth (noise picked as signal). */
    int m = (n - onset) / 10 > 1 ? (n - onset) / 10 : 1;
    double c0 = 0, c1 = 0;
    for (int i = 0; i < m; i++) {
        c0 += p[onset + i].count / m;
        c1 += p[n - 1 - i].count / m;
    }
    out->growth = c1 - c0;
    double e = p[onset].events >= 0 && p[n - 1].events >= 0 ? p[n - 1].events - p[onset].events
                                                            : c0 + c1;
    out->poisson_z = e > 0 ? out->growth / sqrt(e) : 0;
    int idx[MAX_PAIRS_POINTS];
    int k = thin(onset, n, idx);
    if (k >= 2) {
        mann_kendall(p, idx, k, &out->mk_z, &out->tau);
        out->slope_per_s = theil_sen(p, idx, k);
    }
    if (n - onset < prm->min_points) {
        out->why_not = "growth segment too short";
        return;
    }
    if (out->growth < prm->min_growth) {
        out->why_not = "too few samples of growth";
        return;
    }
    if (out->poisson_z < prm->z) {
        out->why_not = "growth within sampling noise";
        return;
    }
    if (out->mk_z < prm->mk_z || out->tau < prm->min_tau) {
        out->why_not = "not monotone";
        return;
    }
    /* Still growing over the last quarter of the segment? */
    int64_t ts = p[onset].t_ns, te = p[n - 1].t_ns;
    int r0 = n - 1;
    while (r0 > onset && (double)(te - p[r0 - 1].t_ns) <= (double)(te - ts) / 4)
        r0--;
    if (r0 > n - 4)
        r0 = n - 4 > onset ? n - 4 : onset;
    out->recent_growth = p[n - 1].count - p[r0].count;
    out->recent_expected =
        te > ts ? out->growth * (double)(te - p[r0].t_ns) / (double)(te - ts) : 0;
    double x = out->recent_expected;
    if (out->recent_growth < x / 2 - 2 * sqrt(x) || implausibly_slow(out->recent_growth, x)) {
        out->why_not = "stopped growing";
        return;
    }
    out->suspect = 1;
}
