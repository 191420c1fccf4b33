// The inference graph: the network's topology written once, as data. A model (ann/model, the
// module tree as mmseg defines it) is turned into a Graph by BuildModelGraph (model_graph.h);
// the inference form's folding and fusions are rewrites of the graph (fold_batch_norm.h, ...),
// and every backend reads the graph instead of walking the modules: the FLOP counter
// (ann/efficiency), the ONNX writer (ann/export), the LibTorch reference executor
// (torch_executor.h). This is the shape of ONNX Runtime's core/graph and core/optimizer: a graph
// built once, small rewrites over it, providers that claim the nodes they can run.
//
// Nodes are kept in topological order (every node's inputs come before it) and named by the
// module path that produces them in the model's state_dict ("backbone.layer1.0.conv1"), so a
// node, a FLOP row, a calibration range and a checkpoint key share one name.
#ifndef ANN_INFERENCE_GRAPH_H_
#define ANN_INFERENCE_GRAPH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ann/inference/border_bias.h"
#include "torch/torch.h"

namespace ann {

// A tensor shape, outermost dimension first.
using Shape = std::vector<int64_t>;

enum class NodeKind {
  kInput,      // a graph input: the image batch [N, 3, H, W] (a block's graph: its features)
  kConv,       // conv2d of the inputs' channel concatenation, + bias, + residual, then ReLU
  kBatchNorm,  // eval-mode BatchNorm2d (until FoldBatchNorm)
  kRelu,       // (until folded into the conv before it)
  kAdd,        // element-wise sum of the inputs
  kMaxPool,    // max pooling, `kernel` / `stride` / `padding`, `ceil_mode`
  kConcat,     // channel concatenation of the inputs
  kAttention,  // attention of query map (input 0) over key and value maps (inputs 1, 2), see below
  kResize,     // bilinear resize of input 0 to the image's (input 1) height and width, float32
};

// The name of a kind ("conv", "batch_norm", ...), for messages.
const char* NodeKindName(NodeKind kind);

// One operation. Fields beyond `kind`, `name` and `inputs` belong to the kinds named.
struct GraphNode {
  NodeKind kind = NodeKind::kInput;
  std::string name;
  std::vector<int> inputs;  // node indices, all below this node's

  // kConv: weight [O, sum of the inputs' channels, kh, kw], bias [O] or undefined; the border
  // bias of a composed convolution (compose_bottleneck.h) or null; then the residual (a node of
  // the output's shape, or -1) is added and the ReLU applied. Rewrites leave weights in float32
  // (folded) or float64 (fused, composed); executors convert them once.
  // kBatchNorm: weight (gamma), bias (beta), running mean and variance, eps.
  torch::Tensor weight, bias, running_mean, running_var;
  double eps = 1e-5;
  std::array<int64_t, 2> stride = {1, 1}, padding = {0, 0}, dilation = {1, 1};
  bool relu = false;
  int residual = -1;
  std::shared_ptr<const BorderBias> border;

  // kMaxPool (stride and padding above).
  std::array<int64_t, 2> kernel = {1, 1};
  bool ceil_mode = false;

  // kAttention: `channels` wide query, key and value maps; keys and values are the pyramid
  // pooling of the key and value maps at `pool_scales` (ANN's anchors; mmseg's PPMConcat), or
  // every position when `pool_scales` is empty (a standard non-local block). The output is
  // softmax(query . key / sqrt(channels)) . value at the query's positions, [N, channels, h, w].
  int64_t channels = 0;
  std::vector<int64_t> pool_scales;

  // kResize.
  bool align_corners = false;
};

// The nodes in topological order and the outputs (the decode head's logits first).
class Graph {
 public:
  // Appends `node` (its inputs must exist) and returns its index.
  int Add(GraphNode node);
  // Appends a kInput node.
  int AddInput(const std::string& name);
  const GraphNode& node(int index) const { return nodes_[index]; }
  GraphNode& mutable_node(int index) { return nodes_[index]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  const std::vector<GraphNode>& nodes() const { return nodes_; }

  const std::vector<int>& outputs() const { return outputs_; }
  void AddOutput(int index) { outputs_.push_back(index); }

  // The nodes that read `index` (as an input or a residual), in order.
  std::vector<int> Consumers(int index) const;
  // Makes every reader of `from` (and an output that is `from`) read `to` instead.
  void ReplaceUses(int from, int to);
  // Drops the nodes no output depends on (inputs are kept), renumbering the rest.
  void RemoveUnused();

  // The output shape of every node, the k-th kInput node's being inputs[k]. Throws (TORCH_CHECK)
  // on a node whose inputs do not fit it, naming the node.
  std::vector<Shape> InferShapes(const std::vector<Shape>& inputs) const;

 private:
  std::vector<GraphNode> nodes_;
  std::vector<int> outputs_;
};

// One line per node: index, kind, name, inputs and the kind's attributes (for tests and
// debugging).
std::string DescribeGraph(const Graph& graph);

}  // namespace ann

#endif  // ANN_INFERENCE_GRAPH_H_
