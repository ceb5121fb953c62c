/* memory_pattern — a victim with buffers of known contents, for the memory
 * readers' tests.
 *
 * Every buffer byte i of a buffer with seed s is pattern_byte(i, s) (the
 * tests compute the same formula). Prints one line per buffer,
 *   "<name> <hex address> <size> <seed>"
 * then "ready", and blocks until killed. Buffers:
 *   small    64 bytes, a global array (seed 1)
 *   heap     1 MiB from malloc (seed 2)
 *   guarded  3 pages followed by a PROT_NONE guard page (seed 3)
 *   guard    the PROT_NONE page right after them; it holds the pattern of
 *            `guarded` continued (written before mprotect), so a reader that
 *            ignores protections (/proc/PID/mem) sees known bytes there
 *   hole     the page right after the guard page, unmapped (seed 0)
 *   after    the page right after the hole, readable (seed 4)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096u

unsigned char pattern_small[64];

static unsigned char pattern_byte(uint64_t i, unsigned seed) {
    return (unsigned char)((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xffu);
}

static void fill(unsigned char* p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; ++i) p[i] = pattern_byte(i, seed);
}

int main(void) {
    fill(pattern_small, sizeof pattern_small, 1);

    size_t heap_size = 1u << 20;
    unsigned char* heap = malloc(heap_size);
    if (heap == NULL) return 1;
    fill(heap, heap_size, 2);

    unsigned char* guarded = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guarded == MAP_FAILED) return 1;
    fill(guarded, 4 * PAGE, 3);
    if (mprotect(guarded + 3 * PAGE, PAGE, PROT_NONE) != 0) return 1;
    unsigned char* hole = guarded + 4 * PAGE;
    if (munmap(hole, PAGE) != 0) return 1;
    unsigned char* after = hole + PAGE;
    fill(after, PAGE, 4);

    printf("small %p %zu 1\n", (void*)pattern_small, sizeof pattern_small);
    printf("heap %p %zu 2\n", (void*)heap, heap_size);
    printf("guarded %p %u 3\n", (void*)guarded, 3 * PAGE);
    printf("guard %p %u 3\n", (void*)(guarded + 3 * PAGE), PAGE);
    printf("hole %p %u 0\n", (void*)hole, PAGE);
    printf("after %p %u 4\n", (void*)after, PAGE);
    printf("ready\n");
    fflush(stdout);

    for (;;) pause();
}
