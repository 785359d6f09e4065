// autan info: what a model file holds and what running it will cost.
#include <cstdio>

#include "cli/commands.h"
#include "formats/checkpoint.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "runtime/kv_cache.h"

namespace autan::cli {
namespace {

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f %s", bytes, units[u]);
  return text;
}

void PrintFile(const gguf::File& file, bool all_tensors) {
  std::printf("GGUF v%u, %zu metadata keys, %zu tensors, alignment %zu\n\n", file.version(),
              file.metadata().size(), file.tensors().size(), file.alignment());
  for (const auto& [key, value] : file.metadata()) {
    std::printf("  %-44s %s\n", key.c_str(), gguf::ValueToString(value).c_str());
  }
  uint64_t params = 0;
  uint64_t bytes = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    params += t.n_elements;
    bytes += t.n_bytes;
  }
  std::printf("\n%-32s %-6s %-22s %s\n", "tensor", "type", "shape", "size");
  size_t shown = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const bool layer_tensor = t.name.starts_with("blk.") && !t.name.starts_with("blk.0.");
    if (!all_tensors && layer_tensor) continue;
    std::string shape;
    for (uint64_t d : t.dims) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
    std::printf("%-32s %-6s %-22s %s\n", t.name.c_str(), std::string(Info(t.type).name).c_str(),
                shape.c_str(), HumanBytes(static_cast<double>(t.n_bytes)).c_str());
    ++shown;
  }
  if (shown < file.tensors().size()) {
    std::printf("... %zu more layer tensors (--all-tensors lists them)\n",
                file.tensors().size() - shown);
  }
  std::printf("\nparameters: %.3f B, weights: %s (%.2f bits per weight)\n",
              static_cast<double>(params) / 1e9, HumanBytes(static_cast<double>(bytes)).c_str(),
              params ? 8.0 * static_cast<double>(bytes) / static_cast<double>(params) : 0.0);
}

}  // namespace

CommandFn AddInfoCommand(CLI::App& app) {
  struct Flags {
    std::string model;
    int32_t ctx = 4096;
    bool all_tensors = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("info", "Show a model's metadata, tensors and memory needs");
  cmd->add_option("model", f->model, "Model file, folder, or a name pulled with `autan pull`")
      ->required();
  cmd->add_option("-c,--ctx", f->ctx, "Context size for the memory estimate")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_flag("--all-tensors", f->all_tensors, "List every tensor");
  return [f] {
    Result<std::string> path = ResolveModelArg(f->model);
    if (!path.ok()) return Report(path.error().message, kExitBadInput);
    f->model = *path;
    // A model folder (Mistral's or Hugging Face's layout) shows as the GGUF
    // it is read as.
    auto open = [&]() -> Result<gguf::File> {
      if (!IsCheckpointFolder(f->model)) return gguf::File::Open(f->model);
      Result<CheckpointView> view = OpenCheckpoint(f->model);
      if (!view.ok()) return view.error();
      return std::move(view->file);
    };
    Result<gguf::File> file = open();
    if (!file.ok()) return Report(file.error().message, kExitBadInput);
    PrintFile(*file, f->all_tensors);
    if (file->tensors().empty()) return 0;  // vocabulary-only file
    Result<std::shared_ptr<const Model>> model = Model::Load(f->model);
    if (!model.ok()) return Report(model.error().message, kExitBadInput);
    const ModelConfig& c = (*model)->config();
    const int32_t slots = KvCache::Capacity(c, f->ctx, 512);
    const double kv = 2.0 * c.n_layers * slots * c.kv_dim() * sizeof(uint16_t);
    std::printf(
        "\narchitecture %s: %d layers, dim %d, %d heads (%d KV, head dim %d), FFN %d, vocab %d, "
        "rope base %g, window %d\n",
        c.architecture.c_str(), c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim,
        c.n_vocab, c.rope_freq_base, c.sliding_window);
    if (c.n_expert > 0) {
      std::printf("mixture of experts: %d experts, %d per token\n", c.n_expert, c.n_expert_used);
    }
    double weights = 0;
    for (const gguf::TensorInfo& t : file->tensors()) weights += static_cast<double>(t.n_bytes);
    std::printf("memory at --ctx %d: weights %s (mapped) + KV cache %s (f16, %d slots)\n", f->ctx,
                HumanBytes(weights).c_str(), HumanBytes(kv).c_str(), slots);
    return 0;
  };
}

}  // namespace autan::cli
