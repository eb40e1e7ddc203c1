#include "format/frames.h"
#include "introspect.h"
#include "util/json.h"
#include "format/leaks.h"

static void series_json(introspect_json *j, const int64_t *t, const double *v, int n)
{
    introspect_json_array_begin(j);
    for (int i = 0; i < n; i++) {
        introspect_json_array_begin(j);
        introspect_json_float(j, (double)t[i] / 1e9);
        introspect_json_float(j, v[i]);
        introspect_json_array_end(j);
    }
    introspect_json_array_end(j);
}

static void num(introspect_json *j, const char *k, double v)
{
    introspect_json_key(j, k);
    introspect_json_float(j, v);
}

int ix_leaks_json_encode(const struct ix_leak_report *r, const struct ix_resolved *stacks,
                         const int *sample_of, ix_buf *out)
{
    introspect_json j;
    ix_json_init(&j, out);
    introspect_json_object_begin(&j);
    num(&j, "time", (double)r->now_ns / 1e9);
    num(&j, "window_seconds", (double)r->window_ns / 1e9);
    num(&j, "covered_seconds", (double)r->covered_ns / 1e9);
    num(&j, "interval_seconds", (double)r->interval_ns / 1e9);
    introspect_json_key(&j, "snapshots");
    introspect_json_int(&j, r->snapshots);
    introspect_json_key(&j, "heap_rate");
    introspect_json_int(&j, r->heap_rate);
    introspect_json_key(&j, "note");
    if (r->note[0])
        introspect_json_string(&j, r->note);
    else
        introspect_json_null(&j);
    introspect_json_key(&j, "suspects");
    introspect_json_array_begin(&j);
    for (int i = 0; i < r->nsuspects; i++) {
        const struct ix_leak_suspect *s = &r->suspects[i];
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "rank");
        introspect_json_int(&j, s->rank);
        introspect_json_key(&j, "kind");
        introspect_json_string(&j, ix_leak_kind_name(s->kind));
        introspect_json_key(&j, "name");
        if (s->name)
            introspect_json_string(&j, s->name);
        else
            introspect_json_null(&j);
        introspect_json_key(&j, "unit");
        introspect_json_string(&j, s->kind == IX_LEAK_HEAP ? "bytes" : "count");
        num(&j, "growth_per_hour", s->growth_per_hour);
        num(&j, "growing_seconds", s->growing_s);
        introspect_json_key(&j, "growing_since_window_start");
        introspect_json_bool(&j, s->since_window_start);
        num(&j, "current", s->current);
        if (s->kind == IX_LEAK_HEAP)
            num(&j, "current_objects", s->current_objects);
        introspect_json_key(&j, "confidence");
        introspect_json_object_begin(&j);
        num(&j, "growth_samples", s->trend.growth);
        num(&j, "poisson_z", s->trend.poisson_z);
        num(&j, "mann_kendall_z", s->trend.mk_z);
        num(&j, "tau", s->trend.tau);
        num(&j, "recent_growth", s->trend.recent_growth);
        num(&j, "recent_expected", s->trend.recent_expected);
        introspect_json_object_end(&j);
        introspect_json_key(&j, "stack");
        if (stacks && sample_of[i] >= 0)
            ix_frames_json(stacks, (size_t)sample_of[i], &j);
        else
            introspect_json_null(&j);
        introspect_json_key(&j, "series");
        series_json(&j, s->t_ns, s->values, s->npoints);
        introspect_json_object_end(&j);
    }
    introspect_json_array_end(&j);
    introspect_json_key(&j, "process");
    introspect_json_object_begin(&j);
    for (int i = 0; i < r->nprocess; i++) {
        const struct ix_leak_process *p = &r->process[i];
        introspect_json_key(&j, p->name);
        introspect_json_object_begin(&j);
        num(&j, "current", p->current);
        num(&j, "growth_per_hour", p->growth_per_hour);
        introspect_json_key(&j, "series");
        series_json(&j, p->t_ns, p->values, p->npoints);
        introspect_json_object_end(&j);
    }
    introspect_json_object_end(&j);
    introspect_json_object_end(&j);
    return ix_json_complete(&j) && !out->oom ? 0 : INTROSPECT_ENOMEM;
}
