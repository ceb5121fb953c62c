// A process that turns hot after a delay, for the sustained-CPU trigger
// (procfs/hot_streak.hpp, triage-gcore --when-cpu):
//   late     sleeps DELAY_MS (argv[1], default 1000), then spins in user space
//   light    alternates 1 ms of spinning and 9 ms of sleep (at most ~10% of a core)
//   parked   pause()
// Prints "<name> <tid>" for each thread, then "ready", then parks the main
// thread in pause(). Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t started;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long spins;
static long delay_ms = 1000;

static void announce(const char* name) {
    prctl(PR_SET_NAME, name);
    pthread_mutex_lock(&report_lock);
    printf("%s %d\n", name, (int)gettid());
    fflush(stdout);
    pthread_mutex_unlock(&report_lock);
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void* late(void* arg) {
    (void)arg;
    announce("late");
    pthread_barrier_wait(&started);
    struct timespec delay = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    nanosleep(&delay, NULL);
    for (;;) ++spins;
    return NULL;
}

static void* light(void* arg) {
    (void)arg;
    announce("light");
    pthread_barrier_wait(&started);
    struct timespec rest = {0, 9000000L};
    for (;;) {
        long long until = now_ns() + 1000000LL;
        while (now_ns() < until) ++spins;
        nanosleep(&rest, NULL);
    }
    return NULL;
}

static void* parked(void* arg) {
    (void)arg;
    announce("parked");
    pthread_barrier_wait(&started);
    for (;;) pause();
    return NULL;
}

int main(int argc, char** argv) {
    if (argc > 1) delay_ms = atol(argv[1]);
    void* (*bodies[])(void*) = {late, light, parked};
    pthread_barrier_init(&started, NULL, 4);
    for (unsigned i = 0; i < 3; ++i) {
        pthread_t t;
        if (pthread_create(&t, NULL, bodies[i], NULL) != 0) return 1;
    }
    pthread_barrier_wait(&started);
    printf("main %d\nready\n", (int)getpid());
    fflush(stdout);
    for (;;) pause();
}
