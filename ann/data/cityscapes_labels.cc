#include "ann/data/cityscapes_labels.h"

#include <cstring>

namespace ann {

const std::vector<CityscapesLabel>& CityscapesLabels() {
  static const auto* labels = new std::vector<CityscapesLabel>{
      {"unlabeled", 0, 255, "void", 0, false, {0, 0, 0}},
      {"ego vehicle", 1, 255, "void", 0, false, {0, 0, 0}},
      {"rectification border", 2, 255, "void", 0, false, {0, 0, 0}},
      {"out of roi", 3, 255, "void", 0, false, {0, 0, 0}},
      {"static", 4, 255, "void", 0, false, {0, 0, 0}},
      {"dynamic", 5, 255, "void", 0, false, {111, 74, 0}},
      {"ground", 6, 255, "void", 0, false, {81, 0, 81}},
      {"road", 7, 0, "flat", 1, false, {128, 64, 128}},
      {"sidewalk", 8, 1, "flat", 1, false, {244, 35, 232}},
      {"parking", 9, 255, "flat", 1, false, {250, 170, 160}},
      {"rail track", 10, 255, "flat", 1, false, {230, 150, 140}},
      {"building", 11, 2, "construction", 2, false, {70, 70, 70}},
      {"wall", 12, 3, "construction", 2, false, {102, 102, 156}},
      {"fence", 13, 4, "construction", 2, false, {190, 153, 153}},
      {"guard rail", 14, 255, "construction", 2, false, {180, 165, 180}},
      {"bridge", 15, 255, "construction", 2, false, {150, 100, 100}},
      {"tunnel", 16, 255, "construction", 2, false, {150, 120, 90}},
      {"pole", 17, 5, "object", 3, false, {153, 153, 153}},
      {"polegroup", 18, 255, "object", 3, false, {153, 153, 153}},
      {"traffic light", 19, 6, "object", 3, false, {250, 170, 30}},
      {"traffic sign", 20, 7, "object", 3, false, {220, 220, 0}},
      {"vegetation", 21, 8, "nature", 4, false, {107, 142, 35}},
      {"terrain", 22, 9, "nature", 4, false, {152, 251, 152}},
      {"sky", 23, 10, "sky", 5, false, {70, 130, 180}},
      {"person", 24, 11, "human", 6, true, {220, 20, 60}},
      {"rider", 25, 12, "human", 6, true, {255, 0, 0}},
      {"car", 26, 13, "vehicle", 7, true, {0, 0, 142}},
      {"truck", 27, 14, "vehicle", 7, true, {0, 0, 70}},
      {"bus", 28, 15, "vehicle", 7, true, {0, 60, 100}},
      {"caravan", 29, 255, "vehicle", 7, true, {0, 0, 90}},
      {"trailer", 30, 255, "vehicle", 7, true, {0, 0, 110}},
      {"train", 31, 16, "vehicle", 7, true, {0, 80, 100}},
      {"motorcycle", 32, 17, "vehicle", 7, true, {0, 0, 230}},
      {"bicycle", 33, 18, "vehicle", 7, true, {119, 11, 32}},
  };
  return *labels;
}

const std::array<uint8_t, 256>& LabelIdToTrainId() {
  static const std::array<uint8_t, 256> table = [] {
    std::array<uint8_t, 256> t;
    t.fill(255);
    for (const CityscapesLabel& l : CityscapesLabels()) t[l.id] = static_cast<uint8_t>(l.train_id);
    return t;
  }();
  return table;
}

const std::array<uint8_t, 256>& TrainIdToLabelId() {
  static const std::array<uint8_t, 256> table = [] {
    std::array<uint8_t, 256> t;
    t.fill(0);
    for (const CityscapesLabel& l : CityscapesLabels()) {
      if (l.train_id != 255) t[l.train_id] = static_cast<uint8_t>(l.id);
    }
    return t;
  }();
  return table;
}

std::vector<std::string> CityscapesClassNames() {
  std::vector<std::string> names(19);
  for (const CityscapesLabel& l : CityscapesLabels()) {
    if (l.train_id != 255) names[l.train_id] = l.name;
  }
  return names;
}

const std::vector<std::string>& CityscapesCategoryNames() {
  static const auto* names = new std::vector<std::string>{
      "flat", "construction", "object", "nature", "sky", "human", "vehicle"};
  return *names;
}

int CityscapesCategoryOfTrainId(int train_id) {
  for (const CityscapesLabel& l : CityscapesLabels()) {
    if (l.train_id == train_id) return l.category_id - 1;  // void (0) has no evaluated class.
  }
  return -1;
}

double CityscapesAverageInstanceSize(int train_id) {
  switch (train_id) {
    case 11:
      return 3462.4756337644;  // person
    case 12:
      return 3930.4788056518;  // rider
    case 13:
      return 12794.0202738185;  // car
    case 14:
      return 27855.1264367816;  // truck
    case 15:
      return 35732.1511111111;  // bus
    case 16:
      return 67583.7075812274;  // train
    case 17:
      return 6298.7200839748;  // motorcycle
    case 18:
      return 4672.3249222261;  // bicycle
    default:
      return 0.0;
  }
}

}  // namespace ann
