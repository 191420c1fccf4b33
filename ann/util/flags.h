// Command-line handling shared by every binary, and the table-driven parsers of flag values.
//
// Flags are gflags flags, but the command line is read here rather than by gflags, so that a bad
// command line is a status (never an exit from library code) and configs are checked strictly:
//  - `--config=configs/<row>.flags` is a flagfile; flagfiles hold one `--flag=value` per line and
//    may nest (`--flagfile=...`); blank lines and `#` comments are skipped, and any other line
//    is an error naming the file and line (gflags would silently drop every line after it);
//  - flags are applied in order, so a flag after --config overrides it;
//  - a config sets the flags of every part (model, data, train, test), and a tool links only the
//    parts it reads: flags listed in ToolInfo::foreign_flags are skipped in flagfiles;
//  - an unknown flag, a bad value or a stray argument is an error naming the flag;
//  - `--help` prints the tool's usage, an example and its own flags (those of its main and the
//    ann/ libraries it links), grouped by the file that defines them.
//
//   int main(int argc, char** argv) {
//     absl::Status parsed = ann::ParseCommandLine(argc, argv, kTool);
//     if (!parsed.ok()) return ann::CommandLineExitCode(parsed);
//     return ann::ExitCode(Run());
//   }
#ifndef ANN_UTIL_FLAGS_H_
#define ANN_UTIL_FLAGS_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "opencv2/core.hpp"

namespace ann {

// What --help says about a binary.
struct ToolInfo {
  std::string name;     // "ann_test"
  std::string summary;  // one line: what it does
  std::string usage;    // the synopsis after the name
  std::string example;  // a complete command
  // Flags defined by libraries this tool does not link (other parts of a config): a flagfile may
  // set them, and they are skipped there; on the command line they are unknown.
  std::vector<std::string> foreign_flags;
};

// Applies argv[1..] to the registered flags (see the file comment). Returns OK to run,
// CancelledError after printing --help, InvalidArgumentError for a bad command line. Also starts
// glog: info and warnings go to stderr as "info: ..." and "warning: ...".
absl::Status ParseCommandLine(int argc, char** argv, const ToolInfo& tool);

// `text` with every byte that is neither printable ASCII nor part of valid UTF-8 written as
// \xNN: error lines quote file names and library messages, which may hold raw bytes.
std::string PrintableLine(absl::string_view text);

// The exit code for a command line that ParseCommandLine refused: 0 after --help; otherwise it
// prints "error: <message>" and returns 2.
int CommandLineExitCode(const absl::Status& status);

// A bad command line found after parsing (a value out of range, flags that contradict each other,
// a size the flags make impossible): an InvalidArgumentError whose message starts with the
// flag, "--name: problem". Every other error names a file or says what failed while running.
bool IsFlagError(const absl::Status& status);

// The exit code of a binary whose Run() returned `status`: 0; or, after printing one line
// "error: <message>" to stderr, 2 for a flag error (IsFlagError) and 1 for anything else (bad
// input files, a full disk, a failure while running).
int ExitCode(const absl::Status& status);

// Runs `run`, turning an exception that escaped it (a failed allocation, a LibTorch or OpenCV
// error) into an InternalError with the exception's first line: the one error boundary of a
// binary.
absl::Status RunGuarded(const std::function<absl::Status()>& run);

// A whole main: parses the command line for `tool`, then maps run()'s status (guarded) to the
// exit code.
int RunTool(int argc, char** argv, const ToolInfo& tool, absl::Status (*run)());

// One name of an enum flag's value.
template <typename T>
struct FlagValueName {
  absl::string_view name;
  T value;
};

// Looks `text` up in `names`; the error lists the accepted names:
//   --flag: expected whole, slide or mscrop, got 'x'
template <typename T>
absl::StatusOr<T> ParseEnumFlag(absl::string_view flag, absl::string_view text,
                                std::initializer_list<FlagValueName<T>> names) {
  std::vector<absl::string_view> accepted;
  for (const FlagValueName<T>& n : names) {
    if (n.name == text) return n.value;
    accepted.push_back(n.name);
  }
  std::string list = absl::StrJoin(accepted.begin(), accepted.end() - 1, ", ");
  if (accepted.size() > 1) absl::StrAppend(&list, " or ");
  absl::StrAppend(&list, accepted.back());
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": expected ", list, ", got '", text, "'"));
}

// A comma-separated list of finite numbers with min_count..max_count entries ("" is empty).
// true, false, or default (`default_value`, e.g. the variant's).
absl::StatusOr<bool> ParseTriStateFlag(absl::string_view flag, absl::string_view text,
                                       bool default_value);

absl::StatusOr<std::vector<double>> ParseNumberListFlag(absl::string_view flag,
                                                        absl::string_view text,
                                                        size_t min_count = 1,
                                                        size_t max_count = SIZE_MAX);

// A comma-separated list of integers with min_count..max_count entries, each >= min_value.
absl::StatusOr<std::vector<int64_t>> ParseIntListFlag(absl::string_view flag,
                                                      absl::string_view text, size_t min_count = 1,
                                                      size_t max_count = SIZE_MAX,
                                                      int64_t min_value = INT64_MIN);

// The largest side a size flag accepts (Cityscapes images are 2048 wide; a keep-ratio test scale
// of 2048x1024 at ratio 1.75 is 3584).
inline constexpr int kMaxSizeFlagSide = 16384;

// The range of resize ratios accepted (--scales, --ratio_range).
inline constexpr double kMinRatio = 0.0625;
inline constexpr double kMaxRatio = 16;

// "WIDTHxHEIGHT" → cv::Size (1 <= both <= kMaxSizeFlagSide); errors name the flag.
absl::StatusOr<cv::Size> ParseSizeFlag(absl::string_view flag, absl::string_view text);

// "--name=value" lines of every flag defined by this project (ann/, tools/, datasets/), for
// records such as the config saved in checkpoints.
std::string ProjectFlagsAsText();

}  // namespace ann

#endif  // ANN_UTIL_FLAGS_H_
