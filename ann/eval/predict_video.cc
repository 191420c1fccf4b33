#include "ann/eval/predict_video.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/io/image.h"
#include "ann/io/palette.h"
#include "ann/util/atomic_file.h"
#include "ann/util/prefetch.h"
#include "ann/util/progress.h"
#include "ann/util/status_macros.h"
#include "ann/util/stop_signal.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "opencv2/videoio.hpp"

DEFINE_string(video, "", "A video file instead of --images: writes <out_dir>/<name>_overlay.avi.");
DEFINE_int32(camera, -1, "A camera (/dev/videoN) instead of --images (with --max_frames).");
DEFINE_int64(max_frames, 0, "--video / --camera: frames to predict (0: all).");
DEFINE_bool(frame_labels, false, "--video / --camera: also <out_dir>/<name>/<frame>.png labels.");

namespace ann {
namespace fs = std::filesystem;
namespace {

// The overlay video, encoded on its own thread (at most `capacity` frames behind the model),
// under a temporary name renamed into place by Close().
class EncodeBehind {
 public:
  EncodeBehind(const std::string& path, double fps, cv::Size size, size_t capacity = 4)
      : path_(path),
        tmp_((fs::path(path).parent_path() /
              absl::StrCat(".", fs::path(path).stem().string(), ".tmp", getpid(), ".avi"))
                 .string()),
        capacity_(capacity) {
    writer_.open(tmp_, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps > 0 ? fps : 25.0, size);
    if (writer_.isOpened()) thread_ = std::thread([this] { Work(); });
  }
  ~EncodeBehind() {
    Stop();
    std::remove(tmp_.c_str());
  }

  bool opened() const { return writer_.isOpened(); }

  void Push(cv::Mat frame) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(frame));
    ++pushed_;
    cv_.notify_all();
  }

  // Writes what is queued, finishes the file and, when it reads back with every frame pushed
  // (OpenCV's writer does not report a failed write, as on a full disk), renames it into place.
  absl::Status Close() {
    Stop();
    writer_.release();
    int64_t written = 0;
    try {
      // Every frame, not the header's count: the header is patched at the file's start, which
      // a disk that filled up later still holds.
      cv::VideoCapture check(tmp_, cv::CAP_FFMPEG);
      while (check.isOpened() && written <= pushed_ && check.grab()) ++written;
    } catch (const cv::Exception&) {
      written = 0;
    }
    if (written != pushed_) {
      return OutputError(absl::DataLossError(
          absl::StrCat(path_, ": cannot write the video (", written, " of ", pushed_,
                       " frames could be read back: is the disk full?); nothing was left")));
    }
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) {
      return OutputError(
          absl::InternalError(absl::StrCat(path_, ": cannot rename temporary file into place")));
    }
    return absl::OkStatus();
  }

 private:
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Work() {
    while (true) {
      cv::Mat frame;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        frame = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      writer_.write(frame);
    }
  }

  std::string path_, tmp_;
  size_t capacity_;
  cv::VideoWriter writer_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<cv::Mat> queue_;
  int64_t pushed_ = 0;
  bool done_ = false;
};

// The image format `path` holds by its first bytes ("" when none: perhaps a video). A raw MJPEG
// stream starts as a JPEG does: "JPEG" only says it may be a still image.
std::string StillImageFormat(const std::string& path) {
  char head[12] = {};
  std::ifstream(path, std::ios::binary).read(head, sizeof(head));
  const std::string_view h(head, sizeof(head));
  auto at = [&](size_t offset, std::string_view magic) {
    return h.substr(offset, magic.size()) == magic;
  };
  using namespace std::string_view_literals;
  if (at(0, "\xFF\xD8\xFF"sv)) return "JPEG";
  if (at(0, "\x89PNG\r\n\x1A\n"sv)) return "PNG";
  if (at(0, "BM"sv)) return "BMP";
  if (at(0, "II*\0"sv) || at(0, "MM\0*"sv)) return "TIFF";
  if (at(0, "RIFF"sv) && at(8, "WEBP"sv)) return "WebP";
  return "";
}

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
  // FFmpeg's own log lines stay quiet: a failure is reported once, by us.
  setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);
  const std::string name =
      source.file.empty() ? absl::StrCat("camera", source.camera) : FileStem(source.file);
  const std::string label = source.file.empty() ? name : source.file;
  cv::VideoCapture capture;
  try {
    if (source.file.empty()) {
      capture.open(source.camera);
    } else if (fs::is_regular_file(source.file)) {
      capture.open(source.file, cv::CAP_FFMPEG);
    }
  } catch (const cv::Exception&) {
    capture.release();
  }
  if (!capture.isOpened()) {
    return absl::NotFoundError(absl::StrCat(
        label, source.file.empty() ? ": cannot open the camera"
                                   : ": cannot open as a video (missing, or no decodable stream)"));
  }
  const double fps = capture.get(cv::CAP_PROP_FPS);
  const int64_t announced =
      source.file.empty() ? 0 : static_cast<int64_t>(capture.get(cv::CAP_PROP_FRAME_COUNT));
  // FFmpeg opens a still image as a one-frame video; a renamed photo is not what was meant.
  if (const std::string format = source.file.empty() ? "" : StillImageFormat(source.file);
      !format.empty() && (format != "JPEG" || announced <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": a ", format, " image, not a video (give images with --images)"));
  }
  int64_t limit = source.max_frames > 0 ? source.max_frames : std::numeric_limits<int64_t>::max();
  if (announced > 0) limit = std::min(limit, announced);

  ANN_RETURN_IF_ERROR(MakeDirectories(output.out_dir));
  const std::string frames_dir = absl::StrCat(output.out_dir, "/", name);
  if (frame_labels) ANN_RETURN_IF_ERROR(MakeDirectories(frames_dir));
  // Decoded ahead: one reader thread (frames come in order), a few frames in advance.
  Prefetch<std::optional<cv::Mat>> decoded(
      static_cast<size_t>(std::min<int64_t>(limit, std::numeric_limits<int32_t>::max())), 1, 4,
      [&](size_t) -> std::optional<cv::Mat> {
        cv::Mat frame;
        if (!capture.read(frame) || frame.empty()) return std::nullopt;
        return frame;
      });
  std::unique_ptr<EncodeBehind> encoder;
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
      encoder = std::make_unique<EncodeBehind>(report.overlay_video, fps, frame->size());
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
