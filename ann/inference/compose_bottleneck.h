// Rewrite: a fused bottleneck (a 1x1 convolution (F, f) of several inputs, fuse_bottleneck.h)
// followed by a size-keeping convolution (W, b) becomes one convolution of F's inputs: per tap t,
// W_t F is a convolution of F's input itself, and the bias is the map BorderBias describes. In
// ANN this is AFNB's output (its BN folded, no activation; dropouts are identities in eval) and
// the head's 3x3 bottleneck: at 512x1024 (R-50/101) the 1x1 conv's 77 GFLOP go and the 3x3 conv
// reads 2304 channels instead of 2048: 232 -> 174 GFLOP. Applied where it saves multiply-adds.
#ifndef ANN_INFERENCE_COMPOSE_BOTTLENECK_H_
#define ANN_INFERENCE_COMPOSE_BOTTLENECK_H_

#include "ann/inference/rewrite.h"

namespace ann {

class ComposeBottleneckRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

// Composes every such pair; returns how many.
int ComposeBottlenecks(Graph& graph);

}  // namespace ann

#endif  // ANN_INFERENCE_COMPOSE_BOTTLENECK_H_
