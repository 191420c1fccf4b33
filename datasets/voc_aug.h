// PASCAL VOC 2012 + SBD ("VOC aug"): VOC's palette PNGs (SegmentationClass) and SBD's
// cls/*.mat (MATLAB v5, GTcls.Segmentation, read with matio) become index PNGs in
// VOC2012/SegmentationClassAug; ImageSets/Segmentation/aug.txt is the trainaug list
// (VOC train ∪ SBD train ∪ SBD val) − VOC val (10,582 ids on the real data). Where both sources
// label an image, VOC's own annotation (with its 255 object borders) is used.
#ifndef DATASETS_VOC_AUG_H_
#define DATASETS_VOC_AUG_H_

#include <string>

#include "absl/status/statusor.h"
#include "datasets/preprocess.h"
#include "opencv2/core.hpp"

namespace ann {

// Converts VOC2012 and SBD into the aug layout (see the file comment).
absl::Status PreprocessVocAug(const PreprocessOptions& options);

// GTcls.Segmentation of an SBD .mat as an 8-bit HxW label image. Errors name the file.
absl::StatusOr<cv::Mat> ReadSbdMat(const std::string& path);

// A VOC SegmentationClass PNG (palette-mode, decoded by OpenCV to BGR colours, or already
// single-channel indices) as class indices 0..20 / 255. Unknown colours are errors.
absl::StatusOr<cv::Mat> ReadVocLabel(const std::string& path);

}  // namespace ann

#endif  // DATASETS_VOC_AUG_H_
