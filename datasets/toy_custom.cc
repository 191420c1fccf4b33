#include "datasets/toy_custom.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/data/transforms.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"
#include "datasets/toy_cityscapes.h"

namespace ann {

const std::vector<std::pair<std::string, Rgb>>& ToyCustomClasses() {
  // Cityscapes' category colours.
  static const auto* classes = new std::vector<std::pair<std::string, Rgb>>{
      {"flat", {128, 64, 128}}, {"construction", {70, 70, 70}}, {"nature", {107, 142, 35}},
      {"sky", {70, 130, 180}},  {"human", {220, 20, 60}},       {"vehicle", {0, 0, 142}}};
  return *classes;
}

absl::Status GenerateToyCustom(const PreprocessOptions& o) {
  if (o.toy_width < 32 || o.toy_height < 32) {
    return absl::InvalidArgumentError("--toy_size: toy_custom needs at least 32x32");
  }
  // labelId → class: each label's category; the ego vehicle (void) is a vehicle.
  std::array<int, 256> class_of;
  class_of.fill(-1);
  const auto& classes = ToyCustomClasses();
  for (const CityscapesLabel& label : CityscapesLabels()) {
    for (size_t c = 0; c < classes.size(); ++c) {
      if (classes[c].first == label.category) class_of[label.id] = static_cast<int>(c);
    }
  }
  class_of[1] = 5;  // ego vehicle
  const int count = o.toy_train + o.toy_val + o.toy_test;
  std::vector<Job> jobs;
  for (int i = 0; i < count; ++i) {
    const std::string stem = absl::StrFormat("scene_%04d", i);
    const std::string image = absl::StrCat(o.dst, "/images/", stem, ".jpg");
    const std::string mask = absl::StrCat(o.dst, "/masks/", stem, ".png");
    const uint64_t seed = MixSeed(o.seed, 0xc057, static_cast<uint64_t>(i));
    jobs.push_back({image, [=, &class_of, &classes]() -> absl::Status {
                      ToyScene scene = RenderToyScene(o.toy_width, o.toy_height, seed);
                      cv::Mat colour(scene.label_ids.size(), CV_8UC3);
                      for (int y = 0; y < colour.rows; ++y) {
                        for (int x = 0; x < colour.cols; ++x) {
                          const int c = class_of[scene.label_ids.at<uint8_t>(y, x)];
                          if (c < 0) {
                            return absl::InternalError(
                                absl::StrCat("toy_custom: labelId ",
                                             scene.label_ids.at<uint8_t>(y, x), " has no class"));
                          }
                          const Rgb& rgb = classes[c].second;
                          colour.at<cv::Vec3b>(y, x) = {rgb[2], rgb[1], rgb[0]};
                        }
                      }
                      ANN_RETURN_IF_ERROR(WriteImage(mask, colour));
                      return WriteImage(image, scene.image);  // last: marks the scene done
                    }});
  }
  JobReport report = RunJobs(jobs, o.workers, "toy_custom");
  return FinishReport("toy_custom", {{"images", count}}, report);
}

}  // namespace ann
