#include "ann/util/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ann {
namespace {

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

}  // namespace

Progress::Progress(std::string label, int64_t total, int64_t log_every)
    : label_(std::move(label)),
      total_(total),
      log_every_(log_every > 0 ? log_every : 1),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Finish(); }

std::string Progress::Line() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string line = absl::StrFormat("%s %d/%d (%.1f%%) %.2f it/s", label_, done_, total_,
                                     total_ > 0 ? 100.0 * done_ / total_ : 100.0, rate);
  if (done_ < total_ && rate > 0) {
    absl::StrAppend(&line, " ETA ", Duration((total_ - done_) / rate));
  } else {
    absl::StrAppend(&line, " elapsed ", Duration(elapsed));
  }
  return line;
}

void Progress::Advance(int64_t n, const std::string& detail) {
  done_ += n;
  std::string line = Line();
  if (!detail.empty()) absl::StrAppend(&line, " ", detail);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else if (done_ % log_every_ == 0 || done_ == total_) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_ && done_ > 0) std::fprintf(stderr, "\n");
}

}  // namespace ann
