// Predicts the frames of a video file or a camera (OpenCV's videoio, FFmpeg): frames are decoded
// ahead of the model on one thread and the overlay video is encoded behind it on another, as the
// image path decodes ahead. Writes <out_dir>/<name>_overlay.avi (MJPG, the source's size and
// frame rate) and, on request, each frame's labels as <out_dir>/<name>/<frame>.png; reports
// frames per second. A file that cannot be opened, or that ends before the frames its container
// announces (truncated), is one error naming it; what was written by then is complete (the video
// holds the frames decoded, renamed into place; every PNG is whole). A still image (a JPEG named
// .mp4) is refused. SIGINT / SIGTERM stop after the frame at hand: the overlay video holds the
// frames done; a camera's run then ends well, a file's with an error saying how far it got. An
// overlay video that does not read back whole (a full disk) is an error and leaves no file.
#ifndef ANN_EVAL_PREDICT_VIDEO_H_
#define ANN_EVAL_PREDICT_VIDEO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/eval/predict_images.h"
#include "ann/eval/predictor.h"
#include "ann/io/video.h"

namespace ann {

// A tool's video flags (--video, --camera, --max_frames, --frame_labels, defined here).
struct VideoRequest {
  VideoSource source;
  bool frame_labels = false;
  bool given() const { return !source.file.empty() || source.camera >= 0; }
};

// Reads the video flags and checks them against the tool's other inputs: exactly one of
// `images_given` (the tool's --images), --video and --camera; --max_frames >= 0; --max_frames
// and --frame_labels only with a video; the flags named in `images_only` only without one.
absl::StatusOr<VideoRequest> VideoRequestFromFlags(bool images_given,
                                                   const std::vector<std::string>& images_only);

// What PredictVideo did.
struct VideoReport {
  int64_t frames = 0;
  double seconds = 0;
  std::string overlay_video;
  std::string stopped_by;  // a camera stopped by "SIGINT" (Ctrl-C) or "SIGTERM"; else empty
};

// Predicts `source` frame by frame with `predictor`, writing as `output` says (out_dir, format,
// palette; `frame_labels` adds one label PNG per frame), and logs frames per second.
absl::StatusOr<VideoReport> PredictVideo(Predictor& predictor, const VideoSource& source,
                                         const PredictOutput& output, bool frame_labels);

}  // namespace ann

#endif  // ANN_EVAL_PREDICT_VIDEO_H_
