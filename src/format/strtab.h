/* A string table: each distinct string gets a dense index, in first-seen
 * order (profile.proto's string_table; index 0 is always ""). */
#ifndef IX_STRTAB_H
#define IX_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct ix_strtab {
    const char **strs; /* borrowed: must outlive the table */
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 */
    size_t nslots;
    int oom;
    /* The same pointers come back (a label key per sample, a file name per
     * function): a direct-mapped memo by address skips hashing the string. */
    struct {
        const char *p;
        uint32_t id;
    } memo[64];
};

void ix_strtab_init(struct ix_strtab *t);
void ix_strtab_free(struct ix_strtab *t);
/* Index of s (NULL counts as ""). */
int64_t ix_strtab_id(struct ix_strtab *t, const char *s);

#endif
