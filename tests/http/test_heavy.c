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
        ASSERT(resp.nheaders >= 1);
        for (int i = 0; i < resp.nheaders; i++)
            if (strcmp(resp.headers[i].name, "Retry-After") == 0)
                snprintf(retry, rl, "%s", resp.headers[i].value);
    }
    ix_response_free(&resp);
    return s;
}

int main(void)
{
    char retry[64] = "";
    ASSERT_EQ(try_status("cpu-profile", 30000, retry, sizeof retry), 0);
    ASSERT(ix_heavy_busy("cpu-profile"));
    ASSERT_EQ(try_status("cpu-profile", 30000, retry, sizeof retry), 409);
    long r = atol(retry);
    ASSERT(r >= 1 && r <= 30); /* the running one's remaining time */
    char kind[8][16];
    for (int i = 0; i < IX_HEAVY_MAX_TOTAL - 1; i++) {
        snprintf(kind[i], sizeof kind[i], "kind%d", i);
        ASSERT_EQ(try_status(kind[i], 1000, retry, sizeof retry), 0);
    }
    retry[0] = '\0';
    ASSERT_EQ(try_status("one-too-many", 1000, retry, sizeof retry), 429);
    ASSERT_EQ(atol(retry), 1);
    ix_heavy_done("cpu-profile");
    ASSERT(!ix_heavy_busy("cpu-profile"));
    ASSERT_EQ(try_status("one-too-many", 1000, retry, sizeof retry), 0);
    ix_heavy_done("one-too-many");
    ASSERT_EQ(try_status("cpu-profile", 0, retry, sizeof retry), 0);
    ix_heavy_done("cpu-profile");
    for (int i = 0; i < IX_HEAVY_MAX_TOTAL - 1; i++)
        ix_heavy_done(kind[i]);
    printf("ok\n");
    return 0;
}
