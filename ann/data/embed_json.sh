#!/bin/sh
# Writes each file given as a C++ initializer {"<path>", R"json(<contents>)json"}, one per file,
# for ann/data/dataset.cc to compile the built-in dataset descriptions in.
for f in "$@"; do
  printf '{"%s", R"json(' "$f"
  cat "$f"
  printf ')json"},\n'
done
