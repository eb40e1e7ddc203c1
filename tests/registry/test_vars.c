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

int main(void)
{
    int port = start_ephemeral();
    static int answer = 42;
    introspect_var *vi, *vf, *vs, *vfn, *vbad, *tmp;
    ASSERT(introspect_var_int("requests", &vi) == 0);
    ASSERT(introspect_var_float("ratio", &vf) == 0);
    ASSERT(introspect_var_string("build", &vs) == 0);
    ASSERT(introspect_var_func("computed", good_func, &answer, &vfn) == 0);
    ASSERT(introspect_var_func("broken", broken_func, NULL, &vbad) == 0);
    ASSERT_EQ(introspect_var_int("requests", &tmp), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_var_int("memstats", &tmp), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_var_int("", &tmp), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_var_set_float(vi, 1), INTROSPECT_ETYPE);
    introspect_var_add_int(vi, 5);
    introspect_var_add_int(vi, 2);
    introspect_var_set_float(vf, 0.25);
    introspect_var_set_string(vs, "v1 \"quoted\"\n");

    struct http_reply r;
    ASSERT(http_get(port, "/debug/vars", &r) == 0);
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
    ASSERT(introspect_stop() == 0);
    printf("ok\n");
    return 0;
}
