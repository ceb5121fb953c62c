// A process with one thread in vfork(): the kernel keeps a vfork() parent in
// uninterruptible sleep (TASK_KILLABLE, state D) until its child exits or
// execs, and PTRACE_INTERRUPT cannot stop it meanwhile.
// Usage: ptrace_vfork SHARED_FD main|worker CHILD_SECONDS
//   main    the main thread calls vfork();
//   worker  a thread "vforker" calls vfork() (a worker thread in D).
// The vfork child sleeps CHILD_SECONDS, then _exit(0)s (killing it lets the
// parent go at once). Two "sleeper" threads loop in nanosleep, and a
// "counter" thread counts its progress (every 200 µs) in shared memory (a
// memfd whose descriptor number is argv[1]); once the parent is back from
// vfork() it counts `vfork_returns` and then counts progress too.
// The counter prints "ready" once the vforking thread is in state D.
// Runs until killed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Mirrored by tests/ptrace/vfork_victim.hpp.
struct vfork_shared {
    uint64_t progress;       // the counter thread's
    uint64_t vfork_returns;  // the vforking thread came back
    uint64_t after_vfork;    // the vforking thread's progress afterwards
    int32_t vforker_tid;
    int32_t child_pid;
    int32_t counter_tid;
    int32_t main_tid;
};

static struct vfork_shared* shared;
static unsigned child_seconds = 30;

static void nap(long nanoseconds) {
    struct timespec t = {0, nanoseconds};
    nanosleep(&t, NULL);
}

// The state letter of one of our threads, from /proc/self/task/TID/stat.
static char state_of(pid_t tid) {
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return '?';
    text[n] = '\0';
    char* end = strrchr(text, ')');
    return end != NULL && end[1] == ' ' ? end[2] : '?';
}

static void do_vfork(void) {
    __atomic_store_n(&shared->vforker_tid, gettid(), __ATOMIC_SEQ_CST);
    pid_t child = vfork();
    if (child == 0) {
        // Only async-signal-safe calls: we run on the parent's memory.
        __atomic_store_n(&shared->child_pid, getpid(), __ATOMIC_SEQ_CST);
        struct timespec t = {(time_t)child_seconds, 0};
        nanosleep(&t, NULL);
        _exit(0);
    }
    __atomic_add_fetch(&shared->vfork_returns, 1, __ATOMIC_SEQ_CST);
    waitpid(child, NULL, 0);
    for (;;) {
        __atomic_add_fetch(&shared->after_vfork, 1, __ATOMIC_SEQ_CST);
        nap(200 * 1000);
    }
}

static void* vforker(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "vforker");
    do_vfork();
    return NULL;
}

static void* sleeper(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    for (;;) nap(20 * 1000 * 1000);
    return NULL;
}

static void* counter(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "counter");
    __atomic_store_n(&shared->counter_tid, gettid(), __ATOMIC_SEQ_CST);
    int announced = 0;
    for (;;) {
        __atomic_add_fetch(&shared->progress, 1, __ATOMIC_SEQ_CST);
        if (!announced && __atomic_load_n(&shared->child_pid, __ATOMIC_SEQ_CST) != 0 &&
            state_of(__atomic_load_n(&shared->vforker_tid, __ATOMIC_SEQ_CST)) == 'D') {
            announced = 1;
            (void)!write(STDOUT_FILENO, "ready\n", 6);  // not stdio: the vfork child shares our memory
        }
        nap(200 * 1000);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 4 || (strcmp(argv[2], "main") != 0 && strcmp(argv[2], "worker") != 0)) {
        fprintf(stderr, "usage: ptrace_vfork SHARED_FD main|worker CHILD_SECONDS\n");
        return 2;
    }
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    child_seconds = (unsigned)strtoul(argv[3], NULL, 10);
    shared->main_tid = gettid();
    pthread_t threads[4];
    if (pthread_create(&threads[0], NULL, sleeper, NULL) != 0 || pthread_create(&threads[1], NULL, sleeper, NULL) != 0 ||
        pthread_create(&threads[2], NULL, counter, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    if (strcmp(argv[2], "main") == 0) do_vfork();
    if (pthread_create(&threads[3], NULL, vforker, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    for (;;) pause();
}
