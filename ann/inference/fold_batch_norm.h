// Rewrite: a convolution followed by an eval-mode BatchNorm (its only reader) becomes one
// convolution with the BN folded into its weight and bias (computed in float64, stored in the
// weight's dtype). The first step of every inference form; the ONNX file is written from its
// result.
#ifndef ANN_INFERENCE_FOLD_BATCH_NORM_H_
#define ANN_INFERENCE_FOLD_BATCH_NORM_H_

#include "ann/inference/rewrite.h"

namespace ann {

class FoldBatchNormRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

// Folds every BatchNorm that follows a convolution; returns how many.
int FoldBatchNorm(Graph& graph);

}  // namespace ann

#endif  // ANN_INFERENCE_FOLD_BATCH_NORM_H_
