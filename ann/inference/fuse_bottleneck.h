// Rewrite: the bottleneck of AFNB / APNB, bottleneck(cat(sum_i out_project_i(a_i), feats)),
// becomes one 1x1 convolution of cat(a_1..a_n, feats) (the attention maps a_i and the features):
// every stage ends in out_project, a 1x1 conv W_o,i (+ b_o,i), and the bottleneck starts with a
// 1x1 conv [W_c | W_f] (+ b) whose columns W_c read the context, so
//   conv(cat(a_1..a_n, feats), [W_c W_o,1 | ... | W_c W_o,n | W_f]) + W_c sum_i b_o,i + b
// is the same function (FuseBottleneckWeights, in float64). Applied where the attention is
// narrower than the context (ANN's 256 against 2048 channels): AFNB's bottleneck then reads 2304
// channels instead of 4096 and the context is never materialised.
#ifndef ANN_INFERENCE_FUSE_BOTTLENECK_H_
#define ANN_INFERENCE_FUSE_BOTTLENECK_H_

#include "ann/inference/rewrite.h"

namespace ann {

class FuseBottleneckRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

// Fuses every such bottleneck; returns how many.
int FuseBottlenecks(Graph& graph);

}  // namespace ann

#endif  // ANN_INFERENCE_FUSE_BOTTLENECK_H_
