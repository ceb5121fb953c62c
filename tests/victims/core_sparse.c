/* core_sparse — a victim with a 1 GiB anonymous mapping of which only 16
 * pages (one every 64 MiB) were written, for the sparse-core test.
 * Prints "sparse <hex address> <size> <touched pages>", then "ready", and
 * sleeps until killed. Touched page k holds the byte 0x40 + k throughout.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ul
#define SIZE (1ul << 30)
#define TOUCHED 16ul

int main(void) {
    unsigned char* big = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (big == MAP_FAILED) return 1;
    /* No transparent huge pages: one touched byte must stay one page. */
    madvise(big, SIZE, MADV_NOHUGEPAGE);
    for (unsigned long k = 0; k < TOUCHED; ++k) memset(big + k * (SIZE / TOUCHED), (int)(0x40 + k), PAGE);
    printf("sparse %p %lu %lu\n", (void*)big, SIZE, TOUCHED);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
