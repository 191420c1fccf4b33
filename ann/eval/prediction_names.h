// The one rule that names an image's prediction files, used by every tool that writes or reads
// them (ann_test's labels, overlays and scores, ann_eval's --show_dir overlays and --pred_dir
// lookups), so that what one tool writes the other finds, whatever the sub-folders.
#ifndef ANN_EVAL_PREDICTION_NAMES_H_
#define ANN_EVAL_PREDICTION_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ann {

// The name (no extension, '/' between sub-folders) of each image's outputs: its stem when all
// stems differ; otherwise its path relative to `root` (the folder that was scanned; "" for the
// images' common folder), sub-folders mirrored, and where one folder holds the same stem twice
// (y.jpg, y.png) the extension kept after an underscore (y_jpg, y_png).
std::vector<std::string> PredictionNames(const std::vector<std::string>& images,
                                         const std::string& root = "");

// The folder the images were found under: the longest one that holds them all.
std::string CommonFolder(const std::vector<std::string>& images);

// The label PNG of each image under `pred_dir` (as ann_test wrote them for the same images and
// root): <pred_dir>/<PredictionNames>.png. Fails naming both files when a stem name is used
// but the image's relative-path name exists too (two runs over different image sets wrote into
// one folder: either could be the prediction), and naming the file when it is missing.
absl::StatusOr<std::vector<std::string>> FindPredictions(const std::string& pred_dir,
                                                         const std::vector<std::string>& images,
                                                         const std::string& root);

}  // namespace ann

#endif  // ANN_EVAL_PREDICTION_NAMES_H_
