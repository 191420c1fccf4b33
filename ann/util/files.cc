#include "ann/util/files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ann/util/status_macros.h"

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

namespace {

// One folder's scan, as mmcv's scandir walks (os.scandir + os.path.isdir): links to folders are
// followed; a folder that is one of its own ancestors (a link loop) is an error, since mmcv's
// recursion would never end.
struct Scan {
  std::string suffix;
  bool recursive;
  std::vector<fs::path> skipped;
  std::vector<std::pair<dev_t, ino_t>> ancestors;
  std::vector<std::string> files;

  absl::Status Folder(const fs::path& dir) {
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat(dir.string(), ": ", std::strerror(errno)));
    }
    for (const auto& [dev, ino] : ancestors) {
      if (dev == st.st_dev && ino == st.st_ino) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir.string(), ": a link back to a folder that holds it (a loop); ",
                         "remove the link or point it elsewhere"));
      }
    }
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat(dir.string(), ": cannot read the folder (", ec.message(), ")"));
    }
    ancestors.emplace_back(st.st_dev, st.st_ino);
    for (; it != fs::end(it); it.increment(ec)) {
      const fs::path path = it->path();
      const std::string name = path.filename().string();
      // is_regular_file and is_directory follow links, as Python's is_file() and isdir() do.
      if (!absl::StartsWith(name, ".") && it->is_regular_file(ec)) {
        if (absl::EndsWith(name, suffix)) files.push_back(path.string());
      } else if (recursive && it->is_directory(ec)) {
        if (!skipped.empty() &&
            std::find(skipped.begin(), skipped.end(), Resolved(path.string())) != skipped.end()) {
          continue;
        }
        ANN_RETURN_IF_ERROR(Folder(path));
      }
    }
    ancestors.pop_back();
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat(dir.string(), ": cannot read the folder (", ec.message(), ")"));
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& dir,
                                                   const std::string& suffix, bool recursive,
                                                   const std::vector<std::string>& skip) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  Scan scan{suffix, recursive, {}, {}, {}};
  for (const std::string& s : skip) {
    if (!s.empty()) scan.skipped.push_back(Resolved(s));
  }
  ANN_RETURN_IF_ERROR(scan.Folder(dir));
  std::sort(scan.files.begin(), scan.files.end());
  return scan.files;
}

}  // namespace ann
