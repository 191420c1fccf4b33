// ADE20K (SceneParsing ADEChallengeData2016): checks images/{training,validation}/*.jpg against
// annotations/…/*.png (one label per image, same size, values 0..150 with 0 = other, which
// readers drop through reduce_zero_label), mirrors them into DST and writes train.txt / val.txt.
#ifndef DATASETS_ADE20K_H_
#define DATASETS_ADE20K_H_

#include "absl/status/status.h"
#include "datasets/preprocess.h"

namespace ann {

absl::Status PreprocessAde20k(const PreprocessOptions& options);

}  // namespace ann

#endif  // DATASETS_ADE20K_H_
