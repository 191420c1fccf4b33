// The graph of a model as its modules compute it in eval mode (BatchNorm, ReLU and residual sums
// as nodes of their own, dropout left out): the only code outside ann/model that knows the
// network's topology. Weights are shared with the model, not copied; rewrites
// (fold_batch_norm.h, ...) replace them with new tensors and never change the model.
//
//   Graph graph = BuildModelGraph(*model);           // input 0: the normalised image
//   FoldBatchNorm(graph);
//   torch::Tensor logits = RunGraph(graph, {image})[0];
#ifndef ANN_INFERENCE_MODEL_GRAPH_H_
#define ANN_INFERENCE_MODEL_GRAPH_H_

#include <string>

#include "ann/inference/graph.h"
#include "ann/model/conv_module.h"
#include "ann/model/non_local.h"
#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"

namespace ann {

// EncoderDecoder::Predict as a graph: one input (the image batch), the decode head's logits
// resized to the input as output 0; with `auxiliary_head` (and a model that has one) also the
// auxiliary head's logits at feature resolution as output 1 (a training-time cost, counted by
// ann_efficiency on request).
Graph BuildModelGraph(const EncoderDecoderImpl& model, bool auxiliary_head = false);

// The parts, for graphs of single blocks (ann_efficiency --block). Each appends the module's
// nodes reading node `x` (and `key`) and returns its output node.
int AddConvModule(Graph& graph, const ConvModuleImpl& module, int x, const std::string& name);
// SelfAttentionBlock::forward(query, key): the projections, the attention, out_project.
int AddSelfAttentionBlock(Graph& graph, const SelfAttentionBlockImpl& block, int query, int key,
                          const std::string& name);
// NonLocalBlock::forward(x).
int AddNonLocalBlock(Graph& graph, const NonLocalBlockImpl& block, int x, const std::string& name);

}  // namespace ann

#endif  // ANN_INFERENCE_MODEL_GRAPH_H_
