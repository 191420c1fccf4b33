#include "datasets/ade20k.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"
#include "opencv2/core.hpp"

namespace ann {
namespace fs = std::filesystem;

absl::Status PreprocessAde20k(const PreprocessOptions& options) {
  PreprocessOptions o = options;
  std::error_code ec;
  if (!fs::is_directory(o.src + "/images", ec) &&
      fs::is_directory(o.src + "/ADEChallengeData2016/images", ec)) {
    o.src += "/ADEChallengeData2016";
  }
  const bool in_place = SamePath(o.src, o.dst);
  std::vector<Job> jobs;
  std::vector<std::pair<std::string, int64_t>> counts;
  std::map<std::string, std::vector<std::string>> lists;
  JobReport listing;
  for (const std::string split : {"train", "val"}) {
    // The raw download has the training layout already.
    const std::string image_dir = layout::Ade20kImageDir(o.src, split);
    const std::string label_dir = layout::Ade20kLabelDir(o.src, split);
    std::vector<std::string> ids;
    ANN_ASSIGN_OR_RETURN(const std::vector<std::string> images,
                         FindFiles(image_dir, ".jpg", {o.dst}));
    for (const std::string& p : images) ids.push_back(fs::path(p).stem());
    if (ids.empty()) {
      listing.errors.push_back(absl::StrCat(image_dir, ": no *.jpg images (empty split)"));
      continue;
    }
    const std::set<std::string> id_set(ids.begin(), ids.end());
    ANN_ASSIGN_OR_RETURN(const std::vector<std::string> labels,
                         FindFiles(label_dir, ".png", {o.dst}));
    for (const std::string& p : labels) {
      if (!id_set.count(fs::path(p).stem())) {
        listing.errors.push_back(absl::StrCat(p, ": label without an image"));
      }
    }
    for (const std::string& id : ids) {
      const std::string image = absl::StrCat(image_dir, "/", id, ".jpg");
      const std::string label = absl::StrCat(label_dir, "/", id, ".png");
      const std::string out_label =
          absl::StrCat(layout::Ade20kLabelDir(o.dst, split), "/", id, ".png");
      jobs.push_back(
          {in_place ? "" : out_label, [=, &o]() -> absl::Status {
             ANN_ASSIGN_OR_RETURN(cv::Mat img, ReadColorImage(image));
             std::error_code e;
             if (!fs::exists(label, e)) {
               return absl::NotFoundError(absl::StrCat(image, ": no label (expected ", label, ")"));
             }
             ANN_ASSIGN_OR_RETURN(cv::Mat lab, ReadLabelImage(label));
             if (lab.channels() != 1 || lab.depth() != CV_8U) {
               return absl::InvalidArgumentError(
                   absl::StrCat(label, ": label must be a single-channel 8-bit PNG"));
             }
             if (lab.size() != img.size()) {
               return absl::InvalidArgumentError(
                   absl::StrCat(label, ": size ", lab.cols, "x", lab.rows,
                                " differs from its image's ", img.cols, "x", img.rows));
             }
             double max_value = 0;
             cv::minMaxLoc(lab, nullptr, &max_value);
             if (max_value > 150) {
               return absl::InvalidArgumentError(absl::StrCat(label, ": label value ",
                                                              static_cast<int>(max_value),
                                                              " is not an ADE20K class (0..150)"));
             }
             ANN_RETURN_IF_ERROR(MirrorFile(
                 image, absl::StrCat(layout::Ade20kImageDir(o.dst, split), "/", id, ".jpg")));
             return MirrorFile(label, out_label);
           }});
    }
    counts.emplace_back(split, static_cast<int64_t>(ids.size()));
    lists[split] = ids;
  }
  JobReport report = RunJobs(jobs, o.workers, "ade20k");
  report.errors.insert(report.errors.end(), listing.errors.begin(), listing.errors.end());
  ANN_RETURN_IF_ERROR(FinishReport("ade20k", counts, report));
  for (const auto& [split, ids] : lists) {
    ANN_RETURN_IF_ERROR(layout::WriteSplitList(layout::SplitList(o.dst, split), ids));
  }
  return absl::OkStatus();
}

}  // namespace ann
