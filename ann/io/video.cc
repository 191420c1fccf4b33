#include "ann/io/video.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "ann/util/atomic_file.h"

namespace ann {
namespace fs = std::filesystem;

std::string VideoSource::name() const {
  return file.empty() ? absl::StrCat("camera", camera) : fs::path(file).stem().string();
}

std::string VideoSource::label() const { return file.empty() ? name() : file; }

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

absl::StatusOr<std::unique_ptr<VideoReader>> VideoReader::Open(const VideoSource& source) {
  // FFmpeg's own log lines stay quiet: a failure is reported once, by us.
  setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);
  std::unique_ptr<VideoReader> reader(new VideoReader());
  cv::VideoCapture& capture = reader->capture_;
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
        source.label(), source.file.empty()
                            ? ": cannot open the camera"
                            : ": cannot open as a video (missing, or no decodable stream)"));
  }
  reader->fps_ = capture.get(cv::CAP_PROP_FPS);
  reader->announced_ =
      source.file.empty() ? 0 : static_cast<int64_t>(capture.get(cv::CAP_PROP_FRAME_COUNT));
  // FFmpeg opens a still image as a one-frame video; a renamed photo is not what was meant.
  if (const std::string format = source.file.empty() ? "" : StillImageFormat(source.file);
      !format.empty() && (format != "JPEG" || reader->announced_ <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        source.label(), ": a ", format, " image, not a video (give images with --images)"));
  }
  reader->limit_ = source.max_frames > 0 ? source.max_frames : std::numeric_limits<int64_t>::max();
  if (reader->announced_ > 0) reader->limit_ = std::min(reader->limit_, reader->announced_);
  return reader;
}

std::optional<cv::Mat> VideoReader::Read() {
  cv::Mat frame;
  if (!capture_.read(frame) || frame.empty()) return std::nullopt;
  return frame;
}

VideoWriter::VideoWriter(const std::string& path, double fps, cv::Size size, size_t capacity)
    : path_(path),
      tmp_((fs::path(path).parent_path() /
            absl::StrCat(".", fs::path(path).stem().string(), ".tmp", getpid(), ".avi"))
               .string()),
      capacity_(capacity) {
  writer_.open(tmp_, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps > 0 ? fps : 25.0, size);
  if (writer_.isOpened()) thread_ = std::thread([this] { Work(); });
}

VideoWriter::~VideoWriter() {
  Stop();
  std::remove(tmp_.c_str());
}

void VideoWriter::Push(cv::Mat frame) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < capacity_; });
  queue_.push_back(std::move(frame));
  ++pushed_;
  cv_.notify_all();
}

absl::Status VideoWriter::Close() {
  Stop();
  writer_.release();
  int64_t written = 0;
  try {
    // Every frame, not the header's count: the header is patched at the file's start, which a
    // disk that filled up later still holds.
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

void VideoWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void VideoWriter::Work() {
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

}  // namespace ann
