#include "datasets/preprocess.h"

#include <unistd.h>

#include <algorithm>
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
  enum class Outcome { kSkipped, kConverted, kFailed };
  // The project's one worker pool; results come back in job order.
  Prefetch<std::pair<Outcome, std::string>> results(
      jobs.size(), workers, static_cast<size_t>(std::max(1, workers)) * 4, [&](size_t i) {
        std::error_code ec;
        // Outputs are renamed into place when complete; a 0-byte file (a full disk under an
        // older version) is redone, never trusted.
        if (!jobs[i].output.empty() && fs::exists(jobs[i].output, ec) &&
            fs::file_size(jobs[i].output, ec) > 0 && !ec) {
          return std::make_pair(Outcome::kSkipped, std::string());
        }
        absl::Status status = jobs[i].run();
        return status.ok() ? std::make_pair(Outcome::kConverted, std::string())
                           : std::make_pair(Outcome::kFailed, std::string(status.message()));
      });
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto [outcome, error] = results.Next();
    if (outcome == Outcome::kSkipped) {
      ++report.skipped;
    } else if (outcome == Outcome::kConverted) {
      ++report.converted;
    } else {
      report.errors.push_back(std::move(error));
    }
    progress.Advance(1);
  }
  progress.Finish();
  std::sort(report.errors.begin(), report.errors.end());
  return report;
}

absl::Status FinishReport(const std::string& dataset,
                          const std::vector<std::pair<std::string, int64_t>>& split_counts,
                          const JobReport& report) {
  std::printf("%s: %lld converted, %lld already done, %zu failed\n", dataset.c_str(),
              static_cast<long long>(report.converted), static_cast<long long>(report.skipped),
              report.errors.size());
  std::printf("%-10s %8s\n", "split", "images");
  for (const auto& [split, count] : split_counts) {
    std::printf("%-10s %8lld\n", split.c_str(), static_cast<long long>(count));
  }
  std::fflush(stdout);
  if (report.errors.empty()) return absl::OkStatus();
  for (const std::string& e : report.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  return absl::DataLossError(absl::StrFormat(
      "%s: %zu file(s) failed (listed above); split lists not written. Fix them and re-run: "
      "finished files are skipped",
      dataset, report.errors.size()));
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
      return absl::InternalError(
          absl::StrCat(src, ": cannot copy to ", dst, ": ", copy_ec.message()));
    }
    return absl::OkStatus();
  });
}

std::vector<std::string> FindFiles(const std::string& dir, const std::string& suffix) {
  absl::StatusOr<std::vector<std::string>> files = ListFiles(dir, suffix, /*recursive=*/true);
  return files.ok() ? *files : std::vector<std::string>{};
}

}  // namespace ann
