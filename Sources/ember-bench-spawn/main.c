// ember-bench-spawn: starts one run of an external command for ember-bench and reports
// what wait4 says about it, on file descriptor 3:
//   "ok WALL_NS USER_NS SYS_NS PEAK_RSS_BYTES EXIT_STATUS"  or  "exec-failed ERRNO"
//
// Why a separate, tiny C program: Linux records a process's peak RSS at exec from the
// memory the exec replaces, and a forked child starts as a copy of its parent. A command
// started straight from ember-bench (tens of MB) reports ember-bench's peak; started
// from this program (a few hundred KB) it reports its own.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    int first = 1;
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2] == 0) first = 2;
    if (argc <= first) {
        dprintf(3, "usage");
        return 2;
    }
    fcntl(3, F_SETFD, FD_CLOEXEC);
    int failure[2];
    if (pipe2(failure, O_CLOEXEC) != 0) {
        dprintf(3, "exec-failed %d", errno);
        return 0;
    }
    long long start = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[first], argv + first);
        int e = errno;
        (void)!write(failure[1], &e, sizeof e);
        _exit(127);
    }
    close(failure[1]);
    if (pid < 0) {
        dprintf(3, "exec-failed %d", errno);
        return 0;
    }
    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {}
    long long wall = now_ns() - start;
    int e = 0;
    if (read(failure[0], &e, sizeof e) == (ssize_t)sizeof e) {
        dprintf(3, "exec-failed %d", e);
        return 0;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    dprintf(3, "ok %lld %lld %lld %lld %d", wall,
            (long long)usage.ru_utime.tv_sec * 1000000000LL + (long long)usage.ru_utime.tv_usec * 1000LL,
            (long long)usage.ru_stime.tv_sec * 1000000000LL + (long long)usage.ru_stime.tv_usec * 1000LL,
            (long long)usage.ru_maxrss * 1024LL, code);
    return 0;
}
