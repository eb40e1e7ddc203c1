/* Folded stacks (Brendan Gregg's flamegraph.pl input): one line per
 * distinct stack, "root;caller;...;leaf value", inlined frames expanded as
 * frames of their own, identical stacks merged (labels are not part of a
 * folded stack, so samples differing only by thread merge too). Lines are
 * sorted so the output is deterministic and ready for flamegraph.pl. */
#include "format/encoders.h"
#include "introspect.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/grow.h"
#include "util/hash.h"

struct stack {
    const char *text;
    size_t len;
    uint64_t hash;
    int64_t value;
};

struct stack_set {
    struct stack *items;
    size_t n, cap;
    uint32_t *slots; /* index + 1 */
    size_t nslots;
    struct ix_arena_block *arena;
};

static uint64_t hash_bytes(const char *s, size_t n) { return ix_hash_bytes(IX_HASH_INIT, s, n); }

static uint32_t *find_slot(const struct stack_set *ss, const char *text, size_t len, uint64_t h)
{
    size_t i = (size_t)(h >> 7) & (ss->nslots - 1);
    for (; ss->slots[i]; i = (i + 1) & (ss->nslots - 1)) {
        const struct stack *s = &ss->items[ss->slots[i] - 1];
        if (s->hash == h && s->len == len && memcmp(s->text, text, len) == 0)
            break;
    }
    return &ss->slots[i];
}

static int grow(struct stack_set *ss)
{
    if (ix_grow(&ss->items, &ss->cap, ss->n + 1, sizeof *ss->items))
        return INTROSPECT_ENOMEM;
    uint32_t *slots = calloc(ss->cap * 2, sizeof *slots);
    if (!slots)
        return INTROSPECT_ENOMEM;
    free(ss->slots);
    ss->slots = slots;
    ss->nslots = ss->cap * 2;
    for (size_t i = 0; i < ss->n; i++)
        *find_slot(ss, ss->items[i].text, ss->items[i].len, ss->items[i].hash) = (uint32_t)i + 1;
    return 0;
}

static int add_stack(struct stack_set *ss, const char *text, size_t len, int64_t value)
{
    uint64_t h = hash_bytes(text, len);
    if (ss->nslots) {
        uint32_t *slot = find_slot(ss, text, len, h);
        if (*slot) {
            ss->items[*slot - 1].value += value;
            return 0;
        }
    }
    if (ss->n == ss->cap && grow(ss))
        return INTROSPECT_ENOMEM;
    char *copy = ix_arena_strndup(&ss->arena, text, len);
    if (!copy)
        return INTROSPECT_ENOMEM;
    ss->items[ss->n] = (struct stack){copy, len, h, value};
    *find_slot(ss, copy, len, h) = (uint32_t)++ss->n;
    return 0;
}

/* A frame name with the separators of the format (';', newline) replaced. */
static void put_frame(ix_buf *b, const char *name)
{
    size_t start = b->len;
    ix_buf_puts(b, name && *name ? name : "??");
    if (b->oom)
        return;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == ';' || (unsigned char)b->data[i] < 0x20)
            b->data[i] = '_';
}

static void fold_sample(const struct ix_resolved *r, size_t i, ix_buf *b)
{
    int n = ix_rsample_nlocs(r, i);
    ix_buf_reset(b);
    if (n == 0)
        ix_buf_puts(b, "[unknown]");
    for (int k = n - 1; k >= 0; k--) { /* root first */
        const struct ix_rlocation *l = &r->locations[r->sample_locs[i][k]];
        if (k != n - 1)
            ix_buf_putc(b, ';');
        if (l->nlines == 0)
            ix_buf_printf(b, "0x%llx", (unsigned long long)l->address);
        for (int j = l->nlines - 1; j >= 0; j--) { /* caller before inlined callee */
            put_frame(b, r->functions[l->lines[j].function].name);
            if (j)
                ix_buf_putc(b, ';');
        }
    }
}

static int by_text(const void *a, const void *b)
{
    return strcmp(((const struct stack *)a)->text, ((const struct stack *)b)->text);
}

int ix_folded_encode(const struct ix_resolved *r, int value_index, ix_buf *out)
{
    if (value_index < 0 || value_index >= r->prof->ntypes)
        return INTROSPECT_EINVAL;
    struct stack_set ss = {0};
    ix_buf line;
    ix_buf_init(&line);
    int rc = 0;
    for (size_t i = 0; i < r->prof->nsamples && !rc; i++) {
        int64_t v = r->prof->samples[i].values[value_index];
        if (v == 0)
            continue;
        fold_sample(r, i, &line);
        rc = line.oom ? INTROSPECT_ENOMEM : add_stack(&ss, line.data, line.len, v);
    }
    if (!rc && ss.n) {
        qsort(ss.items, ss.n, sizeof *ss.items, by_text);
        for (size_t i = 0; i < ss.n; i++) {
            ix_buf_put(out, ss.items[i].text, ss.items[i].len);
            ix_buf_putc(out, ' ');
            ix_buf_put_i64(out, ss.items[i].value);
            ix_buf_putc(out, '\n');
        }
    }
    ix_buf_free(&line);
    free(ss.items);
    free(ss.slots);
    ix_arena_free(&ss.arena);
    return rc ? rc : out->oom ? INTROSPECT_ENOMEM : 0;
}
