// The number format a network runs in: the one precision enum of the code base. Training uses
// fp32, bf16 (mixed, autocast) and fp64; inference runs the model as loaded (`exact`, no
// precision) or its inference graph in fp32, bf16 or int8 (ann/inference, ann/quant).
#ifndef ANN_UTIL_PRECISION_H_
#define ANN_UTIL_PRECISION_H_

#include "absl/strings/string_view.h"

namespace ann {

enum class Precision {
  kFp32,  // float32
  kBf16,  // bfloat16 (accumulation, softmax and logits in float32)
  kFp64,  // float64 (training only: a reference for the float32 arithmetic)
  kInt8,  // 8-bit codes with float scales (inference only, after calibration)
};

// "fp32", "bf16", "fp64" or "int8": the flags' spelling.
inline absl::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp64:
      return "fp64";
    case Precision::kInt8:
      return "int8";
  }
  return "?";
}

}  // namespace ann

#endif  // ANN_UTIL_PRECISION_H_
