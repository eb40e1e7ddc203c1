#include "format/pprof_merge.h"
#include "introspect.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gzip.h"
#include "format/merge_symbols.h"
#include "format/protobuf.h"
#include "format/strtab.h"

#define MAX_PROFILE ((size_t)512 << 20)

/* ---- reading ---- */

static void wr_field(ix_buf *b, const struct ix_pb_field *f)
{
    ix_pb_varint(b, (uint64_t)f->num << 3 | (uint64_t)f->wt);
    if (f->wt == 0)
        ix_pb_varint(b, f->v);
    else if (f->wt == 1)
        ix_buf_put(b, &f->v, 8);
    else if (f->wt == 5)
        ix_buf_put(b, &f->v, 4);
    else {
        ix_pb_varint(b, f->len);
        ix_buf_put(b, f->data, f->len);
    }
}

static void wr_varint_field(ix_buf *b, int num, uint64_t v)
{
    ix_pb_varint(b, (uint64_t)num << 3);
    ix_pb_varint(b, v);
}

/* ---- one part ---- */

struct part {
    ix_buf raw;
    char **strs;
    size_t nstrs;
    uint64_t max_map, max_loc, max_fn;
    uint64_t base_map, base_loc, base_fn;
    int64_t *st; /* sample types: (type, unit) string indexes */
    size_t nst;
    struct ix_msym_part msym; /* frames the root named (ix_pprof_part.symbolize_here) */
};

struct merge {
    struct ix_strtab tab;
    struct part *cur;
    int64_t pid_key, proc_key, proc_val;
    int64_t pid;
};

static int64_t remap_str(struct merge *m, uint64_t i)
{
    return i < m->cur->nstrs ? ix_strtab_id(&m->tab, m->cur->strs[i]) : 0;
}

enum kind { K_COPY, K_STR, K_MAP, K_LOC, K_FN, K_LOCS, K_SUB };

struct rule {
    int num;
    enum kind kind;
    const struct rule *sub;
};

static const struct rule R_LINE[] = {{1, K_FN, NULL}, {0, K_COPY, NULL}};
static const struct rule R_LOCATION[] = {
    {1, K_LOC, NULL}, {2, K_MAP, NULL}, {4, K_SUB, R_LINE}, {0, K_COPY, NULL}};
static const struct rule R_FUNCTION[] = {
    {1, K_FN, NULL}, {2, K_STR, NULL}, {3, K_STR, NULL}, {4, K_STR, NULL}, {0, K_COPY, NULL}};
static const struct rule R_MAPPING[] = {
    {1, K_MAP, NULL}, {5, K_STR, NULL}, {6, K_STR, NULL}, {0, K_COPY, NULL}};
static const struct rule R_LABEL[] = {
    {1, K_STR, NULL}, {2, K_STR, NULL}, {4, K_STR, NULL}, {0, K_COPY, NULL}};
static const struct rule R_SAMPLE[] = {{1, K_LOCS, NULL}, {3, K_SUB, R_LABEL}, {0, K_COPY, NULL}};
static const struct rule R_VALUETYPE[] = {{1, K_STR, NULL}, {2, K_STR, NULL}, {0, K_COPY, NULL}};

static uint64_t offset(uint64_t v, uint64_t base) { return v ? v + base : 0; }

static int remap(struct merge *m, const struct rule *rules, const uint8_t *p, size_t n, ix_buf *out)
{
    struct ix_pb_reader r = {p, p + n};
    struct ix_pb_field f;
    int rc;
    while ((rc = ix_pb_next(&r, &f)) == 1) {
        const struct rule *ru = rules;
        while (ru->num && ru->num != f.num)
            ru++;
        struct part *pt = m->cur;
        if (ru->kind == K_COPY) {
            wr_field(out, &f);
        } else if (ru->kind == K_SUB && f.wt == 2) {
            ix_buf sub;
            ix_buf_init(&sub);
            int e = remap(m, ru->sub, f.data, f.len, &sub);
            ix_pb_bytes(out, f.num, sub.data ? sub.data : "", sub.len);
            ix_buf_free(&sub);
            if (e)
                return e;
        } else if (ru->kind == K_LOCS && f.wt == 2) { /* packed */
            struct ix_pb_reader pr = {f.data, f.data + f.len};
            ix_buf sub;
            ix_buf_init(&sub);
            uint64_t v;
            while (pr.p < pr.end && ix_pb_read_varint(&pr, &v) == 0)
                ix_pb_varint(&sub, offset(v, pt->base_loc));
            ix_pb_bytes(out, f.num, sub.data ? sub.data : "", sub.len);
            ix_buf_free(&sub);
        } else if (f.wt == 0) {
            uint64_t v = f.v;
            switch (ru->kind) {
            case K_STR: v = (uint64_t)remap_str(m, v); break;
            case K_MAP: v = offset(v, pt->base_map); break;
            case K_LOC:
            case K_LOCS: v = offset(v, pt->base_loc); break;
            case K_FN: v = offset(v, pt->base_fn); break;
            default: break;
            }
            wr_varint_field(out, f.num, v);
        } else {
            return INTROSPECT_EINVAL; /* a wire type the field cannot have */
        }
    }
    return rc;
}

static uint64_t first_id(const uint8_t *p, size_t n)
{
    struct ix_pb_reader r = {p, p + n};
    struct ix_pb_field f;
    while (ix_pb_next(&r, &f) == 1)
        if (f.num == 1 && f.wt == 0)
            return f.v;
    return 0;
}

static void part_free(struct part *p)
{
    ix_msym_part_free(&p->msym);
    for (size_t i = 0; i < p->nstrs; i++)
        free(p->strs[i]);
    free(p->strs);
    free(p->st);
    ix_buf_free(&p->raw);
}

/* Pass 1: strings, the largest ids, the sample types. */
static int part_read(struct part *pt, const struct ix_pprof_part *in)
{
    memset(pt, 0, sizeof *pt);
    ix_buf_init(&pt->raw);
    int rc = ix_gunzip(in->data, in->len, &pt->raw, MAX_PROFILE);
    if (rc)
        return rc;
    struct ix_pb_reader r = {(const uint8_t *)pt->raw.data,
                             (const uint8_t *)pt->raw.data + pt->raw.len};
    struct ix_pb_field f;
    size_t cap = 0, stcap = 0;
    while ((rc = ix_pb_next(&r, &f)) == 1) {
        if (f.num == 6 && f.wt == 2) {
            if (pt->nstrs == cap) {
                cap = cap ? cap * 2 : 256;
                char **ns = realloc(pt->strs, cap * sizeof *ns);
                if (!ns)
                    return INTROSPECT_ENOMEM;
                pt->strs = ns;
            }
            char *s = malloc(f.len + 1);
            if (!s)
                return INTROSPECT_ENOMEM;
            memcpy(s, f.data, f.len);
            s[f.len] = '\0';
            pt->strs[pt->nstrs++] = s;
        } else if (f.wt == 2 && (f.num == 3 || f.num == 4 || f.num == 5)) {
            uint64_t id = first_id(f.data, f.len);
            uint64_t *mx = f.num == 3 ? &pt->max_map : f.num == 4 ? &pt->max_loc : &pt->max_fn;
            if (id > *mx)
                *mx = id;
        } else if (f.num == 1 && f.wt == 2) {
            if (pt->nst + 2 > stcap) {
                stcap = stcap ? stcap * 2 : 8;
                int64_t *ns = realloc(pt->st, stcap * sizeof *ns);
                if (!ns)
                    return INTROSPECT_ENOMEM;
                pt->st = ns;
            }
            struct ix_pb_reader vr = {f.data, f.data + f.len};
            struct ix_pb_field vf;
            int64_t type = 0, unit = 0;
            while (ix_pb_next(&vr, &vf) == 1) {
                if (vf.num == 1 && vf.wt == 0)
                    type = (int64_t)vf.v;
                if (vf.num == 2 && vf.wt == 0)
                    unit = (int64_t)vf.v;
            }
            pt->st[pt->nst++] = type;
            pt->st[pt->nst++] = unit;
        }
    }
    return rc == 0 && pt->nstrs > 0 ? 0 : INTROSPECT_EINVAL;
}

static const char *str_of(const struct part *p, int64_t i)
{
    return i >= 0 && (size_t)i < p->nstrs ? p->strs[i] : "";
}

static int same_types(const struct part *a, const struct part *b)
{
    if (a->nst != b->nst)
        return 0;
    for (size_t i = 0; i < a->nst; i++)
        if (strcmp(str_of(a, a->st[i]), str_of(b, b->st[i])))
            return 0;
    return 1;
}

/* Name the frames a child left as addresses (format/merge_symbols.h); what
 * could not be named is said in *note. */
static void symbolize_part(struct part *pt, const struct ix_pprof_part *in, struct ix_strtab *tab,
                           struct ix_msym_fns *fns, char **note)
{
    char text[300];
    const char *title = in->process ? in->process : "";
    int rc = ix_msym_part_symbolize(&pt->msym, (const uint8_t *)pt->raw.data, pt->raw.len,
                                    pt->strs, pt->nstrs, in->pid, tab, fns);
    if (rc == INTROSPECT_ESYS)
        snprintf(text, sizeof text, "introspect: pid %d (%s): the root could not read its maps "
                 "to name its frames; they are addresses", in->pid, title);
    else if (rc)
        snprintf(text, sizeof text, "introspect: pid %d (%s): out of memory naming its frames; "
                 "some are addresses", in->pid, title);
    else if (pt->msym.unresolved)
        snprintf(text, sizeof text, "introspect: pid %d (%s): %zu of its %zu frames in files "
                 "could not be named by the root (a file replaced or gone); they are addresses",
                 in->pid, title, pt->msym.unresolved, pt->msym.tried);
    else
        return;
    *note = strdup(text);
}

int ix_pprof_merge(const struct ix_pprof_part *parts, int n, const char *const *comments,
                   int ncomments, ix_buf *out)
{
    struct part *pts = calloc((size_t)(n ? n : 1), sizeof *pts);
    /* notes[i]: why part i was left out; notes[n + i]: what its merge could not name */
    char **notes = calloc((size_t)(n ? 2 * n : 1), sizeof *notes);
    if (!pts || !notes) {
        free(pts);
        free(notes);
        return INTROSPECT_ENOMEM;
    }
    struct merge m;
    memset(&m, 0, sizeof m);
    ix_strtab_init(&m.tab);
    ix_buf samples, maps, locs, fns, head;
    ix_buf_init(&samples);
    ix_buf_init(&maps);
    ix_buf_init(&locs);
    ix_buf_init(&fns);
    ix_buf_init(&head);
    int first = -1, merged = 0;
    uint64_t bmap = 0, bloc = 0, bfn = 0;
    int64_t time_nanos = 0, duration = 0;
    int64_t comment_ids[256];
    int ncomment = 0;
    /* Pass 1 over every part: what decodes, the id ranges. */
    for (int i = 0; i < n; i++) {
        struct part *pt = &pts[i];
        char note[200];
        note[0] = '\0';
        if (part_read(pt, &parts[i])) {
            snprintf(note, sizeof note, "pid %d (%s): its profile could not be decoded; left out",
                     parts[i].pid, parts[i].process ? parts[i].process : "");
        } else if (first >= 0 && !same_types(&pts[first], pt)) {
            snprintf(note, sizeof note, "pid %d (%s): other sample types than pid %d; left out",
                     parts[i].pid, parts[i].process ? parts[i].process : "", parts[first].pid);
        }
        if (note[0]) {
            notes[i] = strdup(note);
            part_free(pt);
            memset(pt, 0, sizeof *pt);
            continue;
        }
        if (first < 0)
            first = i;
        pt->base_map = bmap;
        pt->base_loc = bloc;
        pt->base_fn = bfn;
        bmap += pt->max_map;
        bloc += pt->max_loc;
        bfn += pt->max_fn;
    }
    /* The frames children left as addresses, named here once for all. */
    struct ix_msym_fns xfns;
    ix_msym_fns_init(&xfns, bfn + 1);
    for (int i = 0; i < n; i++)
        if (pts[i].raw.data && parts[i].symbolize_here)
            symbolize_part(&pts[i], &parts[i], &m.tab, &xfns, &notes[n + i]);
    for (int i = 0; i < n; i++) {
        struct part *pt = &pts[i];
        if (!pt->raw.data)
            continue; /* left out (pass 1) */
        m.cur = pt;
        m.pid = parts[i].pid;
        m.pid_key = ix_strtab_id(&m.tab, "pid");
        m.proc_key = ix_strtab_id(&m.tab, "process");
        m.proc_val = ix_strtab_id(&m.tab, parts[i].process ? parts[i].process : "");
        struct ix_pb_reader r = {(const uint8_t *)pt->raw.data,
                             (const uint8_t *)pt->raw.data + pt->raw.len};
        struct ix_pb_field f;
        int rc = 0;
        while ((rc = ix_pb_next(&r, &f)) == 1) {
            if (f.wt == 2 && f.num == 2) {
                ix_buf s;
                ix_buf_init(&s);
                rc = remap(&m, R_SAMPLE, f.data, f.len, &s);
                ix_buf lab;
                ix_buf_init(&lab);
                ix_pb_int(&lab, 1, m.pid_key);
                ix_pb_int(&lab, 3, m.pid);
                ix_pb_bytes(&s, 3, lab.data, lab.len);
                ix_buf_reset(&lab);
                ix_pb_int(&lab, 1, m.proc_key);
                ix_pb_int(&lab, 2, m.proc_val);
                ix_pb_bytes(&s, 3, lab.data, lab.len);
                ix_buf_free(&lab);
                ix_pb_bytes(&samples, 2, s.data ? s.data : "", s.len);
                ix_buf_free(&s);
            } else if (f.wt == 2 && f.num == 3) {
                ix_buf s;
                ix_buf_init(&s);
                rc = remap(&m, R_MAPPING, f.data, f.len, &s);
                ix_msym_mapping_flags(&pt->msym, first_id(f.data, f.len), &s);
                ix_pb_bytes(&maps, 3, s.data ? s.data : "", s.len);
                ix_buf_free(&s);
            } else if (f.wt == 2 && f.num == 4) {
                ix_buf s;
                ix_buf_init(&s);
                rc = remap(&m, R_LOCATION, f.data, f.len, &s);
                ix_msym_location_lines(&pt->msym, first_id(f.data, f.len), &s);
                ix_pb_bytes(&locs, 4, s.data ? s.data : "", s.len);
                ix_buf_free(&s);
            } else if (f.wt == 2 && f.num == 5) {
                ix_buf s;
                ix_buf_init(&s);
                rc = remap(&m, R_FUNCTION, f.data, f.len, &s);
                ix_pb_bytes(&fns, 5, s.data ? s.data : "", s.len);
                ix_buf_free(&s);
            } else if (f.wt == 0 && f.num == 9) {
                if (!time_nanos || (int64_t)f.v < time_nanos)
                    time_nanos = (int64_t)f.v;
            } else if (f.wt == 0 && f.num == 10) {
                if ((int64_t)f.v > duration)
                    duration = (int64_t)f.v;
            } else if (f.wt == 0 && f.num == 13) {
                if (ncomment < 200)
                    comment_ids[ncomment++] = remap_str(&m, f.v);
            } else if (i == first) { /* the template: types, period, filters */
                if (f.wt == 2 && (f.num == 1 || f.num == 11)) {
                    ix_buf s;
                    ix_buf_init(&s);
                    rc = remap(&m, R_VALUETYPE, f.data, f.len, &s);
                    ix_pb_bytes(&head, f.num, s.data ? s.data : "", s.len);
                    ix_buf_free(&s);
                } else if (f.wt == 0 && (f.num == 7 || f.num == 8 || f.num == 14)) {
                    wr_varint_field(&head, f.num, (uint64_t)remap_str(&m, f.v));
                } else if (f.num == 12) {
                    wr_field(&head, &f);
                }
            }
            if (rc < 0)
                break;
        }
        merged++;
    }
    ix_buf_put(&fns, xfns.out.data ? xfns.out.data : "", xfns.out.len);
    for (int i = 0; i < 2 * n; i++)
        if (notes[i] && ncomment < 256)
            comment_ids[ncomment++] = ix_strtab_id(&m.tab, notes[i]);
    for (int i = 0; i < ncomments && ncomment < 256; i++)
        comment_ids[ncomment++] = ix_strtab_id(&m.tab, comments[i]);
    int ok = first >= 0;
    if (ok) {
        ix_buf pb;
        ix_buf_init(&pb);
        ix_buf_put(&pb, head.data, head.len);
        ix_buf_put(&pb, samples.data, samples.len);
        ix_buf_put(&pb, maps.data, maps.len);
        ix_buf_put(&pb, locs.data, locs.len);
        ix_buf_put(&pb, fns.data, fns.len);
        for (size_t i = 0; i < m.tab.n; i++)
            ix_pb_bytes(&pb, 6, m.tab.strs[i], strlen(m.tab.strs[i]));
        ix_pb_int(&pb, 9, time_nanos);
        ix_pb_int(&pb, 10, duration);
        for (int i = 0; i < ncomment; i++)
            wr_varint_field(&pb, 13, (uint64_t)comment_ids[i]);
        ok = !pb.oom && !m.tab.oom && !samples.oom && !maps.oom && !locs.oom && !fns.oom &&
             !xfns.out.oom &&
             ix_gzip(pb.data ? pb.data : "", pb.len, out) == 0;
        ix_buf_free(&pb);
    }
    /* The strings are borrowed by the table: free them after it. */
    ix_strtab_free(&m.tab);
    ix_msym_fns_free(&xfns);
    for (int i = 0; i < n; i++) {
        part_free(&pts[i]);
        free(notes[i]);
        free(notes[n + i]);
    }
    free(pts);
    free(notes);
    ix_buf_free(&samples);
    ix_buf_free(&maps);
    ix_buf_free(&locs);
    ix_buf_free(&fns);
    ix_buf_free(&head);
    return ok ? merged : first < 0 ? INTROSPECT_EINVAL : INTROSPECT_ENOMEM;
}
