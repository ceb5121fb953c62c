// A process whose threads keep starting and exiting (batches of 8 threads
// living 50-400 µs each), and which keeps sending itself real-time signals
// (SIGRTMIN, queued, never merged). It counts, in shared memory (a memfd
// whose descriptor number is argv[1]): batches completed (its progress),
// signals sent and signals received. A tracer that lost a signal would leave
// received < sent forever. Prints "ready" after the first batch. Runs until
// killed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

// Mirrored by tests/ptrace/churn_victim.hpp.
struct churn_shared {
    uint64_t batches;
    uint64_t sent;
    uint64_t received;
};

static struct churn_shared* shared;

static void on_rt(int signal) {
    (void)signal;
    __atomic_add_fetch(&shared->received, 1, __ATOMIC_SEQ_CST);
}

static void* brief(void* arg) {
    long i = (long)arg;
    struct timespec pause_for = {0, 50000 + (i % 8) * 50000};
    nanosleep(&pause_for, NULL);
    return NULL;
}

static void* sender(void* arg) {
    (void)arg;
    union sigval value = {0};
    for (;;) {
        __atomic_add_fetch(&shared->sent, 1, __ATOMIC_SEQ_CST);
        while (sigqueue(getpid(), SIGRTMIN, value) != 0) {
            if (errno != EAGAIN) {
                perror("sigqueue");
                exit(1);
            }
        }
        struct timespec pause_for = {0, 300 * 1000};
        nanosleep(&pause_for, NULL);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace_churn SHARED_FD\n");
        return 2;
    }
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_rt;
    sigaction(SIGRTMIN, &sa, NULL);
    pthread_t send_thread;
    if (pthread_create(&send_thread, NULL, sender, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    enum { batch = 8 };
    for (;;) {
        pthread_t threads[batch];
        for (long i = 0; i < batch; ++i) {
            if (pthread_create(&threads[i], NULL, brief, (void*)i) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (int i = 0; i < batch; ++i) pthread_join(threads[i], NULL);
        if (__atomic_add_fetch(&shared->batches, 1, __ATOMIC_SEQ_CST) == 1) {
            printf("ready\n");
            fflush(stdout);
        }
    }
}
