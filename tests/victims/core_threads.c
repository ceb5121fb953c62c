/* core_threads — a 26-thread victim for the core writer's tests.
 *
 * Threads (the main thread plus 25):
 *   main             waits in pause()
 *   8 × parked_in_sleep    loop in nanosleep()
 *   8 × parked_on_mutex    block in pthread_mutex_lock() on a mutex main holds
 *   8 × parked_in_read     block in read() on a pipe nobody writes
 *   1 × spin_forever       spins in user space (the hottest thread)
 * Memory:
 *   pattern   16 KiB global buffer, byte i = pattern_byte(i, 7)
 *   dontdump  16 pages of anonymous memory filled with 0x5a, MADV_DONTDUMP
 * Prints "pattern <hex address> <size> 7", "dontdump <hex address> <size>",
 * "spinner <tid>", one "parked <tid> <function>" per parked thread, then
 * "ready", and runs until killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PARKED_PER_KIND 8
#define PAGE 4096u

unsigned char pattern[16384];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static int idle_pipe[2];
static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int started;
static pid_t tids[3 * PARKED_PER_KIND];
static pid_t spinner_tid;
volatile uint64_t spins;

static unsigned char pattern_byte(uint64_t i, unsigned seed) {
    return (unsigned char)((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xffu);
}

static void announce(int slot) {
    pthread_mutex_lock(&started_lock);
    if (slot >= 0) tids[slot] = gettid();
    else spinner_tid = gettid();
    ++started;
    pthread_cond_signal(&started_cond);
    pthread_mutex_unlock(&started_lock);
}

static void* parked_in_sleep(void* arg) {
    announce((int)(intptr_t)arg);
    for (;;) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void* parked_on_mutex(void* arg) {
    announce((int)(intptr_t)arg);
    pthread_mutex_lock(&held);
    pthread_mutex_unlock(&held);
    return NULL;
}

static void* parked_in_read(void* arg) {
    announce((int)(intptr_t)arg);
    char c;
    for (;;)
        if (read(idle_pipe[0], &c, 1) <= 0) break;
    return NULL;
}

static void* spin_forever(void* arg) {
    (void)arg;
    announce(-1);
    for (;;) ++spins;
    return NULL;
}

int main(void) {
    for (size_t i = 0; i < sizeof pattern; ++i) pattern[i] = pattern_byte(i, 7);
    size_t dd_size = 16 * PAGE;
    unsigned char* dd = mmap(NULL, dd_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (dd == MAP_FAILED) return 1;
    memset(dd, 0x5a, dd_size);
    if (madvise(dd, dd_size, MADV_DONTDUMP) != 0) return 1;
    if (pipe(idle_pipe) != 0) return 1;
    pthread_mutex_lock(&held);

    void* (*kinds[3])(void*) = {parked_in_sleep, parked_on_mutex, parked_in_read};
    pthread_t t;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < PARKED_PER_KIND; ++i)
            if (pthread_create(&t, NULL, kinds[k], (void*)(intptr_t)(k * PARKED_PER_KIND + i)) != 0) return 1;
    if (pthread_create(&t, NULL, spin_forever, NULL) != 0) return 1;
    pthread_mutex_lock(&started_lock);
    while (started < 3 * PARKED_PER_KIND + 1) pthread_cond_wait(&started_cond, &started_lock);
    pthread_mutex_unlock(&started_lock);

    static const char* names[3] = {"parked_in_sleep", "parked_on_mutex", "parked_in_read"};
    printf("pattern %p %zu 7\n", (void*)pattern, sizeof pattern);
    printf("dontdump %p %zu\n", (void*)dd, dd_size);
    printf("spinner %d\n", (int)spinner_tid);
    for (int i = 0; i < 3 * PARKED_PER_KIND; ++i) printf("parked %d %s\n", (int)tids[i], names[i / PARKED_PER_KIND]);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
