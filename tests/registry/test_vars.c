/* /debug/vars: expvar layout checked by a real JSON parser (python3). */
#include <introspect.h>

#include "harness.h"

static int good_func(introspect_json *j, void *arg)
{
    introspect_json_object_begin(j);
    introspect_json_key(j, "answer");
    introspect_json_int(j, *(int *)arg);
    introspect_json_key(j, "list");
    introspect_json_array_begin(j);
    introspect_json_string(j, "a\"b");
    introspect_json_float(j, 1.5);
    introspect_json_bool(j, 1);
    introspect_json_null(j);
    introspect_json_array_end(j);
    introspect_json_object_end(j);
    return 0;
}

static int broken_func(introspect_json *j, void *arg)
{
    (void)arg;
    introspect_json_object_begin(j); /* never closed: must render as null */
    introspect_json_int(j, 3);       /* and a value without a key */
    return 0;
}

TEST(duplicate_reserved_and_empty_names_are_refused)
{
    introspect_var *v, *tmp;
    ASSERT_OK(introspect_var_int("requests", &v));
    ASSERT_EQ(introspect_var_int("requests", &tmp), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_var_float("requests", &tmp), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_var_int("memstats", &tmp), INTROSPECT_EEXIST); /* built in */
    ASSERT_EQ(introspect_var_int("cmdline", &tmp), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_var_int("", &tmp), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_var_set_float(v, 1), INTROSPECT_ETYPE);
}

/* The document a Go expvar reader expects, checked by a real JSON parser. */
TEST(vars_json_is_expvar_layout)
{
    int port = start_ephemeral();
    static int answer = 42;
    introspect_var *vi, *vf, *vs, *vfn, *vbad;
    ASSERT_OK(introspect_var_int("requests", &vi));
    ASSERT_OK(introspect_var_float("ratio", &vf));
    ASSERT_OK(introspect_var_string("build", &vs));
    ASSERT_OK(introspect_var_func("computed", good_func, &answer, &vfn));
    ASSERT_OK(introspect_var_func("broken", broken_func, NULL, &vbad));
    ASSERT_OK(introspect_var_add_int(vi, 5));
    ASSERT_OK(introspect_var_add_int(vi, 2));
    ASSERT_OK(introspect_var_set_float(vf, 0.25));
    ASSERT_OK(introspect_var_set_string(vs, "v1 \"quoted\"\n"));

    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "application/json; charset=utf-8");
    const char *file = write_temp("vars", r.body, r.body_len);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys\n"
             "d=json.load(open(sys.argv[1]))\n"
             "keys=list(d)\n"
             "assert keys==sorted(keys), keys\n"
             "assert d[\"requests\"]==7 and d[\"ratio\"]==0.25, d\n"
             "assert d[\"build\"]==\"v1 \\\"quoted\\\"\\n\", d[\"build\"]\n"
             "assert d[\"computed\"]=={\"answer\":42,\"list\":[\"a\\\"b\",1.5,True,None]}, d[\"computed\"]\n"
             "assert d[\"broken\"] is None\n"
             "m=d[\"memstats\"]\n"
             "for k in (\"rss_bytes\",\"peak_rss_bytes\",\"virtual_bytes\",\"threads\",\"open_fds\",\"max_fds\",\n"
             "          \"minor_faults\",\"major_faults\",\"user_cpu_seconds\",\"system_cpu_seconds\",\n"
             "          \"start_time_seconds\",\"uptime_seconds\"): assert k in m, k\n"
             "assert m[\"rss_bytes\"]>0 and m[\"threads\"]>=2, m\n"
             "assert isinstance(d[\"cmdline\"], list) and d[\"cmdline\"][0].endswith(\"test_vars\")\n"
             "assert isinstance(d[\"metrics\"], dict)\n"
             "print(\"json ok\")' %s",
             file);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc)
        fprintf(stderr, "body:\n%s\n", r.body);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_CONTAINS(out, "json ok");
    free(out);
    unlink(file);
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(duplicate_reserved_and_empty_names_are_refused),
    TEST_ENTRY(vars_json_is_expvar_layout),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
