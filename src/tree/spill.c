#include "tree/spill.h"
#include "introspect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tree/table.h"

#define MAX_SPILL ((size_t)256 << 20)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_refs;
static char g_dir[IX_TREE_SPILL_DIR_MAX];

static const char *base_dir(void)
{
    const char *c[] = {getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct stat st;
        if (c[i] && c[i][0] == '/' && strlen(c[i]) < IX_TREE_SPILL_DIR_MAX - 40 &&
            stat(c[i], &st) == 0 && S_ISDIR(st.st_mode) && access(c[i], W_OK | X_OK) == 0)
            return c[i];
    }
    return "/tmp";
}

/* Remove the directory with its per-user subdirectories and their files. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        int dfd = dirfd(d);
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            int sfd = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            DIR *s = sfd >= 0 ? fdopendir(sfd) : NULL;
            if (s) {
                for (struct dirent *f; (f = readdir(s));)
                    if (strcmp(f->d_name, ".") && strcmp(f->d_name, ".."))
                        unlinkat(sfd, f->d_name, 0);
                closedir(s);
            } else if (sfd >= 0) {
                close(sfd);
            }
            unlinkat(dfd, e->d_name, AT_REMOVEDIR);
            unlinkat(dfd, e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The effective uid and gid of pid (/proc/PID/status; its owner may be
 * root for a process that changed its credentials). 0, or INTROSPECT_ESYS. */
static int proc_ids(int pid, uid_t *uid, gid_t *gid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return INTROSPECT_ESYS;
    int got = 0;
    unsigned long r, e;
    while (got < 2 && fgets(line, sizeof line, f)) {
        if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2) {
            *uid = (uid_t)e;
            got++;
        } else if (sscanf(line, "Gid: %lu %lu", &r, &e) == 2) {
            *gid = (gid_t)e;
            got++;
        }
    }
    fclose(f);
    return got == 2 ? 0 : INTROSPECT_ESYS;
}

/* A subdirectory u<uid>, mode 0700, owned by that user (a root master's
 * workers run as another user: nginx's `user`). */
static void user_dir(const char *dir, uid_t uid, gid_t gid)
{
    char path[IX_TREE_SPILL_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/u%lu", dir, (unsigned long)uid);
    if (mkdir(path, 0700) != 0)
        return; /* EEXIST: made by an earlier capture */
    if (uid != geteuid() && chown(path, uid, gid) != 0)
        rmdir(path); /* not ours to give: that user's children leave nothing */
}

int ix_tree_spill_begin(const struct ix_tree_proc *procs, int n)
{
    if (!ix_tree_is_root())
        return INTROSPECT_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&g_mu);
    if (g_refs == 0) {
        snprintf(g_dir, sizeof g_dir, "%s/introspect-tree-%d-XXXXXX", base_dir(), (int)getpid());
        /* 0711: only the owner lists it; each user's files are in its own
         * 0700 subdirectory. */
        if (!mkdtemp(g_dir) || chmod(g_dir, 0711) != 0) {
            if (g_dir[0])
                rmdir(g_dir);
            g_dir[0] = '\0';
            rc = INTROSPECT_ESYS;
        }
    }
    if (rc == 0) {
        for (int i = 0; i < n; i++) {
            uid_t uid;
            gid_t gid;
            if (!procs[i].root && proc_ids(procs[i].pid, &uid, &gid) == 0)
                user_dir(g_dir, uid, gid);
        }
        if (g_refs++ == 0)
            ix_tree_set_spill_dir(g_dir);
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

void ix_tree_spill_end(void)
{
    pthread_mutex_lock(&g_mu);
    if (g_refs > 0 && --g_refs == 0) {
        ix_tree_set_spill_dir(NULL);
        remove_dir(g_dir);
        g_dir[0] = '\0';
    }
    pthread_mutex_unlock(&g_mu);
}

int ix_tree_spill_armed(void)
{
    char dir[IX_TREE_SPILL_DIR_MAX];
    return ix_tree_is_member() && ix_tree_spill_dir(dir, sizeof dir) == 0;
}

int ix_tree_spill_write(const void *data, size_t len)
{
    return ix_tree_spill_write_as("pb.gz", data, len);
}

int ix_tree_spill_write_as(const char *kind, const void *data, size_t len)
{
    char top[IX_TREE_SPILL_DIR_MAX], dir[IX_TREE_SPILL_DIR_MAX + 32],
        tmp[IX_TREE_SPILL_DIR_MAX + 96], dst[IX_TREE_SPILL_DIR_MAX + 96];
    if (!ix_tree_is_member() || ix_tree_spill_dir(top, sizeof top))
        return INTROSPECT_ENOTSTARTED;
    snprintf(dir, sizeof dir, "%s/u%lu", top, (unsigned long)geteuid());
    /* Our own directory and nobody else's: owned by us, 0700. */
    struct stat st;
    if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077))
        return INTROSPECT_ESYS;
    unsigned long long start = 0;
    int me = (int)getpid();
    if (ix_tree_stat(me, &start, NULL, NULL))
        return INTROSPECT_ESYS;
    snprintf(tmp, sizeof tmp, "%s/.%d-%llu.%s.tmp", dir, me, start, kind);
    snprintf(dst, sizeof dst, "%s/%d-%llu.%s", dir, me, start, kind);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return INTROSPECT_ESYS;
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    int ok = off == len;
    if (close(fd))
        ok = 0;
    if (!ok || rename(tmp, dst)) {
        unlink(tmp);
        return INTROSPECT_ESYS;
    }
    return 0;
}

/* Open (flags) or remove (flags < 0) what pid left in any user's subdirectory:
 * the descriptor, or -1 (a value: none). */
static int find_left(int pid, unsigned long long start, const char *kind, int flags)
{
    char name[96];
    snprintf(name, sizeof name, "%d-%llu.%s", pid, start, kind);
    int found = -1;
    pthread_mutex_lock(&g_mu);
    DIR *d = g_dir[0] ? opendir(g_dir) : NULL;
    for (struct dirent *e; d && found < 0 && (e = readdir(d));) {
        if (e->d_name[0] != 'u')
            continue;
        int sfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
            continue;
        if (flags >= 0) {
            found = openat(sfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
            if (found >= 0)
                unlinkat(sfd, name, 0);
        } else {
            unlinkat(sfd, name, 0);
        }
        close(sfd);
    }
    if (d)
        closedir(d);
    pthread_mutex_unlock(&g_mu);
    return found;
}

int ix_tree_spill_take(int pid, unsigned long long start, ix_buf *out)
{
    return ix_tree_spill_take_as(pid, start, "pb.gz", out);
}

int ix_tree_spill_take_as(int pid, unsigned long long start, const char *kind, ix_buf *out)
{
    int fd = find_left(pid, start, kind, O_RDONLY);
    if (fd < 0)
        return INTROSPECT_ESYS;
    struct stat st;
    int rc = INTROSPECT_ESYS;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= MAX_SPILL &&
        st.st_size > 0 && ix_buf_reserve(out, (size_t)st.st_size) == 0) {
        size_t want = (size_t)st.st_size;
        while (out->len < want) {
            ssize_t r = read(fd, out->data + out->len, want - out->len);
            if (r > 0)
                out->len += (size_t)r;
            else if (r < 0 && errno == EINTR)
                continue;
            else
                break;
        }
        rc = out->len == want ? 0 : INTROSPECT_ESYS;
    }
    close(fd);
    return rc;
}

void ix_tree_spill_discard(int pid, unsigned long long start)
{
    find_left(pid, start, "pb.gz", -1);
}

void ix_tree_spill_discard_as(int pid, unsigned long long start, const char *kind)
{
    find_left(pid, start, kind, -1);
}

int ix_tree_gone_reason(int pid, unsigned long long start, int wait_ms, char *out, size_t n)
{
    /* The kernel closes a dying process's sockets before it becomes a
     * zombie: the root may see the connection end a moment earlier. */
    for (int i = 0; i <= wait_ms / 5; i++) {
        char state = 0;
        int code = -1;
        unsigned long long st = 0;
        if (ix_tree_stat_exit(pid, &st, &state, NULL, &code) || st != start) {
            snprintf(out, n, "it ended during the window (already reaped: how is unknown) "
                             "and left no profile");
            return 1;
        }
        if (state == 'Z' || state == 'X') {
            if (code >= 0 && WIFSIGNALED(code))
                snprintf(out, n, "it was killed by signal %d (%s) during the window",
                         WTERMSIG(code), sigdescr_np(WTERMSIG(code)) ? sigdescr_np(WTERMSIG(code)) : "?");
            else if (code >= 0 && WIFEXITED(code))
                snprintf(out, n, "it exited with status %d during the window and left no "
                                 "profile", WEXITSTATUS(code));
            else
                snprintf(out, n, "it ended during the window and left no profile");
            return 1;
        }
        if (i < wait_ms / 5) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}
