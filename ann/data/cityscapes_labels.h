// The Cityscapes label table (cityscapesScripts' labels.py): labelIds, trainIds, categories,
// colours and which classes have instances. The single source for preprocessing (labelId →
// trainId), evaluation (categories, iIoU classes) and submission (trainId → labelId).
#ifndef ANN_DATA_CITYSCAPES_LABELS_H_
#define ANN_DATA_CITYSCAPES_LABELS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ann {

// One row of cityscapesScripts' label table.
struct CityscapesLabel {
  const char* name;
  int id;        // labelId as stored in *_gtFine_labelIds.png.
  int train_id;  // 0..18, or 255 for classes not evaluated.
  const char* category;
  int category_id;
  bool has_instances;
  std::array<uint8_t, 3> color;  // RGB.
};

// All 34 labels with ids 0..33, in id order (license plate, id -1, is not stored in PNGs).
const std::vector<CityscapesLabel>& CityscapesLabels();

// 256-entry table: labelId → trainId; every id not in the table maps to 255.
const std::array<uint8_t, 256>& LabelIdToTrainId();
// 256-entry table: trainId → labelId for 0..18; 255 (and anything else) → 0 ("unlabeled").
const std::array<uint8_t, 256>& TrainIdToLabelId();

// The 19 evaluated class names in trainId order.
std::vector<std::string> CityscapesClassNames();

// The 7 categories of evaluated classes (flat, construction, object, nature, sky, human,
// vehicle) and, per trainId, the index of its category in that list.
const std::vector<std::string>& CityscapesCategoryNames();
// The index in CityscapesCategoryNames() of a trainId's category (-1 for 255).
int CityscapesCategoryOfTrainId(int train_id);

// Average instance size (pixels) per trainId for the 8 instance classes (cityscapesScripts'
// `instanceSizes`), 0 for classes without instances.
double CityscapesAverageInstanceSize(int train_id);

}  // namespace ann

#endif  // ANN_DATA_CITYSCAPES_LABELS_H_
