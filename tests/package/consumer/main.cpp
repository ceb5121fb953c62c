// Includes every installed header through triage/triage.hpp (so a header
// missing from the install, or two headers that clash, fail here), calls
// libelf (triage::elf), then checks that it can read its own threads.
#include <libelf.h>
#include <unistd.h>

#include <cstdio>

#include "triage/triage.hpp"

int main() {
    if (elf_version(EV_CURRENT) == EV_NONE) return 1;
    auto tids = triage::procfs::task_ids(::getpid());
    if (!tids || tids->empty()) {
        std::fprintf(stderr, "%s\n", tids ? "no threads" : tids.error().message().c_str());
        return 1;
    }
    return 0;
}
