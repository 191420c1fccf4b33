// Command-line handling shared by every binary: `--config=configs/<row>.flags` is a gflags
// flagfile (which may nest further --flagfile lines); flags given on the command line after it
// override it.
#ifndef ANN_UTIL_FLAGS_H_
#define ANN_UTIL_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opencv2/core.hpp"

namespace ann {

// Rewrites --config into --flagfile, parses flags (removing them from argv) and sets the usage
// text. Exits with a one-line error if the config file is missing.
void ParseCommandLine(int* argc, char*** argv, const std::string& usage);

// The exit code of a binary whose Run() returned `status`: 0, or 1 after printing one line
// "error: <message>" to stderr.
// "WIDTHxHEIGHT" → cv::Size (both >= 1); errors name the flag.
absl::StatusOr<cv::Size> ParseSizeFlag(const std::string& flag, const std::string& text);

// "--name=value" lines of every flag defined by this project (ann/, tools/), for records
// such as the config saved in checkpoints.
std::string ProjectFlagsAsText();

int ExitCode(const absl::Status& status);

}  // namespace ann

#endif  // ANN_UTIL_FLAGS_H_
