#include "datasets/preprocess.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/util/atomic_file.h"
#include "ann/util/files.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"

namespace ann {
namespace fs = std::filesystem;

JobReport RunJobs(const std::vector<Job>& jobs, int workers, const std::string& label) {
  JobReport report;
  Progress progress(label, static_cast<int64_t>(jobs.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(jobs.size()) / 10));
  enum class Outcome { kSkipped, kConverted, kFailed, kNotRun };
  // After a failure to write output (a full, read-only or missing destination) every later job
  // would fail the same way: the rest are not run.
  std::atomic<bool> output_failed{false};
  // The project's one worker pool; results come back in job order.
  Prefetch<std::pair<Outcome, absl::Status>> results(
      jobs.size(), workers, static_cast<size_t>(std::max(1, workers)) * 4, [&](size_t i) {
        if (output_failed) return std::make_pair(Outcome::kNotRun, absl::OkStatus());
        std::error_code ec;
        // Outputs are renamed into place when complete; a 0-byte file (a full disk under an
        // older version) is redone, never trusted.
        if (!jobs[i].output.empty() && fs::exists(jobs[i].output, ec) &&
            fs::file_size(jobs[i].output, ec) > 0 && !ec) {
          return std::make_pair(Outcome::kSkipped, absl::OkStatus());
        }
        absl::Status status = jobs[i].run();
        if (IsOutputError(status)) output_failed = true;
        return std::make_pair(status.ok() ? Outcome::kConverted : Outcome::kFailed, status);
      });
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto [outcome, status] = results.Next();
    if (outcome == Outcome::kSkipped) {
      ++report.skipped;
    } else if (outcome == Outcome::kConverted) {
      ++report.converted;
    } else if (outcome == Outcome::kFailed) {
      if (IsOutputError(status)) {
        // The first output failure is the one error; what the other workers hit is the same.
        if (report.output_error.ok()) report.output_error = status;
      } else {
        report.errors.emplace_back(status.message());
      }
    }
    if (!report.output_error.ok()) break;
    progress.Advance(1);
  }
  if (report.output_error.ok()) progress.Finish();
  std::sort(report.errors.begin(), report.errors.end());
  return report;
}

absl::Status FinishReport(const std::string& dataset,
                          const std::vector<std::pair<std::string, int64_t>>& split_counts,
                          const JobReport& report) {
  if (!report.output_error.ok()) return report.output_error;
  std::printf("%s: %lld converted, %lld already done, %zu failed\n", dataset.c_str(),
              static_cast<long long>(report.converted), static_cast<long long>(report.skipped),
              report.errors.size());
  std::printf("%-10s %8s\n", "split", "images");
  for (const auto& [split, count] : split_counts) {
    std::printf("%-10s %8lld\n", split.c_str(), static_cast<long long>(count));
  }
  std::fflush(stdout);
  if (report.errors.empty()) return absl::OkStatus();
  // One error line (the first file); the others, if any, as warnings before it.
  for (size_t i = 1; i < report.errors.size(); ++i) {
    std::fprintf(stderr, "warning: %s\n", report.errors[i].c_str());
  }
  const std::string others =
      report.errors.size() == 1
          ? ""
          : absl::StrFormat(" (and %zu more files, listed above)", report.errors.size() - 1);
  return absl::DataLossError(absl::StrFormat(
      "%s%s; %s split lists not written. Fix and re-run: finished files are skipped",
      report.errors[0], others, dataset));
}

bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

absl::Status MirrorFile(const std::string& src, const std::string& dst) {
  std::error_code ec;
  if (SamePath(src, dst) || fs::exists(dst, ec)) return absl::OkStatus();
  return WriteFileAtomically(dst, [&](const std::string& tmp) -> absl::Status {
    std::error_code link_ec;
    fs::create_hard_link(src, tmp, link_ec);
    if (!link_ec) return absl::OkStatus();
    std::error_code copy_ec;
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, copy_ec);
    if (copy_ec) {
      return OutputError(absl::InternalError(
          absl::StrCat(dst, ": cannot copy ", src, " here: ", copy_ec.message())));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::string>> FindFiles(const std::string& dir,
                                                   const std::string& suffix,
                                                   const std::vector<std::string>& skip) {
  absl::StatusOr<std::vector<std::string>> files = ListFiles(dir, suffix, /*recursive=*/true, skip);
  if (absl::IsNotFound(files.status())) {
    std::error_code ec;
    // A missing folder holds no files; something else there (a file, a broken link) is named.
    if (!fs::exists(fs::symlink_status(dir, ec))) return std::vector<std::string>{};
    return absl::NotFoundError(absl::StrCat(dir, ": not a folder"));
  }
  return files;
}

}  // namespace ann
