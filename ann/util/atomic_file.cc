#include "ann/util/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace ann {
namespace {

constexpr char kOutputPayload[] = "ann.output";

}  // namespace

absl::Status OutputError(absl::Status status) {
  status.SetPayload(kOutputPayload, absl::Cord("1"));
  return status;
}

bool IsOutputError(const absl::Status& status) {
  return status.GetPayload(kOutputPayload).has_value();
}

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
    status = OutputError(
        absl::InternalError(absl::StrCat(path, ": cannot rename temporary file into place")));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

CheckedFile::CheckedFile(const std::string& path) : file_(std::fopen(path.c_str(), "wb")) {
  if (file_ == nullptr) error_ = errno != 0 ? errno : EIO;
}

CheckedFile::~CheckedFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void CheckedFile::Write(const void* data, size_t size) {
  if (error_ == 0 && size > 0 && std::fwrite(data, 1, size, file_) != size) {
    error_ = errno != 0 ? errno : EIO;
  }
}

absl::Status CheckedFile::Close(const std::string& name) {
  if (file_ != nullptr) {
    if (std::fflush(file_) != 0 && error_ == 0) error_ = errno != 0 ? errno : EIO;
    if (std::fclose(file_) != 0 && error_ == 0) error_ = errno != 0 ? errno : EIO;
    file_ = nullptr;
  }
  if (error_ == 0) return absl::OkStatus();
  const std::string message = absl::StrCat(name, ": cannot write: ", std::strerror(error_));
  return OutputError(error_ == ENOSPC || error_ == EFBIG || error_ == EDQUOT
                         ? absl::ResourceExhaustedError(message)
                         : absl::InternalError(message));
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    CheckedFile file(tmp);
    file.Write(text.data(), text.size());
    return file.Close(path);
  });
}

absl::Status MakeDirectories(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return OutputError(
        absl::InternalError(absl::StrCat(dir, ": cannot create directory: ", ec.message())));
  }
  return absl::OkStatus();
}

}  // namespace ann
