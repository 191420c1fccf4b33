// The two published implementations of ANN: mmseg's ann_r50-d8 configs (the default) and the
// authors' torchcv code. The variant sets the network (ann/model/model_config.h), the input
// normalisation (ann/data/normalize.h) and the training pipeline (ann/data/transforms.h).
#ifndef ANN_UTIL_VARIANT_H_
#define ANN_UTIL_VARIANT_H_

#include <string>

namespace ann {

enum class Variant {
  kMmseg,     // mmsegmentation's ANNHead on ResNetV1c.
  kOriginal,  // The authors' torchcv code: wider stem, conv biases, 0.05 dropout inside blocks.
};

// "mmseg" or "original": the --variant spelling.
inline std::string VariantName(Variant variant) {
  return variant == Variant::kOriginal ? "original" : "mmseg";
}

}  // namespace ann

#endif  // ANN_UTIL_VARIANT_H_
