// A process whose threads make known system calls, for the syscall watch:
//   - "spinner" spins in pure user space (no system calls at all);
//   - "caller" calls getppid() then sleeps 200 µs (clock_nanosleep), in a
//     loop, counting its getppid calls;
//   - the main thread waits in pause().
// Shared memory (a memfd whose descriptor number is argv[1]) holds the tids
// and the counters. Prints "ready" once both threads run. Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

// Mirrored by tests/ptrace/syscall_watch_test.cpp.
struct syscalls_shared {
    uint64_t spins;
    uint64_t getppid_calls;
    int32_t spinner_tid;
    int32_t caller_tid;
    int32_t main_tid;
    int32_t pad;
};

static struct syscalls_shared* shared;

__attribute__((noinline)) static void spin_in_user_space(void) {
    for (;;) __atomic_add_fetch(&shared->spins, 1, __ATOMIC_RELAXED);
}

static void* spinner(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "spinner");
    __atomic_store_n(&shared->spinner_tid, gettid(), __ATOMIC_SEQ_CST);
    spin_in_user_space();
    return NULL;
}

static void* caller(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "caller");
    __atomic_store_n(&shared->caller_tid, gettid(), __ATOMIC_SEQ_CST);
    for (;;) {
        (void)getppid();
        __atomic_add_fetch(&shared->getppid_calls, 1, __ATOMIC_SEQ_CST);
        struct timespec pause_for = {0, 200 * 1000};
        nanosleep(&pause_for, NULL);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace_syscalls SHARED_FD\n");
        return 2;
    }
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    shared->main_tid = gettid();
    pthread_t threads[2];
    if (pthread_create(&threads[0], NULL, spinner, NULL) != 0 || pthread_create(&threads[1], NULL, caller, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    while (__atomic_load_n(&shared->spins, __ATOMIC_SEQ_CST) == 0 ||
           __atomic_load_n(&shared->getppid_calls, __ATOMIC_SEQ_CST) == 0) {
        struct timespec pause_for = {0, 1000 * 1000};
        nanosleep(&pause_for, NULL);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
