#include "ann/util/flags.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"

namespace ann {

void ParseCommandLine(int* argc, char*** argv, const std::string& usage) {
  gflags::SetUsageMessage(usage);
  static std::vector<std::string> storage;
  static std::vector<char*> rewritten;
  storage.assign(*argv, *argv + *argc);
  for (size_t i = 1; i < storage.size(); ++i) {
    std::string& arg = storage[i];
    std::string path;
    if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else if (arg == "--config" && i + 1 < storage.size()) {
      path = storage[i + 1];
      storage.erase(storage.begin() + static_cast<long>(i) + 1);
    } else {
      continue;
    }
    if (!std::filesystem::is_regular_file(path)) {
      std::fprintf(stderr, "error: --config: %s: no such config file\n", path.c_str());
      std::exit(2);
    }
    arg = "--flagfile=" + path;
  }
  rewritten.clear();
  for (auto& s : storage) rewritten.push_back(s.data());
  rewritten.push_back(nullptr);
  *argc = static_cast<int>(storage.size());
  *argv = rewritten.data();
  gflags::ParseCommandLineFlags(argc, argv, /*remove_flags=*/true);
}

absl::StatusOr<cv::Size> ParseSizeFlag(const std::string& flag, const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, 'x');
  int w = 0, h = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &w) || !absl::SimpleAtoi(parts[1], &h) ||
      w < 1 || h < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected WIDTHxHEIGHT (e.g. 1024x512), got '", text, "'"));
  }
  return cv::Size(w, h);
}

std::string ProjectFlagsAsText() {
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::string text;
  for (const auto& f : flags) {
    const bool ours = f.filename.find("ann/") != std::string::npos ||
                      f.filename.find("tools/") != std::string::npos;
    if (ours) text += "--" + f.name + "=" + f.current_value + "\n";
  }
  return text;
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace ann
