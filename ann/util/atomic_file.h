// Atomic file output: every file the tools write (checkpoints, PNGs, logits) is produced under a
// temporary name in the destination directory and renamed into place, so an interrupted run
// never leaves a half-written file under the final name.
#ifndef ANN_UTIL_ATOMIC_FILE_H_
#define ANN_UTIL_ATOMIC_FILE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace ann {

// Creates the parent directory if needed, calls `write(temporary_path)`, then renames the
// temporary file to `path`. On failure the
// temporary file is removed and `path` is left as it was.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::function<absl::Status(const std::string&)>& write);

// Writes `text` to `path` atomically.
absl::Status WriteTextFile(const std::string& path, const std::string& text);

// Creates `dir` and its parents if missing.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace ann

#endif  // ANN_UTIL_ATOMIC_FILE_H_
