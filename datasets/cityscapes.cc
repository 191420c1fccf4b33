#include "datasets/cityscapes.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"
#include "opencv2/core.hpp"

namespace ann {
namespace fs = std::filesystem;
namespace {

using layout::kCityscapesImageSuffix;
using layout::kCityscapesLabelIdSuffix;

std::string StripSuffix(const std::string& path, const std::string& root,
                        const std::string& suffix) {
  std::string rel = fs::path(path).lexically_relative(root).string();
  return rel.substr(0, rel.size() - suffix.size());
}

absl::Status ConvertOne(const PreprocessOptions& o, const std::string& split, const std::string& id,
                        bool need_label) {
  const std::string image_path =
      absl::StrCat(o.src, "/leftImg8bit/", split, "/", id, kCityscapesImageSuffix);
  const std::string gt = absl::StrCat(o.src, "/gtFine/", split, "/", id, "_gtFine_");
  const std::string out_gt = absl::StrCat(o.dst, "/gtFine/", split, "/", id, "_gtFine_");
  ANN_ASSIGN_OR_RETURN(cv::Mat image, ReadColorImage(image_path));
  std::error_code ec;
  const std::string label_path = gt + "labelIds.png";
  const bool has_label = fs::exists(label_path, ec);
  if (!has_label && need_label) {
    return absl::NotFoundError(absl::StrCat(image_path, ": no label (expected ", label_path, ")"));
  }
  cv::Mat train_ids;
  if (has_label) {
    ANN_ASSIGN_OR_RETURN(cv::Mat label, ReadLabelImage(label_path));
    if (label.channels() != 1 || label.depth() != CV_8U) {
      return absl::InvalidArgumentError(
          absl::StrCat(label_path, ": labelIds must be a single-channel 8-bit PNG"));
    }
    if (label.size() != image.size()) {
      return absl::InvalidArgumentError(absl::StrCat(label_path, ": size ", label.cols, "x",
                                                     label.rows, " differs from its image's ",
                                                     image.cols, "x", image.rows));
    }
    double max_id = 0;
    cv::minMaxLoc(label, nullptr, &max_id);
    if (max_id > 33) {
      return absl::InvalidArgumentError(absl::StrCat(
          label_path, ": label id ", static_cast<int>(max_id), " is not a Cityscapes labelId"));
    }
    const std::string instance_path = gt + "instanceIds.png";
    if (fs::exists(instance_path, ec)) {
      ANN_ASSIGN_OR_RETURN(cv::Mat instances, ReadLabelImage(instance_path));
      if (instances.size() != image.size() || instances.channels() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(instance_path, ": must be single-channel and the size of its image"));
      }
      ANN_RETURN_IF_ERROR(MirrorFile(instance_path, out_gt + "instanceIds.png"));
    }
    if (fs::exists(gt + "color.png", ec)) {
      ANN_RETURN_IF_ERROR(MirrorFile(gt + "color.png", out_gt + "color.png"));
    }
    if (fs::exists(gt + "polygons.json", ec)) {
      ANN_RETURN_IF_ERROR(MirrorFile(gt + "polygons.json", out_gt + "polygons.json"));
    }
    ANN_RETURN_IF_ERROR(MirrorFile(label_path, out_gt + "labelIds.png"));
    const auto& lut = LabelIdToTrainId();
    cv::LUT(label, cv::Mat(1, 256, CV_8UC1, const_cast<uint8_t*>(lut.data())), train_ids);
  }
  ANN_RETURN_IF_ERROR(MirrorFile(image_path, layout::CityscapesImage(o.dst, split, id)));
  // Written last: its presence marks the image as done.
  if (has_label) {
    ANN_RETURN_IF_ERROR(WriteImage(
        layout::CityscapesLabel(o.dst, split, id, layout::kCityscapesTrainIdSuffix), train_ids));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PreprocessCityscapes(const PreprocessOptions& o) {
  std::vector<Job> jobs;
  std::vector<std::pair<std::string, int64_t>> counts;
  std::map<std::string, std::vector<std::string>> lists;
  JobReport listing;  // Problems found before converting (orphans, empty splits).
  for (const std::string& split : std::vector<std::string>{"train", "val", "test"}) {
    const std::string image_dir = absl::StrCat(o.src, "/leftImg8bit/", split);
    const std::string label_dir = absl::StrCat(o.src, "/gtFine/", split);
    std::vector<std::string> ids;
    ANN_ASSIGN_OR_RETURN(const std::vector<std::string> images,
                         FindFiles(image_dir, kCityscapesImageSuffix, {o.dst}));
    for (const std::string& p : images) {
      ids.push_back(StripSuffix(p, image_dir, kCityscapesImageSuffix));
    }
    const bool labelled = split != "test";
    if (ids.empty()) {
      if (labelled) {
        listing.errors.push_back(
            absl::StrCat(image_dir, ": no *", kCityscapesImageSuffix, " images (empty split)"));
      }
      continue;
    }
    const std::set<std::string> id_set(ids.begin(), ids.end());
    ANN_ASSIGN_OR_RETURN(const std::vector<std::string> labels,
                         FindFiles(label_dir, kCityscapesLabelIdSuffix, {o.dst}));
    for (const std::string& p : labels) {
      if (!id_set.count(StripSuffix(p, label_dir, kCityscapesLabelIdSuffix))) {
        listing.errors.push_back(absl::StrCat(p, ": label without an image"));
      }
    }
    for (const std::string& id : ids) {
      std::error_code ec;
      const bool has_label =
          fs::exists(absl::StrCat(label_dir, "/", id, kCityscapesLabelIdSuffix), ec) || labelled;
      const std::string output =
          has_label ? layout::CityscapesLabel(o.dst, split, id, layout::kCityscapesTrainIdSuffix)
                    : layout::CityscapesImage(o.dst, split, id);
      jobs.push_back(
          {output, [&o, split, id, labelled] { return ConvertOne(o, split, id, labelled); }});
    }
    counts.emplace_back(split, static_cast<int64_t>(ids.size()));
    lists[split] = ids;
  }
  JobReport report = RunJobs(jobs, o.workers, "cityscapes");
  report.errors.insert(report.errors.end(), listing.errors.begin(), listing.errors.end());
  ANN_RETURN_IF_ERROR(FinishReport("cityscapes", counts, report));
  for (const auto& [split, ids] : lists) {
    ANN_RETURN_IF_ERROR(layout::WriteSplitList(layout::SplitList(o.dst, split), ids));
  }
  return absl::OkStatus();
}

}  // namespace ann
