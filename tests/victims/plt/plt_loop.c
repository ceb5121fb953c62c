/* Threads that call strlen, memset, strchr, malloc and free through the PLT
 * an exactly known number of times, when told to, for the call counters
 * (tests/plt).
 *
 * usage: plt_loop READY_FILE DONE_FILE [STARTED_FILE]
 *
 * Starts 4 threads that wait; writes READY_FILE; on SIGUSR1, thread k
 * (0..3) calls each of strlen, memset, strchr, malloc and free (k + 1) * 1000
 * times, through this program's PLT, and the main thread none; then writes DONE_FILE ("k tid" per line) and
 * everyone parks. None of these calls is made through the PLT before SIGUSR1.
 * With STARTED_FILE, the threads are started only on SIGUSR1, which then
 * writes STARTED_FILE, and they make their calls on a second SIGUSR1: a
 * counter can add threads born after it was opened. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { threads = 4 };
static pthread_barrier_t start, finish;
static volatile size_t sink;
static pid_t tids[threads];
static const char* volatile text = "a string of some length";

static void* worker(void* arg) {
    long k = (long)arg;
    tids[k] = (pid_t)syscall(SYS_gettid);
    pthread_barrier_wait(&start);
    char buffer[32];
    for (long i = 0; i < (k + 1) * 1000; ++i) {
        sink += strlen(text);
        memset(buffer, (int)i, sizeof buffer);
        sink += (size_t)buffer[i % 32] + (strchr(text, 'g') != NULL);
        char* block = malloc(24);
        sink += block != NULL;
        free(block);
    }
    pthread_barrier_wait(&finish);
    for (;;) pause();
    return NULL;
}

static void write_file(const char* path, const char* text_to_write) {
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    FILE* f = fopen(temporary, "w");
    if (f == NULL) return;
    fputs(text_to_write, f);
    fclose(f);
    rename(temporary, path);
}

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) return 2;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);  /* the threads inherit the mask */
    pthread_barrier_init(&start, NULL, threads + 1);
    pthread_barrier_init(&finish, NULL, threads + 1);
    const int late = argc == 4;
    pthread_t handles[threads];
    int signal_number = 0;
    if (late) {
        write_file(argv[1], "ready\n");
        sigwait(&usr1, &signal_number);
    }
    for (long k = 0; k < threads; ++k) pthread_create(&handles[k], NULL, worker, (void*)k);
    write_file(late ? argv[3] : argv[1], late ? "started\n" : "ready\n");
    sigwait(&usr1, &signal_number);
    pthread_barrier_wait(&start);
    pthread_barrier_wait(&finish);
    char lines[256];
    int used = 0;  /* none of the five here: the main thread's counts stay 0 */
    for (int k = 0; k < threads; ++k) used += snprintf(lines + used, sizeof lines - (size_t)used, "%d %d\n", k, (int)tids[k]);
    write_file(argv[2], lines);
    for (;;) pause();
}
