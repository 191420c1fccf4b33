#include "datasets/datasets.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ann/data/dataset_file.h"
#include "ann/util/status_macros.h"
#include "datasets/ade20k.h"
#include "datasets/cityscapes.h"
#include "datasets/custom.h"
#include "datasets/pascal_context.h"
#include "datasets/toy_cityscapes.h"
#include "datasets/toy_custom.h"
#include "datasets/voc_aug.h"

namespace ann {

absl::Status Preprocess(const std::string& dataset, const PreprocessOptions& options) {
  if (options.dst.empty()) return absl::InvalidArgumentError("--dst is required");
  if (dataset == "toy_cityscapes") return GenerateToyCityscapes(options);
  if (dataset == "toy_custom") return GenerateToyCustom(options);
  if (options.src.empty()) return absl::InvalidArgumentError("--src is required");
  std::error_code ec;
  if (!std::filesystem::is_directory(options.src, ec)) {
    return absl::NotFoundError(absl::StrCat(options.src, ": no such directory"));
  }
  if (dataset == "cityscapes") return PreprocessCityscapes(options);
  if (dataset == "ade20k") return PreprocessAde20k(options);
  if (dataset == "voc_aug") return PreprocessVocAug(options);
  if (dataset == "pascal_context") return PreprocessPascalContext(options);
  if (dataset == "custom") {
    if (options.dataset_file.empty()) {
      return absl::InvalidArgumentError("--dataset_file: --dataset=custom needs its description");
    }
    ANN_ASSIGN_OR_RETURN(DatasetInfo info, ReadDatasetFile(options.dataset_file));
    return PreprocessCustom(info, options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--dataset: unknown dataset '", dataset,
      "' (expected cityscapes, ade20k, voc_aug, pascal_context, custom, toy_cityscapes or "
      "toy_custom)"));
}

}  // namespace ann
