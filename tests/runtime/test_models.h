// Tiny synth models written once per test binary into a temporary folder.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/check.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "model/synth.h"

namespace autan::testing {

// Path of a synth model with these options, written on first use.
inline std::string SynthModelPath(const SynthOptions& o) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() /
                              ("autan-test-models-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                  ("autan-test-models-" + std::to_string(::getpid())));
    });
    return d;
  }();
  const std::string path = (dir / (o.shape + "-" + o.type + "-s" + std::to_string(o.seed) + "-w" +
                                   std::to_string(o.sliding_window) + ".gguf"))
                               .string();
  if (!std::filesystem::exists(path)) {
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    AUTAN_CHECK(vocab.ok());
    ThreadPool pool(2);
    AUTAN_CHECK(WriteSynthModel(o, *vocab, path, pool).ok());
  }
  return path;
}

inline std::shared_ptr<const Model> LoadSynthModel(const SynthOptions& o) {
  Result<std::shared_ptr<const Model>> m = Model::Load(SynthModelPath(o));
  AUTAN_CHECK(m.ok());
  return *m;
}

}  // namespace autan::testing
