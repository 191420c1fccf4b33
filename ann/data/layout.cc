#include "ann/data/layout.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ann/util/atomic_file.h"

namespace ann::layout {

std::string CityscapesImageDir(const std::string& root, const std::string& split) {
  return absl::StrCat(root, "/leftImg8bit/", split);
}

std::string CityscapesLabelDir(const std::string& root, const std::string& split) {
  return absl::StrCat(root, "/gtFine/", split);
}

std::string CityscapesImage(const std::string& root, const std::string& split,
                            const std::string& id) {
  return absl::StrCat(CityscapesImageDir(root, split), "/", id, kCityscapesImageSuffix);
}

std::string CityscapesLabel(const std::string& root, const std::string& split,
                            const std::string& id, const char* suffix) {
  return absl::StrCat(CityscapesLabelDir(root, split), "/", id, suffix);
}

std::string Ade20kFolder(const std::string& split) {
  return split == "train" ? "training" : "validation";
}

std::string Ade20kImageDir(const std::string& root, const std::string& split) {
  return absl::StrCat(root, "/images/", Ade20kFolder(split));
}

std::string Ade20kLabelDir(const std::string& root, const std::string& split) {
  return absl::StrCat(root, "/annotations/", Ade20kFolder(split));
}

std::string VocImage(const std::string& root, const std::string& id) {
  return absl::StrCat(root, "/JPEGImages/", id, ".jpg");
}

std::string VocLabel(const std::string& root, const char* folder, const std::string& id) {
  return absl::StrCat(root, "/", folder, "/", id, ".png");
}

std::string VocListDir(const std::string& root, bool context) {
  return absl::StrCat(root, context ? "/ImageSets/SegmentationContext" : "/ImageSets/Segmentation");
}

std::string SplitList(const std::string& root, const std::string& split) {
  return absl::StrCat(root, "/", split, ".txt");
}

absl::StatusOr<std::vector<std::string>> ReadSplitList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open split list"));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view id = absl::StripAsciiWhitespace(line);
    if (!id.empty()) ids.emplace_back(id);
  }
  return ids;
}

absl::Status WriteSplitList(const std::string& path, const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) absl::StrAppend(&text, id, "\n");
  return WriteTextFile(path, text);
}

}  // namespace ann::layout
