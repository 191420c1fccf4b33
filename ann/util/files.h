// Listing files: the one directory scan of the project (datasets, converters, submissions,
// checkpoints and image inputs all use it).
#ifndef ANN_UTIL_FILES_H_
#define ANN_UTIL_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ann {

// Paths of the regular files under `dir` whose names end in `suffix` ("" for any) and do not
// start with '.', sorted; with `recursive`, in sub-folders too, except those in `skip` (output
// folders inside an input tree: a second run must not read the first one's outputs).
// NotFoundError when `dir` is not a directory.
absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& dir,
                                                   const std::string& suffix, bool recursive,
                                                   const std::vector<std::string>& skip = {});

// Whether `a` and `b` name the same folder (after resolving links, `..` and a missing tail).
bool SameFolder(const std::string& a, const std::string& b);

// An output folder given by --<flag> must not be a folder that holds input files (predictions
// would replace the user's images, or be read as inputs by the next run): InvalidArgumentError
// "--<flag>: <dir> holds the input <file>; write outputs elsewhere" when it is the folder of
// one of `inputs`. OK for an empty `dir`.
absl::Status CheckOutputFolder(const std::string& flag, const std::string& dir,
                               const std::vector<std::string>& inputs);

}  // namespace ann

#endif  // ANN_UTIL_FILES_H_
