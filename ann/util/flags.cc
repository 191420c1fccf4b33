#include "ann/util/flags.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ann/util/memory.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"
#include "opencv2/core/utils/logger.hpp"
// Debian's glog 0.6 is built with custom log prefixes; its header needs telling.
#ifndef GLOG_CUSTOM_PREFIX_SUPPORT
#define GLOG_CUSTOM_PREFIX_SUPPORT
#endif
#include "glog/logging.h"

namespace ann {
namespace {

// Flags of this project: defined in ann/, tools/ or datasets/ (not LibTorch's, glog's, ...).
bool IsProjectFlag(const gflags::CommandLineFlagInfo& info) {
  for (const char* dir : {"ann/", "tools/", "datasets/"}) {
    if (absl::StartsWith(info.filename, dir) ||
        absl::StrContains(info.filename, std::string("/") + dir)) {
      return true;
    }
  }
  return false;
}

// "1", "2 to 4", "1 or more": how many list entries a flag takes.
std::string CountText(size_t min_count, size_t max_count) {
  if (min_count == max_count) return absl::StrCat(min_count);
  if (max_count == SIZE_MAX) return absl::StrCat(min_count, " or more");
  return absl::StrCat(min_count, " to ", max_count);
}

// "ann/model/model_config.cc" from whatever path the compiler recorded.
std::string ProjectPath(const std::string& filename) {
  for (const char* dir : {"ann/", "tools/", "datasets/"}) {
    const size_t at = filename.rfind(std::string("/") + dir);
    if (absl::StartsWith(filename, dir)) return filename;
    if (at != std::string::npos) return filename.substr(at + 1);
  }
  return filename;
}

// glog lines read "info: ...", "warning: ...", like our "error: ..." lines.
void LogPrefix(std::ostream& s, const google::LogMessageInfo& info, void*) {
  s << absl::AsciiStrToLower(info.severity) << ":";
}

void PrintHelp(const ToolInfo& tool) {
  std::printf("%s: %s\n\nusage: %s %s\n\nexample:\n  %s\n\n", tool.name.c_str(),
              tool.summary.c_str(), tool.name.c_str(), tool.usage.c_str(), tool.example.c_str());
  std::printf(
      "  --config=FILE  a flagfile of configs/ (one per results row); flags after it "
      "override it\n");
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::map<std::string, std::vector<const gflags::CommandLineFlagInfo*>> groups;
  for (const auto& f : flags) {
    if (IsProjectFlag(f)) groups[ProjectPath(f.filename)].push_back(&f);
  }
  // The tool's own flags first, then its libraries'.
  std::vector<std::string> order;
  for (const auto& [file, members] : groups) {
    if (absl::StartsWith(file, "tools/")) {
      order.insert(order.begin(), file);
    } else {
      order.push_back(file);
    }
  }
  for (const std::string& file : order) {
    std::printf("\n%s:\n", file.c_str());
    for (const gflags::CommandLineFlagInfo* f : groups[file]) {
      const std::string value =
          f->type == "string" ? absl::StrCat("\"", f->default_value, "\"") : f->default_value;
      std::printf("  --%s=%s\n      %s\n", f->name.c_str(), value.c_str(), f->description.c_str());
    }
  }
}

// "~" and "~/..." at the start of a value are the home folder, as a shell expands them at the
// start of a word (but not after "--flag=") and as mmcv's Config.fromfile expands them.
std::string ExpandHome(const std::string& value) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return value;
  if (value == "~") return home;
  if (absl::StartsWith(value, "~/")) return absl::StrCat(home, value.substr(1));
  return value;
}

// Flags whose value names a file that belongs to the config (resolved like nested flagfiles).
// --class_weight names a file only when it is not "auto" or a list of numbers.
bool IsFileValue(const std::string& name, const std::string& value) {
  if (name == "dataset_file") return true;
  if (name != "class_weight" || value == "auto") return false;
  return value.find_first_not_of("0123456789.,+-eE \t") != std::string::npos;
}

class CommandLine {
 public:
  explicit CommandLine(const ToolInfo& tool) : tool_(tool) {}

  // Applies args (from argv, or a flagfile's lines when `where` names the file).
  absl::Status Apply(const std::vector<std::string>& args, const std::string& where) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (!absl::StartsWith(arg, "-") || arg == "-" || arg == "--") {
        return absl::InvalidArgumentError(absl::StrCat(where.empty() ? "" : where + ": ", arg,
                                                       ": unexpected argument (flags are "
                                                       "--name=value)"));
      }
      absl::string_view body = arg;
      absl::ConsumePrefix(&body, "-");
      absl::ConsumePrefix(&body, "-");
      std::string name(body.substr(0, body.find('=')));
      const bool has_value = body.find('=') != absl::string_view::npos;
      std::string value = has_value ? std::string(body.substr(body.find('=') + 1)) : "";
      if (name == "help" || name == "helpfull" || name == "helpshort") {
        PrintHelp(tool_);
        return absl::CancelledError("help");
      }
      if (name == "config" || name == "flagfile") {
        if (!has_value) {
          if (i + 1 >= args.size()) {
            return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing file"));
          }
          value = args[++i];
        }
        ANN_RETURN_IF_ERROR(ApplyFile(name, FromFlagfile(ExpandHome(value), /*must_exist=*/true)));
        continue;
      }
      gflags::CommandLineFlagInfo info;
      const bool known = gflags::GetCommandLineFlagInfo(name.c_str(), &info);
      if (known && info.type == "string") value = ExpandHome(value);
      if (has_value && IsFileValue(name, value)) {
        value = FromFlagfile(value, /*must_exist=*/false);
        std::error_code ec;
        if (!value.empty() && !std::filesystem::exists(value, ec)) {
          return absl::InvalidArgumentError(absl::StrCat(where.empty() ? "" : where + ": ", "--",
                                                         name, ": ", value, ": no such file (",
                                                         LookedIn(value), ")"));
        }
      }
      if (!known && !where.empty() &&
          std::find(tool_.foreign_flags.begin(), tool_.foreign_flags.end(), name) !=
              tool_.foreign_flags.end()) {
        continue;  // another config part's flag, read by other tools
      }
      if (!known) {
        gflags::CommandLineFlagInfo negated;
        if (!has_value && absl::StartsWith(name, "no") &&
            gflags::GetCommandLineFlagInfo(name.c_str() + 2, &negated) && negated.type == "bool") {
          name = name.substr(2);
          value = "false";
          info = negated;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat(where.empty() ? "" : where + ": ", "--", name, ": unknown flag"));
        }
      } else if (!has_value) {
        if (info.type == "bool") {
          value = "true";
        } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
          value = args[++i];
        } else {
          return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
        }
      }
      if (gflags::SetCommandLineOption(name.c_str(), value.c_str()).empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where.empty() ? "" : where + ": ", "--",
                                                       name, ": invalid value '", value, "' (",
                                                       info.type, ")"));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status ApplyFile(const std::string& flag, const std::string& path) {
    if (!std::filesystem::is_regular_file(path)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, ": no such file"));
    }
    if (++depth_ > 16) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": flagfiles nest too deep"));
    }
    std::ifstream in(path);
    std::string line;
    int number = 0;
    std::vector<std::string> args;
    std::vector<int> lines;
    while (std::getline(in, line)) {
      ++number;
      const absl::string_view text = absl::StripAsciiWhitespace(line);
      if (text.empty() || absl::StartsWith(text, "#") || absl::StartsWith(text, "//")) continue;
      if (!absl::StartsWith(text, "-")) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", number,
                         ": not a flag: every line must be --flag=value, a # comment or "
                         "blank"));
      }
      args.emplace_back(text);
      lines.push_back(number);
    }
    folders_.push_back(std::filesystem::path(path).parent_path());
    for (size_t i = 0; i < args.size(); ++i) {
      absl::Status applied = Apply({args[i]}, absl::StrCat(path, ":", lines[i]));
      if (!applied.ok()) {
        folders_.pop_back();
        return applied;
      }
    }
    folders_.pop_back();
    --depth_;
    return absl::OkStatus();
  }

  // A path written inside a flagfile names a file relative to that flagfile, as mmseg resolves
  // _base_ (so a config in a project folder can build on configs/_base_ from anywhere); where
  // nothing is there, relative to the current folder, as configs written before this rule meant
  // it. On the command line a path is the user's, relative to the current folder.
  std::string FromFlagfile(const std::string& value, bool must_exist) const {
    namespace fs = std::filesystem;
    if (folders_.empty() || value.empty() || fs::path(value).is_absolute()) return value;
    const std::string beside = (folders_.back() / value).lexically_normal().string();
    std::error_code ec;
    if (fs::exists(beside, ec) || (must_exist && !fs::exists(value, ec))) return beside;
    return value;
  }

  // Where a relative path that was not found was looked for.
  std::string LookedIn(const std::string& value) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string cwd = fs::current_path(ec).string();
    if (fs::path(value).is_absolute()) return "an absolute path";
    if (folders_.empty()) return absl::StrCat("relative to the current folder ", cwd);
    return absl::StrCat("looked beside the config, in ", folders_.back().string(),
                        ", and in the current folder ", cwd);
  }

  const ToolInfo& tool_;
  int depth_ = 0;
  std::vector<std::filesystem::path> folders_;  // of the flagfiles being read, innermost last
};

}  // namespace

absl::Status ParseCommandLine(int argc, char** argv, const ToolInfo& tool) {
  gflags::SetUsageMessage(absl::StrCat(tool.name, " ", tool.usage));
  static bool logging_started = false;
  if (!logging_started) {
    FLAGS_logtostderr = true;
    google::InitGoogleLogging(argc > 0 ? argv[0] : tool.name.c_str(), &LogPrefix, nullptr);
    // OpenCV's own "[ WARN:0@...]" lines: its failures reach us as return values or exceptions,
    // and we say them once, in our words.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    logging_started = true;
  }
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  return CommandLine(tool).Apply(args, "");
}

std::string PrintableLine(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    // A valid UTF-8 sequence (a file name in any language) is kept as it is.
    const size_t length = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 2;
    }
    if (valid && (length > 1 || (c >= 0x20 && c != 0x7f))) {
      out.append(text.data() + i, length);
      i += length;
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
      ++i;
    }
  }
  return out;
}

int CommandLineExitCode(const absl::Status& status) {
  if (status.ok() || absl::IsCancelled(status)) return 0;
  std::fprintf(stderr, "error: %s\n", PrintableLine(status.message()).c_str());
  return 2;
}

bool IsFlagError(const absl::Status& status) {
  return absl::IsInvalidArgument(status) && absl::StartsWith(status.message(), "--");
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "error: %s\n", PrintableLine(status.message()).c_str());
  return IsFlagError(status) ? 2 : 1;
}

namespace {

absl::Status OutOfMemory(const std::string& amount) {
  const std::string subject = MemorySubject();
  if (subject.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory", amount, ": the input or a size flag is too large"));
  }
  return absl::ResourceExhaustedError(
      absl::StrCat(subject, ": out of memory", amount, " (less than the estimate said was free)"));
}

}  // namespace

absl::Status RunGuarded(const std::function<absl::Status()>& run) {
  auto first_line = [](const char* text) {
    const std::string s(text);
    return s.substr(0, s.find('\n'));
  };
  // LibTorch's and OpenCV's failed allocations say so in their own words, with the byte count;
  // reported against what the last memory check named (an image, a size flag).
  auto out_of_memory = [](const std::string& what) -> std::optional<absl::Status> {
    if (what.find("can't allocate memory") == std::string::npos &&
        what.find("Insufficient memory") == std::string::npos) {
      return std::nullopt;
    }
    std::string amount;
    const size_t at = what.rfind("allocate ");  // "can't allocate memory: ... allocate N bytes"
    double bytes = 0;
    if (at != std::string::npos &&
        absl::SimpleAtod(what.substr(at + 9, what.find(' ', at + 9) - at - 9), &bytes)) {
      amount = absl::StrFormat(" (a step needed %.1f GB more)", bytes / 1e9);
    }
    return OutOfMemory(amount);
  };
  try {
    return run();
  } catch (const std::bad_alloc&) {
    return OutOfMemory("");
  } catch (const std::exception& e) {
    if (std::optional<absl::Status> oom = out_of_memory(e.what())) return *oom;
    return absl::InternalError(first_line(e.what()));
  }
}

int RunTool(int argc, char** argv, const ToolInfo& tool, absl::Status (*run)()) {
  absl::Status parsed = ParseCommandLine(argc, argv, tool);
  if (!parsed.ok()) return CommandLineExitCode(parsed);
  return ExitCode(RunGuarded(run));
}

absl::StatusOr<std::vector<double>> ParseNumberListFlag(absl::string_view flag,
                                                        absl::string_view text, size_t min_count,
                                                        size_t max_count) {
  std::vector<double> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    double v;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(part), &v) || !std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", part, "' is not a number"));
    }
    values.push_back(v);
  }
  if (values.size() < min_count || values.size() > max_count) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected ",
                                                   CountText(min_count, max_count),
                                                   " comma-separated numbers, got '", text, "'"));
  }
  return values;
}

absl::StatusOr<std::vector<int64_t>> ParseIntListFlag(absl::string_view flag,
                                                      absl::string_view text, size_t min_count,
                                                      size_t max_count, int64_t min_value) {
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int64_t v;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &v) || v < min_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": '", part, "' is not an integer",
                       min_value == INT64_MIN ? "" : absl::StrCat(" >= ", min_value)));
    }
    values.push_back(v);
  }
  if (values.size() < min_count || values.size() > max_count) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected ",
                                                   CountText(min_count, max_count),
                                                   " comma-separated integers, got '", text, "'"));
  }
  return values;
}

absl::StatusOr<cv::Size> ParseSizeFlag(absl::string_view flag, absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, 'x');
  int w = 0, h = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &w) || !absl::SimpleAtoi(parts[1], &h) ||
      w < 1 || h < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected WIDTHxHEIGHT (e.g. 1024x512), got '", text, "'"));
  }
  if (w > kMaxSizeFlagSide || h > kMaxSizeFlagSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": ", text, " is too large (at most ", kMaxSizeFlagSide, " pixels a side)"));
  }
  return cv::Size(w, h);
}

std::string ProjectFlagsAsText() {
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::string text;
  for (const auto& f : flags) {
    if (IsProjectFlag(f)) text += "--" + f.name + "=" + f.current_value + "\n";
  }
  return text;
}

absl::StatusOr<bool> ParseTriStateFlag(absl::string_view flag, absl::string_view text,
                                       bool default_value) {
  ANN_ASSIGN_OR_RETURN(
      int value, ParseEnumFlag<int>(flag, text, {{"true", 1}, {"false", 0}, {"default", -1}}));
  return value < 0 ? default_value : value == 1;
}

}  // namespace ann
