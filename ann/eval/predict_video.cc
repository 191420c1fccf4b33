#include "ann/eval/predict_video.h"

#include <chrono>
#include <limits>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/io/image.h"
#include "ann/io/palette.h"
#include "ann/io/video.h"
#include "ann/util/atomic_file.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"
#include "ann/util/stop_signal.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(video, "", "A video file instead of --images: writes <out_dir>/<name>_overlay.avi.");
DEFINE_int32(camera, -1, "A camera (/dev/videoN) instead of --images (with --max_frames).");
DEFINE_int64(max_frames, 0, "--video / --camera: frames to predict (0: all).");
DEFINE_bool(frame_labels, false, "--video / --camera: also <out_dir>/<name>/<frame>.png labels.");

namespace ann {
namespace {

// The run's summary: frames per second, or that a camera stopped before its first frame.
void LogReport(const VideoReport& report) {
  if (report.frames == 0) {
    LOG(INFO) << "stopped by " << report.stopped_by << " before the first frame; nothing written";
    return;
  }
  LOG(INFO) << absl::StrFormat(
      "%s%d frames in %.1f s: %.2f frames/s; %s",
      report.stopped_by.empty() ? "" : "stopped by " + report.stopped_by + ": ", report.frames,
      report.seconds, report.frames / report.seconds, report.overlay_video);
}

}  // namespace

absl::StatusOr<VideoRequest> VideoRequestFromFlags(bool images_given,
                                                   const std::vector<std::string>& images_only) {
  VideoRequest request{{FLAGS_video, FLAGS_camera, FLAGS_max_frames}, FLAGS_frame_labels};
  const bool is_video = request.given();
  if (images_given == is_video || (!FLAGS_video.empty() && FLAGS_camera >= 0)) {
    return absl::InvalidArgumentError("--images: give one of --images, --video and --camera");
  }
  if (FLAGS_max_frames < 0) return absl::InvalidArgumentError("--max_frames: must be >= 0");
  auto given = [](const std::string& flag) {
    return !gflags::GetCommandLineFlagInfoOrDie(flag.c_str()).is_default;
  };
  for (const std::string flag : {"max_frames", "frame_labels"}) {
    if (!is_video && given(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": only with --video or --camera"));
    }
  }
  for (const std::string& flag : images_only) {
    if (is_video && given(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": only with --images (not --video or --camera)"));
    }
  }
  return request;
}

absl::StatusOr<VideoReport> PredictVideo(Predictor& predictor, const VideoSource& source,
                                         const PredictOutput& output, bool frame_labels) {
  ANN_ASSIGN_OR_RETURN(std::unique_ptr<VideoReader> reader, VideoReader::Open(source));
  const std::string name = source.name();
  const std::string label = source.label();
  const int64_t announced = reader->announced_frames();
  const int64_t limit = reader->frame_limit();

  ANN_RETURN_IF_ERROR(MakeDirectories(output.out_dir));
  const std::string frames_dir = absl::StrCat(output.out_dir, "/", name);
  if (frame_labels) ANN_RETURN_IF_ERROR(MakeDirectories(frames_dir));
  // Decoded ahead: one reader thread (frames come in order), a few frames in advance.
  Prefetch<std::optional<cv::Mat>> decoded(
      static_cast<size_t>(std::min<int64_t>(limit, std::numeric_limits<int32_t>::max())), 1, 4,
      [&](size_t) { return reader->Read(); });
  std::unique_ptr<VideoWriter> encoder;
  VideoReport report;
  report.overlay_video = absl::StrCat(output.out_dir, "/", name, "_overlay.avi");
  Progress progress("video", announced > 0 ? limit : 0, 25);
  // Ctrl-C (how a camera stops) ends the loop after the frame at hand; the overlay video of the
  // frames done is finished.
  InstallStopSignalHandlers();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < limit && StopSignalReceived() == 0; ++i) {
    std::optional<cv::Mat> frame = decoded.Next();
    if (!frame) break;
    ANN_RETURN_IF_ERROR(predictor.CheckImage(absl::StrCat(label, " frame ", i), frame->size()));
    if (!encoder) {
      encoder = std::make_unique<VideoWriter>(report.overlay_video, reader->fps(), frame->size());
      if (!encoder->opened()) {
        return OutputError(absl::InternalError(
            absl::StrCat(report.overlay_video, ": cannot write an MJPG video")));
      }
    }
    const cv::Mat labels = LabelTensorToMat(Predictor::Labels(predictor.Logits(*frame)));
    encoder->Push(Overlay(*frame, Colorize(labels, output.palette)));
    if (frame_labels) {
      const cv::Mat written =
          output.format == PredictOutput::Format::kCityscapes ? TrainIdsToLabelIds(labels) : labels;
      ANN_RETURN_IF_ERROR(
          WriteImage(absl::StrFormat("%s/%06d.png", frames_dir, report.frames), written));
    }
    ++report.frames;
    progress.Advance(1, absl::StrCat("frame ", i));
  }
  progress.Finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (encoder) ANN_RETURN_IF_ERROR(encoder->Close());
  if (const int signal = StopSignalReceived()) {
    report.stopped_by = StopSignalName(signal);
    const std::string done =
        report.frames == 0
            ? "no frame was predicted"
            : absl::StrCat("the ", report.frames, " predicted are in ", report.overlay_video);
    // A camera runs until stopped; a file stopped early is incomplete.
    if (source.file.empty()) {
      LogReport(report);
      return report;
    }
    return absl::CancelledError(
        absl::StrCat(label, ": stopped by ", report.stopped_by, " after ", report.frames,
                     announced > 0 ? absl::StrCat(" of ", limit) : "", " frames; ", done));
  }
  if (report.frames == 0) {
    return absl::DataLossError(absl::StrCat(label, ": no frame could be decoded"));
  }
  if (announced > 0 && report.frames < limit) {
    return absl::DataLossError(absl::StrFormat(
        "%s: truncated or corrupt: decoded %d of the %d frames it announces (the %d decoded are "
        "in %s)",
        label, report.frames, limit, report.frames, report.overlay_video));
  }
  LogReport(report);
  return report;
}

}  // namespace ann
