/* The clocks, written once. Header-only: the pool and task hot paths read
 * them on every wait, and a call through the PLT would cost as much as the
 * vDSO read itself. */
#ifndef IX_CLOCK_H
#define IX_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic nanoseconds (CLOCK_MONOTONIC): for durations and deadlines. */
static inline long long ix_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Nanoseconds of any clock (e.g. another thread's CPU-time clock), or -1
 * when the kernel refuses it. */
static inline long long ix_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_MONOTONIC_COARSE nanoseconds: the last tick (1-4 ms old), a vDSO
 * read with no fence, for timestamps taken on very hot paths. */
static inline long long ix_mono_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Wall-clock nanoseconds since the epoch (CLOCK_REALTIME): profile times. */
static inline int64_t ix_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Wall-clock seconds since the epoch (CLOCK_REALTIME), for reports. */
static inline double ix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The absolute CLOCK_MONOTONIC time ms milliseconds from now, for
 * pthread_cond_timedwait on a condition variable set to that clock. */
static inline struct timespec ix_mono_deadline(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
