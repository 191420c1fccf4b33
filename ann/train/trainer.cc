#include "ann/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ann/data/dataset.h"
#include "ann/data/label_stats.h"
#include "ann/data/loader.h"
#include "ann/efficiency/footprint.h"
#include "ann/io/checkpoint.h"
#include "ann/model/data_parallel.h"
#include "ann/model/segmentor.h"
#include "ann/train/hooks.h"
#include "ann/train/loss.h"
#include "ann/train/mixed_precision.h"
#include "ann/train/sgd.h"
#include "ann/train/train_checkpoint.h"
#include "ann/util/atomic_file.h"
#include "ann/util/status_macros.h"
#include "ann/util/stop_signal.h"
#include "glog/logging.h"

namespace ann {
namespace {

// Every rank continues from rank 0's weights, statistics, momentum buffers, generator state
// (dropout masks) and iteration: SyncBatchNorm and the dropout masks of the global batch then
// make the ranks one batch of world_size x batch_size.
absl::Status StartFromRank0(Distributed& dist, EncoderDecoder& model, Sgd& sgd, int64_t* start) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor>& buffers = sgd.buffers();
  torch::Tensor head = torch::empty({static_cast<int64_t>(buffers.size()) + 1}, torch::kInt64);
  head[0] = *start;
  for (size_t i = 0; i < buffers.size(); ++i) head[i + 1] = buffers[i].defined() ? 1 : 0;
  ANN_RETURN_IF_ERROR(dist.BroadcastFromRank0({head}));
  *start = head[0].item<int64_t>();
  std::vector<bool> defined;
  for (size_t i = 0; i < buffers.size(); ++i) defined.push_back(head[i + 1].item<int64_t>() != 0);
  if (dist.rank() != 0) sgd.ResetBuffers(defined);
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  torch::Tensor rng = generator.get_state();
  std::vector<torch::Tensor> state = model->parameters();
  for (const torch::Tensor& b : model->buffers()) state.push_back(b);
  for (const torch::Tensor& b : sgd.buffers()) {
    if (b.defined()) state.push_back(b);
  }
  state.push_back(rng);
  ANN_RETURN_IF_ERROR(dist.BroadcastFromRank0(state));
  generator.set_state(rng);
  return absl::OkStatus();
}

// Where the weights come from: a training checkpoint (--resume: the newest loadable one in the
// work dir, falling back past damaged ones; --resume_from: that file), all weights of a model
// (--load_from; a classifier of another class count is initialised anew), an ImageNet backbone,
// or the initialisation. Fills `state` (iteration, best score, patience) from a training
// checkpoint; returns what happened, for the log.
absl::StatusOr<std::string> LoadStart(const TrainOptions& options, const TrainConfig& config,
                                      EncoderDecoder& model, Sgd& sgd, TrainingState* state) {
  std::vector<std::string> candidates;
  if (!options.resume_from.empty()) {
    candidates = {options.resume_from};
  } else if (options.resume) {
    candidates = ListTrainingCheckpoints(options.work_dir);
    if (candidates.empty()) {
      return absl::NotFoundError(
          absl::StrCat(options.work_dir, ": --resume: no iter_*.pth checkpoint to resume from"));
    }
  }
  for (const std::string& path : candidates) {
    absl::StatusOr<TrainingState> loaded = LoadTrainingCheckpoint(path, model, sgd);
    if (!loaded.ok()) {
      if (!options.resume_from.empty()) return loaded.status();
      LOG(WARNING) << loaded.status().message() << "; trying an older checkpoint";
      continue;
    }
    if (loaded->max_iters != 0 && loaded->max_iters != config.max_iters) {
      LOG(WARNING) << path << " was saved by a run of " << loaded->max_iters << " iterations, now "
                   << config.max_iters;
    }
    *state = *loaded;
    return absl::StrCat("resumed from ", path, " at iteration ", state->iter);
  }
  if (!candidates.empty()) {
    return absl::DataLossError(
        absl::StrCat(options.work_dir, ": no checkpoint could be loaded (see warnings above)"));
  }
  if (!options.load_from.empty()) {
    ANN_ASSIGN_OR_RETURN(LoadReport report,
                         LoadCheckpoint(options.load_from, *model, LoadMode::kFineTune));
    if (!report.reinitialised.empty()) {
      LOG(INFO) << options.load_from << ": " << report.Summary();
    }
    return "weights loaded from " + options.load_from;
  }
  if (!options.backbone_init.empty()) {
    ANN_ASSIGN_OR_RETURN(LoadReport report,
                         LoadCheckpoint(options.backbone_init, *model, LoadMode::kNonStrict));
    return absl::StrCat("backbone init from ", options.backbone_init, ": ", report.Summary());
  }
  return absl::StrCat("initialised with seed ", config.seed);
}

// --class_weight=auto: median frequency balancing over the training labels.
absl::StatusOr<std::vector<float>> AutomaticClassWeights(const std::vector<Sample>& samples,
                                                         const DatasetInfo& info, int workers) {
  ANN_ASSIGN_OR_RETURN(SplitLabelStats stats, CountLabels(samples, info, workers));
  return MedianFrequencyWeights(stats);
}

// Runs forward or backward: a collective inside them (SyncBatchNorm) that failed throws, and
// this turns it back into the group's status.
absl::Status WithCollectives(const TrainingRun& run, const std::function<void()>& pass) {
  try {
    pass();
  } catch (const std::exception&) {
    if (run.dist && !run.dist->failure().ok()) return run.WithLastGood(run.dist->failure());
    throw;
  }
  return absl::OkStatus();
}

// One iteration's work (mmengine's train_step) at stats.lr: a batch, the forward in training
// mode, the recipe's loss, the ranks' mean of the loss terms and their common stop decision,
// backward, the gradient all-reduce and the SGD step.
absl::Status TrainStep(TrainingRun& run, TrainLoader& loader, IterationStats& stats) {
  const auto t0 = std::chrono::steady_clock::now();
  ANN_ASSIGN_OR_RETURN(Batch batch, loader.Next());
  const auto t1 = std::chrono::steady_clock::now();
  EncoderDecoder& model = *run.model;
  run.sgd->ZeroGrad();
  SegmentorOutputs outputs;
  ANN_RETURN_IF_ERROR(WithCollectives(
      run, [&] { outputs = TrainingForward(model, batch.images, run.train->precision); }));
  LossTerms terms =
      SegmentationLoss(outputs, batch.labels, *run.train, run.model_config->align_corners);
  stats.loss = terms.total.item<double>();
  stats.decode = terms.decode;
  stats.aux = terms.aux;
  stats.decode_acc = terms.decode_acc;
  stats.aux_acc = terms.aux_acc;
  run.stop_signal = StopSignalReceived() != 0;
  if (run.dist) {
    // Every rank sees the same mean loss and the same stop decision.
    absl::StatusOr<std::vector<double>> summed =
        run.dist->SumScalars({stats.loss, stats.decode, stats.aux, stats.decode_acc, stats.aux_acc,
                              run.stop_signal ? 1.0 : 0.0});
    if (!summed.ok()) return run.WithLastGood(summed.status());
    const std::vector<double>& sums = *summed;
    const double n = run.dist->world_size();
    stats.loss = sums[0] / n;
    stats.decode = sums[1] / n;
    stats.aux = sums[2] / n;
    stats.decode_acc = sums[3] / n;
    stats.aux_acc = sums[4] / n;
    run.stop_signal = sums[5] > 0;
  }
  ANN_RETURN_IF_ERROR(WithCollectives(run, [&] { terms.total.backward(); }));
  if (run.reducer) ANN_RETURN_IF_ERROR(run.WithLastGood(run.reducer->Finish()));
  run.sgd->Step(stats.lr);
  const auto t2 = std::chrono::steady_clock::now();
  stats.seconds = std::chrono::duration<double>(t2 - t0).count();
  stats.data_seconds = std::chrono::duration<double>(t1 - t0).count();
  return absl::OkStatus();
}

// mmengine's IterBasedTrainLoop.run: the hooks around each iteration's step, from `start` until
// the last iteration or until a hook ends the run; returns what the run ended with.
absl::Status RunLoop(TrainingRun& run, TrainLoader& loader,
                     const std::vector<std::unique_ptr<Hook>>& hooks, int64_t start) {
  for (const auto& hook : hooks) ANN_RETURN_IF_ERROR(hook->BeforeRun(run));
  (*run.model)->train();
  for (int64_t iter = start; iter < run.train->max_iters && !run.finished(); ++iter) {
    IterationStats stats;
    stats.iter = iter + 1;
    run.written_this_iter.clear();
    for (const auto& hook : hooks) ANN_RETURN_IF_ERROR(hook->BeforeTrainIter(run, stats));
    ANN_RETURN_IF_ERROR(TrainStep(run, loader, stats));
    for (const auto& hook : hooks) ANN_RETURN_IF_ERROR(hook->AfterTrainIter(run, stats));
  }
  for (const auto& hook : hooks) ANN_RETURN_IF_ERROR(hook->AfterRun(run));
  if (run.dist) ANN_RETURN_IF_ERROR(run.WithLastGood(run.dist->Barrier()));
  return run.result;
}

}  // namespace

absl::Status Train(const ModelConfig& model_config, const DataConfig& data,
                   const TrainConfig& train, const TestConfig& test, const TrainOptions& options) {
  TrainConfig config = train;  // --class_weight=auto is filled in below
  if (options.work_dir.empty()) return absl::InvalidArgumentError("--work_dir is required");
  if (data.data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  // SIGINT / SIGTERM ask the loop below to save and stop.
  InstallStopSignalHandlers();
  const DatasetInfo& info = data.info;
  ANN_RETURN_IF_ERROR(CheckClassCount(info, model_config.num_classes));
  std::vector<Sample> train_samples;
  std::vector<std::string> split_counts;
  for (const std::string& split : data.train_splits) {
    ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples, ListSamples(info, data.data_root, split));
    split_counts.push_back(absl::StrCat(split, " ", samples.size()));
    train_samples.insert(train_samples.end(), samples.begin(), samples.end());
  }
  std::vector<Sample> val_samples;
  if (config.eval_interval > 0) {
    ANN_ASSIGN_OR_RETURN(val_samples, ListSamples(info, data.data_root, data.val_split));
  }
  // A batch this process cannot hold is refused before any work (the kernel would kill it);
  // float64 training doubles every tensor.
  const cv::Size crop = config.pipeline.crop;
  const double fp64 = config.precision == Precision::kFp64 ? 2 : 1;
  ANN_RETURN_IF_ERROR(
      CheckFits(fp64 * TrainStepPeakBytes(model_config, crop.height, crop.width, config.batch_size),
                "--crop_size",
                absl::StrCat("a batch of ", config.batch_size, " ", crop.width, "x", crop.height,
                             " crops (--batch_size)")));
  Distributed* dist = options.distributed;
  const int rank = dist ? dist->rank() : 0;
  torch::manual_seed(config.seed);
  EncoderDecoder model(model_config);
  model->InitWeights();
  // Before the optimizer and any loading (TrainingForward casts the images).
  if (config.precision == Precision::kFp64) model->to(torch::kDouble);
  Sgd sgd(UniqueParameters(*model), config.momentum, config.weight_decay);

  TrainingRun run;
  run.model_config = &model_config;
  run.data = &data;
  run.train = &config;
  run.test = &test;
  run.info = &info;
  run.work_dir = options.work_dir;
  run.model = &model;
  run.sgd = &sgd;
  run.dist = dist;
  run.rank = rank;
  // Only rank 0 reads checkpoints: the others get its state over the network at the start
  // (StartFromRank0), so ranks on other hosts need no copy of the work dir.
  std::string origin = "rank 0's state";
  if (run.main_rank()) {
    ANN_ASSIGN_OR_RETURN(origin, LoadStart(options, config, model, sgd, &run.state));
  }
  int64_t start = run.state.iter;
  if (dist) ANN_RETURN_IF_ERROR(StartFromRank0(*dist, model, sgd, &start));
  if (config.class_weight_auto) {
    ANN_ASSIGN_OR_RETURN(config.class_weight,
                         AutomaticClassWeights(train_samples, info, data.workers));
  }
  run.state.max_iters = config.max_iters;
  run.state.seed = config.seed;
  run.state.config = options.config_text;
  if (config.class_weight_auto) {
    absl::StrAppend(&run.state.config, "# --class_weight=auto computed ",
                    absl::StrJoin(config.class_weight, ","), "\n");
  }
  run.state.class_names = info.class_names;
  run.state.palette = info.palette;
  run.state.class_weight = config.class_weight;
  // Everything given has been read: only now does the work dir get files (a run refused above
  // leaves nothing behind).
  ANN_RETURN_IF_ERROR(MakeDirectories(options.work_dir));
  if (run.main_rank()) {
    // Info and warnings also go to <work_dir>/ann_train.log.<date>-<time>.<pid>.
    google::SetLogDestination(google::GLOG_INFO, (options.work_dir + "/ann_train.log.").c_str());
    FLAGS_logtostderr = false;
    FLAGS_alsologtostderr = true;
    if (const int stale = RemoveStaleTemporaries(options.work_dir); stale > 0) {
      LOG(INFO) << "removed " << stale << " temporary file(s) of an interrupted run";
    }
    LOG(INFO) << "training on " << train_samples.size() << " images ("
              << absl::StrJoin(split_counts, " + ") << "); " << origin;
    if (config.class_weight_auto) {
      LOG(INFO) << "class weights (median frequency over train): "
                << absl::StrJoin(config.class_weight, ", ");
    }
  }
  if (start >= config.max_iters) {
    LOG(INFO) << "nothing to do: already at iteration " << start << " of " << config.max_iters;
    return absl::OkStatus();
  }

  LoaderOptions loader_options;
  loader_options.batch_size = config.batch_size;
  loader_options.rank = rank;
  loader_options.world_size = dist ? dist->world_size() : 1;
  loader_options.seed = config.seed;
  loader_options.workers = data.workers;
  loader_options.prefetch = std::max(2, data.workers);
  const NormalizeParams normalize = data.normalize;
  TrainLoader loader(train_samples, info, config.pipeline, normalize, loader_options, start);

  // Rank 0 writes the checkpoints; the other ranks name them in their errors by rank 0's path
  // (which may be on another host).
  const std::vector<std::string> existing = ListTrainingCheckpoints(options.work_dir);
  run.last_saved = existing.empty() ? "none" : existing.front();
  run.checkpoint_dir = std::filesystem::absolute(options.work_dir).string();
  if (dist) {
    ANN_ASSIGN_OR_RETURN(run.last_saved, dist->TextFromRank0("last checkpoint", run.last_saved));
    ANN_ASSIGN_OR_RETURN(run.checkpoint_dir, dist->TextFromRank0("work dir", run.checkpoint_dir));
  }
  std::unique_ptr<GradientReducer> reducer;
  if (dist) {
    SetDataParallel(*model, config.sync_bn ? dist : nullptr, rank, dist->world_size());
    reducer = std::make_unique<GradientReducer>(*dist, sgd.params());
    run.reducer = reducer.get();
  }
  std::vector<std::unique_ptr<Hook>> hooks = DefaultHooks(run, start, std::move(val_samples));
  return RunLoop(run, loader, hooks, start);
}

}  // namespace ann
