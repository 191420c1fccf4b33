#include "ann/eval/evaluator.h"

#include "absl/strings/str_cat.h"
#include "ann/io/image.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::StatusOr<ConfusionMatrix> EvaluateSamples(Predictor& predictor,
                                                const std::vector<Sample>& samples,
                                                const DatasetInfo& info, int num_classes,
                                                const std::string& progress_label) {
  ConfusionMatrix matrix(num_classes);
  Progress progress(progress_label, static_cast<int64_t>(samples.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(samples.size()) / 4));
  for (const Sample& sample : samples) {
    ANN_ASSIGN_OR_RETURN(cv::Mat image, ReadColorImage(sample.image));
    ANN_ASSIGN_OR_RETURN(cv::Mat label, LoadLabel(sample.label, info));
    if (label.size() != image.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(sample.label, ": label size differs from its image's"));
    }
    cv::Mat prediction = LabelTensorToMat(Predictor::Labels(predictor.Logits(image)));
    matrix.Add(prediction, label);
    progress.Advance(1);
  }
  progress.Finish();
  return matrix;
}

}  // namespace ann
