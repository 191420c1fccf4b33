#include "ann/util/files.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ann {
namespace fs = std::filesystem;

absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& dir,
                                                   const std::string& suffix, bool recursive) {
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
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
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
