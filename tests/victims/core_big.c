/* core_big — a 26-thread victim with a large resident heap, for the
 * interrupted-dump test and the gcore benchmark.
 *
 *   core_big MIB     fills MIB MiB of anonymous memory with non-zero words
 * Threads: main (pause), 24 parked in nanosleep, 1 spinning.
 * Prints "big <hex address> <size>", then "ready", and runs until killed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t spins;

static void* parked_in_sleep(void* arg) {
    (void)arg;
    for (;;) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void* spin_forever(void* arg) {
    (void)arg;
    for (;;) ++spins;
    return NULL;
}

int main(int argc, char** argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    size_t size = mib << 20;
    uint64_t* heap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) return 1;
    for (size_t i = 0; i < size / sizeof *heap; ++i) heap[i] = 0x9e3779b97f4a7c15ull * (i + 1);
    pthread_t t;
    for (int i = 0; i < 24; ++i)
        if (pthread_create(&t, NULL, parked_in_sleep, NULL) != 0) return 1;
    if (pthread_create(&t, NULL, spin_forever, NULL) != 0) return 1;
    printf("big %p %zu\n", (void*)heap, size);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
