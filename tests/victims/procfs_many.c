// A process with N threads (argv[1], default 1000) that all block in
// pthread_cond_wait (futex) on small stacks, for the 10,000-thread test and
// the sweep benchmark. Prints "ready N" once every thread has started, then
// parks the main thread in pause(). Runs until killed.
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_cond_t counted = PTHREAD_COND_INITIALIZER;
static long running;

static void* park(void* arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    ++running;
    pthread_cond_signal(&counted);
    while (pthread_cond_wait(&never, &lock) == 0) {
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char** argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    if (n < 1 || n > 100000) {
        fprintf(stderr, "usage: procfs_many [THREADS (1..100000)]\n");
        return 2;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN > 65536 ? PTHREAD_STACK_MIN : 65536);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < n; ++i) {
        pthread_t t;
        if (pthread_create(&t, &attr, park, NULL) != 0) {
            fprintf(stderr, "procfs_many: could only start %ld threads\n", i);
            return 1;
        }
    }
    pthread_mutex_lock(&lock);
    while (running < n) pthread_cond_wait(&counted, &lock);
    pthread_mutex_unlock(&lock);
    printf("ready %ld\n", n);
    fflush(stdout);
    for (;;) pause();
}
