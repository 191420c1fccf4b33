#include "ann/eval/evaluator.h"

#include <filesystem>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ann/eval/prediction_names.h"
#include "ann/io/image.h"
#include "ann/io/palette.h"
#include "ann/util/atomic_file.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {
namespace {

struct Decoded {
  absl::Status status;
  cv::Mat image, label, instances;
};

Decoded Decode(const Sample& sample, const DatasetInfo& info) {
  Decoded d;
  d.status = LoadImageAndLabel(sample, info, &d.image, &d.label);
  if (!d.status.ok()) return d;
  if (!sample.instance.empty()) {
    auto instances = ReadLabelImage(sample.instance);
    if (!instances.ok()) return {instances.status()};
    if (instances->size() != d.image.size() || instances->channels() != 1) {
      return {absl::InvalidArgumentError(
          absl::StrCat(sample.instance, ": instance map must be single-channel, image-sized"))};
    }
    d.instances = *instances;
  }
  return d;
}

}  // namespace

namespace {

using PredictFn = std::function<absl::StatusOr<cv::Mat>(size_t i, const cv::Mat& image)>;

// The folder a split's images were scanned in: <root>/<id><suffix> for every sample, or "" (the
// common folder) when its parts have different image folders.
std::string ImageRoot(const std::vector<Sample>& samples) {
  std::string root;
  for (const Sample& s : samples) {
    const size_t at = s.image.rfind(s.id);
    if (at == std::string::npos) return "";
    const std::string its = s.image.substr(0, at > 0 ? at - 1 : 0);  // without the '/'

    if (!root.empty() && its != root) return "";
    root = its;
  }
  return root;
}

std::vector<std::string> Images(const std::vector<Sample>& samples) {
  std::vector<std::string> images;
  for (const Sample& s : samples) images.push_back(s.image);
  return images;
}

absl::StatusOr<Evaluation> Evaluate(const PredictFn& predict, const std::vector<Sample>& samples,
                                    const DatasetInfo& info, int num_classes,
                                    const EvaluateOptions& options) {
  Evaluation result{ConfusionMatrix(num_classes), InstanceStats()};
  Progress progress(options.progress_label, static_cast<int64_t>(samples.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(samples.size()) / 10));
  Prefetch<Decoded> decoded(samples.size(), options.workers, 4,
                            [&](size_t i) { return Decode(samples[i], info); });
  const std::vector<Rgb> palette = info.palette;
  std::vector<std::string> names;
  if (!options.show_dir.empty()) names = PredictionNames(Images(samples), ImageRoot(samples));
  for (size_t i = 0; i < samples.size(); ++i) {
    Decoded d = decoded.Next();
    ANN_RETURN_IF_ERROR(d.status);
    ANN_ASSIGN_OR_RETURN(cv::Mat prediction, predict(i, d.image));
    result.matrix.Add(prediction, d.label);
    if (!d.instances.empty()) result.instances.Add(prediction, d.instances);
    if (!options.show_dir.empty()) {
      cv::Mat side;
      cv::hconcat(Overlay(d.image, Colorize(prediction, palette)),
                  Overlay(d.image, Colorize(d.label, palette)), side);
      const std::string file = absl::StrCat(options.show_dir, "/", names[i], ".png");
      ANN_RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(file).parent_path().string()));
      ANN_RETURN_IF_ERROR(WriteImage(file, side));
    }
    progress.Advance(1);
  }
  progress.Finish();
  return result;
}

}  // namespace

absl::StatusOr<Evaluation> EvaluateSamples(Predictor& predictor, const std::vector<Sample>& samples,
                                           const DatasetInfo& info, int num_classes,
                                           const EvaluateOptions& options) {
  return Evaluate(
      [&](size_t i, const cv::Mat& image) -> absl::StatusOr<cv::Mat> {
        ANN_RETURN_IF_ERROR(predictor.CheckImage(samples[i].image, image.size()));
        return LabelTensorToMat(Predictor::Labels(predictor.Logits(image)));
      },
      samples, info, num_classes, options);
}

absl::StatusOr<Evaluation> EvaluatePredictionDir(const std::string& pred_dir,
                                                 const std::vector<Sample>& samples,
                                                 const DatasetInfo& info, int num_classes,
                                                 const EvaluateOptions& options) {
  ANN_ASSIGN_OR_RETURN(const std::vector<std::string> files,
                       FindPredictions(pred_dir, Images(samples), ImageRoot(samples)));
  return Evaluate(
      [&](size_t i, const cv::Mat& image) -> absl::StatusOr<cv::Mat> {
        const std::string& path = files[i];
        ANN_ASSIGN_OR_RETURN(cv::Mat prediction, ReadLabelImage(path));
        if (prediction.type() != CV_8UC1 || prediction.size() != image.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": must be a single-channel 8-bit PNG the size of its image"));
        }
        // Ids beyond the classes would silently drop out of the histograms (mmseg's histc).
        // 255 is the ignore index: a pixel predicted as no class (a miss for its true class,
        // as the Cityscapes evaluator counts a void prediction).
        double max_id = 0;
        cv::Point where;
        cv::minMaxLoc(prediction, nullptr, &max_id, nullptr, &where, prediction != 255);
        if (max_id >= num_classes) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": class id ", max_id, " at x=", where.x, " y=", where.y, " (the dataset has ",
              num_classes, " classes: ids 0 to ", num_classes - 1, ", or 255 for none)"));
        }
        return prediction;
      },
      samples, info, num_classes, options);
}

}  // namespace ann
