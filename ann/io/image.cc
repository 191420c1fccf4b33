#include "ann/io/image.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ann/util/atomic_file.h"
#include "ann/util/files.h"
#include "opencv2/imgcodecs.hpp"

namespace ann {
namespace {

bool IsImageFile(const std::filesystem::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
         ext == ".tiff" || ext == ".webp";
}

absl::StatusOr<cv::Mat> Decode(const std::string& path, int flags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(path, ": empty file"));
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, flags);
  } catch (const cv::Exception&) {
    image.release();
  }
  if (image.empty()) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a decodable image (corrupt or truncated)"));
  }
  return image;
}

}  // namespace

absl::StatusOr<cv::Mat> ReadColorImage(const std::string& path) {
  return Decode(path, cv::IMREAD_COLOR);
}

absl::StatusOr<cv::Mat> ReadLabelImage(const std::string& path) {
  return Decode(path, cv::IMREAD_UNCHANGED);
}

absl::Status WriteImage(const std::string& path, const cv::Mat& image) {
  // Encoded in memory and written with checked calls: cv::imwrite reports success on a full disk
  // and leaves a 0-byte file.
  std::vector<uchar> bytes;
  try {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (!cv::imencode(ext.empty() ? ".png" : ext, image, bytes)) bytes.clear();
  } catch (const cv::Exception&) {
    bytes.clear();
  }
  if (bytes.empty()) return absl::InternalError(absl::StrCat(path, ": cannot encode image"));
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    CheckedFile file(tmp);
    file.Write(bytes.data(), bytes.size());
    return file.Close(path);
  });
}

absl::StatusOr<std::vector<std::string>> ListImages(const std::string& spec) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (std::filesystem::is_directory(spec, ec)) {
    // Recursively: Cityscapes' leftImg8bit/val holds one folder per city.
    absl::StatusOr<std::vector<std::string>> files = ListFiles(spec, "", /*recursive=*/true);
    if (!files.ok()) return files.status();
    for (const std::string& file : *files) {
      if (IsImageFile(file)) paths.push_back(file);
    }
  } else if (std::filesystem::exists(spec, ec)) {
    paths.push_back(spec);
  } else {
    glob_t g;
    if (glob(spec.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        if (IsImageFile(g.gl_pathv[i])) paths.emplace_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
    if (paths.empty() && spec.find_first_of("*?[") == std::string::npos) {
      return absl::NotFoundError(absl::StrCat(spec, ": no such file or directory"));
    }
  }
  if (paths.empty()) return absl::NotFoundError(absl::StrCat(spec, ": no images found"));
  std::sort(paths.begin(), paths.end());
  return paths;
}

torch::Tensor ImageToTensor(const cv::Mat& image) {
  cv::Mat contiguous = image.isContinuous() ? image : image.clone();
  return torch::from_blob(contiguous.data,
                          {contiguous.rows, contiguous.cols, contiguous.channels()}, torch::kUInt8)
      .clone();
}

cv::Mat LabelTensorToMat(const torch::Tensor& labels) {
  torch::Tensor t = labels.to(torch::kUInt8).contiguous();
  cv::Mat view(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr());
  return view.clone();
}

std::string FileStem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace ann
