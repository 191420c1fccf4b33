#include "ann/util/files.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ann {
namespace fs = std::filesystem;

namespace {

fs::path Resolved(const std::string& path) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) resolved = fs::absolute(path, ec).lexically_normal();
  // "dir/" and "dir" are one folder.
  if (!resolved.has_filename() && resolved.has_parent_path()) resolved = resolved.parent_path();
  return resolved;
}

}  // namespace

bool SameFolder(const std::string& a, const std::string& b) { return Resolved(a) == Resolved(b); }

absl::Status CheckOutputFolder(const std::string& flag, const std::string& dir,
                               const std::vector<std::string>& inputs) {
  if (dir.empty()) return absl::OkStatus();
  const fs::path out = Resolved(dir);
  std::vector<fs::path> seen;
  for (const std::string& input : inputs) {
    const fs::path folder = Resolved(input).parent_path();
    if (std::find(seen.begin(), seen.end(), folder) != seen.end()) continue;
    if (folder == out) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", dir, " holds the input ",
                                                     input, "; write outputs elsewhere"));
    }
    seen.push_back(folder);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& dir,
                                                   const std::string& suffix, bool recursive,
                                                   const std::vector<std::string>& skip) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  std::vector<std::string> files;
  auto take = [&](const fs::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && !absl::StartsWith(name, ".") && absl::EndsWith(name, suffix)) {
      files.push_back(entry.path().string());
    }
  };
  std::vector<fs::path> skipped;
  for (const std::string& s : skip) {
    if (!s.empty()) skipped.push_back(Resolved(s));
  }
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!skipped.empty() && it->is_directory(ec) &&
          std::find(skipped.begin(), skipped.end(), Resolved(it->path().string())) !=
              skipped.end()) {
        it.disable_recursion_pending();
        continue;
      }
      take(*it);
    }
  } else {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      take(*it);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace ann
