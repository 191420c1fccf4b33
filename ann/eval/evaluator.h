// Runs a model over a labelled split and accumulates the confusion matrix (the whole-image
// mode; further inference modes plug in through Predictor).
#ifndef ANN_EVAL_EVALUATOR_H_
#define ANN_EVAL_EVALUATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/eval/metrics.h"
#include "ann/eval/predictor.h"

namespace ann {

// Predicts every sample with `predictor` and compares with its label. Errors name the file.
absl::StatusOr<ConfusionMatrix> EvaluateSamples(Predictor& predictor,
                                                const std::vector<Sample>& samples,
                                                const DatasetInfo& info, int num_classes,
                                                const std::string& progress_label);

}  // namespace ann

#endif  // ANN_EVAL_EVALUATOR_H_
