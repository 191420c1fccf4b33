#include "ann/inference/model_graph.h"

#include "ann/model/ann_head.h"
#include "ann/model/data_parallel.h"
#include "ann/model/fcn_head.h"
#include "ann/model/resnet.h"

namespace ann {
namespace {

namespace nn = torch::nn;

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

std::array<int64_t, 2> Pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

int AddConv(Graph& graph, const nn::Conv2dImpl& conv, std::vector<int> inputs,
            const std::string& name) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  TORCH_CHECK(padding != nullptr && o.groups() == 1, name,
              ": only ungrouped convolutions with explicit padding have a graph node");
  GraphNode node;
  node.kind = NodeKind::kConv;
  node.name = name;
  node.inputs = std::move(inputs);
  node.weight = conv.weight;
  node.bias = conv.bias;
  node.stride = Pair(o.stride());
  node.padding = Pair(*padding);
  node.dilation = Pair(o.dilation());
  return graph.Add(std::move(node));
}

int AddBatchNorm(Graph& graph, const SyncBatchNormImpl& bn, int x, const std::string& name) {
  GraphNode node;
  node.kind = NodeKind::kBatchNorm;
  node.name = name;
  node.inputs = {x};
  node.weight = bn.weight;
  node.bias = bn.bias;
  node.running_mean = bn.running_mean;
  node.running_var = bn.running_var;
  node.eps = bn.options.eps();
  return graph.Add(std::move(node));
}

int AddSimple(Graph& graph, NodeKind kind, std::vector<int> inputs, const std::string& name) {
  GraphNode node;
  node.kind = kind;
  node.name = name;
  node.inputs = std::move(inputs);
  return graph.Add(std::move(node));
}

// A Sequential of Conv2d, SyncBatchNorm, ReLU and ConvModule (the stem, a downsample, the
// auxiliary head's convs), its children named by their index.
int AddSequential(Graph& graph, const nn::SequentialImpl& sequential, int x,
                  const std::string& name) {
  for (const auto& child : sequential.named_children()) {
    const std::string path = Join(name, child.key());
    const nn::Module& m = *child.value();
    if (const auto* conv = m.as<nn::Conv2dImpl>()) {
      x = AddConv(graph, *conv, {x}, path);
    } else if (const auto* bn = m.as<SyncBatchNormImpl>()) {
      x = AddBatchNorm(graph, *bn, x, path);
    } else if (m.as<nn::ReLUImpl>()) {
      x = AddSimple(graph, NodeKind::kRelu, {x}, path);
    } else if (const auto* module = m.as<ConvModuleImpl>()) {
      x = AddConvModule(graph, *module, x, path);
    } else {
      TORCH_CHECK(false, path, ": no graph node for module ", m.name());
    }
  }
  return x;
}

// conv -> bn -> ReLU of a residual block (BN may be folded away: null).
int AddConvBn(Graph& graph, const nn::Conv2dImpl& conv, const SyncBatchNorm& bn, int x,
              const std::string& block, const std::string& conv_name, const std::string& bn_name,
              bool relu) {
  x = AddConv(graph, conv, {x}, Join(block, conv_name));
  if (bn) x = AddBatchNorm(graph, *bn, x, Join(block, bn_name));
  return relu ? AddSimple(graph, NodeKind::kRelu, {x}, Join(block, "relu")) : x;
}

// BottleneckImpl / BasicBlockImpl::forward: the identity (or downsample) first, the convs, the
// sum (named by the block), its ReLU.
int AddResidualBlock(Graph& graph, const nn::Module& module, int x, const std::string& name) {
  int identity = x, out = x;
  if (const auto* b = module.as<BottleneckImpl>()) {
    if (b->downsample) identity = AddSequential(graph, *b->downsample, x, Join(name, "downsample"));
    out = AddConvBn(graph, *b->conv1, b->bn1, out, name, "conv1", "bn1", true);
    out = AddConvBn(graph, *b->conv2, b->bn2, out, name, "conv2", "bn2", true);
    out = AddConvBn(graph, *b->conv3, b->bn3, out, name, "conv3", "bn3", false);
  } else {
    const auto* basic = module.as<BasicBlockImpl>();
    TORCH_CHECK(basic != nullptr, name, ": no graph node for module ", module.name());
    if (basic->downsample) {
      identity = AddSequential(graph, *basic->downsample, x, Join(name, "downsample"));
    }
    out = AddConvBn(graph, *basic->conv1, basic->bn1, out, name, "conv1", "bn1", true);
    out = AddConvBn(graph, *basic->conv2, basic->bn2, out, name, "conv2", "bn2", false);
  }
  out = AddSimple(graph, NodeKind::kAdd, {out, identity}, name);
  return AddSimple(graph, NodeKind::kRelu, {out}, name);
}

// ResNetV1cImpl::forward: C2..C5.
std::vector<int> AddResNet(Graph& graph, const ResNetV1cImpl& resnet, int x,
                           const std::string& name) {
  x = AddSequential(graph, *resnet.stem, x, Join(name, "stem"));
  GraphNode pool;
  pool.kind = NodeKind::kMaxPool;
  pool.name = Join(name, "maxpool");
  pool.inputs = {x};
  pool.kernel = {3, 3};
  pool.stride = {2, 2};
  pool.padding = {1, 1};
  pool.ceil_mode = resnet.stem_ceil_mode();
  x = graph.Add(std::move(pool));
  std::vector<int> stages;
  const nn::Sequential* layers[4] = {&resnet.layer1, &resnet.layer2, &resnet.layer3,
                                     &resnet.layer4};
  for (int i = 0; i < 4; ++i) {
    const std::string layer = Join(name, "layer" + std::to_string(i + 1));
    for (const auto& block : (*layers[i])->named_children()) {
      x = AddResidualBlock(graph, *block.value(), x, Join(layer, block.key()));
    }
    stages.push_back(x);
  }
  return stages;
}

// AFNB / APNB forward: the stages' sum, concatenated with `feats`, the bottleneck.
int AddNonLocalFusion(Graph& graph, const nn::ModuleList& stages, const ConvModuleImpl& bottleneck,
                      int query, int key, int feats, const std::string& name) {
  int context = -1;
  for (size_t i = 0; i < stages->size(); ++i) {
    const int prior = AddSelfAttentionBlock(graph, *stages->ptr(i)->as<SelfAttentionBlockImpl>(),
                                            query, key, Join(name, "stages." + std::to_string(i)));
    context = context < 0
                  ? prior
                  : AddSimple(graph, NodeKind::kAdd, {context, prior}, Join(name, "stages"));
  }
  const int joined = AddSimple(graph, NodeKind::kConcat, {context, feats}, Join(name, "cat"));
  return AddConvModule(graph, bottleneck, joined, Join(name, "bottleneck"));
}

// The attention of `query_map` over `key_map` and `value_map`, then out_project.
int AddAttention(Graph& graph, const std::vector<int>& maps, int64_t channels,
                 const std::vector<int64_t>& pool_scales, const nn::Conv2dImpl& out_project,
                 const std::string& name) {
  GraphNode attention;
  attention.kind = NodeKind::kAttention;
  attention.name = name;
  attention.inputs = maps;
  attention.channels = channels;
  attention.pool_scales = pool_scales;
  const int attended = graph.Add(std::move(attention));
  return AddConv(graph, out_project, {attended}, Join(name, "out_project"));
}

int AddClassifier(Graph& graph, const DecodeHeadImpl& head, int x, const std::string& name) {
  return AddConv(graph, *head.conv_seg, {x}, Join(name, "conv_seg"));
}

}  // namespace

int AddConvModule(Graph& graph, const ConvModuleImpl& module, int x, const std::string& name) {
  x = AddConv(graph, *module.conv, {x}, Join(name, "conv"));
  if (module.bn) x = AddBatchNorm(graph, *module.bn, x, Join(name, "bn"));
  return module.has_relu() ? AddSimple(graph, NodeKind::kRelu, {x}, Join(name, "activate")) : x;
}

int AddSelfAttentionBlock(Graph& graph, const SelfAttentionBlockImpl& block, int query, int key,
                          const std::string& name) {
  const SelfAttentionOptions& o = block.options();
  const int key_map = AddConvModule(graph, *block.key_project, key, Join(name, "key_project"));
  const int query_map =
      o.share_key_query() && query == key
          ? key_map
          : AddConvModule(graph, *block.query_project, query, Join(name, "query_project"));
  const int value_map = AddConv(graph, *block.value_project, {key}, Join(name, "value_project"));
  return AddAttention(graph, {query_map, key_map, value_map}, o.channels(), o.pool_scales(),
                      *block.out_project, name);
}

int AddNonLocalBlock(Graph& graph, const NonLocalBlockImpl& block, int x, const std::string& name) {
  const int key_map = AddConvModule(graph, *block.key_project, x, Join(name, "key_project"));
  const int value_map = AddConv(graph, *block.value_project, {x}, Join(name, "value_project"));
  // Every position a key: no pyramid.
  return AddAttention(graph, {key_map, key_map, value_map}, block.channels(), {},
                      *block.out_project, name);
}

Graph BuildModelGraph(const EncoderDecoderImpl& model, bool auxiliary_head) {
  Graph graph;
  const int image = graph.AddInput("input");
  const std::vector<int> c = AddResNet(graph, *model.backbone, image, "backbone");
  const ANNHeadImpl& head = *model.decode_head;
  int x = AddNonLocalFusion(graph, head.fusion->stages, *head.fusion->bottleneck,
                            /*query=*/c[3], /*key=*/c[2], /*feats=*/c[3], "decode_head.fusion");
  x = AddConvModule(graph, *head.bottleneck, x, "decode_head.bottleneck");
  x = AddNonLocalFusion(graph, head.context->stages, *head.context->bottleneck, x, x, x,
                        "decode_head.context");
  x = AddClassifier(graph, head, x, "decode_head");
  GraphNode resize;
  resize.kind = NodeKind::kResize;
  resize.name = "resize";
  resize.inputs = {x, image};
  resize.align_corners = model.config().align_corners;
  graph.AddOutput(graph.Add(std::move(resize)));
  if (auxiliary_head && model.auxiliary_head) {
    const FCNHeadImpl& aux = *model.auxiliary_head;
    const int y = AddSequential(graph, *aux.convs, c[2], "auxiliary_head.convs");
    graph.AddOutput(AddClassifier(graph, aux, y, "auxiliary_head"));
  }
  return graph;
}

}  // namespace ann
