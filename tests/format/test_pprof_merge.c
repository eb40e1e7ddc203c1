/* The merge of a process tree's pprof parts naming the frames a part left
 * as addresses (format/merge_symbols.h): a profile of this process encoded
 * with ?symbolize=0's resolve holds no function name; merged with
 * symbolize_here it names this file's functions (file and line) and
 * go tool pprof reads the result; a part whose process is gone keeps its
 * addresses and the merge says why. ASan runs this. */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "format/pprof_merge.h"
#include "model/profile.h"

static volatile int g_sink;

__attribute__((noinline)) void merge_marker_leaf(void)
{
    g_sink++;
    g_sink++;
}

__attribute__((noinline)) void merge_marker_caller(void)
{
    merge_marker_leaf();
    g_sink++;
}

/* One sample: the two functions above, as return-address-like pcs. */
static void encode_addresses_only(ix_buf *out)
{
    struct ix_profile p;
    ix_profile_init(&p, "profile");
    ix_profile_add_type(&p, "samples", "count");
    uintptr_t pcs[] = {(uintptr_t)merge_marker_leaf + 2, (uintptr_t)merge_marker_caller + 2};
    int64_t v[1] = {7};
    ASSERT_OK(ix_profile_add(&p, pcs, 2, v, NULL, 0));
    struct ix_resolved r;
    ASSERT_OK(ix_profile_resolve_opt(&p, &r, IX_RESOLVE_FILES_UNSYMBOLIZED));
    ASSERT_OK(ix_pprof_encode(&r, out));
    ix_resolved_free(&r);
    ix_profile_free(&p);
}

static void merged_text(const void *gz, size_t n, ix_buf *raw)
{
    ix_buf_init(raw);
    ASSERT_OK(ix_gunzip(gz, n, raw, 64 << 20));
    ix_buf_putc(raw, '\0'); /* strings are stored plain: strstr over the bytes */
    for (size_t i = 0; i + 1 < raw->len; i++)
        if (raw->data[i] == '\0')
            raw->data[i] = ' ';
}

TEST(root_names_a_part_sent_as_addresses)
{
    ix_buf part, merged, raw;
    ix_buf_init(&part);
    encode_addresses_only(&part);
    merged_text(part.data, part.len, &raw);
    ASSERT(strstr(raw.data, "merge_marker_leaf") == NULL); /* addresses only */
    ix_buf_free(&raw);

    struct ix_pprof_part in = {part.data, part.len, (int)getpid(), "test", 1};
    ix_buf_init(&merged);
    ASSERT_EQ(ix_pprof_merge(&in, 1, NULL, 0, &merged), 1);
    merged_text(merged.data, merged.len, &raw);
    ASSERT_STR_CONTAINS(raw.data, "merge_marker_leaf");
    ASSERT_STR_CONTAINS(raw.data, "merge_marker_caller");
    ASSERT_STR_CONTAINS(raw.data, "test_pprof_merge.c");
    ASSERT(strstr(raw.data, "could not") == NULL);
    ix_buf_free(&raw);

    char cmd[512];
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -traces %s 2>&1",
             write_temp("merged.pb.gz", merged.data, merged.len));
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("%s", out);
    ASSERT_STR_CONTAINS(out, "merge_marker_leaf");
    ASSERT_STR_CONTAINS(out, "merge_marker_caller");
    free(out);
    ix_buf_free(&merged);
    ix_buf_free(&part);
}

TEST(a_gone_process_keeps_its_addresses_and_is_named)
{
    ix_buf part, merged, raw;
    ix_buf_init(&part);
    encode_addresses_only(&part);
    pid_t kid = fork();
    ASSERT(kid >= 0);
    if (kid == 0)
        _exit(0);
    ASSERT_EQ(waitpid(kid, NULL, 0), kid); /* reaped: /proc/KID is gone */
    struct ix_pprof_part in = {part.data, part.len, (int)kid, "gone", 1};
    ix_buf_init(&merged);
    ASSERT_EQ(ix_pprof_merge(&in, 1, NULL, 0, &merged), 1);
    merged_text(merged.data, merged.len, &raw);
    ASSERT(strstr(raw.data, "merge_marker_leaf") == NULL);
    ASSERT_STR_CONTAINS(raw.data, "the root could not read its maps");
    ix_buf_free(&raw);
    ix_buf_free(&merged);
    ix_buf_free(&part);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(root_names_a_part_sent_as_addresses),
    TEST_ENTRY(a_gone_process_keeps_its_addresses_and_is_named),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
