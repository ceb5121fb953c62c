// Victim for tests/elf: loads a shared library and reports where things are.
//   elf_loader LIBRARY [--mmap] [--dlmopen]
// Prints "name 0xADDRESS" lines, then "ready", then sleeps until killed:
//   probe       dlsym(dlopen(LIBRARY), "triage_probe")
//   getpid      dlsym(RTLD_DEFAULT, "getpid"), in libc
//   marker      &elf_loader_marker, a function of this program
//   data_map    (--mmap) LIBRARY mapped again, whole, read-only, as data
//   odd_map     (--mmap) one page of LIBRARY mapped at file offset 4096
//   probe2      (--dlmopen) triage_probe of a second copy in a new namespace
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int elf_loader_marker(int x) { return x * 3 + 1; }

static int fail(const char* what) {
    fprintf(stderr, "elf_loader: %s: %s\n", what, dlerror() ? dlerror() : "failed");
    return 1;
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    void* lib = dlopen(argv[1], RTLD_NOW);
    if (lib == NULL) return fail("dlopen");
    void* probe = dlsym(lib, "triage_probe");
    if (probe == NULL) return fail("dlsym triage_probe");
    printf("probe %p\n", probe);
    printf("getpid %p\n", dlsym(RTLD_DEFAULT, "getpid"));
    printf("marker %p\n", (void*)&elf_loader_marker);
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--mmap") == 0) {
            int fd = open(argv[1], O_RDONLY);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) != 0) return fail("open");
            void* whole = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            void* page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
            if (whole == MAP_FAILED || page == MAP_FAILED) return fail("mmap");
            close(fd);
            printf("data_map %p\nodd_map %p\n", whole, page);
        } else if (strcmp(argv[i], "--dlmopen") == 0) {
            void* copy = dlmopen(LM_ID_NEWLM, argv[1], RTLD_NOW);
            if (copy == NULL) return fail("dlmopen");
            void* probe2 = dlsym(copy, "triage_probe");
            if (probe2 == NULL) return fail("dlsym triage_probe in the copy");
            printf("probe2 %p\n", probe2);
        }
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
