// ONNX export of the segmentor for other runtimes (ONNX Runtime, TensorRT, OpenVINO, mmdeploy's
// SDK), written with Debian's ONNX library (its protobuf messages, the checker and full shape
// inference) at opset 13.
//
// The graph is the model as loaded, in eval mode, with every BatchNorm folded into its
// convolution (in float64): input `input` float32 [N, 3, H, W], normalised as the config says;
// output `logits` float32 [N, K, H, W] (the decode head's, bilinearly resized to the input as
// our Predict does), and with `with_argmax` also `labels` int64 [N, H, W]. With `dynamic`, N, H
// and W are free; else they are fixed.
//
// Pyramid sampling is adaptive average pooling to 1, 3, 6 and 8 cells, which ONNX has no
// operator for unless the cells divide the map. Here each scale p is two averaging matrices
// built from the runtime size L (H or W): A[i, l] = 1 / (end_i - start_i) for start_i <= l <
// end_i, start_i = floor(i L / p), end_i = ceil((i + 1) L / p), the windows of adaptive pooling,
// overlapping where p does not divide L; pooled = A_H X A_W^T. A window's mean is the product of
// its row and column means, so this equals adaptive average pooling for every size (up to
// float32 rounding of the sums), with static and dynamic shapes alike.
//
// With a calibration the file is int8 in the QDQ form (ONNX Runtime's, TensorRT's and OpenVINO's
// input for quantized models): the computation of ann's int8 forward (Int8Executor) on the same
// inference graph, every tensor it quantizes passed through QuantizeLinear / DequantizeLinear
// with the calibration's scale and zero point (uint8, per tensor), every int8 convolution's
// weights as int8 codes per output channel (symmetric, -63..63: 7 bits, as ONNX Runtime's
// reduce_range, so that no runtime's u8 x s8 kernels saturate on CPUs without VNNI, and as ann
// runs there) and its bias as int32 codes at the input's scale times the weight's. Kept in
// float as ann keeps them: the attention (after int8 projections), the composed bottleneck's
// chunk sum and border bias (the latter a convolution of a map of ones), the classifier, the
// resize.
//
// The preprocessing a deployment needs is in the file's metadata_props (what mmdeploy keeps in
// pipeline.json): mean, std, channel_order, classes, palette, test_scale, ignore_index, ...
#ifndef ANN_EXPORT_ONNX_EXPORT_H_
#define ANN_EXPORT_ONNX_EXPORT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "ann/config/config.h"
#include "ann/model/segmentor.h"
#include "ann/quant/calibration.h"
#include "opencv2/core.hpp"

namespace ann {

struct OnnxExportOptions {
  bool dynamic = false;      // free N, H, W
  cv::Size input{512, 512};  // WIDTHxHEIGHT of a static file
  int batch = 1;             // N of a static file
  bool with_argmax = false;  // also output `labels`
  // int8 (QDQ) with these activation ranges under `observer`; null: float32.
  std::shared_ptr<const Calibration> calibration;
  Observer observer = Observer::kMinMax;
};

// Exports `model` (loaded, any mode: it is put in eval mode) under `config` to `path`: the file is
// written under a temporary name, checked (onnx::checker, full shape inference, strict) and
// renamed into place. Returns a one-line summary (nodes, initializers, bytes).
absl::StatusOr<std::string> ExportOnnx(EncoderDecoder& model, const Config& config,
                                       const OnnxExportOptions& options, const std::string& path);

}  // namespace ann

#endif  // ANN_EXPORT_ONNX_EXPORT_H_
