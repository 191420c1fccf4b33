#include "ann/train/trainer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ann/data/dataset.h"
#include "ann/data/loader.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/predictor.h"
#include "ann/io/checkpoint.h"
#include "ann/model/data_parallel.h"
#include "ann/model/segmentor.h"
#include "ann/train/loss.h"
#include "ann/train/mixed_precision.h"
#include "ann/train/schedule.h"
#include "ann/train/sgd.h"
#include "ann/train/train_checkpoint.h"
#include "ann/util/atomic_file.h"
#include "ann/util/json.h"
#include "ann/util/plot.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"
#include "glog/logging.h"

namespace ann {
namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int signal) { g_stop_signal = signal; }

double PeakMemoryMb() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Appends json lines to <work_dir>/train.log.json in mmcv's TextLoggerHook layout (what mmseg's
// tools/analyze_logs.py reads: lines without `epoch` are skipped; iteration-based runs write
// epoch 1) and keeps the series for the curves (the last value per iteration wins, so a resumed
// run overwrites what it redoes).
class TrainLog {
 public:
  explicit TrainLog(const std::string& work_dir) : work_dir_(work_dir) {
    const std::string path = work_dir + "/train.log.json";
    Reload(path);
    out_.open(path, std::ios::app);
  }

  void Write(const Json& line) {
    out_ << JsonLine(line) << "\n";
    out_.flush();
  }

  // mmcv's line head: mode, epoch, iter, lr.
  static Json Line(const char* mode, int64_t iter, double lr) {
    Json line = Json::object();
    line["mode"] = mode;
    line["epoch"] = 1;
    line["iter"] = iter;
    line["lr"] = JsonNumber(lr, 5);
    return line;
  }

  void Train(int64_t iter, double lr, double loss, double decode, double aux) {
    loss_[iter] = loss;
    decode_[iter] = decode;
    aux_[iter] = aux;
    lr_[iter] = lr;
  }
  void Val(int64_t iter, double miou) { miou_[iter] = miou; }

  absl::Status Plot() const {
    auto series = [](const std::string& name, const std::map<int64_t, double>& m) {
      Series s{name, {}, {}};
      for (const auto& [x, y] : m) {
        s.x.push_back(static_cast<double>(x));
        s.y.push_back(y);
      }
      return s;
    };
    std::vector<Series> losses = {series("total", loss_), series("decode", decode_)};
    if (!aux_.empty()) losses.push_back(series("aux", aux_));
    ANN_RETURN_IF_ERROR(
        WriteLinePlot(work_dir_ + "/loss.png", "training loss", "iteration", "loss", losses));
    ANN_RETURN_IF_ERROR(WriteLinePlot(work_dir_ + "/lr.png", "learning rate", "iteration", "lr",
                                      {series("lr", lr_)}));
    if (!miou_.empty()) {
      ANN_RETURN_IF_ERROR(WriteLinePlot(work_dir_ + "/miou.png", "validation mIoU", "iteration",
                                        "mIoU", {series("val mIoU", miou_)}));
    }
    return absl::OkStatus();
  }

 private:
  // Picks the numbers back up from an earlier run's log (resume).
  void Reload(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    while (std::getline(in, text)) {
      std::optional<Json> line = ParseJson(text);
      if (!line || !line->is_object() || !line->contains("iter") || !line->contains("mode")) {
        continue;
      }
      const int64_t iter = (*line)["iter"].get<int64_t>();
      auto number = [&](const char* key) {
        return line->contains(key) && (*line)[key].is_number() ? (*line)[key].get<double>() : NAN;
      };
      if ((*line)["mode"] == "train") {
        Train(iter, number("lr"), number("loss"), number("decode.loss_ce"), number("aux.loss_ce"));
        if (std::isnan(aux_[iter])) aux_.erase(iter);
      } else if ((*line)["mode"] == "val") {
        Val(iter, number("mIoU"));
      }
    }
  }

  std::string work_dir_;
  std::ofstream out_;
  std::map<int64_t, double> loss_, decode_, aux_, lr_, miou_;
};

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

}  // namespace

void InstallStopSignalHandlers() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

absl::Status Train(const Config& full_config, const TrainOptions& options) {
  const ModelConfig& model_config = full_config.model;
  const DataConfig& data = full_config.data;
  const TrainConfig& config = full_config.train;
  if (options.work_dir.empty()) return absl::InvalidArgumentError("--work_dir is required");
  if (data.data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
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
  Distributed* dist = options.distributed;
  const int rank = dist ? dist->rank() : 0;
  const bool main_rank = rank == 0;
  torch::manual_seed(config.seed);
  EncoderDecoder model(model_config);
  model->InitWeights();
  // Before the optimizer and any loading (TrainingForward casts the images).
  if (config.precision == TrainConfig::Precision::kFp64) model->to(torch::kDouble);
  Sgd sgd(UniqueParameters(*model), config.momentum, config.weight_decay);
  int64_t start = 0;
  std::string origin = "initialised with seed " + std::to_string(config.seed);
  // Only rank 0 reads checkpoints: the others get its state over the network at the start
  // (StartFromRank0), so ranks on other hosts need no copy of the work dir.
  if (!main_rank) {
    origin = "rank 0's state";
  } else if (options.resume) {
    const std::vector<std::string> candidates = ListTrainingCheckpoints(options.work_dir);
    if (candidates.empty()) {
      return absl::NotFoundError(
          absl::StrCat(options.work_dir, ": --resume: no iter_*.pth checkpoint to resume from"));
    }
    bool resumed = false;
    for (const std::string& path : candidates) {
      absl::StatusOr<TrainingState> state = LoadTrainingCheckpoint(path, model, sgd);
      if (!state.ok()) {
        LOG(WARNING) << state.status().message() << "; trying an older checkpoint";
        continue;
      }
      if (state->max_iters != 0 && state->max_iters != config.max_iters) {
        LOG(WARNING) << path << " was saved by a run of " << state->max_iters << " iterations, now "
                     << config.max_iters;
      }
      start = state->iter;
      origin = absl::StrCat("resumed from ", path, " at iteration ", start);
      resumed = true;
      break;
    }
    if (!resumed) {
      return absl::DataLossError(
          absl::StrCat(options.work_dir, ": no checkpoint could be loaded (see warnings above)"));
    }
  } else if (!options.load_from.empty()) {
    ANN_RETURN_IF_ERROR(LoadCheckpoint(options.load_from, *model, LoadMode::kStrict).status());
    origin = "weights loaded from " + options.load_from;
  } else if (!options.backbone_init.empty()) {
    ANN_ASSIGN_OR_RETURN(LoadReport report,
                         LoadCheckpoint(options.backbone_init, *model, LoadMode::kNonStrict));
    origin = absl::StrCat("backbone init from ", options.backbone_init, ": ", report.Summary());
  }
  if (dist) ANN_RETURN_IF_ERROR(StartFromRank0(*dist, model, sgd, &start));
  // Everything given has been read: only now does the work dir get files (a run refused above
  // leaves nothing behind).
  ANN_RETURN_IF_ERROR(MakeDirectories(options.work_dir));
  if (main_rank) {
    // Info and warnings also go to <work_dir>/ann_train.log.<date>-<time>.<pid>.
    google::SetLogDestination(google::GLOG_INFO, (options.work_dir + "/ann_train.log.").c_str());
    FLAGS_logtostderr = false;
    FLAGS_alsologtostderr = true;
    if (const int stale = RemoveStaleTemporaries(options.work_dir); stale > 0) {
      LOG(INFO) << "removed " << stale << " temporary file(s) of an interrupted run";
    }
    LOG(INFO) << "training on " << train_samples.size() << " images ("
              << absl::StrJoin(split_counts, " + ") << "); " << origin;
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
  const NormalizeParams normalize = NormalizeParamsOf(model_config);
  TrainLoader loader(train_samples, info, config.pipeline, normalize, loader_options, start);

  std::unique_ptr<TrainLog> log;  // Rank 0 logs, checkpoints and validates.
  if (main_rank) log = std::make_unique<TrainLog>(options.work_dir);
  if (start == 0 && main_rank) {
    // mmcv's first line: the run's meta (no `epoch`, so log readers skip it).
    Json meta = Json::object();
    meta["env_info"] = "ann C++ / LibTorch " TORCH_VERSION;
    meta["seed"] = config.seed;
    meta["config"] = options.config_text;
    log->Write(meta);
  }
  TrainingState state;
  state.max_iters = config.max_iters;
  state.seed = config.seed;
  state.config = options.config_text;
  state.class_names = info.class_names;
  state.palette = info.palette;
  auto save = [&](int64_t iter, double lr) -> absl::StatusOr<std::string> {
    state.iter = iter;
    state.lr = lr;
    return SaveTrainingCheckpoint(options.work_dir, state, model, sgd);
  };
  double comm_blocking = 0, comm_wait = 0;  // seconds: one all-reduce alone; waits after backward
  int64_t comm_steps = 0;
  // Rank 0 writes the checkpoints; the other ranks name them in their errors by rank 0's path
  // (which may be on another host).
  const std::vector<std::string> existing = ListTrainingCheckpoints(options.work_dir);
  std::string last_saved = existing.empty() ? "none" : existing.front();
  std::string checkpoint_dir = std::filesystem::absolute(options.work_dir).string();
  if (dist) {
    ANN_ASSIGN_OR_RETURN(last_saved, dist->TextFromRank0("last checkpoint", last_saved));
    ANN_ASSIGN_OR_RETURN(checkpoint_dir, dist->TextFromRank0("work dir", checkpoint_dir));
  }
  // A failed collective (a peer died or hung) ends this rank naming the checkpoint to resume.
  auto last_good = [&](const absl::Status& status) {
    if (status.ok()) return status;
    return absl::Status(status.code(), absl::StrCat(status.message(), "; last good checkpoint: ",
                                                    last_saved, " (continue with --resume)"));
  };

  std::unique_ptr<GradientReducer> reducer;
  if (dist) {
    SetDataParallel(*model, config.sync_bn ? dist : nullptr, rank, dist->world_size());
    reducer = std::make_unique<GradientReducer>(*dist, sgd.params());
    absl::StatusOr<double> blocking = reducer->TimeBlocking();
    if (!blocking.ok()) return last_good(blocking.status());
    comm_blocking = *blocking;
    if (main_rank) {
      LOG(INFO) << absl::StrFormat(
          "%d processes, %s BatchNorm; gradients %.1f MB in %d buckets: %.1f ms per all-reduce "
          "when not overlapped",
          dist->world_size(), config.sync_bn ? "synchronised" : "per-process",
          reducer->bytes() / 1e6, reducer->buckets(), *blocking * 1e3);
    }
  }
  // Runs forward or backward: a collective inside them (SyncBatchNorm) that failed throws, and
  // this turns it back into the group's status.
  auto with_collectives = [&](const std::function<void()>& pass) -> absl::Status {
    try {
      pass();
    } catch (const std::exception&) {
      if (dist && !dist->failure().ok()) return last_good(dist->failure());
      throw;
    }
    return absl::OkStatus();
  };

  const bool has_aux = model_config.with_auxiliary_head && config.aux_weight > 0;
  model->train();
  Progress progress("train", config.max_iters - start, config.log_interval);
  double window_time = 0, window_data = 0, window_loss = 0, window_decode = 0, window_aux = 0,
         window_decode_acc = 0, window_aux_acc = 0;
  int window = 0;
  for (int64_t iter = start; iter < config.max_iters; ++iter) {
    const auto t0 = std::chrono::steady_clock::now();
    ANN_ASSIGN_OR_RETURN(Batch batch, loader.Next());
    const auto t1 = std::chrono::steady_clock::now();
    const double lr = PolyLr(config.lr, config.min_lr, config.power, iter, config.max_iters);
    sgd.ZeroGrad();
    SegmentorOutputs outputs;
    ANN_RETURN_IF_ERROR(with_collectives(
        [&] { outputs = TrainingForward(model, batch.images, config.precision); }));
    LossTerms terms = SegmentationLoss(outputs, batch.labels, config, model_config.align_corners);
    double loss = terms.total.item<double>();
    bool stop = g_stop_signal != 0;
    if (dist) {
      // Every rank sees the same mean loss and the same stop decision.
      absl::StatusOr<std::vector<double>> summed = dist->SumScalars(
          {loss, terms.decode, terms.aux, terms.decode_acc, terms.aux_acc, stop ? 1.0 : 0.0});
      if (!summed.ok()) return last_good(summed.status());
      const std::vector<double>& sums = *summed;
      const double n = dist->world_size();
      loss = sums[0] / n;
      terms.decode = sums[1] / n;
      terms.aux = sums[2] / n;
      terms.decode_acc = sums[3] / n;
      terms.aux_acc = sums[4] / n;
      stop = sums[5] > 0;
    }
    if (!std::isfinite(loss)) {
      return absl::InternalError(absl::StrFormat(
          "loss is %s at iteration %d (decode %g, aux %g); stopped without saving. Last good "
          "checkpoint: %s",
          std::isnan(loss) ? "NaN" : "infinite", iter + 1, terms.decode, terms.aux, last_saved));
    }
    ANN_RETURN_IF_ERROR(with_collectives([&] { terms.total.backward(); }));
    if (reducer) {
      ANN_RETURN_IF_ERROR(last_good(reducer->Finish()));
      comm_wait += reducer->last_wait_seconds();
      ++comm_steps;
    }
    sgd.Step(lr);
    const auto t2 = std::chrono::steady_clock::now();
    const int64_t done = iter + 1;

    window_time += std::chrono::duration<double>(t2 - t0).count();
    window_data += std::chrono::duration<double>(t1 - t0).count();
    window_loss += loss;
    window_decode += terms.decode;
    window_aux += terms.aux;
    window_decode_acc += terms.decode_acc;
    window_aux_acc += terms.aux_acc;
    ++window;
    if (main_rank)
      progress.Advance(1, absl::StrFormat("iter %d loss %.4f lr %.3g", done, loss, lr));
    if (main_rank && (done % config.log_interval == 0 || done == config.max_iters)) {
      const double n = window;
      // mmcv's train line: mode, epoch, iter, lr, memory, data_time, the loss terms, time.
      Json line = TrainLog::Line("train", done, lr);
      line["memory"] = static_cast<int64_t>(PeakMemoryMb());
      line["data_time"] = JsonNumber(window_data / n, 5);
      line["decode.loss_ce"] = JsonNumber(window_decode / n, 5);
      line["decode.acc_seg"] = JsonNumber(window_decode_acc / n, 5);
      if (has_aux) {
        line["aux.loss_ce"] = JsonNumber(window_aux / n, 5);
        line["aux.acc_seg"] = JsonNumber(window_aux_acc / n, 5);
      }
      line["loss"] = JsonNumber(window_loss / n, 5);
      line["time"] = JsonNumber(window_time / n, 5);
      log->Write(line);
      log->Train(done, lr, window_loss / n, window_decode / n,
                 has_aux ? window_aux / n : std::nan(""));
      window_time = window_data = window_loss = window_decode = window_aux = 0;
      window_decode_acc = window_aux_acc = 0;
      window = 0;
    }
    const bool checkpoint =
        done % config.checkpoint_interval == 0 || done == config.max_iters || stop;
    if (dist && checkpoint) {
      // The ranks must hold identical weights: compare a checksum before saving rank 0's.
      double checksum = 0;
      for (const torch::Tensor& p : sgd.params())
        checksum += p.to(torch::kFloat64).sum().item<double>();
      absl::StatusOr<std::vector<double>> summed = dist->SumScalars({checksum});
      if (!summed.ok()) return last_good(summed.status());
      const std::vector<double>& sums = *summed;
      if (sums[0] != checksum * dist->world_size()) {
        return absl::InternalError(absl::StrFormat(
            "rank %d: weights differ across ranks at iteration %d (checksum %.17g, mean %.17g)",
            rank, done, checksum, sums[0] / dist->world_size()));
      }
    }
    if (main_rank && checkpoint) {
      ANN_ASSIGN_OR_RETURN(last_saved, save(done, lr));
      if (!stop) LOG(INFO) << "saved " << last_saved;
    } else if (checkpoint) {
      // What rank 0 saved (named the same way), for this rank's error messages.
      last_saved = TrainingCheckpointPath(checkpoint_dir, done);
    }
    if (main_rank && config.eval_interval > 0 &&
        (done % config.eval_interval == 0 || done == config.max_iters) && !stop) {
      TestConfig test = full_config.test;
      test.arithmetic = TestConfig::Arithmetic::kExact;  // the inference form cannot train on
      Predictor predictor(model, test);
      EvaluateOptions eval_options;
      eval_options.progress_label = "val";
      ANN_ASSIGN_OR_RETURN(
          Evaluation evaluation,
          EvaluateSamples(predictor, val_samples, info, static_cast<int>(model_config.num_classes),
                          eval_options));
      const ConfusionMatrix& matrix = evaluation.matrix;
      model->train();
      // mmseg's evaluation line: aAcc, mIoU, mAcc, then per class (fractions, as mmseg).
      Json line = TrainLog::Line("val", done, lr);
      line["aAcc"] = JsonNumber(matrix.AllAccuracy(), 5);
      line["mIoU"] = JsonNumber(matrix.MeanIoU(), 5);
      line["mAcc"] = JsonNumber(matrix.MeanAccuracy(), 5);
      const std::vector<double> iou = matrix.IoU(), acc = matrix.Accuracy();
      for (size_t c = 0; c < info.class_names.size() && c < iou.size(); ++c) {
        line["IoU." + info.class_names[c]] = JsonNumber(iou[c], 5);
      }
      for (size_t c = 0; c < info.class_names.size() && c < acc.size(); ++c) {
        line["Acc." + info.class_names[c]] = JsonNumber(acc[c], 5);
      }
      log->Write(line);
      log->Val(done, matrix.MeanIoU());
      LOG(INFO) << absl::StrFormat("iter %d: val mIoU %.4f aAcc %.4f", done, matrix.MeanIoU(),
                                   matrix.AllAccuracy());
    }
    if (stop) {
      progress.Finish();
      if (main_rank) (void)log->Plot();
      if (dist) ANN_RETURN_IF_ERROR(last_good(dist->Barrier()));
      return absl::CancelledError(
          absl::StrFormat("stopped by %s at iteration %d; saved %s (continue with --resume)",
                          g_stop_signal == SIGINT    ? "SIGINT"
                          : g_stop_signal == SIGTERM ? "SIGTERM"
                                                     : "a stop signal to another rank",
                          done, last_saved));
    }
  }
  progress.Finish();
  if (dist) ANN_RETURN_IF_ERROR(last_good(dist->Barrier()));
  if (!main_rank) return absl::OkStatus();
  if (comm_steps > 0) {
    const double left = comm_wait / comm_steps;
    LOG(INFO) << absl::StrFormat(
        "gradient all-reduce: %.1f ms when not overlapped, %.1f ms per step left after backward "
        "(%.0f%% hidden behind backward)",
        comm_blocking * 1e3, left * 1e3,
        comm_blocking > 0 ? std::max(0.0, 100 * (1 - left / comm_blocking)) : 0.0);
  }
  ANN_RETURN_IF_ERROR(log->Plot());
  std::printf("trained %lld iterations; final checkpoint %s\n",
              static_cast<long long>(config.max_iters), last_saved.c_str());
  return absl::OkStatus();
}

}  // namespace ann
