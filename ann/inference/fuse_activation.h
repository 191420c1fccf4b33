// Rewrites: what follows a convolution runs inside it (oneDNN's post-ops; one pass over the
// output instead of three). A residual sum, Add(conv, other), becomes the conv's `residual` and
// takes the sum's name (a residual block's output is named by its block); then a ReLU reading a
// convolution (with or without that sum) becomes its `relu`. Apply FuseResidual first: a sum
// cannot follow a ReLU already inside the conv.
#ifndef ANN_INFERENCE_FUSE_ACTIVATION_H_
#define ANN_INFERENCE_FUSE_ACTIVATION_H_

#include "ann/inference/rewrite.h"

namespace ann {

class FuseResidualRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

class FuseReluRewrite : public GraphRewrite {
 public:
  bool Match(const Graph& graph, int index) const override;
  void Replace(Graph& graph, int index) const override;
};

// Both, in that order; returns the number of replacements.
int FuseActivations(Graph& graph);

}  // namespace ann

#endif  // ANN_INFERENCE_FUSE_ACTIVATION_H_
