// Image files through OpenCV: decoding with clear errors, atomic PNG output, listing the images a
// user points at (a file, a directory or a glob), and tensor conversion.
#ifndef ANN_IO_IMAGE_H_
#define ANN_IO_IMAGE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opencv2/core.hpp"
#include "torch/torch.h"

namespace ann {

// The most pixels an image file may have (2^27, e.g. 16384x8192; Cityscapes has 2^21): larger
// ones are refused from their header, before decoding.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 27;

// Checks an encoded image before it is decoded, so that a bad file gets one clear error rather
// than a decoder's partial result or its own stderr lines. PNG: every chunk's CRC, an IHDR and an
// IEND (a cut file has none); JPEG: a frame header and the end-of-image marker (OpenCV decodes a
// cut JPEG, grey-filled, with a warning of libjpeg's); both: at most kMaxImagePixels. Other
// formats are left to OpenCV. Errors start with `path`.
absl::Status CheckEncodedImage(const std::string& path, const std::vector<unsigned char>& bytes);

// Reads a colour image as 8-bit BGR. Errors name the file: missing, or not a decodable image.
absl::StatusOr<cv::Mat> ReadColorImage(const std::string& path);

// Reads a label image unchanged, as PIL (and so mmseg) reads masks: a palette ("P" mode) PNG
// gives its indices, whatever its palette; others their stored values (8 or 16-bit, 1-4
// channels). Errors name the file.
absl::StatusOr<cv::Mat> ReadLabelImage(const std::string& path);

// Writes `image` (format from the extension) through a temporary file and a rename.
absl::Status WriteImage(const std::string& path, const cv::Mat& image);

// Expands `spec` into image paths, sorted: an image file, a directory (its image files, in
// sub-folders too, except under the folders in `skip`: outputs written inside the input tree)
// or a glob pattern. Errors if nothing matches.
absl::StatusOr<std::vector<std::string>> ListImages(const std::string& spec,
                                                    const std::vector<std::string>& skip = {});

// [H, W, C] uint8 tensor sharing nothing with `image`.
torch::Tensor ImageToTensor(const cv::Mat& image);

// A uint8 [H, W] label map as a single-channel Mat (copied).
cv::Mat LabelTensorToMat(const torch::Tensor& labels);

// File name without directory and extension ("a/b/x_leftImg8bit.png" -> "x_leftImg8bit").
std::string FileStem(const std::string& path);

}  // namespace ann

#endif  // ANN_IO_IMAGE_H_
