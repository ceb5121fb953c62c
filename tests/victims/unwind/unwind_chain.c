// A known call chain for the native unwinder's tests (tests/unwind), built
// three ways (tests/CMakeLists.txt: frame pointers and CFI, CFI only, frame
// pointers only). The main thread spins in inner(), called as
// main → outer → middle → inner; a second thread blocks in read() on a pipe
// nobody writes, called as parked_start → parked_outer → parked_inner.
// With the argument "signal", a third thread sends itself SIGUSR1 from
// signalled_outer, and the handler, running on a sigaltstack, blocks in
// read() too: on_signal → handler_inner.
// noipa keeps every function a real, separately called function (no
// inlining, cloning, or noreturn inference) and the work after each call
// keeps the calls from becoming tail jumps.
// Prints "spinner TID", "parked TID" (and "signalled TID"), then "ready",
// then spins until killed.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile unsigned long counter;
volatile long sink;
volatile int stop_spinning;
volatile int announced;
static int pipe_fds[2];
static char alternate_stack[64 * 1024];

// The volatile local gives inner a stack frame: GCC 12 sets up no frame
// pointer in a leaf function that does not touch the stack, even with
// -fno-omit-frame-pointer, and a frame-pointer walk would then skip middle.
__attribute__((noipa)) long inner(long x) {
    volatile long step = x;
    while (!stop_spinning) counter += (unsigned long)step;
    return (long)counter;
}

__attribute__((noipa)) long middle(long x) {
    long r = inner(x + 1);
    sink = r;
    return r + 1;
}

__attribute__((noipa)) long outer(long x) {
    long r = middle(x + 1);
    sink = r;
    return r + 1;
}

__attribute__((noipa)) long parked_inner(void) {
    char c;
    long n = read(pipe_fds[0], &c, 1);
    sink = n;
    return n + 1;
}

__attribute__((noipa)) long parked_outer(void) {
    long r = parked_inner();
    sink = r;
    return r + 1;
}

__attribute__((noipa)) void* parked_start(void* arg) {
    printf("parked %ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
    announced = 1;
    sink = parked_outer();
    return arg;
}

__attribute__((noipa)) long handler_inner(void) {
    char c;
    long n = read(pipe_fds[0], &c, 1);
    sink = n;
    return n + 1;
}

__attribute__((noipa)) void on_signal(int signal) { sink = handler_inner() + signal; }

__attribute__((noipa)) long signalled_outer(void) {
    pthread_kill(pthread_self(), SIGUSR1);
    sink = 1;
    return sink + 1;
}

__attribute__((noipa)) void* signalled_start(void* arg) {
    stack_t alternate = {.ss_sp = alternate_stack, .ss_size = sizeof alternate_stack};
    if (sigaltstack(&alternate, NULL) != 0) return arg;
    printf("signalled %ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
    announced = 2;
    sink = signalled_outer();
    return arg;
}

int main(int argc, char** argv) {
    if (pipe(pipe_fds) != 0) return 1;
    pthread_t parked, signalled;
    printf("spinner %ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
    if (pthread_create(&parked, NULL, parked_start, NULL) != 0) return 1;
    while (!announced) usleep(100);
    if (argc > 1 && strcmp(argv[1], "signal") == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        action.sa_flags = SA_ONSTACK;
        if (sigaction(SIGUSR1, &action, NULL) != 0) return 1;
        if (pthread_create(&signalled, NULL, signalled_start, NULL) != 0) return 1;
        while (announced != 2) usleep(100);
    }
    // "ready" after the threads' lines (tests wait until they are in read()).
    printf("ready\n");
    fflush(stdout);
    sink = outer(1);
    return 0;
}
