// autan synth: deterministic random-weight models for tests and benchmarks.
#include <cstring>
#include <thread>

#include "cli/commands.h"
#include "core/mapped_file.h"
#include "formats/gguf_writer.h"
#include "model/synth.h"
#include "model/vocab_gguf.h"
#include "tokenizer/tokenizer_file.h"

namespace autan::cli {
namespace {

Result<std::vector<uint8_t>> VocabFileAsGguf(const std::string& path) {
  Result<VocabSpec> spec = LoadVocabSpecFile(path);
  if (!spec.ok()) return spec.error();
  auto metadata = VocabGgufMetadata(*spec);
  if (!metadata.ok()) return Fail("%s: %s", path.c_str(), metadata.error().message.c_str());
  gguf::Writer w;
  for (auto& [key, value] : *metadata) w.Set(key, std::move(value));
  return w.Serialize();
}

}  // namespace

CommandFn AddSynthCommand(CLI::App& app) {
  struct Flags {
    SynthOptions options;
    std::string out;
    std::string vocab;
    int threads = static_cast<int>(std::thread::hardware_concurrency());
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a deterministic random-weight Llama model");
  cmd->add_option("--arch", f->options.arch, "llama | mixtral (8 experts, 2 per token)")
      ->check(CLI::IsMember({"llama", "mixtral"}));
  cmd->add_option(
         "--shape", f->options.shape,
         "tiny | small | 1b | 7b | nemo-tiny | nemo (7b: Mistral 7B's shape, nemo: Mistral Nemo's)")
      ->check(CLI::IsMember(SynthShapeNames()));
  cmd->add_option("--type", f->options.type, "Weight type")->check(CLI::IsMember(SynthTypeNames()));
  cmd->add_option("--seed", f->options.seed, "Seed of the weights");
  cmd->add_option("--sliding-window", f->options.sliding_window,
                  "Write a sliding attention window of N positions")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--layer-windows", f->options.layer_windows,
                  "Per-layer attention windows, cycled over the layers (0: full), e.g. 4096,0")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber)
      ->excludes("--sliding-window");
  cmd->add_option("--vocab", f->vocab,
                  "GGUF or tokenizer file (tekken.json, tokenizer.model, tokenizer.json) to take "
                  "the vocabulary from (default: built in)");
  cmd->add_option("--format", f->options.format,
                  "gguf | safetensors (Hugging Face folder) | consolidated (Mistral folder)")
      ->check(CLI::IsMember({"gguf", "safetensors", "consolidated"}));
  cmd->add_option("--shards", f->options.shards, "safetensors: split the weights over N files")
      ->check(CLI::Range(1, 99999));
  cmd->add_option("--add-control-token", f->options.control_tokens,
                  "Append a control token to the vocabulary (repeatable), e.g. [TOOL_CALLS]")
      ->allow_extra_args(false);  // else CLI11 reads "[A]" as a list holding "A"
  cmd->add_option("-t,--threads", f->threads, "Threads")->check(CLI::Range(1, 1024));
  cmd->add_option("out", f->out, "Output .gguf path, or folder for the folder formats")->required();
  return [f] {
    std::shared_ptr<const MappedFile> bytes;
    if (f->vocab.empty()) {
      bytes = MappedFile::FromBytes(EmbeddedVocab(), "built-in vocabulary");
    } else {
      Result<std::shared_ptr<const MappedFile>> opened = MappedFile::Open(f->vocab);
      if (!opened.ok()) return Report(opened.error().message, kExitBadInput);
      bytes = *opened;
      if (bytes->size() < 4 || std::memcmp(bytes->data(), "GGUF", 4) != 0) {
        // A tokenizer file: its vocabulary as the GGUF keys convert would write.
        Result<std::vector<uint8_t>> gguf_bytes = VocabFileAsGguf(f->vocab);
        if (!gguf_bytes.ok()) return Report(gguf_bytes.error().message, kExitBadInput);
        bytes = MappedFile::FromBytes(*gguf_bytes, f->vocab);
      }
    }
    Result<gguf::File> vocab = gguf::File::Parse(bytes);
    if (!vocab.ok()) return Report(vocab.error().message, kExitBadInput);
    ThreadPool pool(f->threads);
    Status written = WriteSynthModel(f->options, *vocab, f->out, pool);
    if (!written.ok()) return Report(written.error().message, kExitFailure);
    return 0;
  };
}

}  // namespace autan::cli
