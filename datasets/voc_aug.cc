#include "datasets/voc_aug.h"

#include <matio.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ann/data/dataset.h"
#include "ann/io/image.h"
#include "ann/util/status_macros.h"
#include "opencv2/imgproc.hpp"

namespace ann {
namespace fs = std::filesystem;
namespace {

void SilentMatioLog(int, char*) {}

absl::StatusOr<std::vector<std::string>> ReadIds(const std::string& path) {
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> ids, layout::ReadSplitList(path));
  if (ids.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty split list"));
  return ids;
}

// Walks the top-level data elements of a little-endian MAT v5 file (8-byte tag: type, byte
// count; uncompressed elements padded to 8 bytes) and fails if one runs past the end of the
// file. matio reads short elements without complaint, so truncation is caught here.
absl::Status CheckMatComplete(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const int64_t size = in.tellg();
  if (size < 128) return absl::DataLossError(absl::StrCat(path, ": truncated MAT-file header"));
  char endian[2];
  in.seekg(126);
  in.read(endian, 2);
  if (endian[0] != 'I' || endian[1] != 'M') return absl::OkStatus();  // Big-endian: trust matio.
  int64_t pos = 128;
  while (pos < size) {
    uint32_t tag[2] = {0, 0};
    in.seekg(pos);
    if (pos + 8 > size || !in.read(reinterpret_cast<char*>(tag), 8)) {
      return absl::DataLossError(absl::StrCat(path, ": truncated MAT-file (cut inside a tag)"));
    }
    if ((tag[0] >> 16) != 0) {  // Small data element: 4-byte payload inside the tag.
      pos += 8;
      continue;
    }
    int64_t bytes = tag[1];
    if (tag[0] != 15 /* miCOMPRESSED */) bytes = (bytes + 7) / 8 * 8;
    pos += 8 + bytes;
    if (pos > size && pos - size >= 8) {
      return absl::DataLossError(
          absl::StrCat(path, ": truncated MAT-file (", size, " bytes, its data needs ", pos, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<cv::Mat> ReadSbdMat(const std::string& path) {
  static const bool silenced = [] {
    Mat_LogInitFunc("ann", SilentMatioLog);
    return true;
  }();
  (void)silenced;
  ANN_RETURN_IF_ERROR(CheckMatComplete(path));
  mat_t* mat = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (mat == nullptr) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable MAT-file"));
  }
  matvar_t* gt = Mat_VarRead(mat, "GTcls");
  Mat_Close(mat);
  if (gt == nullptr) {
    return absl::DataLossError(
        absl::StrCat(path, ": no readable GTcls variable (truncated or not an SBD cls file)"));
  }
  cv::Mat label;
  absl::Status status = absl::OkStatus();
  matvar_t* seg =
      gt->class_type == MAT_C_STRUCT ? Mat_VarGetStructFieldByName(gt, "Segmentation", 0) : nullptr;
  if (seg == nullptr) {
    status = absl::DataLossError(absl::StrCat(path, ": GTcls has no Segmentation field"));
  } else if (seg->rank != 2 || seg->data == nullptr || seg->isComplex) {
    status = absl::DataLossError(absl::StrCat(path, ": GTcls.Segmentation is not a 2-D matrix"));
  } else {
    const int rows = static_cast<int>(seg->dims[0]);
    const int cols = static_cast<int>(seg->dims[1]);
    label.create(rows, cols, CV_8UC1);
    // MATLAB stores column-major.
    for (int x = 0; x < cols; ++x) {
      for (int y = 0; y < rows; ++y) {
        const size_t i = static_cast<size_t>(x) * rows + y;
        double v = 0;
        switch (seg->class_type) {
          case MAT_C_UINT8:
            v = static_cast<const uint8_t*>(seg->data)[i];
            break;
          case MAT_C_INT32:
            v = static_cast<const int32_t*>(seg->data)[i];
            break;
          case MAT_C_UINT16:
            v = static_cast<const uint16_t*>(seg->data)[i];
            break;
          case MAT_C_DOUBLE:
            v = static_cast<const double*>(seg->data)[i];
            break;
          default:
            status = absl::DataLossError(
                absl::StrCat(path, ": GTcls.Segmentation has an unsupported element type"));
        }
        if (!status.ok()) break;
        if (v < 0 || (v > 20 && v != 255)) {
          status = absl::InvalidArgumentError(
              absl::StrCat(path, ": label value ", v, " is not a VOC class (0..20 or 255)"));
          break;
        }
        label.at<uint8_t>(y, x) = static_cast<uint8_t>(v);
      }
      if (!status.ok()) break;
    }
  }
  Mat_VarFree(gt);
  if (!status.ok()) return status;
  return label;
}

absl::StatusOr<cv::Mat> ReadVocLabel(const std::string& path) {
  ANN_ASSIGN_OR_RETURN(cv::Mat raw, ReadLabelImage(path));
  if (raw.depth() != CV_8U) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an 8-bit label PNG"));
  }
  cv::Mat label(raw.size(), CV_8UC1);
  if (raw.channels() == 1) {
    label = raw;
  } else {
    if (raw.channels() == 4) cv::cvtColor(raw, raw, cv::COLOR_BGRA2BGR);
    // Inverse of VOC's palette (classes 0..20 and 255 = the (224, 224, 192) border colour).
    std::map<uint32_t, uint8_t> inverse;
    const std::vector<Rgb>& palette = GetDatasetInfo(DatasetKind::kVocAug).palette;
    for (int c = 0; c < 21; ++c) {
      inverse[(palette[c][0] << 16) | (palette[c][1] << 8) | palette[c][2]] = c;
    }
    inverse[(224u << 16) | (224u << 8) | 192u] = 255;
    for (int y = 0; y < raw.rows; ++y) {
      for (int x = 0; x < raw.cols; ++x) {
        const cv::Vec3b bgr = raw.at<cv::Vec3b>(y, x);
        auto it = inverse.find((bgr[2] << 16) | (bgr[1] << 8) | bgr[0]);
        if (it == inverse.end()) {
          return absl::InvalidArgumentError(absl::StrCat(path, ": colour (", bgr[2], ",", bgr[1],
                                                         ",", bgr[0], ") at (", x, ",", y,
                                                         ") is not a VOC class colour"));
        }
        label.at<uint8_t>(y, x) = it->second;
      }
    }
  }
  double max_value = 0;
  cv::minMaxLoc(label, nullptr, &max_value, nullptr, nullptr, label != 255);
  if (max_value > 20) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": label value ", static_cast<int>(max_value), " is not a VOC class (0..20)"));
  }
  return label;
}

absl::Status PreprocessVocAug(const PreprocessOptions& o) {
  const std::string voc = absl::StrCat(o.src, "/VOCdevkit/VOC2012");
  std::string sbd = o.sbd_dir;
  std::error_code ec;
  if (sbd.empty()) {
    // VOCdevkit/VOCaug/dataset is where mmseg's docs put it; the others are SBD's own names.
    for (const std::string& candidate :
         {absl::StrCat(o.src, "/VOCdevkit/VOCaug/dataset"),
          absl::StrCat(o.src, "/benchmark_RELEASE/dataset"), absl::StrCat(o.src, "/SBD/dataset"),
          absl::StrCat(o.src, "/VOCdevkit/benchmark_RELEASE/dataset")}) {
      if (sbd.empty() && fs::is_directory(candidate + "/cls", ec)) sbd = candidate;
    }
    if (sbd.empty()) {
      return absl::NotFoundError(
          absl::StrCat(o.src,
                       ": SBD not found (expected VOCdevkit/VOCaug/dataset/cls or "
                       "benchmark_RELEASE/dataset/cls; or pass --sbd_dir)"));
    }
  }
  if (!fs::is_directory(voc + "/JPEGImages", ec)) {
    return absl::NotFoundError(absl::StrCat(voc, "/JPEGImages: no such directory"));
  }
  const std::string lists = voc + "/ImageSets/Segmentation";
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> voc_train, ReadIds(lists + "/train.txt"));
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> voc_val, ReadIds(lists + "/val.txt"));
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> sbd_train, ReadIds(sbd + "/train.txt"));
  ANN_ASSIGN_OR_RETURN(std::vector<std::string> sbd_val, ReadIds(sbd + "/val.txt"));
  // mmseg 0.30's tools/convert_datasets/voc_aug.py: aug = SBD (train + val) - VOC (train + val),
  // labelled from SegmentationClassAug; trainaug = VOC train + SBD - VOC val. Its config trains
  // on train.txt (SegmentationClass) + aug.txt, and validates on val.txt (SegmentationClass).
  const std::set<std::string> voc_ids = [&] {
    std::set<std::string> ids(voc_train.begin(), voc_train.end());
    ids.insert(voc_val.begin(), voc_val.end());
    return ids;
  }();
  std::set<std::string> aug_set(sbd_train.begin(), sbd_train.end());
  aug_set.insert(sbd_val.begin(), sbd_val.end());
  std::set<std::string> trainaug_set = aug_set;
  for (const std::string& id : voc_ids) aug_set.erase(id);
  trainaug_set.insert(voc_train.begin(), voc_train.end());
  for (const std::string& id : voc_val) trainaug_set.erase(id);
  const std::vector<std::string> aug(aug_set.begin(), aug_set.end());
  const std::vector<std::string> trainaug(trainaug_set.begin(), trainaug_set.end());

  const std::string out = absl::StrCat(o.dst, "/VOCdevkit/VOC2012");
  std::vector<Job> jobs;
  // The image of `id` and its size, checked against the label read from `source`.
  auto check_image = [voc](const std::string& id, const std::string& source,
                           const cv::Mat& label) -> absl::StatusOr<std::string> {
    const std::string image_path = absl::StrCat(voc, "/JPEGImages/", id, ".jpg");
    ANN_ASSIGN_OR_RETURN(cv::Mat image, ReadColorImage(image_path));
    if (label.size() != image.size()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": size ", label.cols, "x", label.rows,
                                                     " differs from its image's ", image.cols, "x",
                                                     image.rows));
    }
    return image_path;
  };
  // VOC's own labels, kept as they are (palette PNGs): checked, then mirrored with their image.
  for (const std::string& id : voc_ids) {
    jobs.push_back({layout::VocLabel(out, layout::kVocClass, id), [=]() -> absl::Status {
                      const std::string source = layout::VocLabel(voc, layout::kVocClass, id);
                      ANN_ASSIGN_OR_RETURN(cv::Mat label, ReadVocLabel(source));
                      ANN_ASSIGN_OR_RETURN(std::string image, check_image(id, source, label));
                      ANN_RETURN_IF_ERROR(MirrorFile(image, layout::VocImage(out, id)));
                      return MirrorFile(source, layout::VocLabel(out, layout::kVocClass, id));
                    }});
  }
  // Every SBD .mat, as mmseg converts them all; the images of the aug list are checked and
  // mirrored.
  ANN_ASSIGN_OR_RETURN(const std::vector<std::string> mats, FindFiles(sbd + "/cls", ".mat"));
  for (const std::string& mat : mats) {
    const std::string id = fs::path(mat).stem().string();
    const bool listed = aug_set.count(id) > 0;
    const std::string output = layout::VocLabel(out, layout::kVocAug, id);
    jobs.push_back({output, [=]() -> absl::Status {
                      ANN_ASSIGN_OR_RETURN(cv::Mat label, ReadSbdMat(mat));
                      if (listed) {
                        ANN_ASSIGN_OR_RETURN(std::string image, check_image(id, mat, label));
                        ANN_RETURN_IF_ERROR(MirrorFile(image, layout::VocImage(out, id)));
                      }
                      return WriteImage(output, label);
                    }});
  }
  // An id of the aug list without its .mat.
  for (const std::string& id : aug) {
    const std::string mat = absl::StrCat(sbd, "/cls/", id, ".mat");
    if (!fs::exists(mat, ec)) {
      jobs.push_back({"", [=]() -> absl::Status {
                        return absl::NotFoundError(
                            absl::StrCat(mat, ": missing (", id, " is in SBD's lists)"));
                      }});
    }
  }
  JobReport report = RunJobs(jobs, o.workers, "voc_aug");
  ANN_RETURN_IF_ERROR(FinishReport("voc_aug",
                                   {{"train", static_cast<int64_t>(voc_train.size())},
                                    {"val", static_cast<int64_t>(voc_val.size())},
                                    {"aug", static_cast<int64_t>(aug.size())},
                                    {"trainaug", static_cast<int64_t>(trainaug.size())}},
                                   report));
  const std::string out_lists = layout::VocListDir(out, /*context=*/false);
  ANN_RETURN_IF_ERROR(layout::WriteSplitList(out_lists + "/train.txt", voc_train));
  ANN_RETURN_IF_ERROR(layout::WriteSplitList(out_lists + "/val.txt", voc_val));
  ANN_RETURN_IF_ERROR(layout::WriteSplitList(out_lists + "/aug.txt", aug));
  ANN_RETURN_IF_ERROR(layout::WriteSplitList(out_lists + "/trainaug.txt", trainaug));
  return absl::OkStatus();
}

}  // namespace ann
