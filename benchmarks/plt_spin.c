/* The target of benchmarks/plt_count_rate.cpp: waits for one byte on stdin,
 * then calls strlen N times through its PLT and exits.
 * usage: plt_spin N */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char* volatile text = "a string of some length";
static volatile size_t sink;

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const long n = atol(argv[1]);
    char go;
    if (read(0, &go, 1) != 1) return 1;
    for (long i = 0; i < n; ++i) sink += strlen(text);
    return 0;
}
