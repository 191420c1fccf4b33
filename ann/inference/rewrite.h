// A rewrite of the inference graph: a pattern matched at one node and its replacement, as ONNX
// Runtime's core/optimizer writes its fusions. Each rewrite is a small class tested alone
// (fold_batch_norm.h, ...); ApplyRewrite runs one over a whole graph.
#ifndef ANN_INFERENCE_REWRITE_H_
#define ANN_INFERENCE_REWRITE_H_

#include "ann/inference/graph.h"

namespace ann {

class GraphRewrite {
 public:
  virtual ~GraphRewrite() = default;
  // Whether the pattern ends at node `index` (its last node).
  virtual bool Match(const Graph& graph, int index) const = 0;
  // Replaces the pattern ending at `index`: the nodes it leaves unread are dropped afterwards.
  virtual void Replace(Graph& graph, int index) const = 0;
};

// Whether `node` is a 1x1 convolution with stride 1 and no padding (whatever follows it inside).
bool IsPointwiseConv(const GraphNode& node);

// Replaces every match of `rewrite`, in node order, then drops the nodes nothing reads; returns
// the number of replacements.
int ApplyRewrite(Graph& graph, const GraphRewrite& rewrite);

}  // namespace ann

#endif  // ANN_INFERENCE_REWRITE_H_
