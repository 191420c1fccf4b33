#include "ann/eval/submission.h"

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/eval/predict_images.h"
#include "ann/io/image.h"
#include "ann/util/atomic_file.h"
#include "ann/util/files.h"
#include "opencv2/imgcodecs.hpp"

namespace ann {
namespace fs = std::filesystem;

namespace {

// PNG width and height from the IHDR chunk (bytes 16..23), without decoding.
bool PngSize(const std::string& path, cv::Size* size) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[24];
  if (!in.read(reinterpret_cast<char*>(header), 24)) return false;
  if (header[0] != 0x89 || header[1] != 'P' || header[2] != 'N' || header[3] != 'G') return false;
  auto be32 = [&](int at) {
    return (header[at] << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3];
  };
  *size = cv::Size(be32(16), be32(20));
  return true;
}

}  // namespace

SubmissionCheck CheckPredictions(const std::vector<std::string>& test_images,
                                 const std::string& pred_dir, PredictionIds ids) {
  SubmissionCheck check;
  std::map<std::string, std::vector<std::string>> predictions;  // stem → files
  absl::StatusOr<std::vector<std::string>> files = ListFiles(pred_dir, ".png", true);
  for (const std::string& file : files.ok() ? *files : std::vector<std::string>{}) {
    if (absl::EndsWith(file, "_overlay.png")) continue;
    predictions[fs::path(file).stem().string()].push_back(file);
  }
  std::set<std::string> expected;
  for (const std::string& image : test_images) {
    const std::string stem = FileStem(image);
    expected.insert(stem);
    auto found = predictions.find(stem);
    if (found == predictions.end()) {
      check.missing.push_back(image);
      continue;
    }
    if (found->second.size() > 1) {
      check.wrong.push_back(absl::StrCat(found->second[1], ": a second prediction for ", stem));
      continue;
    }
    const std::string& path = found->second[0];
    cv::Size image_size, pred_size;
    const bool have_image_size = PngSize(image, &image_size);
    auto pred = ReadLabelImage(path);
    if (!pred.ok()) {
      check.wrong.push_back(std::string(pred.status().message()));
      continue;
    }
    if (pred->channels() != 1 || pred->depth() != CV_8U) {
      check.wrong.push_back(absl::StrCat(path, ": must be single-channel 8-bit, found ",
                                         pred->channels(), " channel(s)",
                                         pred->depth() == CV_8U ? "" : " of a wider depth"));
      continue;
    }
    pred_size = pred->size();
    if (!have_image_size) {
      auto decoded = ReadColorImage(image);
      if (!decoded.ok()) {
        check.wrong.push_back(std::string(decoded.status().message()));
        continue;
      }
      image_size = decoded->size();
    }
    if (pred_size != image_size) {
      check.wrong.push_back(absl::StrCat(path, ": size ", pred_size.width, "x", pred_size.height,
                                         " differs from its image's ", image_size.width, "x",
                                         image_size.height));
      continue;
    }
    double max_value = 0;
    if (ids == PredictionIds::kTrainId) {
      cv::minMaxLoc(*pred, nullptr, &max_value, nullptr, nullptr, *pred != 255);
      if (max_value > 18) {
        check.wrong.push_back(absl::StrCat(path, ": value ", static_cast<int>(max_value),
                                           " is not a trainId (0..18, 255)"));
        continue;
      }
    } else {
      cv::minMaxLoc(*pred, nullptr, &max_value);
      if (max_value > 33) {
        check.wrong.push_back(absl::StrCat(path, ": value ", static_cast<int>(max_value),
                                           " is not a Cityscapes labelId (0..33)"));
        continue;
      }
    }
    check.entries.push_back({stem + ".png", path});
  }
  for (const auto& [stem, files] : predictions) {
    if (!expected.count(stem)) {
      for (const std::string& f : files) check.extra.push_back(f);
    }
  }
  return check;
}

std::vector<std::string> DescribeProblems(const SubmissionCheck& check, size_t limit) {
  std::vector<std::string> lines;
  auto add = [&](const std::vector<std::string>& items, const std::string& what) {
    for (size_t i = 0; i < items.size() && i < limit; ++i) {
      lines.push_back(what.empty() ? items[i] : absl::StrCat(items[i], ": ", what));
    }
    if (items.size() > limit) {
      lines.push_back(absl::StrCat("... and ", items.size() - limit, " more"));
    }
  };
  add(check.missing, "no prediction");
  add(check.extra, "prediction for no test image");
  add(check.wrong, "");
  return lines;
}

absl::StatusOr<int64_t> WriteSubmissionZip(const std::string& zip_path,
                                           const std::vector<SubmissionEntry>& entries,
                                           PredictionIds ids) {
  int64_t size = 0;
  absl::Status status = WriteFileAtomically(zip_path, [&](const std::string& tmp) -> absl::Status {
    int error = 0;
    zip_t* zip = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    if (zip == nullptr) return absl::InternalError(absl::StrCat(zip_path, ": cannot create zip"));
    // Encoded PNGs must outlive zip_close (libzip reads the buffers then).
    std::vector<std::vector<uchar>> buffers;
    buffers.reserve(entries.size());
    for (const SubmissionEntry& e : entries) {
      zip_source_t* source = nullptr;
      if (ids == PredictionIds::kTrainId) {
        auto train_ids = ReadLabelImage(e.prediction);
        if (!train_ids.ok()) {
          zip_discard(zip);
          return train_ids.status();
        }
        buffers.emplace_back();
        cv::imencode(".png", TrainIdsToLabelIds(*train_ids), buffers.back());
        source = zip_source_buffer(zip, buffers.back().data(), buffers.back().size(), 0);
      } else {
        source = zip_source_file(zip, e.prediction.c_str(), 0, -1);
      }
      const zip_int64_t index =
          source ? zip_file_add(zip, e.name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
      if (index < 0) {
        if (source) zip_source_free(source);
        zip_discard(zip);
        return absl::InternalError(absl::StrCat(zip_path, ": cannot add ", e.prediction));
      }
      zip_set_file_compression(zip, index, ZIP_CM_STORE, 0);  // PNGs are compressed already.
    }
    if (zip_close(zip) != 0) {
      const std::string why = zip_strerror(zip);
      zip_discard(zip);
      return OutputError(absl::InternalError(absl::StrCat(zip_path, ": cannot write: ", why)));
    }
    std::error_code ec;
    size = static_cast<int64_t>(fs::file_size(tmp, ec));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return size;
}

absl::StatusOr<std::pair<size_t, int64_t>> MakeSubmission(
    const std::vector<std::string>& test_images, const std::string& pred_dir, PredictionIds ids,
    const std::string& zip_path) {
  std::error_code ec;
  if (!fs::is_directory(pred_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(pred_dir, ": no such directory"));
  }
  const SubmissionCheck check = CheckPredictions(test_images, pred_dir, ids);
  if (!check.ok()) {
    // The one error line names the first problem and what they add up to; the others come
    // first, as warnings.
    const std::vector<std::string> problems = DescribeProblems(check);
    for (size_t i = 1; i < problems.size(); ++i) {
      std::fprintf(stderr, "warning: %s\n", problems[i].c_str());
    }
    return absl::FailedPreconditionError(
        absl::StrCat(problems[0], "; ", pred_dir, ": submission refused: ", check.missing.size(),
                     " missing, ", check.extra.size(), " extra, ", check.wrong.size(),
                     " wrong (of ", test_images.size(), " test images); nothing written"));
  }
  absl::StatusOr<int64_t> bytes = WriteSubmissionZip(zip_path, check.entries, ids);
  if (!bytes.ok()) return bytes.status();
  return std::make_pair(check.entries.size(), *bytes);
}

}  // namespace ann
