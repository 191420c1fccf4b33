// Video files and cameras through OpenCV's videoio (FFmpeg): a reader that says clearly what it
// cannot open (a missing file, no decodable stream, a still image named like a video), and a
// writer that encodes on its own thread under a temporary name and renames the file into place
// only when it reads back whole (OpenCV's writer does not report a failed write, as on a full
// disk). ann/eval/predict_video.h predicts with them.
#ifndef ANN_IO_VIDEO_H_
#define ANN_IO_VIDEO_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "opencv2/core.hpp"
#include "opencv2/videoio.hpp"

namespace ann {

struct VideoSource {
  std::string file;        // a video file, or
  int camera = -1;         // a camera index (/dev/videoN)
  int64_t max_frames = 0;  // 0: until the end (a camera: until stopped)

  // The file's stem or "cameraN": names what is written for it.
  std::string name() const;
  // The file as given or "cameraN": names it in messages.
  std::string label() const;
};

// The image format `path` holds by its first bytes ("" when none: perhaps a video). A raw MJPEG
// stream starts as a JPEG does: "JPEG" only says it may be a still image.
std::string StillImageFormat(const std::string& path);

class VideoReader {
 public:
  // Opens `source`: NotFoundError "<file>: cannot open as a video (missing, or no decodable
  // stream)" or "cameraN: cannot open the camera"; InvalidArgumentError for a still image
  // ("<file>: a PNG image, not a video ..."). FFmpeg's own log lines are silenced.
  static absl::StatusOr<std::unique_ptr<VideoReader>> Open(const VideoSource& source);

  double fps() const { return fps_; }  // 0 when unknown
  // The frames the container announces (0: unknown, and for a camera).
  int64_t announced_frames() const { return announced_; }
  // The frames to read: max_frames, at most those announced; INT64_MAX when unbounded.
  int64_t frame_limit() const { return limit_; }

  // The next frame (BGR), or none at the end of the stream.
  std::optional<cv::Mat> Read();

 private:
  VideoReader() = default;
  cv::VideoCapture capture_;
  double fps_ = 0;
  int64_t announced_ = 0;
  int64_t limit_ = 0;
};

// An MJPG video written by a thread of its own, at most `capacity` frames behind the caller.
class VideoWriter {
 public:
  // `path`: where Close() puts the video; frames go to a temporary name beside it until then.
  VideoWriter(const std::string& path, double fps, cv::Size size, size_t capacity = 4);
  ~VideoWriter();  // without Close(): the temporary file is removed

  bool opened() const { return writer_.isOpened(); }
  // Queues `frame` (of the size given), waiting while `capacity` frames are queued.
  void Push(cv::Mat frame);
  // Writes what is queued, finishes the file and, when it reads back with every frame pushed,
  // renames it into place; else a DataLossError (an output error) and no file.
  absl::Status Close();

 private:
  void Stop();
  void Work();

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

}  // namespace ann

#endif  // ANN_IO_VIDEO_H_
