// A process whose threads sit in system calls and check every result, and
// which forks and reaps children of its own, for copy-on-write snapshot
// dumps (a clone() run by one of its threads while all are stopped):
//   - "sleeper": clock_nanosleep(30 ms), relative: must return 0 after at
//     least 30 ms (a restart gone wrong returns EINTR, or early);
//   - "reader": read() of 8 bytes from a pipe: must return 8, carrying the
//     next number of the "writer", which writes one every 5 ms;
//   - "waiter": FUTEX_WAIT on a word the "waker" sets and wakes every
//     20 ms: must return 0 or EAGAIN;
//   - "spawner": fork()s a child that exits with status 7, every 20 ms,
//     and reaps with waitpid(-1): every pid it reaps must be one it forked,
//     exited with 7; a SIGCHLD handler counts the signals.
//   - with a second argument MIB: MIB MiB of memory, every page touched
//     (a fork then takes milliseconds), and a "spinner" that runs in user
//     space holding known values in r12, xmm9 and the upper half of ymm9
//     (with AVX) across a loop that checks them: a register of the thread
//     changed under it (an injected call put back wrongly) is an error.
// Every thread but the spawner blocks SIGCHLD. On SIGUSR1 the main thread
// writes "<counter> <value>" lines to the file named by argv[1] (written
// under a temporary name, then renamed): sleeps reads waits spawned reaped
// unknown sigchld spins errors, and the first error's text. Prints "ready"
// once every thread has done its work once. Runs until killed.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint64_t sleeps, reads, waits, spawned, reaped, unknown, sigchld, spins, errors;
static char first_error[256];
static int pipe_fds[2];
static _Atomic uint32_t futex_word;

static void error_seen(const char* what, long value) {
    if (errors++ == 0) snprintf(first_error, sizeof first_error, "%s: %ld (errno %d)", what, value, errno);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void block_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void* sleeper(void* arg) {
    (void)arg;
    block_sigchld();
    for (;;) {
        const struct timespec d = {0, 30 * 1000 * 1000};
        const uint64_t t0 = now_ns();
        int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
        const uint64_t took = now_ns() - t0;
        if (r != 0) error_seen("clock_nanosleep returned", r);
        else if (took < 30u * 1000 * 1000) error_seen("clock_nanosleep returned early, ns", (long)took);
        sleeps++;
    }
    return NULL;
}

static void* writer(void* arg) {
    (void)arg;
    block_sigchld();
    for (uint64_t n = 1;; ++n) {
        const struct timespec d = {0, 5 * 1000 * 1000};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
        if (write(pipe_fds[1], &n, sizeof n) != sizeof n) error_seen("write to the pipe", errno);
    }
    return NULL;
}

static void* reader(void* arg) {
    (void)arg;
    block_sigchld();
    for (uint64_t expected = 1;; ++expected) {
        uint64_t n = 0;
        ssize_t r = read(pipe_fds[0], &n, sizeof n);
        if (r != (ssize_t)sizeof n) error_seen("read from the pipe returned", (long)r);
        else if (n != expected) error_seen("read an unexpected number", (long)n);
        expected = n;
        reads++;
    }
    return NULL;
}

static void* waker(void* arg) {
    (void)arg;
    block_sigchld();
    for (;;) {
        const struct timespec d = {0, 20 * 1000 * 1000};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
        futex_word = 1;
        syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static void* waiter(void* arg) {
    (void)arg;
    block_sigchld();
    for (;;) {
        long r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        if (r != 0 && errno != EAGAIN) error_seen("FUTEX_WAIT returned", r);
        futex_word = 0;
        waits++;
    }
    return NULL;
}

static void on_sigchld(int sig) {
    (void)sig;
    sigchld++;
}

static void* spawner(void* arg) {
    (void)arg;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    for (;;) {
        pid_t child = fork();
        if (child == 0) _exit(7);
        if (child < 0) {
            error_seen("fork", errno);
            continue;
        }
        spawned++;
        int status = 0;
        pid_t r;
        while ((r = waitpid(-1, &status, 0)) < 0 && errno == EINTR) {}
        if (r != child) {
            unknown++;
            error_seen("waitpid(-1) reaped a pid we did not fork", r);
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 7) {
            error_seen("our child's status", status);
        }
        reaped++;
        const struct timespec d = {0, 20 * 1000 * 1000};
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL) == EINTR) {}  // SIGCHLD interrupts it
    }
    return NULL;
}

static const uint64_t pattern[4] = {0x0123456789abcdefULL, 0x1122334455667788ULL, 0xfedcba9876543210ULL, 0x99aabbccddeeff00ULL};

// One million rounds of checking r12, xmm9's low half and (with AVX) the
// low half of ymm9's upper lane against `pattern`: 0, or which one changed
// (1 r12, 2 xmm9, 3 ymm9's upper lane).
static int registers_changed(int avx) {
    int bad;
    __asm__ volatile(
        "movdqu (%[p]), %%xmm9\n\t"
        "testl %[avx], %[avx]\n\t"
        "jz 0f\n\t"
        "vmovdqu (%[p]), %%ymm9\n"
        "0:\n\t"
        "movq (%[p]), %%r12\n\t"
        "movl $1000000, %%ecx\n"
        "1:\n\t"
        "testl %[avx], %[avx]\n\t"
        "jz 2f\n\t"
        "movl $3, %[bad]\n\t"
        "vextractf128 $1, %%ymm9, %%xmm10\n\t"
        "movq %%xmm10, %%rax\n\t"
        "cmpq 16(%[p]), %%rax\n\t"
        "jne 3f\n"
        "2:\n\t"
        "movl $2, %[bad]\n\t"
        "movq %%xmm9, %%rax\n\t"
        "cmpq (%[p]), %%rax\n\t"
        "jne 3f\n\t"
        "movl $1, %[bad]\n\t"
        "cmpq (%[p]), %%r12\n\t"
        "jne 3f\n\t"
        "decl %%ecx\n\t"
        "jnz 1b\n\t"
        "xorl %[bad], %[bad]\n"
        "3:\n\t"
        "testl %[avx], %[avx]\n\t"
        "jz 4f\n\t"
        "vzeroupper\n"
        "4:\n"
        : [bad] "=&r"(bad)
        : [p] "r"(pattern), [avx] "r"(avx)
        : "rax", "rcx", "r12", "xmm9", "xmm10", "cc", "memory");
    return bad;
}

static void* spinner(void* arg) {
    (void)arg;
    block_sigchld();
    const int avx = __builtin_cpu_supports("avx");
    for (;;) {
        const int changed = registers_changed(avx);
        if (changed != 0) error_seen("a register changed under the spinner (1 r12, 2 xmm9, 3 ymm9 upper)", changed);
        spins++;
    }
    return NULL;
}

static void write_report(const char* path) {
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    FILE* f = fopen(temporary, "w");
    if (!f) return;
    fprintf(f, "sleeps %lu\nreads %lu\nwaits %lu\nspawned %lu\nreaped %lu\nunknown %lu\nsigchld %lu\nspins %lu\nerrors %lu\nfirst_error %s\n",
            (unsigned long)sleeps, (unsigned long)reads, (unsigned long)waits, (unsigned long)spawned, (unsigned long)reaped,
            (unsigned long)unknown, (unsigned long)sigchld, (unsigned long)spins, (unsigned long)errors, first_error);
    fclose(f);
    rename(temporary, path);
}

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: fork_syscalls REPORT_FILE [MIB]\n");
        return 2;
    }
    if (argc == 3) {
        const size_t size = (size_t)strtoul(argv[2], NULL, 10) << 20;
        char* big = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (big == MAP_FAILED) return 1;
        madvise(big, size, MADV_NOHUGEPAGE);  // page tables as big as they get: the fork's cost
        for (size_t at = 0; at < size; at += 4096) big[at] = 1;
    }
    if (pipe(pipe_fds) != 0) return 1;
    struct sigaction chld;
    memset(&chld, 0, sizeof chld);
    chld.sa_handler = on_sigchld;
    chld.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &chld, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);  // taken by sigwait below
    void* (*bodies[])(void*) = {sleeper, writer, reader, waker, waiter, spawner};
    const char* names[] = {"sleeper", "writer", "reader", "waker", "waiter", "spawner"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; ++i) {
        pthread_t t;
        if (pthread_create(&t, NULL, bodies[i], NULL) != 0) return 1;
        pthread_setname_np(t, names[i]);
    }
    if (argc == 3) {
        pthread_t t;
        if (pthread_create(&t, NULL, spinner, NULL) != 0) return 1;
        pthread_setname_np(t, "spinner");
    }
    while (sleeps == 0 || reads == 0 || waits == 0 || reaped == 0 || (argc == 3 && spins == 0)) usleep(1000);
    block_sigchld();
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&usr1, &sig) == 0) write_report(argv[1]);
    }
}
