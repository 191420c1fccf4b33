// Data-parallel pieces over real c10d Gloo groups on loopback, one thread per rank:
// SyncBatchNorm (forward, backward, running statistics) equals BatchNorm over the concatenated
// batch in float64, for 2 ranks and for 3 ranks of unequal batches; GradientReducer gives the
// mean of every rank's gradients.
#include "ann/train/distributed.h"

#include <thread>

#include "ann/model/data_parallel.h"
#include "ann/model/segmentor.h"
#include "ann/train/loss.h"
#include "gtest/gtest.h"

namespace ann {
namespace {

// Runs `body(dist)` on `world` threads, each a rank of one group.
template <typename Body>
void RunRanks(int world, const Body& body) {
  const int port = FreeLoopbackPort();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      ConnectOptions options;
      options.rank = rank;
      options.world_size = world;
      options.master_port = port;
      options.timeout_s = 60;
      absl::StatusOr<std::unique_ptr<Distributed>> dist = Distributed::Connect(options);
      ASSERT_TRUE(dist.ok()) << dist.status();
      body(**dist);
    });
  }
  for (std::thread& t : threads) t.join();
}

void CheckSyncBatchNorm(const std::vector<int64_t>& batches) {
  const int world = static_cast<int>(batches.size());
  int64_t total = 0;
  for (int64_t b : batches) total += b;
  torch::manual_seed(11);
  const auto f64 = torch::kDouble;
  // Odd sizes, channels far from zero mean and unit variance, a non-uniform upstream gradient.
  const torch::Tensor x =
      torch::randn({total, 5, 7, 9}, f64) * torch::linspace(0.3, 4, 5, f64).view({1, 5, 1, 1}) +
      torch::linspace(-3, 2, 5, f64).view({1, 5, 1, 1});
  const torch::Tensor g = torch::randn({total, 5, 7, 9}, f64) + x.square() * 0.1;
  const torch::Tensor w0 = torch::rand({5}, f64) + 0.5, b0 = torch::randn({5}, f64);
  const torch::Tensor rm0 = torch::randn({5}, f64), rv0 = torch::rand({5}, f64) + 0.5;

  // Reference: BatchNorm over the whole batch; loss = sum(y * g).
  torch::Tensor xr = x.clone().requires_grad_(true);
  torch::Tensor wr = w0.clone().requires_grad_(true), br = b0.clone().requires_grad_(true);
  torch::Tensor rm = rm0.clone(), rv = rv0.clone();
  const torch::Tensor yr = torch::batch_norm(xr, wr, br, rm, rv, true, 0.1, 1e-5, false);
  (yr * g).sum().backward();

  std::vector<torch::Tensor> y(world), dx(world), dw(world), db(world), rms(world), rvs(world);
  std::vector<int64_t> offsets(world, 0);
  for (int r = 1; r < world; ++r) offsets[r] = offsets[r - 1] + batches[r - 1];
  RunRanks(world, [&](Distributed& dist) {
    const int r = dist.rank();
    SyncBatchNorm bn(5);
    bn->to(f64);
    {
      torch::NoGradGuard no_grad;
      bn->weight.copy_(w0);
      bn->bias.copy_(b0);
      bn->running_mean.copy_(rm0);
      bn->running_var.copy_(rv0);
    }
    bn->set_group(&dist);
    bn->train();
    torch::Tensor xs = x.narrow(0, offsets[r], batches[r]).clone().requires_grad_(true);
    torch::Tensor out = bn->forward(xs);
    (out * g.narrow(0, offsets[r], batches[r])).sum().backward();
    y[r] = out.detach();
    dx[r] = xs.grad();
    dw[r] = bn->weight.grad();
    db[r] = bn->bias.grad();
    rms[r] = bn->running_mean.clone();
    rvs[r] = bn->running_var.clone();
    EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  });
  auto max_diff = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
  };
  EXPECT_LT(max_diff(torch::cat(y), yr.detach()), 1e-12);
  EXPECT_LT(max_diff(torch::cat(dx), xr.grad()), 1e-12);
  // Each rank holds its share of the parameter gradients; the gradient all-reduce sums them.
  EXPECT_LT(max_diff(torch::stack(dw).sum(0), wr.grad()), 1e-10);
  EXPECT_LT(max_diff(torch::stack(db).sum(0), br.grad()), 1e-10);
  for (int r = 0; r < world; ++r) {
    EXPECT_LT(max_diff(rms[r], rm), 1e-14) << r;
    EXPECT_LT(max_diff(rvs[r], rv), 1e-14) << r;  // unbiased, from the global count
  }
  // Not the same as per-rank statistics (the test could not pass with plain BN).
  torch::Tensor rm_local = rm0.clone(), rv_local = rv0.clone();
  torch::batch_norm(x.narrow(0, 0, batches[0]), w0, b0, rm_local, rv_local, true, 0.1, 1e-5, false);
  EXPECT_GT(max_diff(rm_local, rm), 1e-3);
}

TEST(SyncBatchNormTest, TwoRanksEqualTheConcatenatedBatch) { CheckSyncBatchNorm({2, 2}); }

TEST(SyncBatchNormTest, ThreeRanksOfUnequalBatchesEqualTheConcatenatedBatch) {
  CheckSyncBatchNorm({1, 3, 2});
}

TEST(SyncBatchNormTest, WithoutAGroupOrInEvalModeItIsTorchsBatchNorm) {
  torch::manual_seed(5);
  SyncBatchNorm ours(6);
  torch::nn::BatchNorm2d torchs(6);
  const torch::Tensor x = torch::randn({3, 6, 5, 4}) * 2 + 1;
  EXPECT_TRUE(ours->forward(x).equal(torchs->forward(x)));
  EXPECT_TRUE(ours->running_var.equal(torchs->running_var));
  ours->eval();
  torchs->eval();
  EXPECT_TRUE(ours->forward(x).equal(torchs->forward(x)));
  EXPECT_EQ(ours->named_parameters().keys(), torchs->named_parameters().keys());
  EXPECT_EQ(ours->named_buffers().keys(), torchs->named_buffers().keys());
}

TEST(GradientReducerTest, BucketsAverageEveryRanksGradients) {
  // Small buckets (several per model) and one parameter left out of the graph.
  // The values are drawn here, not in the rank threads: they share torch's generator.
  const int world = 2;
  torch::manual_seed(3);
  const std::vector<torch::Tensor> p = {torch::randn({7, 3}), torch::randn({300}),
                                        torch::randn({5, 5}), torch::randn({11})};
  std::vector<std::vector<torch::Tensor>> grads(world);
  RunRanks(world, [&](Distributed& dist) {
    const int r = dist.rank();
    std::vector<torch::Tensor> params;
    for (const torch::Tensor& value : p) params.push_back(value.clone().requires_grad_(true));
    GradientReducer reducer(dist, params, /*bucket_bytes=*/1000);
    EXPECT_GE(reducer.buckets(), 2);
    for (int step = 0; step < 2; ++step) {
      for (torch::Tensor& p : params) {
        if (p.grad().defined()) p.mutable_grad().zero_();
      }
      const double k = 1.0 + r + step;
      const torch::Tensor loss = (params[0] * k).square().sum() + params[1].sin().sum() * k +
                                 (params[2].matmul(params[2]) * k).sum();
      loss.backward();
      ASSERT_TRUE(reducer.Finish().ok());
    }
    for (torch::Tensor& p : params) grads[r].push_back(p.grad().defined() ? p.grad() : p * 0);
    EXPECT_FALSE(params[3].grad().defined());
  });
  // Expected: the mean of k = 2 and k = 3 (step 1) of each rank's gradient formula.
  const double k = (2.0 + 3.0) / 2;
  const torch::Tensor g1 = p[1].cos() * k;
  const torch::Tensor ones = torch::ones({5, 5});
  const torch::Tensor g2 = k * (ones.matmul(p[2].t()) + p[2].t().matmul(ones));
  for (int r = 0; r < world; ++r) {
    EXPECT_TRUE(grads[r][0].allclose(2 * p[0] * (4.0 + 9.0) / 2, 1e-6, 1e-6)) << r;
    EXPECT_TRUE(grads[r][1].allclose(g1, 1e-6, 1e-6)) << r;
    EXPECT_TRUE(grads[r][2].allclose(g2, 1e-5, 1e-5)) << r;
    EXPECT_TRUE(grads[r][0].equal(grads[0][0]) && grads[r][2].equal(grads[0][2]));
  }
}

// One training step of the whole model (SyncBatchNorm, both heads, mmseg's loss, bucketed
// gradient averaging), in float64: 2 ranks of 1 image give the gradients of 1 process of 2
// images. (Threads share torch's generator, so the models are built before the ranks start and
// dropout is off here; tests/distributed_e2e_test.sh runs processes, dropout included.)
TEST(DataParallelTest, ModelGradientsEqualTheConcatenatedBatch) {
  torch::set_num_threads(1);
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 5;
  config.channels = 32;
  config.project_channels = 16;
  TrainConfig recipe;
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({2, 3, 41, 37}, torch::kDouble);
  torch::Tensor y = torch::randint(0, 5, {2, 41, 37}, torch::kLong);
  y.narrow(2, 0, 9).fill_(255);
  auto make = [&] {
    torch::manual_seed(9);
    EncoderDecoder model(config);
    model->InitWeights();
    model->to(torch::kDouble);
    model->train();
    for (const auto& m : model->modules()) {
      if (m->as<BatchDropout2dImpl>()) m->eval();
    }
    return model;
  };
  auto step = [&](EncoderDecoder& model, const torch::Tensor& images, const torch::Tensor& labels) {
    LossTerms terms = SegmentationLoss(model->forward(images), labels, recipe, false);
    terms.total.backward();
  };
  EncoderDecoder whole = make();
  step(whole, x, y);
  std::vector<EncoderDecoder> ranks = {make(), make()};
  std::vector<std::vector<torch::Tensor>> grads(2);
  RunRanks(2, [&](Distributed& dist) {
    const int r = dist.rank();
    EncoderDecoder& model = ranks[r];
    SetDataParallel(*model, &dist, r, 2);
    GradientReducer reducer(dist, model->parameters(), /*bucket_bytes=*/1 << 18);
    step(model, x.narrow(0, r, 1), y.narrow(0, r, 1));
    ASSERT_TRUE(reducer.Finish().ok());
    for (const torch::Tensor& p : model->parameters()) grads[r].push_back(p.grad());
  });
  const std::vector<torch::Tensor> expected = whole->parameters();
  double largest = 0;
  for (const torch::Tensor& p : expected) {
    largest = std::max(largest, p.grad().abs().max().item<double>());
  }
  ASSERT_GT(largest, 0);
  for (size_t i = 0; i < expected.size(); ++i) {
    const torch::Tensor& g = expected[i].grad();
    // Relative to the tensor's largest gradient (some are zero in exact arithmetic).
    const double scale = std::max(g.abs().max().item<double>(), 1e-6 * largest);
    EXPECT_LT((grads[0][i] - g).abs().max().item<double>(), 1e-10 * scale) << i;
    EXPECT_TRUE(grads[0][i].equal(grads[1][i])) << i;
  }
}

}  // namespace
}  // namespace ann
