// Listing files: the one directory scan of the project (datasets, converters, submissions,
// checkpoints and image inputs all use it).
#ifndef ANN_UTIL_FILES_H_
#define ANN_UTIL_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ann {

// Paths of the regular files under `dir` whose names end in `suffix` ("" for any) and do not
// start with '.', sorted; with `recursive`, in sub-folders too. NotFoundError when `dir` is not
// a directory.
absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& dir,
                                                   const std::string& suffix, bool recursive);

}  // namespace ann

#endif  // ANN_UTIL_FILES_H_
