/* The JSON profile model (docs/profile-json.md): profile.proto's shape,
 * symbolized, with array indices instead of ids and hex strings for
 * addresses (JavaScript numbers lose 64-bit precision). */
#include "format/encoders.h"
#include "introspect.h"

#include <stdio.h>
#include <string.h>

#include "util/json.h"

static void hex(introspect_json *j, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "0x%llx", (unsigned long long)v);
    introspect_json_string(j, tmp);
}

static void value_type(introspect_json *j, struct ix_value_type vt)
{
    introspect_json_object_begin(j);
    introspect_json_key(j, "type");
    introspect_json_string(j, vt.type ? vt.type : "");
    introspect_json_key(j, "unit");
    introspect_json_string(j, vt.unit ? vt.unit : "");
    introspect_json_object_end(j);
}

static void header(introspect_json *j, const struct ix_profile *p)
{
    introspect_json_key(j, "name");
    introspect_json_string(j, p->name ? p->name : "");
    introspect_json_key(j, "sample_types");
    introspect_json_array_begin(j);
    for (int i = 0; i < p->ntypes; i++)
        value_type(j, p->types[i]);
    introspect_json_array_end(j);
    introspect_json_key(j, "default_sample_type");
    introspect_json_int(j, p->default_type >= 0 ? p->default_type : p->ntypes - 1);
    introspect_json_key(j, "period_type");
    value_type(j, p->period_type);
    introspect_json_key(j, "period");
    introspect_json_int(j, p->period);
    introspect_json_key(j, "time_nanos");
    introspect_json_int(j, p->time_nanos);
    introspect_json_key(j, "duration_nanos");
    introspect_json_int(j, p->duration_nanos);
    introspect_json_key(j, "comments");
    introspect_json_array_begin(j);
    for (int i = 0; i < p->ncomments; i++)
        introspect_json_string(j, p->comments[i]);
    introspect_json_array_end(j);
    /* comments that say something is missing, for the UI to show as notices */
    introspect_json_key(j, "warnings");
    introspect_json_array_begin(j);
    for (int i = 0; i < p->ncomments; i++)
        if (strncmp(p->comments[i], "warning: ", 9) == 0)
            introspect_json_string(j, p->comments[i] + 9);
    introspect_json_array_end(j);
    if (!p->has_precision)
        return;
    introspect_json_key(j, "precision"); /* parallel to sample_types */
    introspect_json_array_begin(j);
    for (int i = 0; i < p->ntypes; i++) {
        introspect_json_object_begin(j);
        introspect_json_key(j, "samples");
        introspect_json_int(j, p->precision_samples[i]);
        introspect_json_key(j, "relative_error");
        if (p->precision_error[i] < 0)
            introspect_json_null(j);
        else
            introspect_json_float(j, p->precision_error[i]);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void functions(introspect_json *j, const struct ix_resolved *r)
{
    introspect_json_key(j, "functions");
    introspect_json_array_begin(j);
    for (size_t i = 0; i < r->nfunctions; i++) {
        introspect_json_object_begin(j);
        introspect_json_key(j, "name");
        introspect_json_string(j, r->functions[i].name ? r->functions[i].name : "");
        introspect_json_key(j, "file");
        introspect_json_string(j, r->functions[i].filename ? r->functions[i].filename : "");
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void locations(introspect_json *j, const struct ix_resolved *r)
{
    introspect_json_key(j, "locations");
    introspect_json_array_begin(j);
    for (size_t i = 0; i < r->nlocations; i++) {
        const struct ix_rlocation *l = &r->locations[i];
        introspect_json_object_begin(j);
        introspect_json_key(j, "address");
        hex(j, l->address);
        introspect_json_key(j, "mapping");
        introspect_json_int(j, (int64_t)l->mapping - 1);
        if (l->folded) {
            introspect_json_key(j, "folded");
            introspect_json_bool(j, 1);
        }
        introspect_json_key(j, "lines");
        introspect_json_array_begin(j);
        for (int k = 0; k < l->nlines; k++) {
            introspect_json_object_begin(j);
            introspect_json_key(j, "function");
            introspect_json_int(j, l->lines[k].function);
            introspect_json_key(j, "line");
            introspect_json_int(j, l->lines[k].line);
            introspect_json_object_end(j);
        }
        introspect_json_array_end(j);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void flag(introspect_json *j, const char *key, int v)
{
    introspect_json_key(j, key);
    introspect_json_bool(j, v);
}

static void mappings(introspect_json *j, const struct ix_resolved *r)
{
    introspect_json_key(j, "mappings");
    introspect_json_array_begin(j);
    for (size_t i = 0; i < r->nmappings; i++) {
        const struct ix_rmapping *m = &r->mappings[i];
        introspect_json_object_begin(j);
        introspect_json_key(j, "start");
        hex(j, m->start);
        introspect_json_key(j, "limit");
        hex(j, m->limit);
        introspect_json_key(j, "offset");
        hex(j, m->offset);
        introspect_json_key(j, "file");
        introspect_json_string(j, m->filename ? m->filename : "");
        introspect_json_key(j, "build_id");
        introspect_json_string(j, m->build_id ? m->build_id : "");
        flag(j, "has_functions", m->has_functions);
        flag(j, "has_filenames", m->has_filenames);
        flag(j, "has_line_numbers", m->has_line_numbers);
        flag(j, "has_inline_frames", m->has_inline_frames);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

/* JSON objects cannot repeat a key: a repeated label key keeps its first value. */
static void labels(introspect_json *j, const struct ix_sample *s)
{
    introspect_json_key(j, "labels");
    introspect_json_object_begin(j);
    for (int l = 0; l < s->nlabels; l++) {
        int dup = 0;
        for (int k = 0; k < l; k++)
            dup |= strcmp(s->labels[k].key, s->labels[l].key) == 0;
        if (dup || !s->labels[l].key)
            continue;
        introspect_json_key(j, s->labels[l].key);
        if (s->labels[l].str)
            introspect_json_string(j, s->labels[l].str);
        else
            introspect_json_int(j, s->labels[l].num);
    }
    introspect_json_object_end(j);
}

static void samples(introspect_json *j, const struct ix_resolved *r)
{
    const struct ix_profile *p = r->prof;
    introspect_json_key(j, "samples");
    introspect_json_array_begin(j);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct ix_sample *s = &p->samples[i];
        introspect_json_object_begin(j);
        int n = ix_rsample_nlocs(r, i);
        introspect_json_key(j, "locations");
        introspect_json_array_begin(j);
        for (int k = 0; k < n; k++)
            introspect_json_int(j, r->sample_locs[i][k]);
        introspect_json_array_end(j);
        if (r->raw_locs && (n != s->npcs || memcmp(r->raw_locs[i], r->sample_locs[i],
                                                   (size_t)n * sizeof(uint32_t)))) {
            /* folded: the addresses behind its [object] frames */
            introspect_json_key(j, "unfolded_locations");
            introspect_json_array_begin(j);
            for (int k = 0; k < s->npcs; k++)
                introspect_json_int(j, r->raw_locs[i][k]);
            introspect_json_array_end(j);
        }
        introspect_json_key(j, "values");
        introspect_json_array_begin(j);
        for (int v = 0; v < p->ntypes; v++)
            introspect_json_int(j, s->values[v]);
        introspect_json_array_end(j);
        labels(j, s);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

int ix_profile_json_encode(const struct ix_resolved *r, ix_buf *out)
{
    introspect_json j;
    ix_json_init(&j, out);
    introspect_json_object_begin(&j);
    header(&j, r->prof);
    functions(&j, r);
    locations(&j, r);
    mappings(&j, r);
    samples(&j, r);
    introspect_json_object_end(&j);
    ix_buf_putc(out, '\n');
    return ix_json_complete(&j) ? 0 : INTROSPECT_ENOMEM;
}
