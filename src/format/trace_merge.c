/* The merge of a process tree's trace parts (see format/trace_merge.h). */
#include "format/trace_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/trace_perfetto.h"
#include "introspect.h"
#include "util/json.h"

static const char HEAD[] = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
static const char FRAMES[] = ",\n\"stackFrames\":{";
static const char OTHER[] = ",\n\"otherData\":{";

/* One part cut at the encoder's seams. */
struct cut {
    const char *events, *frames, *other; /* other: the otherData object's inside */
    size_t nevents, nframes, nother;
};

static const char *find(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (s[i] == needle[0] && memcmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

/* A number of otherData (its keys are unique and a string's quotes are
 * escaped, so "key": matches only the key); 0 when absent. */
static double other_num(const struct cut *c, const char *key, int *found)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = find(c->other, c->nother, pat);
    if (found)
        *found = p != NULL;
    if (!p)
        return 0;
    char num[40]; /* the part need not end in a NUL: read within it */
    p += strlen(pat);
    size_t n = (size_t)(c->other + c->nother - p);
    n = n < sizeof num - 1 ? n : sizeof num - 1;
    memcpy(num, p, n);
    num[n] = '\0';
    return strtod(num, NULL);
}

static int cut_part(const struct ix_trace_part *p, int64_t base, struct cut *c)
{
    const char *s = p->data, *end = p->data + p->len;
    size_t hl = sizeof HEAD - 1;
    if (!s || p->len < hl || memcmp(s, HEAD, hl) != 0)
        return INTROSPECT_EINVAL;
    c->events = s + hl;
    const char *close = find(c->events, (size_t)(end - c->events), "\n]");
    if (!close || (size_t)(end - close - 2) < sizeof FRAMES - 1 ||
        memcmp(close + 2, FRAMES, sizeof FRAMES - 1) != 0)
        return INTROSPECT_EINVAL;
    c->nevents = (size_t)(close - c->events);
    c->frames = close + 2 + sizeof FRAMES - 1;
    const char *o = find(c->frames, (size_t)(end - c->frames), OTHER);
    if (!o || o == c->frames || o[-1] != '}')
        return INTROSPECT_EINVAL;
    c->nframes = (size_t)(o - 1 - c->frames);
    c->other = o + sizeof OTHER - 1;
    const char *last = end; /* the document's '}' and the otherData's before it */
    while (last > c->other && (last[-1] == '\n' || last[-1] == ' '))
        last--;
    if (last - c->other < 2 || last[-1] != '}' || last[-2] != '}')
        return INTROSPECT_EINVAL;
    c->nother = (size_t)(last - 2 - c->other);
    int has_pid, has_t0;
    double pid = other_num(c, "pid", &has_pid), t0 = other_num(c, "t0_ns", &has_t0);
    if (!has_pid || !has_t0 || (int)pid != p->pid || (int64_t)t0 != base)
        return INTROSPECT_EINVAL;
    return 0;
}

static const char *const summed[] = {
    "dropped_events", "recorded_events", "recording_threads", "ticks", "late_ticks",
    "blocked_walks", "blocked_walks_skipped", "short_pool_waits_not_drawn", "async_spans",
    "stacks_dropped", "cpu_samples", "cpu_samples_dropped", "cpu_samples_outside_window",
    "cpu_stacks_dropped",
};
static const char *const from_root[] = {"duration_ms", "state_hz", "cpu_hz"};

/* The note naming a part that could not be read (NULL out of memory:
 * the part is then left out unnamed). */
static char *unreadable_note(const struct ix_trace_part *p)
{
    char note[300];
    snprintf(note, sizeof note, "introspect: pid %d (%s) is missing: its trace could not be read",
             p->pid, p->title ? p->title : "");
    return strdup(note);
}

static void free_notes(char **notes, int n)
{
    for (int i = 0; i < n; i++)
        free(notes[i]);
    free(notes);
}

int ix_trace_merge(const struct ix_trace_part *parts, int nparts, int total, int64_t base,
                   const char *const *notes, int nnotes, ix_buf *out)
{
    struct cut *cuts = calloc((size_t)nparts + 1, sizeof *cuts);
    char **bad = calloc((size_t)nparts + 1, sizeof *bad);
    int *ok = calloc((size_t)nparts + 1, sizeof *ok);
    if (!cuts || !bad || !ok) {
        free(cuts);
        free(bad);
        free(ok);
        return INTROSPECT_ENOMEM;
    }
    int merged = 0, nbad = 0, root = -1;
    for (int i = 0; i < nparts; i++) {
        ok[i] = cut_part(&parts[i], base, &cuts[i]) == 0;
        if (ok[i]) {
            merged++;
            if (root < 0)
                root = i;
        } else {
            bad[nbad++] = unreadable_note(&parts[i]);
        }
    }
    if (merged == 0)
        goto done;
    ix_buf_puts(out, HEAD);
    int first = 1;
    for (int i = 0; i < nparts; i++) {
        if (!ok[i] || cuts[i].nevents == 0)
            continue;
        if (!first)
            ix_buf_puts(out, ",\n");
        ix_buf_put(out, cuts[i].events, cuts[i].nevents);
        first = 0;
    }
    int rank = 0;
    for (int i = 0; i < nparts; i++) {
        if (!ok[i])
            continue;
        ix_buf_printf(out, "%s{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_sort_index\","
                      "\"args\":{\"sort_index\":%d}}", first ? "" : ",\n", parts[i].pid, rank++);
        first = 0;
    }
    ix_buf_puts(out, "\n]");
    ix_buf_puts(out, FRAMES);
    first = 1;
    for (int i = 0; i < nparts; i++) {
        if (!ok[i] || cuts[i].nframes == 0)
            continue;
        if (!first)
            ix_buf_putc(out, ',');
        ix_buf_put(out, cuts[i].frames, cuts[i].nframes);
        first = 0;
    }
    ix_buf_puts(out, "}");
    ix_buf_printf(out, "%s\"producer\":\"introspect\",\"pid\":%d,\"t0_ns\":%lld", OTHER,
                  parts[root].pid, (long long)base);
    for (size_t k = 0; k < sizeof from_root / sizeof from_root[0]; k++) {
        int found;
        double v = other_num(&cuts[root], from_root[k], &found);
        if (found) {
            ix_buf_printf(out, ",\"%s\":", from_root[k]);
            ix_buf_put_double(out, v);
        }
    }
    for (size_t k = 0; k < sizeof summed / sizeof summed[0]; k++) {
        double sum = 0;
        for (int i = 0; i < nparts; i++)
            if (ok[i])
                sum += other_num(&cuts[i], summed[k], NULL);
        ix_buf_printf(out, ",\"%s\":%.0f", summed[k], sum);
    }
    int incomplete = 0;
    for (int i = 0; i < nparts; i++)
        if (ok[i] && find(cuts[i].other, cuts[i].nother, "\"incomplete\":true"))
            incomplete = 1;
    ix_buf_printf(out, ",\"incomplete\":%s,\"process_tree\":{\"processes\":%d,\"merged\":%d,"
                  "\"notes\":[", incomplete ? "true" : "false", total, merged);
    int nn = 0;
    for (int i = 0; i < nnotes; i++, nn++) {
        if (nn)
            ix_buf_putc(out, ',');
        ix_json_quote(out, notes[i]);
    }
    for (int i = 0; i < nbad; i++, nn++) {
        if (nn)
            ix_buf_putc(out, ',');
        ix_json_quote(out, bad[i] ? bad[i] : "introspect: a trace could not be read");
    }
    char summary[128];
    snprintf(summary, sizeof summary, "introspect: process tree: %d of %d processes merged",
             merged, total);
    if (nn)
        ix_buf_putc(out, ',');
    ix_json_quote(out, summary);
    ix_buf_puts(out, "]},\"processes\":[");
    first = 1;
    for (int i = 0; i < nparts; i++) {
        if (!ok[i])
            continue;
        ix_buf_puts(out, first ? "{" : ",{");
        ix_buf_put(out, cuts[i].other, cuts[i].nother);
        ix_buf_putc(out, '}');
        first = 0;
    }
    ix_buf_puts(out, "]}}\n");
done:
    free_notes(bad, nbad);
    free(cuts);
    free(ok);
    return out->oom ? INTROSPECT_ENOMEM : merged;
}

int ix_trace_merge_perfetto(const struct ix_trace_part *parts, int nparts, int total, int64_t base,
                            const char *const *notes, int nnotes, ix_buf *out)
{
    int *ok = calloc((size_t)nparts + 1, sizeof *ok);
    const char **all = calloc((size_t)(nnotes + nparts + 1), sizeof *all);
    char **bad = calloc((size_t)nparts + 1, sizeof *bad);
    if (!ok || !all || !bad) {
        free(ok);
        free(all);
        free(bad);
        return INTROSPECT_ENOMEM;
    }
    int merged = 0, nall = 0, nbad = 0, root = -1;
    int64_t first = base;
    for (int i = 0; i < nparts; i++) {
        int64_t ts = 0;
        if (!parts[i].data) /* missing: its note says why */
            continue;
        ok[i] = ix_trace_perfetto_check_part(parts[i].data, parts[i].len, parts[i].pid, base,
                                             &ts) == 0;
        if (!ok[i]) {
            bad[nbad++] = unreadable_note(&parts[i]);
            continue;
        }
        merged++;
        if (root < 0) {
            root = i;
            if (ts > 0 && ts < first)
                first = ts;
        }
    }
    if (merged == 0)
        goto done;
    for (int i = 0; i < nnotes; i++)
        all[nall++] = notes[i];
    for (int i = 0; i < nbad; i++)
        all[nall++] = bad[i] ? bad[i] : "introspect: a trace could not be read";
    char summary[128];
    snprintf(summary, sizeof summary, "introspect: process tree: %d of %d processes merged",
             merged, total);
    all[nall++] = summary;
    /* The tree's notes first on the root's sequence, at or before its first
     * event; a process track for each process left out, named for it. */
    int rpid = parts[root].pid;
    ix_trace_perfetto_tree_notes(out, rpid, first, total, merged, all, nall);
    for (int i = 0; i < nparts; i++) {
        if (ok[i])
            continue;
        char name[200];
        snprintf(name, sizeof name, "%s (pid %d): missing", parts[i].title ? parts[i].title : "",
                 parts[i].pid);
        ix_trace_perfetto_process_track(out, rpid, parts[i].pid, name);
    }
    for (int i = 0; i < nparts; i++)
        if (ok[i])
            ix_buf_put(out, parts[i].data, parts[i].len);
done:
    free_notes(bad, nbad);
    free(all);
    free(ok);
    return out->oom ? INTROSPECT_ENOMEM : merged;
}
