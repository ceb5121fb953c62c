// Includes every report/ header (triage::report: {fmt}, nlohmann-json,
// CLI11) and prints a hand-made Python stacks report with both writers.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>  // to_json's document (declared only under separate compilation)

#include "triage/procfs/parse_pid.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/progress.hpp"
#include "triage/report/pystack_json.hpp"
#include "triage/report/pystack_text.hpp"
#include "triage/report/python_format.hpp"
#include "triage/report/thread_report.hpp"
#include "triage/report/top_json.hpp"
#include "triage/report/top_report.hpp"
#include "triage/report/top_text.hpp"

int main() {
    triage::cpython::python_stacks_report r;
    r.pid = 1;
    r.threads.push_back({});
    r.threads.back().name = "a\x1b[2J";
    const std::string text = triage::report::to_text(r);
    if (text.find('\x1b') != std::string::npos) return 1;
    if (triage::report::to_json(r)["threads"].size() != 1) return 1;
    if (!triage::procfs::parse_pid("12")) return 1;
    std::fputs(text.c_str(), stdout);
    return 0;
}
