/* core_data — a victim whose initialised data (64 KiB in .data, so mapped
 * privately from its own executable) was rewritten at run time: a core must
 * hold those pages, because the file on disk has other bytes there.
 * Byte i of the buffer is 0xa5 on disk and (i * 7 + 3) & 0xff at run time.
 * Prints "data <hex address> <size>", then "ready", and sleeps until killed.
 */
#include <stdio.h>
#include <unistd.h>

#define SIZE (64ul << 10)

/* Non-zero initial bytes: the buffer is in .data, not .bss. */
unsigned char data[SIZE] = {[0 ... SIZE - 1] = 0xa5};

int main(void) {
    for (unsigned long i = 0; i < SIZE; ++i) data[i] = (unsigned char)((i * 7 + 3) & 0xff);
    printf("data %p %lu\n", (void*)data, SIZE);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
