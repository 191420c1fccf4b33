#include "ann/util/memory.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ann {
namespace {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A limit file's number ("max", a huge v1 "unlimited" or an unreadable file: infinity).
double LimitIn(const std::string& path) {
  const std::string text(absl::StripAsciiWhitespace(ReadText(path)));
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || value >= 4.0e18) return kUnlimited;
  return value;
}

// "<key> <value>" lines of a memory.stat file.
double StatValue(const std::string& stat, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(stat, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, " ")) {
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return value;
    }
  }
  return 0;
}

struct CgroupMount {
  std::string root;         // the hierarchy's folder that is mounted
  std::string mount_point;  // where it is mounted
};

// The mount of the v2 hierarchy (v1 = false) or of v1's memory controller (v1 = true).
bool FindMount(const std::string& mountinfo, bool v1, CgroupMount* mount) {
  // "36 35 98:0 /root /mnt rw,... shared:1 - cgroup cgroup rw,memory"
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    const std::vector<std::string> halves = absl::StrSplit(line, " - ");
    if (halves.size() != 2) continue;
    const std::vector<std::string> left = absl::StrSplit(halves[0], ' ');
    const std::vector<std::string> right = absl::StrSplit(halves[1], ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const bool is_v1_memory =
        right[0] == "cgroup" && absl::StrContains(absl::StrCat(",", right[2], ","), ",memory,");
    if ((v1 && is_v1_memory) || (!v1 && right[0] == "cgroup2")) {
      mount->root = left[3];
      mount->mount_point = left[4];
      return true;
    }
  }
  return false;
}

}  // namespace

double MemAvailableBytes(const std::string& meminfo) {
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    if (!absl::ConsumePrefix(&line, "MemAvailable:")) continue;
    line = absl::StripAsciiWhitespace(line);
    const bool kb = absl::ConsumeSuffix(&line, "kB");
    double value = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(line), &value)) {
      return kb ? value * 1024 : value;
    }
  }
  return kUnlimited;
}

double CgroupHeadroomBytes(const std::string& proc_cgroup, const std::string& mountinfo,
                           std::string* where) {
  namespace fs = std::filesystem;
  double best = kUnlimited;
  // "4:memory:/path" (v1) or "0::/path" (v2).
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    const bool v1 = absl::StrContains(absl::StrCat(",", fields[1], ","), ",memory,");
    const bool v2 = fields[0] == "0" && fields[1].empty();
    if (!v1 && !v2) continue;
    CgroupMount mount;
    if (!FindMount(mountinfo, v1, &mount)) continue;
    // The group's path below the mounted folder (a container sees its own group as "/").
    fs::path relative = fs::path(fields[2]).lexically_relative(mount.root);
    if (relative == ".") relative.clear();
    if (!relative.empty() && *relative.begin() == "..") relative = fs::path(fields[2]);
    fs::path dir = fs::path(mount.mount_point);
    if (!relative.empty()) dir /= relative.relative_path();
    // The group and its ancestors up to the mount point: each limit applies.
    while (true) {
      std::error_code ec;
      if (fs::is_directory(dir, ec)) {
        const double limit =
            LimitIn((dir / (v1 ? "memory.limit_in_bytes" : "memory.max")).string());
        if (limit < kUnlimited) {
          const double usage =
              LimitIn((dir / (v1 ? "memory.usage_in_bytes" : "memory.current")).string());
          const std::string stat = ReadText((dir / "memory.stat").string());
          // The working set, as the kernel's reclaim sees it: usage less inactive file pages.
          const double inactive =
              v1 ? StatValue(stat, "total_inactive_file") : StatValue(stat, "inactive_file");
          const double headroom =
              limit - (usage < kUnlimited ? std::max(0.0, usage - inactive) : 0);
          if (headroom < best) {
            best = std::max(0.0, headroom);
            if (where != nullptr) *where = dir.string();
          }
        }
      }
      if (dir == fs::path(mount.mount_point) || !dir.has_parent_path() ||
          dir.parent_path() == dir) {
        break;
      }
      dir = dir.parent_path();
    }
  }
  return best;
}

namespace {
std::mutex g_subject_mu;
std::string* g_subject = new std::string;
}  // namespace

void SetMemorySubject(const std::string& subject) {
  std::lock_guard<std::mutex> lock(g_subject_mu);
  *g_subject = subject;
}

std::string MemorySubject() {
  std::lock_guard<std::mutex> lock(g_subject_mu);
  return *g_subject;
}

MemoryHeadroom AvailableMemory() {
  MemoryHeadroom headroom{MemAvailableBytes(ReadText("/proc/meminfo")), "MemAvailable"};
  std::string group;
  const double cgroup =
      CgroupHeadroomBytes(ReadText("/proc/self/cgroup"), ReadText("/proc/self/mountinfo"), &group);
  if (cgroup < headroom.bytes) headroom = {cgroup, absl::StrCat("the cgroup limit of ", group)};
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    // /proc/self/statm: the address space's size in pages first.
    double pages = 0;
    std::istringstream(ReadText("/proc/self/statm")) >> pages;
    const double left =
        std::max(0.0, static_cast<double>(as.rlim_cur) - pages * sysconf(_SC_PAGE_SIZE));
    if (left < headroom.bytes) headroom = {left, "ulimit -v"};
  }
  // Freed blocks the heap keeps are this process's to reuse.
  const struct mallinfo2 info = mallinfo2();
  if (headroom.bytes < kUnlimited) headroom.bytes += static_cast<double>(info.fordblks);
  return headroom;
}

}  // namespace ann
