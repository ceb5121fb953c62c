// The floor under a sampler's achieved rate on this machine: a loop with
// the sampler's timing (tick i due at start + i × period; a late tick still
// taken while at most max(2 periods, 10 ms) behind, half a period after
// the tick before at the earliest; missed further behind) that busy-works
// WORK_US microseconds per tick instead of reading a process. Its achieved rate is
// what timer wake-ups and scheduling alone allow (a virtual machine's
// vCPU that halts between ticks may wake milliseconds late).
//   usage: timer_floor RATE_HZ SECONDS WORK_US
//   prints: "RATE Hz asked, WORK_US us a tick: ACHIEVED Hz, LATE late, MISSED missed"
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: timer_floor RATE_HZ SECONDS WORK_US\n");
        return 2;
    }
    const double rate = atof(argv[1]);
    const long long duration = (long long)(atof(argv[2]) * 1e9), work = atoll(argv[3]) * 1000LL;
    const long long period = (long long)(1e9 / rate), start = now_ns();
    long long ticks = 0, late = 0, missed = 0, began = start;
    for (long long index = 0;;) {
        const long long due = start + index * period;
        if (due - start >= duration) break;
        const long long wake = index > 0 && due < began + period / 2 ? began + period / 2 : due;
        struct timespec at = {wake / 1000000000LL, wake % 1000000000LL};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) != 0) {
        }
        began = now_ns();
        while (now_ns() - began < work) {
        }
        ++ticks;
        const long long ended = now_ns();
        if (began - due >= period) ++late;
        long long next = index + 1;
        const long long backlog = 2 * period > 10000000LL ? 2 * period : 10000000LL;
        const long long behind = ended - start - backlog;
        if (behind > 0 && (behind + period - 1) / period > next) {
            missed += (behind + period - 1) / period - next;
            next = (behind + period - 1) / period;
        }
        index = next;
    }
    printf("%.0f Hz asked, %lld us a tick: %.1f Hz, %lld late, %lld missed\n", rate, work / 1000,
           (double)ticks * 1e9 / (double)(now_ns() - start), late, missed);
    return 0;
}
