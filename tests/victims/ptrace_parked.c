// A process with threads parked in known places, recording facts about
// itself in shared memory (a memfd whose descriptor number is argv[1]) for
// ptrace tests to compare with what they read from outside:
//   - "spinner" spins forever in parked_in_known_function (pure user space)
//     with MXCSR set to 0x9fc0; it records that function's address and its
//     own frame address (its %rbp), and counts its progress;
//   - "sleeper" sleeps in nanosleep (blocked in the kernel);
//   - the main thread waits in pause();
//   - SIGUSR1 and SIGRTMIN+1 handler calls are counted.
// Every thread records its tid and its stack bounds (pthread_getattr_np).
// Prints "ready" when all of this is in place. Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xmmintrin.h>

struct thread_record {
    int32_t tid;
    int32_t pad;
    uint64_t stack_lo;
    uint64_t stack_hi;
};

// Mirrored by tests/ptrace/parked_victim.hpp.
struct parked_shared {
    uint64_t progress;
    uint64_t usr1_calls;
    uint64_t rt_calls;
    uint64_t parked_frame;
    uint64_t parked_function;
    uint32_t spinner_mxcsr;
    int32_t spinner_tid;
    int32_t sleeper_tid;
    int32_t main_tid;
    struct thread_record threads[3];
    uint32_t recorded;
};

static struct parked_shared* shared;

static void record_thread(int index) {
    pthread_attr_t attr;
    void* base = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0 || pthread_attr_getstack(&attr, &base, &size) != 0) {
        perror("pthread_getattr_np");
        exit(1);
    }
    pthread_attr_destroy(&attr);
    shared->threads[index].tid = gettid();
    shared->threads[index].stack_lo = (uint64_t)base;
    shared->threads[index].stack_hi = (uint64_t)base + size;
    __atomic_add_fetch(&shared->recorded, 1, __ATOMIC_SEQ_CST);
}

__attribute__((noinline)) void parked_in_known_function(struct parked_shared* s) {
    s->parked_frame = (uint64_t)__builtin_frame_address(0);
    for (;;) __atomic_add_fetch(&s->progress, 1, __ATOMIC_RELAXED);
}

static void* spinner(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "spinner");
    _mm_setcsr(0x9fc0);
    shared->spinner_mxcsr = _mm_getcsr();
    shared->spinner_tid = gettid();
    shared->parked_function = (uint64_t)&parked_in_known_function;
    record_thread(1);
    parked_in_known_function(shared);
    return NULL;
}

static void* sleeper(void* arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    shared->sleeper_tid = gettid();
    record_thread(2);
    for (;;) {
        struct timespec pause_for = {0, 20 * 1000 * 1000};
        nanosleep(&pause_for, NULL);
    }
    return NULL;
}

static void on_usr1(int signal) {
    (void)signal;
    __atomic_add_fetch(&shared->usr1_calls, 1, __ATOMIC_SEQ_CST);
}

static void on_rt(int signal) {
    (void)signal;
    __atomic_add_fetch(&shared->rt_calls, 1, __ATOMIC_SEQ_CST);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace_parked SHARED_FD\n");
        return 2;
    }
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_rt;
    sigaction(SIGRTMIN + 1, &sa, NULL);

    shared->main_tid = gettid();
    record_thread(0);
    pthread_t threads[2];
    if (pthread_create(&threads[0], NULL, spinner, NULL) != 0 || pthread_create(&threads[1], NULL, sleeper, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    while (__atomic_load_n(&shared->recorded, __ATOMIC_SEQ_CST) < 3 || __atomic_load_n(&shared->progress, __ATOMIC_SEQ_CST) == 0) {
        struct timespec pause_for = {0, 1000 * 1000};
        nanosleep(&pause_for, NULL);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
