// A process with one thread spinning in user space and others parked in
// known system calls, for the procfs tests and triage-top:
//   spinner      loops on a volatile counter (no system calls; nice -10)
//   waiter-0..2  pthread_cond_wait on a condition nobody signals (futex)
//   locked-0..1  pthread_mutex_lock on a mutex the main thread holds (futex)
//   sleeper-0..1 nanosleep (clock_nanosleep)
//   "a) b (c"    nanosleep, with a name full of spaces and parentheses
// Prints "<name> <tid>" for each thread, then "ready", then parks the main
// thread in pause(). Runs until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t started;
static volatile unsigned long spins;

enum role { spinner, waiter, locked, sleeper };
struct thread_spec {
    enum role role;
    char name[16];
};

static void report(const char* name) {
    pthread_mutex_lock(&report_lock);
    printf("%s %d\n", name, (int)gettid());
    fflush(stdout);
    pthread_mutex_unlock(&report_lock);
}

static void* run(void* arg) {
    struct thread_spec* spec = arg;
    prctl(PR_SET_NAME, spec->name);
    report(spec->name);
    pthread_barrier_wait(&started);
    switch (spec->role) {
    case spinner:
        // Nice -10 (when allowed: root) so that a loaded machine does not
        // starve it below the 50% of a core the tests expect to see.
        setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
        for (;;) ++spins;
    case waiter:
        pthread_mutex_lock(&cond_lock);
        for (;;) pthread_cond_wait(&never, &cond_lock);
    case locked:
        pthread_mutex_lock(&held);
        return NULL;
    case sleeper:
        for (;;) {
            struct timespec hour = {3600, 0};
            nanosleep(&hour, NULL);
        }
    }
    return NULL;
}

int main(void) {
    static struct thread_spec specs[] = {
        {spinner, "spinner"},  {waiter, "waiter-0"},   {waiter, "waiter-1"}, {waiter, "waiter-2"},
        {locked, "locked-0"},  {locked, "locked-1"},   {sleeper, "sleeper-0"}, {sleeper, "sleeper-1"},
        {sleeper, "a) b (c"},
    };
    enum { count = sizeof specs / sizeof specs[0] };
    pthread_mutex_lock(&held);
    pthread_barrier_init(&started, NULL, count + 1);
    pthread_t threads[count];
    for (int i = 0; i < count; ++i) {
        if (pthread_create(&threads[i], NULL, run, &specs[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    pthread_barrier_wait(&started);
    report("main");
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
