#include "format/frames.h"

#include <stdio.h>

void ix_frames_each(const struct ix_resolved *r, size_t si,
                    void (*fn)(const struct ix_frame *f, void *arg), void *arg)
{
    const struct ix_sample *s = &r->prof->samples[si];
    char tmp[32];
    for (int j = 0; j < s->npcs; j++) {
        uint32_t loc = r->sample_locs[si][j];
        const struct ix_rlocation *l = &r->locations[loc];
        int nl = l->nlines ? l->nlines : 1;
        for (int k = 0; k < nl; k++) {
            const struct ix_rfunction *fu =
                k < l->nlines ? &r->functions[l->lines[k].function] : NULL;
            struct ix_frame f = {
                l->address,
                ix_rloc_name(r, loc, k, tmp, sizeof tmp),
                fu && fu->filename && fu->filename[0] ? fu->filename : NULL,
                fu ? l->lines[k].line : 0,
                k + 1 < nl,
                l->mapping ? &r->mappings[l->mapping - 1] : NULL,
            };
            fn(&f, arg);
        }
    }
}

struct text_ctx {
    const char *indent;
    ix_buf *b;
};

static void frame_text(const struct ix_frame *f, void *arg)
{
    const struct text_ctx *c = arg;
    ix_buf_printf(c->b, "%s%s()\n%s\t", c->indent, f->function, c->indent);
    if (f->file)
        ix_buf_printf(c->b, "%s:%lld", f->file, (long long)f->line);
    else if (f->mapping)
        ix_buf_printf(c->b, "%s+%#llx", f->mapping->filename ? f->mapping->filename : "?",
                      (unsigned long long)(f->address - f->mapping->start + f->mapping->offset));
    else
        ix_buf_puts(c->b, "?");
    ix_buf_printf(c->b, " pc=%#llx\n", (unsigned long long)f->address);
}

void ix_frames_text(const struct ix_resolved *r, size_t si, const char *indent, ix_buf *b)
{
    struct text_ctx c = {indent, b};
    ix_frames_each(r, si, frame_text, &c);
}

static void frame_json(const struct ix_frame *f, void *arg)
{
    introspect_json *j = arg;
    char hex[24];
    introspect_json_object_begin(j);
    introspect_json_key(j, "address");
    snprintf(hex, sizeof hex, "%#llx", (unsigned long long)f->address);
    introspect_json_string(j, hex);
    introspect_json_key(j, "function");
    introspect_json_string(j, f->function);
    introspect_json_key(j, "file");
    if (f->file)
        introspect_json_string(j, f->file);
    else
        introspect_json_null(j);
    introspect_json_key(j, "line");
    introspect_json_int(j, f->line);
    introspect_json_key(j, "inlined");
    introspect_json_bool(j, f->inlined);
    introspect_json_key(j, "mapping");
    if (f->mapping && f->mapping->filename)
        introspect_json_string(j, f->mapping->filename);
    else
        introspect_json_null(j);
    introspect_json_object_end(j);
}

void ix_frames_json(const struct ix_resolved *r, size_t si, introspect_json *j)
{
    introspect_json_array_begin(j);
    ix_frames_each(r, si, frame_json, j);
    introspect_json_array_end(j);
}
