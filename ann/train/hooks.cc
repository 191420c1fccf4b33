#include "ann/train/hooks.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/eval/backend.h"
#include "ann/eval/evaluator.h"
#include "ann/eval/predictor.h"
#include "ann/io/image.h"
#include "ann/train/schedule.h"
#include "ann/util/json.h"
#include "ann/util/plot.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"
#include "ann/util/stop_signal.h"
#include "glog/logging.h"

namespace ann {
namespace fs = std::filesystem;

absl::Status TrainingRun::WithLastGood(const absl::Status& status) const {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(), "; last good checkpoint: ",
                                                  last_saved, " (continue with --resume)"));
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
    ANN_RETURN_IF_ERROR(WriteImage(work_dir_ + "/loss.png",
                                   DrawLinePlot("training loss", "iteration", "loss", losses)));
    ANN_RETURN_IF_ERROR(WriteImage(work_dir_ + "/lr.png", DrawLinePlot("learning rate", "iteration",
                                                                       "lr", {series("lr", lr_)})));
    if (!miou_.empty()) {
      ANN_RETURN_IF_ERROR(WriteImage(
          work_dir_ + "/miou.png",
          DrawLinePlot("validation mIoU", "iteration", "mIoU", {series("val mIoU", miou_)})));
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

namespace {

double PeakMemoryMb() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

class LoggerHook : public Hook {
 public:
  LoggerHook(TrainingRun& run, int64_t start)
      : progress_("train", run.train->max_iters - start, run.train->log_interval) {
    if (!run.main_rank()) return;
    log_ = std::make_unique<TrainLog>(run.work_dir);
    run.log = log_.get();
    if (start == 0) {
      // mmcv's first line: the run's meta (no `epoch`, so log readers skip it).
      Json meta = Json::object();
      meta["env_info"] = "ann C++ / LibTorch " TORCH_VERSION;
      meta["seed"] = run.train->seed;
      meta["config"] = run.state.config;
      log_->Write(meta);
    }
  }

  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    const TrainConfig& config = *run.train;
    window_.seconds += s.seconds;
    window_.data_seconds += s.data_seconds;
    window_.loss += s.loss;
    window_.decode += s.decode;
    window_.aux += s.aux;
    window_.decode_acc += s.decode_acc;
    window_.aux_acc += s.aux_acc;
    ++count_;
    if (!run.main_rank()) return absl::OkStatus();
    progress_.Advance(1, absl::StrFormat("iter %d loss %.4f lr %.3g", s.iter, s.loss, s.lr));
    if (s.iter % config.log_interval != 0 && s.iter != config.max_iters) return absl::OkStatus();
    const double n = count_;
    const bool has_aux = run.model_config->with_auxiliary_head && config.aux_weight > 0;
    // mmcv's train line: mode, epoch, iter, lr, memory, data_time, the loss terms, time.
    Json line = TrainLog::Line("train", s.iter, s.lr);
    line["memory"] = static_cast<int64_t>(PeakMemoryMb());
    line["data_time"] = JsonNumber(window_.data_seconds / n, 5);
    line["decode.loss_ce"] = JsonNumber(window_.decode / n, 5);
    line["decode.acc_seg"] = JsonNumber(window_.decode_acc / n, 5);
    if (has_aux) {
      line["aux.loss_ce"] = JsonNumber(window_.aux / n, 5);
      line["aux.acc_seg"] = JsonNumber(window_.aux_acc / n, 5);
    }
    line["loss"] = JsonNumber(window_.loss / n, 5);
    line["time"] = JsonNumber(window_.seconds / n, 5);
    log_->Write(line);
    log_->Train(s.iter, s.lr, window_.loss / n, window_.decode / n,
                has_aux ? window_.aux / n : std::nan(""));
    window_ = IterationStats();
    count_ = 0;
    return absl::OkStatus();
  }

  absl::Status AfterRun(TrainingRun& run) override {
    progress_.Finish();
    if (!run.main_rank()) return absl::OkStatus();
    absl::Status plotted = log_->Plot();
    // A stopped run keeps its first error (the stop); the curves are a courtesy then.
    return run.stop_signal ? absl::OkStatus() : plotted;
  }

 private:
  Progress progress_;
  std::unique_ptr<TrainLog> log_;
  IterationStats window_;  // sums over the logging window
  int count_ = 0;
};

class EvalHook : public Hook {
 public:
  EvalHook(TrainingRun& run, std::vector<Sample> val_samples)
      : samples_(std::move(val_samples)),
        metric_(run.train->save_best.empty() ? "mIoU" : run.train->save_best) {}

  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    const TrainConfig& config = *run.train;
    if (config.eval_interval <= 0 || run.stop_signal) return absl::OkStatus();
    if (s.iter % config.eval_interval != 0 && s.iter != config.max_iters) return absl::OkStatus();
    bool finish = false;
    if (run.main_rank()) {
      ANN_ASSIGN_OR_RETURN(const double score, Validate(run, s));
      TrainingState& state = run.state;
      if (score > state.best_score) {
        state.best_score = score;
        state.best_iter = s.iter;
        state.evals_without_improvement = 0;
        if (!config.save_best.empty()) ANN_RETURN_IF_ERROR(SaveBest(run, s));
      } else {
        ++state.evals_without_improvement;
      }
      finish = config.early_stop_patience > 0 &&
               state.evals_without_improvement >= config.early_stop_patience;
      if (finish) {
        run.finish_reason = absl::StrFormat(
            "early stop at iteration %d: %s has not improved for %d validations (best %.4f at "
            "iteration %d%s)",
            s.iter, metric_, state.evals_without_improvement, state.best_score, state.best_iter,
            state.best_checkpoint.empty() ? "" : ", " + state.best_checkpoint);
      }
    }
    if (run.dist) {
      // Every rank stops with rank 0.
      absl::StatusOr<std::vector<double>> summed = run.dist->SumScalars({finish ? 1.0 : 0.0});
      if (!summed.ok()) return run.WithLastGood(summed.status());
      if ((*summed)[0] > 0 && run.finish_reason.empty()) {
        run.finish_reason = absl::StrCat("early stop at iteration ", s.iter, " (rank 0's ", metric_,
                                         " stopped improving)");
      }
    }
    return absl::OkStatus();
  }

 private:
  // Validates the model as it is; writes mmseg's val line; returns the tracked metric.
  absl::StatusOr<double> Validate(TrainingRun& run, const IterationStats& s) {
    TestConfig test = *run.test;
    test.precision.reset();  // the inference graph is a copy: validate the modules as they are
    Predictor predictor(*run.model_config, run.data->normalize, test, ExactForward(*run.model));
    EvaluateOptions options;
    options.progress_label = "val";
    const int num_classes = static_cast<int>(run.model_config->num_classes);
    ANN_ASSIGN_OR_RETURN(Evaluation evaluation,
                         EvaluateSamples(predictor, samples_, *run.info, num_classes, options));
    (*run.model)->train();
    const ConfusionMatrix& matrix = evaluation.matrix;
    // mmseg's evaluation line: aAcc, mIoU, mAcc, then per class (fractions, as mmseg).
    Json line = TrainLog::Line("val", s.iter, s.lr);
    line["aAcc"] = JsonNumber(matrix.AllAccuracy(), 5);
    line["mIoU"] = JsonNumber(matrix.MeanIoU(), 5);
    line["mAcc"] = JsonNumber(matrix.MeanAccuracy(), 5);
    const std::vector<double> iou = matrix.IoU(), acc = matrix.Accuracy();
    const std::vector<std::string>& names = run.info->class_names;
    for (size_t c = 0; c < names.size() && c < iou.size(); ++c) {
      line["IoU." + names[c]] = JsonNumber(iou[c], 5);
    }
    for (size_t c = 0; c < names.size() && c < acc.size(); ++c) {
      line["Acc." + names[c]] = JsonNumber(acc[c], 5);
    }
    run.log->Write(line);
    run.log->Val(s.iter, matrix.MeanIoU());
    LOG(INFO) << absl::StrFormat("iter %d: val mIoU %.4f aAcc %.4f", s.iter, matrix.MeanIoU(),
                                 matrix.AllAccuracy());
    const double score = metric_ == "mAcc"   ? matrix.MeanAccuracy()
                         : metric_ == "aAcc" ? matrix.AllAccuracy()
                                             : matrix.MeanIoU();
    return std::isfinite(score) ? score : 0.0;
  }

  // best_<metric>_iter_N.pth: a training checkpoint (resumable) of this iteration; the previous
  // best is removed, as mmcv's EvalHook does.
  absl::Status SaveBest(TrainingRun& run, const IterationStats& s) {
    TrainingState& state = run.state;
    const std::string previous = state.best_checkpoint;
    const std::string path = BestCheckpointPath(run.work_dir, metric_, s.iter);
    state.iter = s.iter;
    state.lr = s.lr;
    state.best_checkpoint = path;
    ANN_RETURN_IF_ERROR(WriteTrainingCheckpoint(path, state, *run.model, *run.sgd));
    if (!previous.empty() && previous != path) std::remove(previous.c_str());
    run.written_this_iter = path;
    LOG(INFO) << absl::StrFormat("best %s %.4f at iteration %d: saved %s", metric_,
                                 state.best_score, s.iter, path);
    return absl::OkStatus();
  }

  std::vector<Sample> samples_;
  std::string metric_;
};

class CheckpointHook : public Hook {
 public:
  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    const TrainConfig& config = *run.train;
    const bool due = s.iter % config.checkpoint_interval == 0 || s.iter == config.max_iters ||
                     run.stop_signal || !run.finish_reason.empty();
    if (!due) return absl::OkStatus();
    if (run.dist) {
      // The ranks must hold identical weights: compare a checksum before saving rank 0's.
      double checksum = 0;
      for (const torch::Tensor& p : run.sgd->params()) {
        checksum += p.to(torch::kFloat64).sum().item<double>();
      }
      absl::StatusOr<std::vector<double>> summed = run.dist->SumScalars({checksum});
      if (!summed.ok()) return run.WithLastGood(summed.status());
      const double world = run.dist->world_size();
      if ((*summed)[0] != checksum * world) {
        return absl::InternalError(absl::StrFormat(
            "rank %d: weights differ across ranks at iteration %d (checksum %.17g, mean %.17g)",
            run.rank, s.iter, checksum, (*summed)[0] / world));
      }
    }
    if (!run.main_rank()) {
      // What rank 0 saved, for this rank's error messages.
      run.last_saved = TrainingCheckpointPath(run.checkpoint_dir, s.iter);
      return absl::OkStatus();
    }
    run.state.iter = s.iter;
    run.state.lr = s.lr;
    const std::string path = TrainingCheckpointPath(run.work_dir, s.iter);
    if (!LinkInto(run.written_this_iter, path)) {
      ANN_RETURN_IF_ERROR(WriteTrainingCheckpoint(path, run.state, *run.model, *run.sgd));
    }
    ANN_RETURN_IF_ERROR(UpdateLatestLink(run.work_dir, path));
    run.last_saved = path;
    if (!run.stop_signal) LOG(INFO) << "saved " << path;
    return absl::OkStatus();
  }

 private:
  // The same checkpoint already written under another name (the best one): a hard link,
  // renamed into place. False when there is none or the link cannot be made.
  static bool LinkInto(const std::string& written, const std::string& path) {
    if (written.empty()) return false;
    const std::string tmp = absl::StrCat(fs::path(path).parent_path().string(), "/.",
                                         fs::path(path).stem().string(), ".tmp", getpid(), ".pth");
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_hard_link(written, tmp, ec);
    if (ec) return false;
    fs::rename(tmp, path, ec);
    if (!ec) return true;
    fs::remove(tmp, ec);
    return false;
  }
};

}  // namespace

std::unique_ptr<Hook> MakeLoggerHook(TrainingRun& run, int64_t start_iter) {
  return std::make_unique<LoggerHook>(run, start_iter);
}

std::unique_ptr<Hook> MakeEvalHook(TrainingRun& run, std::vector<Sample> val_samples) {
  return std::make_unique<EvalHook>(run, std::move(val_samples));
}

std::unique_ptr<Hook> MakeCheckpointHook(TrainingRun& run) {
  return std::make_unique<CheckpointHook>();
}

namespace {

class LrScheduleHook : public Hook {
 public:
  absl::Status BeforeTrainIter(TrainingRun& run, IterationStats& stats) override {
    const TrainConfig& c = *run.train;
    stats.lr = PolyLr(c.lr, c.min_lr, c.power, stats.iter - 1, c.max_iters);
    return absl::OkStatus();
  }
};

class LossCheckHook : public Hook {
 public:
  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    if (std::isfinite(s.loss)) return absl::OkStatus();
    return absl::InternalError(absl::StrFormat(
        "loss is %s at iteration %d (decode %g, aux %g); stopped without saving. Last good "
        "checkpoint: %s",
        std::isnan(s.loss) ? "NaN" : "infinite", s.iter, s.decode, s.aux, run.last_saved));
  }
};

class CommunicationHook : public Hook {
 public:
  absl::Status BeforeRun(TrainingRun& run) override {
    if (run.reducer == nullptr) return absl::OkStatus();
    absl::StatusOr<double> blocking = run.reducer->TimeBlocking();
    if (!blocking.ok()) return run.WithLastGood(blocking.status());
    blocking_ = *blocking;
    if (run.main_rank()) {
      LOG(INFO) << absl::StrFormat(
          "%d processes, %s BatchNorm; gradients %.1f MB in %d buckets: %.1f ms per all-reduce "
          "when not overlapped",
          run.dist->world_size(), run.train->sync_bn ? "synchronised" : "per-process",
          run.reducer->bytes() / 1e6, run.reducer->buckets(), blocking_ * 1e3);
    }
    return absl::OkStatus();
  }

  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    if (run.reducer == nullptr) return absl::OkStatus();
    wait_ += run.reducer->last_wait_seconds();
    ++steps_;
    return absl::OkStatus();
  }

  absl::Status AfterRun(TrainingRun& run) override {
    if (!run.main_rank() || steps_ == 0 || !run.result.ok()) return absl::OkStatus();
    const double left = wait_ / steps_;
    LOG(INFO) << absl::StrFormat(
        "gradient all-reduce: %.1f ms when not overlapped, %.1f ms per step left after backward "
        "(%.0f%% hidden behind backward)",
        blocking_ * 1e3, left * 1e3,
        blocking_ > 0 ? std::max(0.0, 100 * (1 - left / blocking_)) : 0.0);
    return absl::OkStatus();
  }

 private:
  double blocking_ = 0;  // seconds: one all-reduce alone
  double wait_ = 0;      // seconds: waits after backward, summed
  int64_t steps_ = 0;
};

class FinishHook : public Hook {
 public:
  absl::Status AfterTrainIter(TrainingRun& run, const IterationStats& s) override {
    if (!run.stop_signal) return absl::OkStatus();
    run.result = absl::CancelledError(
        absl::StrFormat("stopped by %s at iteration %d; saved %s (continue with --resume)",
                        StopSignalReceived() != 0 ? StopSignalName(StopSignalReceived())
                                                  : "a stop signal to another rank",
                        s.iter, run.last_saved));
    return absl::OkStatus();
  }

  absl::Status AfterRun(TrainingRun& run) override {
    if (!run.main_rank() || !run.result.ok()) return absl::OkStatus();
    if (!run.finish_reason.empty()) {
      std::printf("%s; final checkpoint %s\n", run.finish_reason.c_str(), run.last_saved.c_str());
    } else {
      std::printf("trained %lld iterations; final checkpoint %s\n",
                  static_cast<long long>(run.train->max_iters), run.last_saved.c_str());
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Hook> MakeLrScheduleHook() { return std::make_unique<LrScheduleHook>(); }

std::unique_ptr<Hook> MakeLossCheckHook() { return std::make_unique<LossCheckHook>(); }

std::unique_ptr<Hook> MakeCommunicationHook() { return std::make_unique<CommunicationHook>(); }

std::unique_ptr<Hook> MakeFinishHook() { return std::make_unique<FinishHook>(); }

std::vector<std::unique_ptr<Hook>> DefaultHooks(TrainingRun& run, int64_t start_iter,
                                                std::vector<Sample> val_samples) {
  std::vector<std::unique_ptr<Hook>> hooks;
  hooks.push_back(MakeLrScheduleHook());
  hooks.push_back(MakeLossCheckHook());
  hooks.push_back(MakeLoggerHook(run, start_iter));
  hooks.push_back(MakeEvalHook(run, std::move(val_samples)));
  hooks.push_back(MakeCheckpointHook(run));
  hooks.push_back(MakeCommunicationHook());
  hooks.push_back(MakeFinishHook());
  return hooks;
}

}  // namespace ann
