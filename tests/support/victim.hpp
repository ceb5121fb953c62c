// A victim program (tests/victims/*.c) started and waited for: it prints
// "<key> <value>..." lines, then "ready"; the lines are kept by key. Being a
// child_process, it is SIGKILLed and reaped at the end of the test.
//
// Errors: std::runtime_error when it does not start, does not print "ready"
// within the bound, or a test asks for a line or a number it did not print.
// Thread safety: one object per thread. What it does to the victim: starts
// it; kills it on destruction.
//
//   triage::test_support::victim v{{triage::test_support::victim_path("elf_loader"), lib}};
//   std::uint64_t getpid_address = v.address("getpid");  // "getpid 0x7f..."
//   CHECK(v.running());
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "triage/base/text.hpp"

namespace triage::test_support {

class victim : public child_process {
public:
    // Starts argv and reads its stdout up to a line "ready" (or "ready ...").
    explicit victim(std::vector<std::string> argv, std::chrono::milliseconds ready_within = std::chrono::seconds{20})
        : victim{std::move(argv), spawn_options{.capture_stderr = true}, ready_within} {}

    // The same, started with `options` (a working directory, an unlimited
    // core size ...).
    victim(std::vector<std::string> argv, spawn_options options,
           std::chrono::milliseconds ready_within = std::chrono::seconds{20})
        : child_process{std::move(argv), std::move(options)} {
        announced_ = read_until("ready", ready_within);
        for (const std::string& text : announced_) {
            std::string_view rest = text;
            std::string_view key = next_token(rest, ' ');
            lines_.emplace(std::string{key}, std::string{rest});
        }
    }

    // Every line before "ready", as printed.
    [[nodiscard]] const std::vector<std::string>& announced() const noexcept { return announced_; }

    // The rest of the first line that starts with `key`.
    [[nodiscard]] const std::string& line(std::string_view key) const {
        auto it = lines_.find(key);
        if (it == lines_.end()) throw std::runtime_error("the victim printed no '" + std::string{key} + "' line");
        return it->second;
    }

    // The rest of every line that starts with `key`, in the order printed.
    [[nodiscard]] std::vector<std::string> all(std::string_view key) const {
        std::vector<std::string> found;
        for (const std::string& text : announced_) {
            std::string_view rest = text;
            if (next_token(rest, ' ') == key) found.emplace_back(rest);
        }
        return found;
    }

    // Field `index` (0-based, space-separated) after `key`, as a number in
    // `base`; base 16 accepts a "0x" prefix.
    [[nodiscard]] std::uint64_t number(std::string_view key, std::size_t index = 0, int base = 10) const {
        std::string_view rest = line(key);
        std::string_view field;
        for (std::size_t i = 0; i <= index; ++i) field = next_token(rest, ' ');
        if (base == 16 && field.starts_with("0x")) field.remove_prefix(2);
        auto value = parse_unsigned<std::uint64_t>(field, base);
        if (!value)
            throw std::runtime_error("field " + std::to_string(index) + " of the victim's '" + std::string{key} +
                                     "' line is not a number: " + line(key));
        return *value;
    }

    // A hexadecimal field ("0x7f12..." or "7f12...").
    [[nodiscard]] std::uint64_t address(std::string_view key, std::size_t index = 0) const { return number(key, index, 16); }

private:
    std::vector<std::string> announced_;
    std::map<std::string, std::string, std::less<>> lines_;
};

} // namespace triage::test_support
