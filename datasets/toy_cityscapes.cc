#include "datasets/toy_cityscapes.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/data/transforms.h"
#include "ann/io/image.h"
#include "ann/util/atomic_file.h"
#include "ann/util/status_macros.h"
#include "opencv2/imgproc.hpp"

namespace ann {
namespace {

enum LabelId : uint8_t {
  kEgo = 1,
  kRoad = 7,
  kSidewalk = 8,
  kBuilding = 11,
  kVegetation = 21,
  kTerrain = 22,
  kSky = 23,
  kPerson = 24,
  kCar = 26,
};

class Painter {
 public:
  Painter(int w, int h, Rng& rng) : rng_(rng) {
    scene_.image = cv::Mat(h, w, CV_8UC3, cv::Scalar(0, 0, 0));
    scene_.label_ids = cv::Mat(h, w, CV_8UC1, cv::Scalar(0));
    scene_.instances = cv::Mat(h, w, CV_16UC1, cv::Scalar(0));
  }

  // Paints the pixels of `mask` with `label`, colour `bgr` plus per-pixel noise of amplitude
  // `noise`, and instance id `instance` (default: the label).
  void Fill(const cv::Mat& mask, uint8_t label, cv::Vec3f bgr, float noise, int instance = -1) {
    const int w = mask.cols;
    for (int y = 0; y < mask.rows; ++y) {
      const uint8_t* m = mask.ptr<uint8_t>(y);
      cv::Vec3b* img = scene_.image.ptr<cv::Vec3b>(y);
      uint8_t* lab = scene_.label_ids.ptr<uint8_t>(y);
      uint16_t* ins = scene_.instances.ptr<uint16_t>(y);
      for (int x = 0; x < w; ++x) {
        if (!m[x]) continue;
        const float n = static_cast<float>(Uniform(rng_, -noise, noise));
        for (int c = 0; c < 3; ++c) {
          img[x][c] = cv::saturate_cast<uint8_t>(bgr[c] + n + Uniform(rng_, -3, 3));
        }
        lab[x] = label;
        ins[x] = static_cast<uint16_t>(instance >= 0 ? instance : label);
      }
    }
  }

  cv::Mat Blank() const { return cv::Mat::zeros(scene_.label_ids.size(), CV_8UC1); }
  ToyScene& scene() { return scene_; }

 private:
  Rng& rng_;
  ToyScene scene_;
};

cv::Vec3f Jitter(Rng& rng, cv::Vec3f bgr, float amount) {
  for (int c = 0; c < 3; ++c) bgr[c] += static_cast<float>(Uniform(rng, -amount, amount));
  return bgr;
}

}  // namespace

ToyScene RenderToyScene(int w, int h, uint64_t seed) {
  Rng rng(seed);
  Painter p(w, h, rng);
  const int horizon = static_cast<int>(h * Uniform(rng, 0.42, 0.55));
  const int vanish_x = static_cast<int>(w * Uniform(rng, 0.35, 0.65));

  // Sky: vertical gradient, light near the horizon.
  for (int y = 0; y < horizon; ++y) {
    cv::Mat row = p.Blank();
    row.row(y).setTo(255);
    const float t = static_cast<float>(y) / std::max(1, horizon);
    p.Fill(row, kSky, cv::Vec3f(200 + 30 * t, 140 + 50 * t, 80 + 70 * t), 3);
  }
  // Ground: terrain, then sidewalk, then the road in perspective.
  cv::Mat ground = p.Blank();
  ground.rowRange(horizon, h).setTo(255);
  p.Fill(ground, kTerrain, Jitter(rng, cv::Vec3f(90, 170, 150), 10), 18);
  const int road_left = static_cast<int>(w * Uniform(rng, 0.05, 0.25));
  const int road_right = static_cast<int>(w * Uniform(rng, 0.75, 0.95));
  const int walk = static_cast<int>(w * Uniform(rng, 0.12, 0.2));
  std::vector<cv::Point> sidewalk = {{vanish_x - 6, horizon},
                                     {vanish_x + 6, horizon},
                                     {road_right + walk, h},
                                     {road_left - walk, h}};
  cv::Mat sidewalk_mask = p.Blank();
  cv::fillConvexPoly(sidewalk_mask, sidewalk, 255);
  p.Fill(sidewalk_mask, kSidewalk, Jitter(rng, cv::Vec3f(190, 175, 215), 8), 6);
  // Tile joints: darker lines on the sidewalk, still sidewalk.
  cv::Mat joints = p.Blank();
  for (int y = horizon + 3; y < h; y += 5) cv::line(joints, {0, y}, {w, y}, 255, 1);
  p.Fill(joints & sidewalk_mask, kSidewalk, cv::Vec3f(150, 140, 175), 4);
  std::vector<cv::Point> road = {
      {vanish_x - 2, horizon}, {vanish_x + 2, horizon}, {road_right, h}, {road_left, h}};
  cv::Mat road_mask = p.Blank();
  cv::fillConvexPoly(road_mask, road, 255);
  p.Fill(road_mask, kRoad, Jitter(rng, cv::Vec3f(95, 70, 90), 8), 8);
  // Dashed centre line (road).
  cv::Mat lane = p.Blank();
  for (int y = horizon + 4; y < h; y += 10) {
    const float t = static_cast<float>(y - horizon) / (h - horizon);
    const int x = vanish_x + static_cast<int>(t * ((road_left + road_right) / 2 - vanish_x));
    cv::line(lane, {x, y}, {x + static_cast<int>(t * 2), std::min(h - 1, y + 4)}, 255,
             std::max(1, static_cast<int>(3 * t)));
  }
  p.Fill(lane & road_mask, kRoad, cv::Vec3f(235, 235, 235), 5);

  // Buildings along the horizon with window grids; gaps show the sky.
  for (int x = static_cast<int>(Uniform(rng, -20, 0)); x < w;) {
    const int bw = static_cast<int>(w * Uniform(rng, 0.12, 0.3));
    if (Uniform(rng, 0, 1) < 0.8) {
      const int top = static_cast<int>(horizon * Uniform(rng, 0.05, 0.6));
      cv::Mat b = p.Blank();
      cv::rectangle(b, cv::Rect(x, top, bw, horizon - top + 2), 255, cv::FILLED);
      const float shade = static_cast<float>(Uniform(rng, 60, 150));
      const cv::Vec3f wall = Jitter(rng, cv::Vec3f(shade, shade + 5, shade + 15), 15);
      p.Fill(b, kBuilding, wall, 6);
      cv::Mat windows = p.Blank();
      for (int wy = top + 4; wy + 4 < horizon - 2; wy += 8) {
        for (int wx = x + 3; wx + 4 < x + bw; wx += 7) {
          cv::rectangle(windows, cv::Rect(wx, wy, 4, 4), 255, cv::FILLED);
        }
      }
      p.Fill(windows & b, kBuilding, wall * 0.45f, 5);
    }
    x += bw + static_cast<int>(Uniform(rng, 0, w * 0.08));
  }
  // Trees: trunk and textured crown (all vegetation), standing at the horizon.
  const int trees = RandInt(rng, 1, 5);
  for (int i = 0; i < trees; ++i) {
    const int tx = RandInt(rng, 0, w);
    const int r = static_cast<int>(h * Uniform(rng, 0.08, 0.16));
    const int base = horizon + RandInt(rng, 0, std::max(1, h / 12));
    cv::Mat tree = p.Blank();
    cv::rectangle(tree, cv::Rect(tx - 2, base - 2 * r, 4, 2 * r), 255, cv::FILLED);
    p.Fill(tree, kVegetation, cv::Vec3f(40, 60, 90), 8);
    cv::Mat crown = p.Blank();
    cv::circle(crown, {tx, base - 2 * r}, r, 255, cv::FILLED);
    cv::circle(crown, {tx - r / 2, base - 2 * r + r / 3}, r * 2 / 3, 255, cv::FILLED);
    p.Fill(crown, kVegetation, Jitter(rng, cv::Vec3f(45, 125, 55), 12), 30);
  }
  // Cars on the road: body, dark windows, black wheels; bigger when nearer.
  // Far objects first, so nearer ones occlude them.
  auto depths = [&](int n, double lo, double hi) {
    std::vector<int> ys(n);
    for (int& y : ys) y = horizon + static_cast<int>((h - horizon) * Uniform(rng, lo, hi));
    std::sort(ys.begin(), ys.end());
    return ys;
  };
  const std::vector<int> car_ys = depths(RandInt(rng, 1, 4), 0.25, 0.85);
  for (int i = 0; i < static_cast<int>(car_ys.size()); ++i) {
    const int y = car_ys[i];
    const float t = static_cast<float>(y - horizon) / (h - horizon);
    const int ch = std::max(6, static_cast<int>(h * (0.08 + 0.18 * t)));
    const int cw = ch * 2;
    const int left = road_left, right = road_right;
    const int cx =
        vanish_x + static_cast<int>((Uniform(rng, 0, 1) * (right - left) + left - vanish_x) * t);
    const cv::Rect body(cx - cw / 2, y - ch, cw, ch);
    cv::Mat car = p.Blank();
    cv::rectangle(car, cv::Rect(body.x, body.y + ch / 3, cw, ch * 2 / 3), 255, cv::FILLED);
    cv::rectangle(car, cv::Rect(body.x + cw / 5, body.y, cw * 3 / 5, ch / 2), 255, cv::FILLED);
    const int instance = kCar * 1000 + i;
    static const cv::Vec3f kBodies[] = {
        {140, 40, 20}, {40, 40, 170}, {200, 200, 200}, {40, 40, 40}, {120, 120, 30}};
    p.Fill(car, kCar, Jitter(rng, kBodies[RandInt(rng, 0, 5)], 15), 6, instance);
    cv::Mat glass = p.Blank();
    cv::rectangle(glass, cv::Rect(body.x + cw / 5 + 2, body.y + 2, cw * 3 / 5 - 4, ch / 2 - 2), 255,
                  cv::FILLED);
    p.Fill(glass & car, kCar, cv::Vec3f(70, 50, 30), 6, instance);
    cv::Mat wheels = p.Blank();
    cv::circle(wheels, {body.x + cw / 5, body.y + ch}, std::max(2, ch / 5), 255, cv::FILLED);
    cv::circle(wheels, {body.x + cw * 4 / 5, body.y + ch}, std::max(2, ch / 5), 255, cv::FILLED);
    p.Fill(wheels, kCar, cv::Vec3f(20, 20, 20), 4, instance);
  }
  // Persons on the sidewalks: head, coloured torso, dark legs.
  const std::vector<int> person_ys = depths(RandInt(rng, 1, 5), 0.3, 0.95);
  for (int i = 0; i < static_cast<int>(person_ys.size()); ++i) {
    const int y = person_ys[i];
    const float t = static_cast<float>(y - horizon) / (h - horizon);
    const int ph = std::max(8, static_cast<int>(h * (0.12 + 0.25 * t)));
    const bool left_side = Uniform(rng, 0, 1) < 0.5;
    const int edge = left_side ? road_left - walk / 2 : road_right + walk / 2;
    const int px = vanish_x + static_cast<int>((edge - vanish_x) * t);
    const int pw = std::max(3, ph / 4);
    const int instance = kPerson * 1000 + i;
    cv::Mat head = p.Blank();
    cv::circle(head, {px, y - ph + pw / 2}, std::max(2, pw / 2), 255, cv::FILLED);
    p.Fill(head, kPerson, cv::Vec3f(120, 150, 210), 8, instance);
    cv::Mat torso = p.Blank();
    cv::rectangle(torso, cv::Rect(px - pw / 2, y - ph + pw, pw, ph / 2 - pw / 2), 255, cv::FILLED);
    static const cv::Vec3f kClothes[] = {
        {40, 30, 200}, {200, 60, 40}, {40, 160, 40}, {30, 200, 220}};
    p.Fill(torso, kPerson, Jitter(rng, kClothes[RandInt(rng, 0, 4)], 20), 10, instance);
    cv::Mat legs = p.Blank();
    cv::rectangle(legs, cv::Rect(px - pw / 2, y - ph / 2 + pw / 2, pw, ph / 2 - pw / 2), 255,
                  cv::FILLED);
    p.Fill(legs, kPerson, cv::Vec3f(60, 40, 40), 6, instance);
  }
  // Ego vehicle: the bonnet at the bottom (ignored in evaluation).
  cv::Mat ego = p.Blank();
  cv::ellipse(ego, {w / 2, h + h / 40}, {w * 2 / 3, h / 14}, 0, 0, 360, 255, cv::FILLED);
  p.Fill(ego, kEgo, cv::Vec3f(25, 25, 30), 3);

  ToyScene& scene = p.scene();
  // Global light and a slight blur, like a camera.
  const double gain = Uniform(rng, 0.85, 1.15);
  scene.image.convertTo(scene.image, CV_8UC3, gain, Uniform(rng, -12, 12));
  cv::GaussianBlur(scene.image, scene.image, {3, 3}, 0.6);
  return scene;
}

absl::Status GenerateToyCityscapes(const PreprocessOptions& o) {
  if (o.toy_width < 32 || o.toy_height < 32) {
    return absl::InvalidArgumentError("toy_cityscapes: --toy_size must be at least 32x32");
  }
  struct Split {
    std::string name, city;
    int count;
  };
  const std::vector<Split> splits = {{"train", "toyville", o.toy_train},
                                     {"val", "minicity", o.toy_val},
                                     {"test", "tinytown", o.toy_test}};
  std::vector<Job> jobs;
  std::vector<std::pair<std::string, int64_t>> counts;
  for (size_t s = 0; s < splits.size(); ++s) {
    const Split& split = splits[s];
    counts.emplace_back(split.name, split.count);
    for (int i = 0; i < split.count; ++i) {
      const std::string stem = absl::StrFormat("%s_%06d_%06d", split.city, i, 19);
      const std::string image = absl::StrCat(o.dst, "/leftImg8bit/", split.name, "/", split.city,
                                             "/", stem, "_leftImg8bit.png");
      const std::string gt =
          absl::StrCat(o.dst, "/gtFine/", split.name, "/", split.city, "/", stem, "_gtFine_");
      const uint64_t seed = MixSeed(o.seed, 0x70e, s, static_cast<uint64_t>(i));
      jobs.push_back(
          {image, [=, &o]() -> absl::Status {
             ToyScene scene = RenderToyScene(o.toy_width, o.toy_height, seed);
             ANN_RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(gt).parent_path()));
             ANN_RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(image).parent_path()));
             cv::Mat color(scene.label_ids.size(), CV_8UC3);
             const auto& labels = CityscapesLabels();
             for (int y = 0; y < color.rows; ++y) {
               for (int x = 0; x < color.cols; ++x) {
                 const auto& rgb = labels[scene.label_ids.at<uint8_t>(y, x)].color;
                 color.at<cv::Vec3b>(y, x) = {rgb[2], rgb[1], rgb[0]};
               }
             }
             ANN_RETURN_IF_ERROR(WriteImage(gt + "labelIds.png", scene.label_ids));
             ANN_RETURN_IF_ERROR(WriteImage(gt + "instanceIds.png", scene.instances));
             ANN_RETURN_IF_ERROR(WriteImage(gt + "color.png", color));
             // The image last: its presence marks the sample as done.
             return WriteImage(image, scene.image);
           }});
    }
  }
  JobReport report = RunJobs(jobs, o.workers, "toy_cityscapes");
  return FinishReport("toy_cityscapes", counts, report);
}

}  // namespace ann
