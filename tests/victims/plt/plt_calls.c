/* Calls memset, strchr, strlen and malloc through the PLT (or, built with
 * -fno-plt, through the GOT), so that tests can find each call's stub.
 * Built several ways by tests/CMakeLists.txt (classic PLT, IBT .plt.sec,
 * BIND_NOW, -fno-plt, non-PIE, static) with -fno-builtin, so that no call is
 * inlined. Prints the number of the calls it made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    char buffer[64];
    memset(buffer, 'a', sizeof buffer - 1);
    buffer[sizeof buffer - 1] = '\0';
    char* copy = malloc(strlen(buffer) + 1);
    if (copy == NULL) return 1;
    memcpy(copy, buffer, sizeof buffer);
    printf("%d %s\n", argc, strchr(argv[0], '/') != NULL ? "path" : "name");
    free(copy);
    return 0;
}
