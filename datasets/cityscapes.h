// Cityscapes: leftImg8bit/<split>/<city>/*_leftImg8bit.png and gtFine/<split>/<city>/
// *_gtFine_{labelIds,instanceIds,color}.png → mmseg's layout with *_gtFine_labelTrainIds.png
// (255 = ignore) beside them, and <split>.txt lists of "<city>/<stem>".
#ifndef DATASETS_CITYSCAPES_H_
#define DATASETS_CITYSCAPES_H_

#include "absl/status/status.h"
#include "datasets/preprocess.h"

namespace ann {

// Converts a raw Cityscapes download (see the file comment).
absl::Status PreprocessCityscapes(const PreprocessOptions& options);

}  // namespace ann

#endif  // DATASETS_CITYSCAPES_H_
