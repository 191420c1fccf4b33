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
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ann/data/dataset.h"
#include "ann/data/loader.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/predictor.h"
#include "ann/io/checkpoint.h"
#include "ann/model/segmentor.h"
#include "ann/train/loss.h"
#include "ann/train/schedule.h"
#include "ann/train/sgd.h"
#include "ann/train/train_checkpoint.h"
#include "ann/util/atomic_file.h"
#include "ann/util/plot.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"

namespace ann {
namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int signal) { g_stop_signal = signal; }

double PeakMemoryMb() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Appends json lines to <work_dir>/train.log.json (flushed per line) and keeps the series for
// the curves (the last value per iteration wins, so a resumed run overwrites what it redoes).
class TrainLog {
 public:
  explicit TrainLog(const std::string& work_dir) : work_dir_(work_dir) {
    const std::string path = work_dir + "/train.log.json";
    Reload(path);
    out_.open(path, std::ios::app);
  }

  void Write(const std::string& line) {
    out_ << line << "\n";
    out_.flush();
  }

  void Train(int64_t iter, double lr, double loss) {
    loss_[iter] = loss;
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
    ANN_RETURN_IF_ERROR(WriteLinePlot(work_dir_ + "/loss.png", "training loss", "iteration",
                                      {series("loss", loss_)}));
    ANN_RETURN_IF_ERROR(WriteLinePlot(work_dir_ + "/lr.png", "learning rate", "iteration",
                                      {series("lr", lr_)}));
    if (!miou_.empty()) {
      ANN_RETURN_IF_ERROR(WriteLinePlot(work_dir_ + "/miou.png", "validation mIoU", "iteration",
                                        {series("mIoU", miou_)}));
    }
    return absl::OkStatus();
  }

 private:
  // Picks the numbers back up from an earlier run's log (resume).
  void Reload(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    auto number = [&](const std::string& key) -> double {
      const size_t at = line.find("\"" + key + "\": ");
      if (at == std::string::npos) return NAN;
      return std::atof(line.c_str() + at + key.size() + 4);
    };
    while (std::getline(in, line)) {
      const double iter = number("iter");
      if (std::isnan(iter)) continue;
      if (line.find("\"mode\": \"train\"") != std::string::npos) {
        loss_[static_cast<int64_t>(iter)] = number("loss");
        lr_[static_cast<int64_t>(iter)] = number("lr");
      } else if (line.find("\"mode\": \"val\"") != std::string::npos) {
        miou_[static_cast<int64_t>(iter)] = number("mIoU");
      }
    }
  }

  std::string work_dir_;
  std::ofstream out_;
  std::map<int64_t, double> loss_, lr_, miou_;
};

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  return std::isfinite(v) ? absl::StrFormat("%.6g", v) : std::string("NaN");
}

}  // namespace

void InstallStopSignalHandlers() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

absl::Status Train(const ModelConfig& model_config, const TrainConfig& config,
                   const TrainOptions& options) {
  if (options.work_dir.empty()) return absl::InvalidArgumentError("--work_dir is required");
  if (config.data_root.empty()) return absl::InvalidArgumentError("--data_root is required");
  ANN_ASSIGN_OR_RETURN(DatasetKind kind, ParseDatasetKind(config.dataset));
  const DatasetInfo& info = GetDatasetInfo(kind);
  ANN_RETURN_IF_ERROR(CheckClassCount(info, model_config.num_classes));
  std::vector<Sample> train_samples;
  std::vector<std::string> split_counts;
  for (const std::string& split : config.train_splits) {
    ANN_ASSIGN_OR_RETURN(std::vector<Sample> samples, ListSamples(kind, config.data_root, split));
    split_counts.push_back(absl::StrCat(split, " ", samples.size()));
    train_samples.insert(train_samples.end(), samples.begin(), samples.end());
  }
  std::vector<Sample> val_samples;
  if (config.eval_interval > 0) {
    ANN_ASSIGN_OR_RETURN(val_samples, ListSamples(kind, config.data_root, config.val_split));
  }
  Distributed* dist = options.distributed;
  const int rank = dist ? dist->rank() : 0;
  const bool main_rank = rank == 0;
  if (main_rank) {
    std::fprintf(stderr, "training on %zu images (%s)\n", train_samples.size(),
                 absl::StrJoin(split_counts, " + ").c_str());
  }
  ANN_RETURN_IF_ERROR(MakeDirectories(options.work_dir));

  torch::manual_seed(config.seed);
  EncoderDecoder model(model_config);
  model->InitWeights();
  Sgd sgd(UniqueParameters(*model), config.momentum, config.weight_decay);
  int64_t start = 0;
  if (options.resume) {
    const std::vector<std::string> candidates = ListTrainingCheckpoints(options.work_dir);
    if (candidates.empty()) {
      return absl::NotFoundError(
          absl::StrCat(options.work_dir, ": --resume: no iter_*.pth checkpoint to resume from"));
    }
    bool resumed = false;
    for (const std::string& path : candidates) {
      absl::StatusOr<TrainingState> state = LoadTrainingCheckpoint(path, model, sgd);
      if (!state.ok()) {
        std::fprintf(stderr, "warning: %s; trying an older checkpoint\n",
                     std::string(state.status().message()).c_str());
        continue;
      }
      if (state->max_iters != 0 && state->max_iters != config.max_iters) {
        std::fprintf(stderr, "warning: %s was saved by a run of %lld iterations, now %lld\n",
                     path.c_str(), static_cast<long long>(state->max_iters),
                     static_cast<long long>(config.max_iters));
      }
      start = state->iter;
      std::fprintf(stderr, "resumed from %s at iteration %lld\n", path.c_str(),
                   static_cast<long long>(start));
      resumed = true;
      break;
    }
    if (!resumed) {
      return absl::DataLossError(
          absl::StrCat(options.work_dir, ": no checkpoint could be loaded (see warnings above)"));
    }
  } else if (!options.load_from.empty()) {
    ANN_RETURN_IF_ERROR(LoadCheckpoint(options.load_from, *model, LoadMode::kStrict).status());
  } else if (!options.backbone_init.empty()) {
    ANN_ASSIGN_OR_RETURN(LoadReport report,
                         LoadCheckpoint(options.backbone_init, *model, LoadMode::kNonStrict));
    std::fprintf(stderr, "backbone init from %s: %s\n", options.backbone_init.c_str(),
                 report.Summary().c_str());
  }
  if (start >= config.max_iters) {
    std::fprintf(stderr, "nothing to do: already at iteration %lld of %lld\n",
                 static_cast<long long>(start), static_cast<long long>(config.max_iters));
    return absl::OkStatus();
  }

  LoaderOptions loader_options;
  loader_options.batch_size = config.batch_size;
  loader_options.rank = rank;
  loader_options.world_size = dist ? dist->world_size() : 1;
  loader_options.seed = config.seed;
  loader_options.workers = config.workers;
  loader_options.prefetch = std::max(2, config.workers);
  NormalizeParams normalize{model_config.mean, model_config.std, model_config.to_rgb};
  TrainLoader loader(train_samples, info, config.pipeline, normalize, loader_options, start);

  std::unique_ptr<TrainLog> log;  // Rank 0 logs, checkpoints and validates.
  if (main_rank) log = std::make_unique<TrainLog>(options.work_dir);
  if (start == 0 && main_rank) {
    log->Write(absl::StrCat("{\"env_info\": ", JsonString("ann C++ / LibTorch " TORCH_VERSION),
                           ", \"seed\": ", config.seed, ", \"config\": ",
                           JsonString(options.config_text), "}"));
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
  const std::vector<std::string> existing = ListTrainingCheckpoints(options.work_dir);
  std::string last_saved = existing.empty() ? "none" : existing.front();

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
    SegmentorOutputs outputs = model->forward(batch.images);
    LossTerms terms = SegmentationLoss(outputs, batch.labels, config, model_config.align_corners);
    double loss = terms.total.item<double>();
    bool stop = g_stop_signal != 0;
    if (dist) {
      // Every rank sees the same mean loss and the same stop decision.
      const std::vector<double> sums = dist->SumScalars(
          {loss, terms.decode, terms.aux, terms.decode_acc, terms.aux_acc, stop ? 1.0 : 0.0});
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
    terms.total.backward();
    if (dist) dist->AverageGradients(sgd.params());
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
    if (main_rank) progress.Advance(1, absl::StrFormat("iter %d loss %.4f lr %.3g", done, loss, lr));
    if (main_rank && (done % config.log_interval == 0 || done == config.max_iters)) {
      const double n = window;
      log->Write(absl::StrCat(
          "{\"mode\": \"train\", \"iter\": ", done, ", \"lr\": ", JsonNumber(lr),
          ", \"memory\": ", static_cast<int64_t>(PeakMemoryMb()),
          ", \"data_time\": ", JsonNumber(window_data / n), ", \"decode.loss_ce\": ",
          JsonNumber(window_decode / n), ", \"decode.acc_seg\": ",
          JsonNumber(window_decode_acc / n), ", \"aux.loss_ce\": ", JsonNumber(window_aux / n),
          ", \"aux.acc_seg\": ", JsonNumber(window_aux_acc / n), ", \"loss\": ",
          JsonNumber(window_loss / n), ", \"time\": ", JsonNumber(window_time / n), "}"));
      log->Train(done, lr, window_loss / n);
      window_time = window_data = window_loss = window_decode = window_aux = 0;
      window_decode_acc = window_aux_acc = 0;
      window = 0;
    }
    const bool checkpoint =
        done % config.checkpoint_interval == 0 || done == config.max_iters || stop;
    if (dist && checkpoint) {
      // The ranks must hold identical weights: compare a checksum before saving rank 0's.
      double checksum = 0;
      for (const torch::Tensor& p : sgd.params()) checksum += p.to(torch::kFloat64).sum().item<double>();
      const std::vector<double> sums = dist->SumScalars({checksum});
      if (sums[0] != checksum * dist->world_size()) {
        return absl::InternalError(absl::StrFormat(
            "rank %d: weights differ across ranks at iteration %d (checksum %.17g, mean %.17g)",
            rank, done, checksum, sums[0] / dist->world_size()));
      }
    }
    if (main_rank && checkpoint) {
      ANN_ASSIGN_OR_RETURN(last_saved, save(done, lr));
      if (!stop) std::fprintf(stderr, "\nsaved %s\n", last_saved.c_str());
    }
    if (main_rank && config.eval_interval > 0 &&
        (done % config.eval_interval == 0 || done == config.max_iters) && !stop) {
      Predictor predictor(model, options.inference);
      EvaluateOptions eval_options;
      eval_options.progress_label = "val";
      ANN_ASSIGN_OR_RETURN(Evaluation evaluation,
                           EvaluateSamples(predictor, val_samples, info,
                                           static_cast<int>(model_config.num_classes),
                                           eval_options));
      const ConfusionMatrix& matrix = evaluation.matrix;
      model->train();
      log->Write(absl::StrCat("{\"mode\": \"val\", \"iter\": ", done,
                             ", \"aAcc\": ", JsonNumber(matrix.AllAccuracy()),
                             ", \"mIoU\": ", JsonNumber(matrix.MeanIoU()),
                             ", \"mAcc\": ", JsonNumber(matrix.MeanAccuracy()), "}"));
      log->Val(done, matrix.MeanIoU());
      std::fprintf(stderr, "iter %lld: val mIoU %.4f aAcc %.4f\n", static_cast<long long>(done),
                   matrix.MeanIoU(), matrix.AllAccuracy());
    }
    if (stop) {
      progress.Finish();
      if (main_rank) (void)log->Plot();
      if (dist) dist->Barrier();
      return absl::CancelledError(absl::StrFormat(
          "stopped by %s at iteration %d; saved %s (continue with --resume)",
          g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", done, last_saved));
    }
  }
  progress.Finish();
  if (dist) dist->Barrier();
  if (!main_rank) return absl::OkStatus();
  ANN_RETURN_IF_ERROR(log->Plot());
  std::printf("trained %lld iterations; final checkpoint %s\n",
              static_cast<long long>(config.max_iters), last_saved.c_str());
  return absl::OkStatus();
}

}  // namespace ann
