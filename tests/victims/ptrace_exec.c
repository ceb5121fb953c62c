// A process that keeps exec'ing itself from a thread that is not the main
// one: the kernel then kills every other thread, waits until they are
// reaped (a tracer must reap the ones it traces), and gives the exec'ing
// thread the leader's tid.
// Usage: ptrace_exec SHARED_FD [GENERATION]
// Each generation starts 4 "worker" threads that count their progress (every
// 100 µs) and an "execer" thread that, after 1-3 ms, counts one exec in
// shared memory (a memfd whose descriptor number is argv[1], inherited
// across exec) and re-executes /proc/self/exe with the next generation.
// Generation 0 prints "ready" once its threads run. Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

// Mirrored by tests/ptrace/exec_test.cpp.
struct exec_shared {
    uint64_t execs;
    uint64_t progress;
};

static struct exec_shared* shared;
static char* shared_fd;
static unsigned long generation;

static void nap(long nanoseconds) {
    struct timespec t = {0, nanoseconds};
    nanosleep(&t, NULL);
}

static void* worker(void* arg) {
    (void)arg;
    for (;;) {
        __atomic_add_fetch(&shared->progress, 1, __ATOMIC_SEQ_CST);
        nap(100 * 1000);
    }
    return NULL;
}

static void* execer(void* arg) {
    (void)arg;
    nap((1 + (long)(generation % 3)) * 1000 * 1000);
    char next[32];
    snprintf(next, sizeof next, "%lu", generation + 1);
    char* argv[] = {"ptrace_exec", shared_fd, next, NULL};
    __atomic_add_fetch(&shared->execs, 1, __ATOMIC_SEQ_CST);
    execv("/proc/self/exe", argv);
    perror("execv");
    exit(1);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace_exec SHARED_FD [GENERATION]\n");
        return 2;
    }
    shared_fd = argv[1];
    generation = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pthread_t threads[5];
    for (int i = 0; i < 4; ++i) {
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    if (pthread_create(&threads[4], NULL, execer, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    if (generation == 0) {
        printf("ready\n");
        fflush(stdout);
    }
    for (;;) pause();
}
