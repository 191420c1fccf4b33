// The toolkit's version, written into checkpoints' meta (ann_version), ONNX files
// (producer_version) and training logs.
#ifndef ANN_UTIL_VERSION_H_
#define ANN_UTIL_VERSION_H_

namespace ann {

inline constexpr char kAnnVersion[] = "0.1.0";

}  // namespace ann

#endif  // ANN_UTIL_VERSION_H_
