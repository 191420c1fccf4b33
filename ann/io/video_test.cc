#include "ann/io/video.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"

namespace ann {
namespace {

using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/video_test_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Frames that differ from each other and are not mirror-symmetric: a bright column moving right.
cv::Mat Frame(int i, cv::Size size) {
  cv::Mat frame(size, CV_8UC3, cv::Scalar(30, 60, 90));
  frame.col((5 + 7 * i) % size.width).setTo(cv::Scalar(250, 250, 250));
  return frame;
}

TEST(VideoTest, WrittenVideoReadsBackFrameByFrame) {
  const std::string dir = TempDir("roundtrip");
  const std::string path = dir + "/clip with space.avi";
  // MJPG stores even sizes (FFmpeg's encoder rounds an odd one down): asymmetric, even.
  const cv::Size size(68, 42);
  VideoWriter writer(path, 12.0, size);
  ASSERT_TRUE(writer.opened());
  for (int i = 0; i < 9; ++i) writer.Push(Frame(i, size));
  // Until Close, only a hidden temporary file exists.
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(writer.Close().ok());
  ASSERT_TRUE(std::filesystem::exists(path));

  VideoSource source;
  source.file = path;
  EXPECT_EQ(source.name(), "clip with space");
  absl::StatusOr<std::unique_ptr<VideoReader>> reader = VideoReader::Open(source);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->announced_frames(), 9);
  EXPECT_EQ((*reader)->frame_limit(), 9);
  EXPECT_NEAR((*reader)->fps(), 12.0, 1e-6);
  for (int i = 0; i < 9; ++i) {
    std::optional<cv::Mat> frame = (*reader)->Read();
    ASSERT_TRUE(frame.has_value()) << i;
    ASSERT_EQ(frame->size(), size);
    // MJPG is lossy: the bright column is where frame i put it.
    cv::Mat gray;
    cv::cvtColor(*frame, gray, cv::COLOR_BGR2GRAY);
    cv::Point brightest;
    cv::minMaxLoc(gray.row(20), nullptr, nullptr, nullptr, &brightest);
    EXPECT_EQ(brightest.x, (5 + 7 * i) % size.width) << i;
  }
  EXPECT_FALSE((*reader)->Read().has_value());

  source.max_frames = 4;
  EXPECT_EQ((*VideoReader::Open(source))->frame_limit(), 4);
  std::filesystem::remove_all(dir);
}

TEST(VideoTest, WriterWithoutCloseLeavesNothing) {
  const std::string dir = TempDir("abandoned");
  {
    VideoWriter writer(dir + "/out.avi", 25.0, cv::Size(32, 24));
    writer.Push(Frame(0, cv::Size(32, 24)));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(VideoTest, RefusesMissingFilesAndStillImages) {
  const std::string dir = TempDir("refusals");
  VideoSource source;
  source.file = dir + "/missing.mp4";
  absl::Status missing = VideoReader::Open(source).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("missing.mp4: cannot open as a video"));

  source.file = dir + "/photo.mp4";  // a PNG under a video's name
  ASSERT_TRUE(cv::imwrite(dir + "/photo.png", Frame(1, cv::Size(33, 17))));
  std::filesystem::rename(dir + "/photo.png", source.file);
  EXPECT_EQ(StillImageFormat(source.file), "PNG");
  absl::Status still = VideoReader::Open(source).status();
  EXPECT_EQ(still.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(still.message()), HasSubstr("photo.mp4: a PNG image, not a video"));

  std::ofstream(dir + "/text.avi") << "not a video at all";
  source.file = dir + "/text.avi";
  EXPECT_EQ(StillImageFormat(source.file), "");
  EXPECT_EQ(VideoReader::Open(source).status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ann
