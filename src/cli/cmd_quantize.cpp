// autan quantize: a GGUF model rewritten with smaller weight types.
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "model/quantize.h"
#include "model/type_plan.h"

namespace autan::cli {

CommandFn AddQuantizeCommand(CLI::App& app) {
  struct Flags {
    std::string in, out, type;
    bool allow_requantize = false;
    int threads = static_cast<int>(std::thread::hardware_concurrency());
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Rewrite a GGUF model with smaller weight types (llama.cpp's mixes)");
  cmd->add_option("in", f->in, "Input .gguf (F32, F16 or BF16 weights)")->required();
  cmd->add_option("out", f->out, "Output .gguf")->required();
  cmd->add_option("type", f->type, "q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k q4_k_m q5_k_m f16 bf16")
      ->required()
      ->check(CLI::IsMember(TypePlanNames()));
  cmd->add_flag("--allow-requantize", f->allow_requantize,
                "Accept already quantized input tensors (they lose more)");
  cmd->add_option("-t,--threads", f->threads, "Threads")->check(CLI::Range(1, 1024));
  return [f] {
    Result<gguf::File> in = gguf::File::Open(f->in);
    if (!in.ok()) return Report(in.error().message, kExitBadInput);
    ThreadPool pool(f->threads);
    ProgressBar bar(stderr, isatty(STDERR_FILENO) != 0);
    Result<QuantizeReport> r = QuantizeModel(
        *in, f->out,
        {.type = f->type,
         .allow_requantize = f->allow_requantize,
         .progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); }},
        pool);
    if (!r.ok()) return Report(r.error().message, kExitBadInput);
    std::fprintf(stderr,
                 "autan: %s: %d tensors quantized to %s, %d kept, %.1f MiB -> %.1f MiB in %.1f s\n",
                 f->out.c_str(), r->tensors_quantized, f->type.c_str(), r->tensors_kept,
                 static_cast<double>(r->bytes_in) / (1 << 20),
                 static_cast<double>(r->bytes_out) / (1 << 20), bar.Seconds());
    return 0;
  };
}

}  // namespace autan::cli
