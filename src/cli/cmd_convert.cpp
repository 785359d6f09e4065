// autan convert: a Mistral or Hugging Face model folder to one GGUF file.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "model/convert.h"

namespace autan::cli {

CommandFn AddConvertCommand(CLI::App& app) {
  struct Flags {
    std::string dir, out, type;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Write a Mistral or Hugging Face model folder as GGUF (as llama.cpp converts it)");
  cmd->add_option("dir", f->dir, "Model folder (params.json or config.json, safetensors weights)")
      ->required();
  cmd->add_option("out", f->out, "Output .gguf")->required();
  cmd->add_option("--type", f->type, "f32 | f16 | bf16 for every matrix (default: keep each)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  return [f] {
    const auto start = std::chrono::steady_clock::now();
    ConvertOptions options;
    if (!f->type.empty()) options.type = ParseDType(f->type);
    options.progress = [](size_t i, size_t n, const std::string& name, DType type) {
      std::fprintf(stderr, "autan: [%zu/%zu] %s %s\n", i + 1, n, name.c_str(),
                   std::string(Info(type).name).c_str());
    };
    Result<ConvertReport> r = ConvertCheckpoint(f->dir, f->out, options);
    if (!r.ok()) return Report(r.error().message, kExitBadInput);
    std::fprintf(stderr, "autan: %s: %zu tensors, %.1f MiB in %.1f s\n", f->out.c_str(),
                 r->n_tensors, static_cast<double>(r->n_bytes) / (1 << 20),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  };
}

}  // namespace autan::cli
