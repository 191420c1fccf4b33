// PASCAL VOC 2012 + SBD ("VOC aug") laid out as mmseg 0.30's tools/convert_datasets/voc_aug.py
// lays it out, so that mmseg's PascalVOCDataset and config read our tree and we read theirs:
// VOC's palette PNGs stay in VOC2012/SegmentationClass (checked, linked as they are); every
// SBD cls/*.mat (MATLAB v5, GTcls.Segmentation, read with matio) becomes an index PNG in
// VOC2012/SegmentationClassAug; ImageSets/Segmentation/aug.txt = SBD (train + val) − VOC
// (train + val) (9,118 ids on the real data) and trainaug.txt = VOC train + SBD − VOC val
// (10,582). Training reads train.txt from SegmentationClass plus aug.txt from
// SegmentationClassAug: the trainaug images, each with VOC's own label where VOC has one.
// SBD is found where mmseg's docs put it (VOCdevkit/VOCaug/dataset) or under SBD's own names.
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

// A VOC SegmentationClass PNG as class indices 0..20 / 255: a palette PNG's indices (as PIL
// and mmseg read it), or an RGB one mapped through VOC's colours (unknown colours are errors).
absl::StatusOr<cv::Mat> ReadVocLabel(const std::string& path);

}  // namespace ann

#endif  // DATASETS_VOC_AUG_H_
