// What every dataset converter shares: a list of per-file jobs run by parallel workers with a
// progress bar; a job whose output already exists is skipped (outputs are only ever renamed
// into place, so an existing file is a finished one); bad input files are collected and reported
// together; a failure to write output stops the run at once; split lists and mirrored inputs are
// written atomically.
#ifndef DATASETS_PREPROCESS_H_
#define DATASETS_PREPROCESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/data/layout.h"

namespace ann {

// What ann_preprocess was asked to convert or generate.
struct PreprocessOptions {
  std::string src;  // The raw download.
  std::string dst;  // The training layout (may equal src: converted in place, like mmseg).
  int workers = 4;
  std::string sbd_dir;       // voc_aug: SBD's benchmark_RELEASE/dataset (default: found under src).
  std::string json;          // pascal_context: trainval_merged.json (default: found under src).
  std::string dataset_file;  // custom: the dataset description (ann/data/dataset_file.h).
  uint64_t seed = 0;         // toy_cityscapes, toy_custom; custom: the train/val split.
  double val_ratio = 0.2;    // custom: the share of val where train and val share a folder.
  int toy_width = 256;       // toy_cityscapes image size and split sizes.
  int toy_height = 128;
  int toy_train = 48;
  int toy_val = 12;
  int toy_test = 6;
};

// One output file to produce; skipped when `output` exists already.
struct Job {
  // Finished when this file exists (empty: always run, e.g. validation of an in-place tree).
  std::string output;
  // Converts; errors must name the offending file.
  std::function<absl::Status()> run;
};

// What RunJobs did.
struct JobReport {
  int64_t converted = 0;
  int64_t skipped = 0;
  std::vector<std::string> errors;  // One line per failed job (bad input files).
  // The first failure to write output; the jobs after it were not run.
  absl::Status output_error;
};

// Runs `jobs` on `workers` threads with a "<label> n/N rate ETA" progress line.
JobReport RunJobs(const std::vector<Job>& jobs, int workers, const std::string& label);

// Prints the per-split counts table; returns OK, the output error, or an error naming the first
// failed file (the others are printed as warnings first).
absl::Status FinishReport(const std::string& dataset,
                          const std::vector<std::pair<std::string, int64_t>>& split_counts,
                          const JobReport& report);

// Makes `dst` hold the same bytes as `src` (nothing if same path or already present): a hard
// link when possible, else a copy, through a temporary name.
absl::Status MirrorFile(const std::string& src, const std::string& dst);

// Paths below `dir` (recursively, following links as mmcv's scandir) whose file names end with
// `suffix`, sorted, leaving out the folders in `skip` (the output tree, when inside the input). A
// missing `dir` holds none; an unreadable folder or a link loop is an error naming it.
absl::StatusOr<std::vector<std::string>> FindFiles(const std::string& dir,
                                                   const std::string& suffix,
                                                   const std::vector<std::string>& skip = {});

// Whether two paths name the same file.
bool SamePath(const std::string& a, const std::string& b);

}  // namespace ann

#endif  // DATASETS_PREPROCESS_H_
