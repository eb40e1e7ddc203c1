/* Is this series growing steadily? The statistics behind the leak sentinel,
 * on one series of snapshots (pure functions, no state).
 *
 * A series is a count that carries its own noise scale: for the heap, the
 * number of sampled objects still live at one allocation stack (each sample
 * stands for ~rate bytes, and sampling is a Poisson process, so a count c
 * is uncertain by about sqrt(c)); for threads, tasks and descriptors an
 * exact count, for which sqrt(c) is a conservative stand-in for the
 * workload's own fluctuation. Alongside it, the value shown to people (the
 * unsampled byte estimate, or the count itself).
 *
 * A suspect must pass every test, in the segment from where growth began
 * (the last time the series was at its minimum in the window) to now:
 *  0. the segment has at least 24 snapshots (4 minutes at 10 s): a working
 *     set replaced at random wanders for a few intervals at a time (its
 *     samples persist), and such an excursion can look like a short climb;
 *  1. enough growth: G = c_end - c_onset >= min_growth samples (a stack seen
 *     in 3 samples is not a trend) and G >= z * sqrt(E) (z = 4), where E is
 *     the number of events that moved the count in the segment (sampled
 *     allocations plus sampled frees: their difference is what G measures,
 *     and each is a Poisson count, so G's noise is sqrt(E)). Objects that
 *     stay live add no noise, so an old leak is judged by its growth, not by
 *     what it had already leaked. When events are not known (tasks,
 *     descriptors), E = c_onset + c_end. Each end is the mean of a tenth of
 *     the segment, since the onset, a minimum, is biased low;
 *  2. monotone: Mann-Kendall's S over the segment (at most 128 points,
 *     evenly thinned), normalised without the ties correction (which only
 *     makes it more conservative), Z >= 3, and Kendall's tau >= 0.5 (a
 *     steady series, not a random walk that happens to end high);
 *  3. still growing: over the last quarter of the segment the series grew at
 *     least half what the segment's rate predicts, less two Poisson
 *     deviations of that prediction. A cache that filled up and stays flat
 *     fails this once its plateau is a quarter of the segment long.
 * The rate is the Theil-Sen slope (median of pairwise slopes) of the value,
 * robust to a few outlying snapshots. Ranking uses Kendall's tau (how
 * steadily), then the Poisson z (how surely). */
#ifndef IX_LEAKS_TREND_H
#define IX_LEAKS_TREND_H

#include <stdint.h>

#include "model/leak_report.h" /* struct ix_trend */

struct ix_trend_point {
    int64_t t_ns;
    double count; /* the noise-carrying count (samples, or an exact count) */
    double value; /* what is shown: estimated bytes, or the count */
    double events; /* cumulative events that changed the count (sampled allocations +
                    * sampled frees; threads created + exited), -1 when unknown */
};

struct ix_trend_params {
    int min_points;    /* points in the growth segment; default 24 */
    double min_growth; /* in counts; 8 for sampled heap, 5 for exact counts */
    double z;          /* Poisson z of the growth; 4 */
    double mk_z;       /* Mann-Kendall z; 3 */
    double min_tau;    /* Kendall's tau (steadiness); 0.5 */
};


void ix_trend_params_default(struct ix_trend_params *p, int sampled);
void ix_trend_analyze(const struct ix_trend_point *p, int n, const struct ix_trend_params *prm,
                      struct ix_trend *out);

#endif
