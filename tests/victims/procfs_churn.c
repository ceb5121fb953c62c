// A process whose threads keep starting and exiting: batches of 32 threads
// that each live 0.2 to 1.6 ms, forever. Readers of
// /proc/PID/task race with it on purpose. Prints "ready" after the first
// batch. Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void* brief(void* arg) {
    long i = (long)arg;
    struct timespec pause_for = {0, 200000 + (i % 8) * 200000};
    nanosleep(&pause_for, NULL);
    return NULL;
}

int main(void) {
    enum { batch = 32 };
    for (unsigned long round = 0;; ++round) {
        pthread_t threads[batch];
        for (long i = 0; i < batch; ++i) {
            if (pthread_create(&threads[i], NULL, brief, (void*)i) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (int i = 0; i < batch; ++i) pthread_join(threads[i], NULL);
        if (round == 0) {
            printf("ready\n");
            fflush(stdout);
        }
    }
}
