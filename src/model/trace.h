/* An execution trace, as producers assemble it and encoders write it: spans
 * on thread lanes (tasks, pool and mutex waits, running and blocked
 * intervals), flows (a task moving between threads), counter samples and
 * the window's notes. Times are CLOCK_MONOTONIC ns. Stacks are ids in a
 * process-lifetime stack table (stack/stack_table.h), so they stay valid. */
#ifndef IX_MODEL_TRACE_H
#define IX_MODEL_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stack/stack_table.h"
#include "symbolize/symbolizer.h"

enum ix_span_what {
    IX_SPAN_TASK,    /* a task (request) segment on one thread */
    IX_SPAN_POOL,    /* a pool acquire (its wait) */
    IX_SPAN_MUTEX,   /* a contended mutex or rwlock wait */
    IX_SPAN_RUNNING, /* the thread was running or runnable ('R') */
    IX_SPAN_BLOCKED, /* the thread was asleep in the kernel (S, D ...) */
};

struct ix_trace_span {
    int64_t ts, dur;
    pid_t tid;
    int what;          /* enum ix_span_what */
    uint64_t task;     /* the task (task spans) or the task delayed (waits); 0 none */
    char name[64];     /* task name; pool name; syscall of a blocked interval */
    char kind[64];     /* task kind; lock address; thread state letter */
    char status[64];   /* task state at its end, "" none */
    int64_t deadline;  /* tasks: CLOCK_MONOTONIC deadline, 0 none */
    int overdue;       /* tasks: ended (or still running) past the deadline */
    int began_before;  /* the span began before the window (cut at its start) */
    int open;          /* still running when the window closed (cut at its end) */
    int stack;         /* id in the trace's stack table, -1 none */
    int value;         /* pools: outcome; waits: 1 when linked to a task */
};

struct ix_trace_flow {
    uint64_t task;
    int64_t ts0, ts1;
    pid_t tid0, tid1;
};

struct ix_trace_sample {
    int64_t ts;
    int series; /* index into series names */
    double value;
};

/* A CPU sample: where thread tid was running at ts (the CPU profiler's
 * engines, sampling/cpu/), weight sampling periods. */
struct ix_trace_cpu {
    int64_t ts;
    pid_t tid;
    int stack;  /* id in the trace's cpu_stacks, -1 none */
    int weight; /* periods it stands for (>= 1) */
};

struct ix_trace_thread {
    pid_t tid;
    char name[32];
};

#define IX_TRACE_MAX_SERIES 80

struct ix_trace {
    int64_t t0, t1; /* the window */
    pid_t pid;
    struct ix_trace_span *spans;
    size_t nspans, capspans;
    struct ix_trace_flow *flows;
    size_t nflows, capflows;
    struct ix_trace_sample *samples;
    size_t nsamples, capsamples;
    struct ix_trace_thread *threads;
    size_t nthreads, capthreads;
    char series[IX_TRACE_MAX_SERIES][80];
    int nseries;
    struct ix_stack_table *stacks;
    /* Notes for the metadata. */
    uint64_t dropped;       /* ring records refused (full ring, no ring) */
    uint64_t records;       /* ring records kept */
    int rings;              /* threads that recorded */
    size_t ring_bytes;      /* ring memory held */
    long state_hz;          /* thread-state sampling rate */
    uint64_t ticks, late_ticks, walks, walks_skipped;
    uint64_t short_pool_waits;
    long long sampler_cpu_ns; /* the state sampler thread's CPU time */
    long long encode_ns;      /* filled by the endpoint: time to write the JSON */ /* pool acquires under 10 us: counted, not drawn */
    int oom;                /* some spans or samples were lost to memory */
    /* CPU samples: bounded (max_cpu), their stacks in a table of this
     * trace's own (freed with it). cpu_hz 0: not taken (cpu_note says why). */
    struct ix_trace_cpu *cpu;
    size_t ncpu, capcpu, max_cpu;
    struct ix_stack_table *cpu_stacks;
    long cpu_hz;
    uint64_t cpu_dropped;  /* samples past max_cpu, or their stack past the table */
    uint64_t cpu_outside;  /* samples timed outside the window (not drawn) */
    char cpu_note[600];    /* the engine, and what the profiler says it lost */
};

/* Append helpers: return the new element (zeroed) or NULL (t->oom set). */
struct ix_trace_span *ix_trace_add_span(struct ix_trace *t);
struct ix_trace_flow *ix_trace_add_flow(struct ix_trace *t);
void ix_trace_add_sample(struct ix_trace *t, int64_t ts, int series, double value);
/* The index of a series named name, added when new; -1 (a value: no series)
 * when all IX_TRACE_MAX_SERIES are taken. */
int ix_trace_series(struct ix_trace *t, const char *name);
/* The thread's entry, added (named name) when new; NULL on OOM. */
struct ix_trace_thread *ix_trace_thread(struct ix_trace *t, pid_t tid, const char *name);
/* A span's display name ("request GET /x", "pool wait: db", "blocked: futex"). */
void ix_trace_span_title(const struct ix_trace_span *s, char *out, size_t n);
/* "comm (pid N)" of this process, for the process track. */
void ix_trace_process_name(pid_t pid, char *out, size_t n);
/* The thread-lane spans (tasks, pool and mutex waits) in drawing order (by
 * thread, start, longest first) into order (room for nspans); nests[k]
 * says whether order[k] nests inside the lane's open spans (else it
 * overlaps one without nesting: drawn apart, as an async span). Returns
 * how many. */
size_t ix_trace_lane_spans(const struct ix_trace *t, size_t *order, unsigned char *nests);
/* Append a CPU sample (bounded by max_cpu: past it, or on OOM, counted in
 * cpu_dropped; never sets oom, so it may run beside the other appenders). */
void ix_trace_add_cpu(struct ix_trace *t, int64_t ts, pid_t tid, int stack, int weight);
void ix_trace_free(struct ix_trace *t);

/* The source lines of a stack's return address pc for every trace encoder:
 * symbolized at pc - 1 (the call, not the instruction after it), the
 * inlined callee first, into lines (room for max >= 1). An address that
 * does not symbolize (or sym NULL) is one line whose function is "0x<pc>"
 * (written into unknown, which must outlive lines) with no file. Returns
 * how many lines (at least 1). */
#define IX_TRACE_PC_TEXT 32
int ix_trace_pc_lines(struct ix_symbolizer *sym, uintptr_t pc, struct ix_sym_line *lines, int max,
                      char unknown[IX_TRACE_PC_TEXT]);

#endif
