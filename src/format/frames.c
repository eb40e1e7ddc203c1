#include "format/frames.h"

#include <stdio.h>

/* Frames of sample si, Go style: "function\n\tfile:line\n" (or the object
 * file and offset when there is no line information). */
void ix_frames_text(const struct ix_resolved *r, size_t si, const char *indent, ix_buf *b)
{
    const struct ix_sample *s = &r->prof->samples[si];
    char tmp[32];
    for (int j = 0; j < s->npcs; j++) {
        uint32_t loc = r->sample_locs[si][j];
        const struct ix_rlocation *l = &r->locations[loc];
        int nl = l->nlines ? l->nlines : 1;
        for (int k = 0; k < nl; k++) {
            ix_buf_printf(b, "%s%s()\n%s\t", indent, ix_rloc_name(r, loc, k, tmp, sizeof tmp), indent);
            const struct ix_rfunction *f =
                k < l->nlines ? &r->functions[l->lines[k].function] : NULL;
            if (f && f->filename && f->filename[0])
                ix_buf_printf(b, "%s:%lld", f->filename, (long long)l->lines[k].line);
            else if (l->mapping) {
                const struct ix_rmapping *m = &r->mappings[l->mapping - 1];
                ix_buf_printf(b, "%s+%#llx", m->filename ? m->filename : "?",
                              (unsigned long long)(l->address - m->start + m->offset));
            } else
                ix_buf_puts(b, "?");
            ix_buf_printf(b, " pc=%#llx\n", (unsigned long long)l->address);
        }
    }
}

void ix_frames_json(const struct ix_resolved *r, size_t si, introspect_json *j)
{
    const struct ix_sample *s = &r->prof->samples[si];
    char tmp[32], hex[24];
    introspect_json_array_begin(j);
    for (int k = 0; k < s->npcs; k++) {
        uint32_t loc = r->sample_locs[si][k];
        const struct ix_rlocation *l = &r->locations[loc];
        int nl = l->nlines ? l->nlines : 1;
        for (int m = 0; m < nl; m++) {
            introspect_json_object_begin(j);
            introspect_json_key(j, "address");
            snprintf(hex, sizeof hex, "%#llx", (unsigned long long)l->address);
            introspect_json_string(j, hex);
            introspect_json_key(j, "function");
            introspect_json_string(j, ix_rloc_name(r, loc, m, tmp, sizeof tmp));
            const struct ix_rfunction *f =
                m < l->nlines ? &r->functions[l->lines[m].function] : NULL;
            introspect_json_key(j, "file");
            if (f && f->filename && f->filename[0])
                introspect_json_string(j, f->filename);
            else
                introspect_json_null(j);
            introspect_json_key(j, "line");
            introspect_json_int(j, f ? l->lines[m].line : 0);
            introspect_json_key(j, "inlined");
            introspect_json_bool(j, m + 1 < nl);
            introspect_json_key(j, "mapping");
            if (l->mapping && r->mappings[l->mapping - 1].filename)
                introspect_json_string(j, r->mappings[l->mapping - 1].filename);
            else
                introspect_json_null(j);
            introspect_json_object_end(j);
        }
    }
    introspect_json_array_end(j);
}

