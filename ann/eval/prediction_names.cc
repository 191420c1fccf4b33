#include "ann/eval/prediction_names.h"

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace ann {
namespace fs = std::filesystem;

namespace {

// Names held by more than one image.
std::set<std::string> Repeated(const std::vector<std::string>& names) {
  std::map<std::string, int> count;
  for (const std::string& name : names) ++count[name];
  std::set<std::string> more;
  for (const auto& [name, n] : count) {
    if (n > 1) more.insert(name);
  }
  return more;
}

// `path` relative to `root`, extension removed; lexical, so that links inside the tree keep the
// path they were reached by.
std::string RelativeName(const std::string& path, const std::string& root) {
  return fs::path(path)
      .lexically_normal()
      .lexically_relative(fs::path(root).lexically_normal())
      .replace_extension()
      .string();
}

}  // namespace

std::string CommonFolder(const std::vector<std::string>& images) {
  if (images.empty()) return "";
  fs::path common = fs::path(images[0]).lexically_normal().parent_path();
  for (const std::string& image : images) {
    const fs::path path = fs::path(image).lexically_normal();
    while (!common.empty() && path.lexically_relative(common).string().rfind("..", 0) == 0) {
      common = common.parent_path();
    }
  }
  return common.string();
}

std::vector<std::string> PredictionNames(const std::vector<std::string>& images,
                                         const std::string& root) {
  std::vector<std::string> names;
  for (const std::string& path : images) names.push_back(fs::path(path).stem().string());
  if (Repeated(names).empty()) return names;
  const std::string base = root.empty() ? CommonFolder(images) : root;
  for (size_t i = 0; i < images.size(); ++i) names[i] = RelativeName(images[i], base);
  const std::set<std::string> same_folder = Repeated(names);
  for (size_t i = 0; i < images.size(); ++i) {
    if (same_folder.count(names[i])) {
      names[i] += "_" + fs::path(images[i]).extension().string().substr(1);
    }
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> FindPredictions(const std::string& pred_dir,
                                                         const std::vector<std::string>& images,
                                                         const std::string& root) {
  const std::vector<std::string> names = PredictionNames(images, root);
  std::vector<std::string> files;
  std::error_code ec;
  const std::string base = root.empty() ? CommonFolder(images) : root;
  for (size_t i = 0; i < images.size(); ++i) {
    std::string file = absl::StrCat(pred_dir, "/", names[i], ".png");
    // A run over a folder where stems repeat names by relative path: an image whose stem is
    // unique among `images` may still have been written that way.
    const std::string relative = absl::StrCat(pred_dir, "/", RelativeName(images[i], base), ".png");
    if (relative != file && fs::exists(relative, ec)) {
      if (fs::exists(file, ec)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--pred_dir: ", file, " and ", relative, " could both be the prediction of ", images[i],
            " (runs over different sets of images?); keep one"));
      }
      file = relative;
    }
    if (!fs::exists(file, ec)) {
      return absl::NotFoundError(
          absl::StrCat("--pred_dir: ", file, ": no prediction for ", images[i]));
    }
    files.push_back(file);
  }
  return files;
}

}  // namespace ann
