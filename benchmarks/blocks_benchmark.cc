// Google Benchmark cases for the building blocks and the whole model (CPU, --threads).
//
//   bazel run //benchmarks:blocks_benchmark -- --benchmark_filter=APNB
#include "ann/model/ann_head.h"
#include "ann/model/non_local.h"
#include "ann/model/segmentor.h"
#include "ann/model/self_attention.h"
#include "ann/util/cpu.h"
#include "ann/util/runtime.h"
#include "benchmark/benchmark.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

namespace ann {
namespace {

// Feature maps [1, 2048, H, W] as in the paper's comparison (H, W from the benchmark args).
torch::Tensor Features(const benchmark::State& state, int64_t channels = 2048) {
  torch::manual_seed(0);
  return torch::randn({1, channels, state.range(0), state.range(1)});
}

void BM_PyramidPooling(benchmark::State& state) {
  torch::InferenceMode guard;
  torch::Tensor x = Features(state, 256);
  for (auto _ : state) benchmark::DoNotOptimize(PyramidPooling(x, {1, 3, 6, 8}));
}
BENCHMARK(BM_PyramidPooling)->Args({96, 96})->Args({128, 256})->Unit(benchmark::kMillisecond);

void BM_SelfAttentionBlock(benchmark::State& state) {
  torch::InferenceMode guard;
  SelfAttentionBlock block(SelfAttentionOptions(2048, 2048, 256, 2048).share_key_query(true));
  block->eval();
  torch::Tensor x = Features(state);
  for (auto _ : state) benchmark::DoNotOptimize(block(x, x));
}
BENCHMARK(BM_SelfAttentionBlock)->Args({96, 96})->Args({128, 256})->Unit(benchmark::kMillisecond);

void BM_APNB(benchmark::State& state) {
  torch::InferenceMode guard;
  APNB block(512, 256, 512, std::vector<int64_t>{1, 3, 6, 8}, false, 0.0);
  block->eval();
  torch::Tensor x = Features(state, 512);
  for (auto _ : state) benchmark::DoNotOptimize(block(x));
}
BENCHMARK(BM_APNB)->Args({64, 128})->Args({128, 256})->Unit(benchmark::kMillisecond);

void BM_AFNB(benchmark::State& state) {
  torch::InferenceMode guard;
  AFNB block(1024, 2048, 256, 2048, std::vector<int64_t>{1, 3, 6, 8}, false, 0.0);
  block->eval();
  torch::Tensor high = Features(state), low = Features(state, 1024);
  for (auto _ : state) benchmark::DoNotOptimize(block(low, high));
}
BENCHMARK(BM_AFNB)->Args({64, 128})->Args({128, 256})->Unit(benchmark::kMillisecond);

void BM_NonLocal(benchmark::State& state) {
  torch::InferenceMode guard;
  NonLocalBlock block(2048, 256, 2048);
  block->eval();
  torch::Tensor x = Features(state);
  for (auto _ : state) benchmark::DoNotOptimize(block(x));
}
BENCHMARK(BM_NonLocal)->Args({96, 96})->Args({128, 256})->Unit(benchmark::kMillisecond);

void BM_ANN_R50_Forward(benchmark::State& state) {
  torch::InferenceMode guard;
  ModelConfig config;
  config.depth = 50;
  EncoderDecoder model(config);
  model->eval();
  torch::Tensor x = torch::randn({1, 3, state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(model->Predict(x));
}
BENCHMARK(BM_ANN_R50_Forward)->Args({512, 1024})->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  // The CPU in the context block Google Benchmark prints first.
  benchmark::AddCustomContext("ann_cpu", ann::CpuDescription(ann::SetUpRuntimeFromFlags()));
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
