/* A process whose threads call strlen through the PLT until one of them,
 * not the main thread, execs /bin/sleep: for the int3 backend, whose
 * breakpoints vanish with the old image and must not be written back into
 * the new one.
 *
 * usage: plt_execer READY_FILE
 *
 * Two threads call strlen every 100 µs; writes READY_FILE; on SIGUSR1 the
 * second thread execs "/bin/sleep 60" (the kernel gives it the main
 * thread's tid). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char* volatile text = "a string of some length";
static volatile size_t sink;
static volatile sig_atomic_t go;

static void nap(void) {
    struct timespec t = {0, 100000};
    nanosleep(&t, NULL);
}

static void on_usr1(int signal_number) {
    (void)signal_number;
    go = 1;
}

static void* worker(void* arg) {
    (void)arg;
    while (!go) {
        sink += strlen(text);
        nap();
    }
    execl("/bin/sleep", "sleep", "60", (char*)NULL);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    signal(SIGUSR1, on_usr1);
    pthread_t thread;
    pthread_create(&thread, NULL, worker, NULL);
    FILE* f = fopen(argv[1], "w");
    if (f != NULL) fclose(f);
    for (;;) {
        sink += strlen(text);
        nap();
    }
}
