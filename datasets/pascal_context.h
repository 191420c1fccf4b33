// PASCAL Context (59 classes) from the PASCAL in Detail annotations (trainval_merged.json):
// per image, the segmentation annotations (COCO RLE) are painted in file order with their
// Detail category id, as the Detail API's getMask does, and the 60 benchmark ids are mapped to
// 0..59 (0 = background, dropped by reduce_zero_label when reading). Output:
// VOC2010/SegmentationClassContext/<id>.png and ImageSets/SegmentationContext/{train,val}.txt.
#ifndef DATASETS_PASCAL_CONTEXT_H_
#define DATASETS_PASCAL_CONTEXT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/preprocess.h"

namespace ann {

// Converts VOC2010 and the Detail annotations (see the file comment).
absl::Status PreprocessPascalContext(const PreprocessOptions& options);

// The 60 Detail category ids of the benchmark, ascending; index = stored label.
const std::vector<int>& PascalContextCategoryIds();

// COCO run-length decoding: `counts` alternate runs of 0 and 1 in column-major order over an
// h x w mask. Compressed strings (pycocotools' LEB128-like text) or plain count lists.
absl::StatusOr<std::vector<uint8_t>> DecodeRleString(const std::string& counts, int h, int w);
absl::StatusOr<std::vector<uint8_t>> DecodeRleCounts(const std::vector<int64_t>& counts, int h,
                                                     int w);

}  // namespace ann

#endif  // DATASETS_PASCAL_CONTEXT_H_
