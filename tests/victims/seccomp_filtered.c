// A process under a seccomp filter (one that allows every system call:
// Seccomp 2 in its status), parked in pause(). A filter may kill a process
// for a system call it does not expect, so a fork snapshot must not inject
// one here. Prints "ready". Runs until killed.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog program = {1, allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        perror("seccomp");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
