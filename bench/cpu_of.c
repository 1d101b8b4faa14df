/* SPDX-License-Identifier: MIT */
/* cpu_of N CMD [ARGS...]: run CMD N times (stdout to /dev/null) and print the
 * mean user+sys CPU per run in milliseconds (getrusage of the children). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct rusage ru;
    int n = argc > 2 ? atoi(argv[1]) : 0;

    if (n < 1) {
        fprintf(stderr, "usage: cpu_of N CMD [ARGS...]\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        int st;
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "cpu_of: %s failed\n", argv[2]);
            return 1;
        }
    }
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("%.4f\n", ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                      ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6) /
                         n * 1e3);
    return 0;
}
