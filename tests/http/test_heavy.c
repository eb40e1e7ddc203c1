/* ix_heavy_try/done: one per kind (409), a few overall (429), Retry-After. */
#include "harness.h"
#include "http/heavy.h"

static int try_status(const char *kind, long ms, char *retry, size_t rl)
{
    struct ix_response resp;
    ix_response_init(&resp);
    int rc = ix_heavy_try(kind, ms, &resp);
    int s = rc ? resp.status : 0;
    if (rc) {
        ASSERT_GE(resp.nheaders, 1);
        for (int i = 0; i < resp.nheaders; i++)
            if (strcmp(resp.headers[i].name, "Retry-After") == 0)
                snprintf(retry, rl, "%s", resp.headers[i].value);
    }
    ix_response_free(&resp);
    return s;
}

/* A second run of the same kind is refused with 409 and the running one's
 * remaining time as Retry-After; once done, the kind is free again. */
TEST(same_kind_twice_is_409_with_remaining_time)
{
    char retry[64] = "";
    ASSERT_EQ(try_status("cpu-profile", 30000, retry, sizeof retry), 0);
    ASSERT(ix_heavy_busy("cpu-profile"));
    ASSERT_EQ(try_status("cpu-profile", 30000, retry, sizeof retry), 409);
    long r = atol(retry);
    ASSERT_GE(r, 1);
    ASSERT_LE(r, 30);
    ix_heavy_done("cpu-profile");
    ASSERT(!ix_heavy_busy("cpu-profile"));
    ASSERT_EQ(try_status("cpu-profile", 0, retry, sizeof retry), 0);
    ix_heavy_done("cpu-profile");
}

/* Past IX_HEAVY_MAX_TOTAL running operations of any kinds: 429, Retry-After 1;
 * a slot comes back when one finishes. */
TEST(too_many_kinds_is_429_until_one_finishes)
{
    char retry[64] = "", kind[IX_HEAVY_MAX_TOTAL][16];
    for (int i = 0; i < IX_HEAVY_MAX_TOTAL; i++) {
        snprintf(kind[i], sizeof kind[i], "kind%d", i);
        ASSERT_EQ(try_status(kind[i], 1000, retry, sizeof retry), 0);
    }
    retry[0] = '\0';
    ASSERT_EQ(try_status("one-too-many", 1000, retry, sizeof retry), 429);
    ASSERT_STR_EQ(retry, "1");
    ix_heavy_done(kind[0]);
    ASSERT_EQ(try_status("one-too-many", 1000, retry, sizeof retry), 0);
    ix_heavy_done("one-too-many");
    for (int i = 1; i < IX_HEAVY_MAX_TOTAL; i++)
        ix_heavy_done(kind[i]);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(same_kind_twice_is_409_with_remaining_time),
    TEST_ENTRY(too_many_kinds_is_429_until_one_finishes),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
