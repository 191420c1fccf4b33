#include "ann/quant/calibrate.h"

#include <algorithm>

#include "ann/io/image.h"
#include "ann/quant/calibration.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::Status CalibrateExecutor(Int8Executor& executor, const std::vector<std::string>& images,
                               const std::function<absl::Status(const std::string&)>& observe_image,
                               const std::string& checkpoint_path, const std::string& out_path) {
  if (images.empty()) return absl::InvalidArgumentError("--images: no images to calibrate on");
  ANN_ASSIGN_OR_RETURN(const std::string sha256, FileSha256(checkpoint_path));
  Progress progress("calibrate", static_cast<int64_t>(images.size()),
                    std::max<int64_t>(1, static_cast<int64_t>(images.size()) / 10));
  for (const std::string& path : images) {
    ANN_RETURN_IF_ERROR(observe_image(path));
    progress.Advance(1, FileStem(path));
  }
  progress.Finish();
  Calibration calibration = executor.calibration();
  calibration.checkpoint_sha256 = sha256;
  calibration.images = static_cast<int64_t>(images.size());
  return WriteCalibration(out_path, calibration);
}

}  // namespace ann
