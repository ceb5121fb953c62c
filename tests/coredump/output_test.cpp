// Where a core may go: never over a device, a FIFO, a link or a directory
// (/dev/null stays /dev/null), over a regular file only when asked, private
// (0600) whatever the umask, never wider than the file it replaces; the
// path and the free space are checked before the target is stopped (the
// tests hold the target themselves, so a dump that tried to stop it would
// fail with "already traced" instead of the refusal); permission errors on
// files speak of the directory, not of ptrace.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/coredump/output_file.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::coredump;
using triage::test_support::victim;

namespace {

std::string contents(const std::string& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
}

void write_text(const std::string& path, const std::string& text, mode_t mode) {
    { std::ofstream{path} << text; }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

mode_t mode_of(const std::string& path) {
    struct ::stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

bool is_null_device(const std::string& path) {
    struct ::stat st{};
    return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == ::makedev(1, 3);
}

dump_options no_sampling() {
    dump_options o;
    o.sample = std::chrono::milliseconds{0};
    return o;
}

// A small committed core through output_file alone.
result<void> write_small(const std::string& path, output_options options = {}) {
    auto out = TRIAGE_TRY(output_file::create(path, options));
    const std::string text = "core bytes";
    TRIAGE_TRY(out.write_at(0, std::as_bytes(std::span{text.data(), text.size()})));
    return out.commit();
}

// The umask for the scope of the object.
struct umask_for_scope {
    mode_t previous;
    explicit umask_for_scope(mode_t mask) : previous{::umask(mask)} {}
    ~umask_for_scope() { ::umask(previous); }
};

} // namespace

TEST_CASE("a core never takes the place of a device, a FIFO, a link or a directory, and the path is checked before the stop") {
    test_support::scratch_dir dir{"coredump-output"};
    const std::string device = dir / "null", fifo = dir / "fifo", link = dir / "stdout", file_link = dir / "link-to-file",
                      existing = dir / "existing", sub = dir / "sub";
    REQUIRE(::mknod(device.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(::symlink("/proc/self/fd/1", link.c_str()) == 0);
    write_text(existing, "an earlier core", 0644);
    REQUIRE(::symlink(existing.c_str(), file_link.c_str()) == 0);
    REQUIRE(::mkdir(sub.c_str(), 0755) == 0);
    const auto before = dir.entries();

    victim v{{test_support::victim_path("core_threads")}};
    {
        // Held by us: a dump that got as far as stopping it would fail with "already traced".
        auto held = ptrace::session::attach(v.pid());
        REQUIRE_MESSAGE(held, failure_text(held));
        struct refused {
            std::string path;
            std::string says;
        };
        for (const refused& c : {refused{device, "it is a character device"}, refused{"/dev/null", "it is a character device"},
                                 refused{fifo, "it is a FIFO"}, refused{link, "it is a symbolic link to /proc/self/fd/1"},
                                 refused{file_link, "it is a symbolic link"}, refused{sub, "it is a directory"},
                                 refused{sub + "/", "it is a directory"}, refused{existing, "it already exists"},
                                 refused{dir / "no-such-dir/core", "does not exist"}}) {
            CAPTURE(c.path);
            auto r = dump_process(v.pid(), c.path, no_sampling());
            REQUIRE(!r);
            CAPTURE(r.error().message());
            CHECK(r.error().code != errc::already_traced);
            CHECK(r.error().message().find(c.says) != std::string::npos);
            CHECK(r.error().message().find(c.path) != std::string::npos);
        }
        auto empty = dump_process(v.pid(), "", no_sampling());
        REQUIRE(!empty);
        CHECK(empty.error().code == errc::invalid_argument);
        CHECK(held->release());
    }
    CHECK(coredump_test::running_freely(v));
    // Nothing was replaced, and nothing was left.
    CHECK(is_null_device(device));
    CHECK(is_null_device("/dev/null"));
    CHECK(S_ISFIFO(mode_of(fifo)));
    CHECK(S_ISLNK(mode_of(link)));
    CHECK(S_ISLNK(mode_of(file_link)));
    CHECK(contents(existing) == "an earlier core");
    CHECK(S_ISDIR(mode_of(sub)));
    CHECK(dir.entries() == before);
}

TEST_CASE("cores are private: 0600 whatever the umask; a replaced file keeps or narrows its mode, and is replaced only when asked") {
    test_support::scratch_dir dir{"coredump-output"};
    umask_for_scope open_umask{0};

    REQUIRE(write_small(dir / "new.core"));
    CHECK((mode_of(dir / "new.core") & 07777) == 0600);
    victim v{{test_support::victim_path("core_threads")}};
    auto report = dump_process(v.pid(), dir / "dumped.core", no_sampling());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK((mode_of(dir / "dumped.core") & 07777) == 0600);
    CHECK(coredump_test::running_freely(v));

    // Replacing: asked for, never wider than before.
    write_text(dir / "shared.core", "old", 0644);
    auto refused = write_small(dir / "shared.core");
    REQUIRE(!refused);
    CHECK(refused.error().sys_errno == EEXIST);
    CHECK(contents(dir / "shared.core") == "old");
    REQUIRE(write_small(dir / "shared.core", {.replace = true}));
    CHECK(contents(dir / "shared.core") == "core bytes");
    CHECK((mode_of(dir / "shared.core") & 07777) == 0600);
    write_text(dir / "read-only.core", "old", 0400);
    REQUIRE(write_small(dir / "read-only.core", {.replace = true}));
    CHECK(contents(dir / "read-only.core") == "core bytes");
    CHECK((mode_of(dir / "read-only.core") & 07777) == 0400);

    // Even when asked, only a regular file is replaced, and no link is followed.
    const std::string device = dir / "null";
    REQUIRE(::mknod(device.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0);
    REQUIRE(::symlink((dir / "shared.core").c_str(), (dir / "link").c_str()) == 0);
    for (const std::string& path : {device, dir / "link", std::string{"/dev/null"}}) {
        CAPTURE(path);
        auto r = write_small(path, {.replace = true});
        REQUIRE(!r);
        CHECK(r.error().code == errc::invalid_argument);
    }
    CHECK(is_null_device(device));
    CHECK(is_null_device("/dev/null"));
    CHECK(S_ISLNK(mode_of(dir / "link")));
    CHECK(contents(dir / "shared.core") == "core bytes");
}

TEST_CASE("the free space is checked before the target is stopped") {
    test_support::scratch_dir dir{"coredump-output"};
    const std::string mount_point = dir / "tiny";
    REQUIRE(::mkdir(mount_point.c_str(), 0755) == 0);
    REQUIRE_MESSAGE(::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k") == 0,
                    "mounting a 256 KiB tmpfs failed (", std::strerror(errno), "); this test runs as root");
    struct unmount_at_end {
        std::string path;
        ~unmount_at_end() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{mount_point};
    victim v{{test_support::victim_path("core_threads")}};
    {
        auto held = ptrace::session::attach(v.pid());
        REQUIRE_MESSAGE(held, failure_text(held));
        auto r = dump_process(v.pid(), mount_point + "/core", no_sampling());
        REQUIRE(!r);
        CAPTURE(r.error().message());
        CHECK(r.error().code == errc::no_space);
        CHECK(r.error().message().find(" are free") != std::string::npos);
        CHECK(held->release());
    }
    CHECK(std::filesystem::is_empty(mount_point));
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("a file that may not be created: the advice is about the directory, not about ptrace or root") {
    test_support::scratch_dir dir{"coredump-output"};
    // As root: an immutable directory refuses even root.
    const std::string frozen = dir / "frozen";
    REQUIRE(::mkdir(frozen.c_str(), 0755) == 0);
    {
        int fd = ::open(frozen.c_str(), O_RDONLY | O_DIRECTORY);
        REQUIRE(fd >= 0);
        int flags = 0;
        REQUIRE(::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0);
        flags |= FS_IMMUTABLE_FL;
        REQUIRE_MESSAGE(::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0, "chattr +i failed: ", std::strerror(errno));
        ::close(fd);
    }
    struct thaw_at_end {
        std::string path;
        ~thaw_at_end() {
            int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
            int flags = 0;
            if (fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
                flags &= ~FS_IMMUTABLE_FL;
                (void)::ioctl(fd, FS_IOC_SETFLAGS, &flags);
            }
            if (fd >= 0) ::close(fd);
        }
    } thaw{frozen};
    auto r = write_small(frozen + "/core");
    REQUIRE(!r);
    CAPTURE(r.error().message());
    CHECK(r.error().code == errc::permission_denied);
    CHECK(r.error().message().find(frozen) != std::string::npos);
    CHECK(r.error().message().find("run as root") == std::string::npos);
    CHECK(r.error().message().find("CAP_SYS_PTRACE") == std::string::npos);

    // As an unprivileged user, in a directory that is not theirs.
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
        auto denied = write_small(dir / "core");
        if (denied) ::_exit(11);
        const std::string message = denied.error().message();
        if (denied.error().code != errc::permission_denied) ::_exit(12);
        if (message.find(dir.path() + " is writable by this user") == std::string::npos) ::_exit(13);
        if (message.find("CAP_SYS_PTRACE") != std::string::npos) ::_exit(14);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(dir.entries() == std::vector<std::string>{"frozen"});
}
