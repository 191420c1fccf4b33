// Rewrite: a fused bottleneck (a 1x1 convolution (F, f) of several inputs, fuse_bottleneck.h)
// followed by a size-keeping convolution (W, b) becomes one convolution of F's inputs: per tap t,
// W_t F is a convolution of F's input itself, and the bias is the map BorderBias describes. In
// ANN this is AFNB's output (its BN folded, no activation; dropouts are identities in eval) and
// the head's 3x3 bottleneck: at 512x1024 (R-50/101) the 1x1 conv's 77 GFLOP go and the 3x3 conv
// reads 2304 channels instead of 2048: 232 -> 174 GFLOP. Applied where it saves multiply-adds.
#ifndef ANN_INFERENCE_COMPOSE_BOTTLENECK_H_
#define ANN_INFERENCE_COMPOSE_BOTTLENECK_H_

#include <cstdint>
#include <vector>

#include "ann/inference/graph.h"
#include "ann/inference/rewrite.h"

namespace ann {

class ComposeBottleneckRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

// Composes every such pair; returns how many.
int ComposeBottlenecks(Graph& graph);

// How executors run a composed convolution: one convolution per attention map (every input but
// the last) and per 512 channels of the features (the last input), summed in float32 (oneDNN's
// sum post-op), then the border bias. oneDNN 2.6 runs those faster than one convolution over
// 2304 channels, in bf16 and fp32 alike (measured on Intel AMX).
struct ConvChunk {
  size_t input;           // which of the node's inputs
  int64_t start, length;  // its channels
  int64_t offset;         // where they start among the weight's input channels
};
std::vector<ConvChunk> ComposedChunks(const Graph& graph, const GraphNode& node);

}  // namespace ann

#endif  // ANN_INFERENCE_COMPOSE_BOTTLENECK_H_
