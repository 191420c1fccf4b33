// Atomic file output: every file the tools write (checkpoints, PNGs, logits) is produced under a
// temporary name in the destination directory and renamed into place, so an interrupted run
// never leaves a half-written file under the final name.
#ifndef ANN_UTIL_ATOMIC_FILE_H_
#define ANN_UTIL_ATOMIC_FILE_H_

#include <cstdio>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace ann {

// Creates the parent directory if needed, calls `write(temporary_path)`, then renames the
// temporary file to `path`. On failure the
// temporary file is removed and `path` is left as it was.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::function<absl::Status(const std::string&)>& write);

// A file written with every call checked: the first failure is kept (later writes are skipped)
// and Close() reports it, so a full disk is an error naming the file, never a silent success
// (cv::imwrite and PyTorchStreamWriter's own file handling are not reliable there).
//
//   CheckedFile file(tmp);
//   file.Write(data, size);
//   RETURN_IF_ERROR(file.Close(path));
class CheckedFile {
 public:
  explicit CheckedFile(const std::string& path);
  ~CheckedFile();
  CheckedFile(const CheckedFile&) = delete;
  CheckedFile& operator=(const CheckedFile&) = delete;

  // Appends `size` bytes; a failure is recorded, not returned.
  void Write(const void* data, size_t size);
  // Flushes and closes; an error names `name` (the final path) and says what failed.
  absl::Status Close(const std::string& name);

 private:
  std::FILE* file_;
  int error_ = 0;
};

// Writes `text` to `path` atomically.
absl::Status WriteTextFile(const std::string& path, const std::string& text);

// Whether `status` is a failure to write output (a directory, a file, a rename) reported by this
// library: a full disk or a read-only or missing destination, which every later output shares.
bool IsOutputError(const absl::Status& status);

// Marks `status` (not OK) as a failure to write output.
absl::Status OutputError(absl::Status status);

// Creates `dir` and its parents if missing.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace ann

#endif  // ANN_UTIL_ATOMIC_FILE_H_
