// The on-disk training layouts (mmseg's), spelled once: the readers (ann/data/dataset) and the
// writers (datasets/, ann_preprocess) build every path with these functions.
//   cityscapes      ROOT/leftImg8bit/<split>/<city>/<id>_leftImg8bit.png,
//                   ROOT/gtFine/<split>/<city>/<id>_gtFine_{labelTrainIds,labelIds,instanceIds,
//                   color}.png, ROOT/<split>.txt listing "<city>/<id>".
//   ade20k          ROOT/{images,annotations}/{training,validation}/<id>.{jpg,png},
//                   ROOT/<split>.txt.
//   voc_aug         ROOT/JPEGImages, ROOT/SegmentationClass (VOC's palette PNGs),
//                   ROOT/SegmentationClassAug (SBD's .mat as index PNGs), ROOT/ImageSets/
//                   Segmentation/{train,val,aug,trainaug}.txt (mmseg 0.30's voc_aug.py).
//   pascal_context  ROOT/{JPEGImages,SegmentationClassContext},
//                   ROOT/ImageSets/SegmentationContext/{train,val}.txt.
// Split lists hold one id per line.
#ifndef ANN_DATA_LAYOUT_H_
#define ANN_DATA_LAYOUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ann::layout {

// Cityscapes file name endings.
inline constexpr char kCityscapesImageSuffix[] = "_leftImg8bit.png";
inline constexpr char kCityscapesTrainIdSuffix[] = "_gtFine_labelTrainIds.png";
inline constexpr char kCityscapesLabelIdSuffix[] = "_gtFine_labelIds.png";
inline constexpr char kCityscapesInstanceSuffix[] = "_gtFine_instanceIds.png";
inline constexpr char kCityscapesColorSuffix[] = "_gtFine_color.png";
inline constexpr char kCityscapesPolygonsSuffix[] = "_gtFine_polygons.json";

// ROOT/leftImg8bit/<split>.
std::string CityscapesImageDir(const std::string& root, const std::string& split);
// ROOT/gtFine/<split>.
std::string CityscapesLabelDir(const std::string& root, const std::string& split);
// ROOT/leftImg8bit/<split>/<id>_leftImg8bit.png.
std::string CityscapesImage(const std::string& root, const std::string& split,
                            const std::string& id);
// ROOT/gtFine/<split>/<id><suffix>, suffix one of the kCityscapes*Suffix label endings.
std::string CityscapesLabel(const std::string& root, const std::string& split,
                            const std::string& id, const char* suffix);

// "training" or "validation" (ADE20K's folder of a split).
std::string Ade20kFolder(const std::string& split);
// ROOT/images/<folder>.
std::string Ade20kImageDir(const std::string& root, const std::string& split);
// ROOT/annotations/<folder>.
std::string Ade20kLabelDir(const std::string& root, const std::string& split);

// The label folders of VOC-style trees.
inline constexpr char kVocClass[] = "SegmentationClass";           // VOC's own (palette PNGs)
inline constexpr char kVocAug[] = "SegmentationClassAug";          // SBD's, converted
inline constexpr char kVocContext[] = "SegmentationClassContext";  // PASCAL Context

// ROOT/JPEGImages/<id>.jpg (VOC and PASCAL Context).
std::string VocImage(const std::string& root, const std::string& id);
// ROOT/<folder>/<id>.png, folder one of kVocClass, kVocAug, kVocContext.
std::string VocLabel(const std::string& root, const char* folder, const std::string& id);
// ROOT/ImageSets/Segmentation or ROOT/ImageSets/SegmentationContext.
std::string VocListDir(const std::string& root, bool context);

// ROOT/<split>.txt (Cityscapes, ADE20K).
std::string SplitList(const std::string& root, const std::string& split);

// Ids of a split list file, one per line (blank lines and surrounding spaces ignored).
absl::StatusOr<std::vector<std::string>> ReadSplitList(const std::string& path);
// Writes a split list atomically.
absl::Status WriteSplitList(const std::string& path, const std::vector<std::string>& ids);

}  // namespace ann::layout

#endif  // ANN_DATA_LAYOUT_H_
