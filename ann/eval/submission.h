// Cityscapes test-server packaging: checks that every test image has exactly one prediction
// (<image stem>.png), single-channel 8-bit, the image's size, holding valid ids; converts
// trainIds to labelIds when needed; writes the zip (libzip) atomically.
#ifndef ANN_EVAL_SUBMISSION_H_
#define ANN_EVAL_SUBMISSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ann {

// What prediction PNGs hold.
enum class PredictionIds { kLabelId, kTrainId };

// One file of the submission zip.
struct SubmissionEntry {
  std::string name;        // Entry name in the zip: <city>_<seq>_<frame>_leftImg8bit.png.
  std::string prediction;  // Source PNG.
};

// The result of checking a prediction folder against the test images.
struct SubmissionCheck {
  std::vector<SubmissionEntry> entries;  // In test-image order, when all is well.
  std::vector<std::string> missing;      // Test images without a prediction.
  std::vector<std::string> extra;        // Predictions matching no test image.
  std::vector<std::string> wrong;        // "<file>: <problem>".
  bool ok() const { return missing.empty() && extra.empty() && wrong.empty(); }
};

// Matches `test_images` (leftImg8bit/test/<city>/*.png) with the PNGs under `pred_dir`
// (recursively; *_overlay.png ignored) and checks each prediction.
SubmissionCheck CheckPredictions(const std::vector<std::string>& test_images,
                                 const std::string& pred_dir, PredictionIds ids);

// Writes the zip (entries stored, labelIds) to `zip_path` atomically; returns its size in bytes.
absl::StatusOr<int64_t> WriteSubmissionZip(const std::string& zip_path,
                                           const std::vector<SubmissionEntry>& entries,
                                           PredictionIds ids);

// The check's problems, one line each (at most `limit` per kind, then a count).
std::vector<std::string> DescribeProblems(const SubmissionCheck& check, size_t limit = 20);

// CheckPredictions, then WriteSubmissionZip when all is well; otherwise prints the problems
// ("warning: ..." lines) and fails without writing (one error: how many are missing, extra or
// wrong). Returns the number of files and the zip size.
absl::StatusOr<std::pair<size_t, int64_t>> MakeSubmission(
    const std::vector<std::string>& test_images, const std::string& pred_dir, PredictionIds ids,
    const std::string& zip_path);

}  // namespace ann

#endif  // ANN_EVAL_SUBMISSION_H_
