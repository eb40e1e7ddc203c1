// Storm: while the profiler samples every thread at 1000 Hz, other threads
// sit in exactly the places where in-handler unwinders have deadlocked
// (gperftools #775, #1188, #1210): dlopen/dlclose (loader lock),
// dl_iterate_phdr, C++ exception propagation (the unwinder itself) and
// backtrace(). The run must finish; a watchdog fails it instead of hanging.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <unistd.h>

extern "C" {
#include "harness.h"
#include "introspect.h"
#include "workload.h"
}

static std::atomic<int> stop_all;
static std::atomic<long> dl_loops, throws, backtraces, phdr_walks;

static void *dl_storm(void *)
{
    static const char *libs[] = {"libsqlite3.so.0", "libelf.so.1", "libgnutls.so.30"};
    for (int i = 0; !stop_all.load(); i++) {
        void *h = dlopen(libs[i % 3], RTLD_NOW | RTLD_LOCAL);
        if (h)
            dlclose(h);
        dl_loops++;
    }
    return nullptr;
}

__attribute__((noinline)) int storm_thrower(int depth)
{
    if (depth == 0)
        throw std::runtime_error("storm");
    return storm_thrower(depth - 1) + 1;
}

static void *throw_storm(void *)
{
    while (!stop_all.load()) {
        try {
            storm_thrower(20);
        } catch (const std::exception &) {
            throws++;
        }
    }
    return nullptr;
}

static void *backtrace_storm(void *)
{
    void *pcs[64];
    while (!stop_all.load()) {
        if (backtrace(pcs, 64) > 0)
            backtraces++;
    }
    return nullptr;
}

static int count_phdr(struct dl_phdr_info *, size_t, void *arg)
{
    ++*static_cast<int *>(arg);
    return 0;
}

static void *phdr_storm(void *)
{
    while (!stop_all.load()) {
        int n = 0;
        dl_iterate_phdr(count_phdr, &n);
        phdr_walks++;
    }
    return nullptr;
}

static void profile_with(const char *engine)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = engine;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    const char *file = "/tmp/ix_test_cpu_storm.pb.gz";
    ASSERT_EQ(fetch_to_file(port, "/debug/pprof/profile?seconds=3&hz=1000", file), 200);
    char *out = nullptr;
    ASSERT_EQ(run_cmd("go tool pprof -top /tmp/ix_test_cpu_storm.pb.gz 2>&1", &out), 0);
    std::printf("%.1500s\n", out);
    ASSERT_STR_CONTAINS(out, "engine: ");
    std::free(out);
    unlink(file);
    ASSERT_EQ(introspect_stop(), 0);
}

TEST(profiling_survives_loader_unwinder_and_backtrace_storm)
{
    alarm(120); // watchdog: a deadlock fails the test
    void *(*fns[])(void *) = {dl_storm, dl_storm, throw_storm, throw_storm, backtrace_storm,
                              phdr_storm};
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(pthread_create(&t[i], nullptr, fns[i], nullptr), 0);
    if (perf_available()) {
        profile_with("perf");
        profile_with("perf-signal"); // the live-stack walk in a handler, under the storm
    }
    profile_with("timer");
    stop_all = 1;
    for (auto &th : t)
        ASSERT_EQ(pthread_join(th, nullptr), 0);
    std::printf("dlopen/dlclose %ld, throws %ld, backtraces %ld, dl_iterate_phdr %ld\n",
                dl_loops.load(), throws.load(), backtraces.load(), phdr_walks.load());
    ASSERT_GT(dl_loops.load(), 0); // every storm really ran
    ASSERT_GT(throws.load(), 0);
    ASSERT_GT(backtraces.load(), 0);
    ASSERT_GT(phdr_walks.load(), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(profiling_survives_loader_unwinder_and_backtrace_storm),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
