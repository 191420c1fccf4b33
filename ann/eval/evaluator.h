// Runs a model over a labelled split: images (and labels, instance maps) decoded by background
// workers, predicted in the configured inference mode, accumulated into the confusion matrix
// and, for Cityscapes, the instance statistics of iIoU. Optionally writes side-by-side colour
// overlays of prediction and ground truth.
#ifndef ANN_EVAL_EVALUATOR_H_
#define ANN_EVAL_EVALUATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/eval/cityscapes_metrics.h"
#include "ann/eval/metrics.h"
#include "ann/eval/predictor.h"

namespace ann {

// What an evaluation accumulated.
struct Evaluation {
  ConfusionMatrix matrix;
  InstanceStats instances;  // Filled for samples with an instance map.
};

// Progress label, overlays and decoding threads of an evaluation.
struct EvaluateOptions {
  std::string progress_label = "eval";
  std::string show_dir;  // If set: <id>.png = [prediction overlay | ground truth overlay].
  int workers = 2;       // Decoding threads.
};

// Errors name the file.
absl::StatusOr<Evaluation> EvaluateSamples(Predictor& predictor, const std::vector<Sample>& samples,
                                           const DatasetInfo& info, int num_classes,
                                           const EvaluateOptions& options = EvaluateOptions());

// The same for predictions made elsewhere: trainId PNGs <pred_dir>/<image stem>.png.
absl::StatusOr<Evaluation> EvaluatePredictionDir(
    const std::string& pred_dir, const std::vector<Sample>& samples, const DatasetInfo& info,
    int num_classes, const EvaluateOptions& options = EvaluateOptions());

}  // namespace ann

#endif  // ANN_EVAL_EVALUATOR_H_
