#include "tree/table.h"
#include "introspect.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct slot {
    /* 0: free; -pid while its owner writes the fields below; pid once they
     * are written. One word, so a release (a compare-and-swap from the pid
     * a reader saw) can never touch a slot that another process took since:
     * with a separate "ready" flag, a reader's late store could hide a live
     * child that had just taken the slot. */
    _Atomic int pid;
    int ppid;
    int port;
    unsigned long long start;
};

struct table {
    int root_pid;
    int root_port;
    unsigned long long root_start;
    atomic_ulong full;
    _Atomic int spill_armed; /* spill_dir holds the root's directory (tree/spill.h) */
    char spill_dir[IX_TREE_SPILL_DIR_MAX];
    struct slot slots[IX_TREE_SLOTS];
};

static struct table *g_table; /* inherited across fork: the mapping is shared */
static struct slot *g_mine;   /* this process's slot (member only) */
static int g_mine_pid;

int ix_tree_stat_exit(int pid, unsigned long long *start, char *state, int *ppid, int *exit_code)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return INTROSPECT_ESYS;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return INTROSPECT_ESYS;
    buf[n] = '\0';
    /* "pid (comm) S ppid ...": comm may hold spaces and parentheses. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return INTROSPECT_ESYS;
    p += 2;
    if (state)
        *state = *p;
    if (exit_code)
        *exit_code = -1;
    /* Field 3 is the state, 4 the parent, 22 the start time, 52 the exit
     * code (the waitpid status while a zombie; Linux 3.5). */
    int field = 3, got_start = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
        if (field == 4 && ppid)
            *ppid = atoi(tok);
        if (field == 22) {
            if (start)
                *start = strtoull(tok, NULL, 10);
            got_start = 1;
            if (!exit_code)
                break;
        }
        if (field == 52 && exit_code)
            *exit_code = atoi(tok);
    }
    return got_start ? 0 : INTROSPECT_ESYS;
}

int ix_tree_stat(int pid, unsigned long long *start, char *state, int *ppid)
{
    return ix_tree_stat_exit(pid, start, state, ppid, NULL);
}

static int alive(int pid, unsigned long long start)
{
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    unsigned long long s;
    char state = 0;
    if (ix_tree_stat(pid, &s, &state, NULL) != 0)
        return 0;
    return s == start && state != 'Z' && state != 'X';
}

int ix_tree_root_init(int port)
{
    if (g_table) {
        if (g_table->root_pid == getpid())
            g_table->root_port = port; /* restarted */
        return 0;
    }
    void *m = mmap(NULL, sizeof(struct table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return INTROSPECT_ENOMEM;
    struct table *t = m; /* zero-filled by the kernel */
    t->root_pid = getpid();
    t->root_port = port;
    ix_tree_stat(t->root_pid, &t->root_start, NULL, NULL);
    g_table = t;
    return 0;
}

int ix_tree_is_root(void) { return g_table && g_table->root_pid == getpid(); }

int ix_tree_is_member(void) { return g_table && g_table->root_pid != getpid(); }

unsigned long ix_tree_full_count(void) { return g_table ? atomic_load(&g_table->full) : 0; }

void ix_tree_set_spill_dir(const char *dir)
{
    if (!g_table || g_table->root_pid != getpid())
        return;
    atomic_store(&g_table->spill_armed, 0);
    if (!dir)
        return;
    snprintf(g_table->spill_dir, sizeof g_table->spill_dir, "%s", dir);
    atomic_store(&g_table->spill_armed, 1); /* after the path: a reader sees it whole */
}

int ix_tree_spill_dir(char *out, size_t n)
{
    if (!g_table || !atomic_load(&g_table->spill_armed))
        return INTROSPECT_ENOTSTARTED;
    snprintf(out, n, "%s", g_table->spill_dir);
    return atomic_load(&g_table->spill_armed) ? 0 : INTROSPECT_ENOTSTARTED;
}

static void release(struct slot *s, int pid)
{
    int expect = pid;
    atomic_compare_exchange_strong(&s->pid, &expect, 0);
}

/* Free the slot of a dead process (a reader's duty). */
static int reap_if_dead(struct slot *s)
{
    int pid = atomic_load(&s->pid);
    if (pid <= 0)
        return 0;
    if (alive(pid, s->start))
        return 0;
    release(s, pid);
    return 1;
}

int ix_tree_register(int port)
{
    if (!ix_tree_is_member())
        return INTROSPECT_EINVAL;
    int me = getpid();
    if (g_mine && g_mine_pid == me) { /* restarted in this process */
        g_mine->port = port;
        return 0;
    }
    g_mine = NULL; /* inherited from the parent: its slot, not ours */
    unsigned long long start = 0;
    ix_tree_stat(me, &start, NULL, NULL);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < IX_TREE_SLOTS; i++) {
            struct slot *s = &g_table->slots[i];
            if (pass == 1)
                reap_if_dead(s);
            int expect = 0;
            if (!atomic_compare_exchange_strong(&s->pid, &expect, -me))
                continue;
            s->ppid = getppid();
            s->port = port;
            s->start = start;
            atomic_store(&s->pid, me);
            g_mine = s;
            g_mine_pid = me;
            return 0;
        }
    }
    atomic_fetch_add(&g_table->full, 1);
    return INTROSPECT_ELIMIT;
}

void ix_tree_unregister(void)
{
    if (g_mine && g_mine_pid == getpid())
        release(g_mine, g_mine_pid);
    g_mine = NULL;
}

int ix_tree_list(struct ix_tree_proc *out, int max)
{
    if (!g_table || max <= 0)
        return 0;
    int n = 0;
    struct table *t = g_table;
    if (alive(t->root_pid, t->root_start))
        out[n++] = (struct ix_tree_proc){t->root_pid, 0, t->root_port, t->root_start, 1};
    if (n)
        ix_tree_stat(t->root_pid, NULL, NULL, &out[0].ppid);
    for (int i = 0; i < IX_TREE_SLOTS && n < max; i++) {
        struct slot *s = &t->slots[i];
        int pid = atomic_load(&s->pid);
        if (pid <= 0 || reap_if_dead(s))
            continue;
        out[n++] = (struct ix_tree_proc){pid, s->ppid, s->port, s->start, 0};
    }
    return n;
}

int ix_tree_find(int pid, struct ix_tree_proc *out)
{
    struct ix_tree_proc all[IX_TREE_SLOTS + 1];
    int n = ix_tree_list(all, IX_TREE_SLOTS + 1);
    for (int i = 0; i < n; i++)
        if (all[i].pid == pid) {
            *out = all[i];
            return 0;
        }
    return INTROSPECT_EINVAL;
}

int ix_tree_children(void)
{
    if (!g_table)
        return 0;
    int n = 0;
    for (int i = 0; i < IX_TREE_SLOTS; i++) {
        struct slot *s = &g_table->slots[i];
        if (atomic_load(&s->pid) > 0 && !reap_if_dead(s))
            n++;
    }
    return n;
}

void ix_tree_cmdline(int pid, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    if (r <= 0) {
        out[0] = '\0';
        return;
    }
    while (r > 0 && (out[r - 1] == '\0' || out[r - 1] == ' '))
        r--; /* a rewritten title is padded with NULs or spaces */
    out[r] = '\0';
    for (ssize_t i = 0; i < r; i++)
        if (out[i] == '\0' || (unsigned char)out[i] < 0x20)
            out[i] = ' ';
}

double ix_tree_start_unix(unsigned long long ticks)
{
    static unsigned long long btime;
    if (!btime) {
        FILE *f = fopen("/proc/stat", "re");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "btime %llu", &btime) == 1)
                break;
        if (f)
            fclose(f);
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (double)btime + (double)ticks / (double)(hz > 0 ? hz : 100);
}
