#include "ann/util/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace ann {

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::function<absl::Status(const std::string&)>& write) {
  // Keep the real extension last: some writers (OpenCV) pick the format from it.
  const std::filesystem::path target(path);
  const std::string tmp =
      (target.parent_path() /
       absl::StrCat(".", target.stem().string(), ".tmp", getpid(), target.extension().string()))
          .string();
  if (target.has_parent_path()) {
    if (absl::Status made = MakeDirectories(target.parent_path().string()); !made.ok()) return made;
  }
  absl::Status status = write(tmp);
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat(path, ": cannot rename temporary file into place"));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write"));
    return absl::OkStatus();
  });
}

absl::Status MakeDirectories(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat(dir, ": cannot create directory: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace ann
