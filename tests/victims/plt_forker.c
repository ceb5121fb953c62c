/* A process that keeps forking children which call strlen through the PLT,
 * and spawning /bin/true with posix_spawn (a vfork), for the int3 backend:
 * a child must never meet a breakpoint its parent's tracer placed.
 *
 * usage: plt_forker RESULT_FILE
 *
 * Every 5 ms: fork() a child that calls strlen 100 times and exits 0, or
 * posix_spawn /bin/true; reaps it, and rewrites RESULT_FILE with
 * "children N died M" (M: children that did not exit with status 0). */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;
static const char* volatile text = "a string of some length";
static volatile size_t sink;

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", argv[1]);
    long children = 0, died = 0;
    for (long i = 0;; ++i) {
        pid_t child = -1;
        if (i % 2 == 0) {
            child = fork();
            if (child == 0) {
                for (int k = 0; k < 100; ++k) sink += strlen(text);
                _exit(0);
            }
        } else {
            char* args[] = {"/bin/true", NULL};
            if (posix_spawn(&child, "/bin/true", NULL, NULL, args, environ) != 0) child = -1;
        }
        for (int k = 0; k < 10; ++k) sink += strlen(text);
        int status = 0;
        if (child > 0 && waitpid(child, &status, 0) == child) {
            ++children;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++died;
        }
        FILE* f = fopen(temporary, "w");
        if (f != NULL) {
            fprintf(f, "children %ld died %ld\n", children, died);
            fclose(f);
            rename(temporary, argv[1]);
        }
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
    }
}
