// Progress reporting for long loops: on a terminal a single redrawn line with count, rate and
// ETA; otherwise (logs, CI) a plain line every `log_every` items and at the end.
#ifndef ANN_UTIL_PROGRESS_H_
#define ANN_UTIL_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace ann {

// Progress of a long job: a rewritten line on a terminal, plain log lines otherwise.
class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t log_every = 10);
  ~Progress();
  // Marks `n` more items done; `detail` is appended to the line (e.g. the current file).
  void Advance(int64_t n = 1, const std::string& detail = "");
  // Finishes the line (called by the destructor if not before).
  void Finish();

  // "12/40 (30.0%) 2.5 it/s ETA 0:11" for the current state.
  std::string Line() const;

 private:
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t log_every_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ann

#endif  // ANN_UTIL_PROGRESS_H_
