#include "ann/efficiency/blocks.h"

#include "absl/strings/str_cat.h"
#include "ann/efficiency/memory.h"
#include "ann/inference/model_graph.h"
#include "ann/model/segmentor.h"
#include "ann/util/flags.h"

namespace ann {

absl::StatusOr<BlockKind> ParseBlockKind(const std::string& name) {
  return ParseEnumFlag<BlockKind>(
      "block", name,
      {{"nonlocal", BlockKind::kNonLocal}, {"apnb", BlockKind::kApnb}, {"afnb", BlockKind::kAfnb}});
}

std::string BlockName(BlockKind kind) {
  switch (kind) {
    case BlockKind::kNonLocal:
      return "nonlocal";
    case BlockKind::kApnb:
      return "apnb";
    case BlockKind::kAfnb:
      return "afnb";
  }
  return "";
}

BlockReport MeasureBlock(BlockKind kind, const Shape& shape, const MeasureOptions& options) {
  constexpr int64_t kChannels = 256;
  torch::manual_seed(0);
  BlockReport report;
  report.block = BlockName(kind);
  report.shape = shape;
  FlopCounter counter;
  const int64_t c = shape[1];
  const Shape low = {shape[0], c / 2, shape[2], shape[3]};
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> run;
  Graph graph;
  const int input = graph.AddInput("x");
  if (kind == BlockKind::kNonLocal) {
    NonLocalBlock block(c, kChannels, c);
    graph.AddOutput(AddNonLocalBlock(graph, *block, input, "nonlocal"));
    CountGraph(graph, {shape}, counter);
    module = block.ptr();
    run = [block](const torch::Tensor& x, const torch::Tensor&) mutable { return block(x); };
  } else {
    const bool apnb = kind == BlockKind::kApnb;
    SelfAttentionBlock block(
        SelfAttentionOptions(apnb ? c : c / 2, c, kChannels, c).share_key_query(apnb));
    const int key = apnb ? input : graph.AddInput("low");
    graph.AddOutput(AddSelfAttentionBlock(graph, *block, input, key, report.block));
    CountGraph(graph, apnb ? std::vector<Shape>{shape} : std::vector<Shape>{shape, low}, counter);
    module = block.ptr();
    run = [block, apnb](const torch::Tensor& x, const torch::Tensor& l) mutable {
      return block(x, apnb ? x : l);
    };
  }
  module->eval();
  report.params = CountParameters(*module);
  report.flops = counter.total();
  if (!options.memory && !options.time) return report;
  torch::InferenceMode guard;
  torch::Tensor x = torch::randn(shape);
  torch::Tensor l = kind == BlockKind::kAfnb ? torch::randn(low) : torch::Tensor();
  if (options.memory) {
    MemoryTracker& tracker = MemoryTracker::Install();
    report.memory_bytes = tracker.PeakDuring([&] { run(x, l); });
  }
  if (options.time) {
    const Latency baseline = TimeRuns([&] { (void)x.alias(); }, options.warmup, options.runs);
    report.latency =
        MinusBaseline(TimeRuns([&] { run(x, l); }, options.warmup, options.runs), baseline);
    report.timed = true;
  }
  return report;
}

}  // namespace ann
