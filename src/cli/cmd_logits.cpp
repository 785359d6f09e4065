// autan logits: raw logits of every position for a list of token ids, as
// float32 [n_tokens][n_vocab], or with --embedding the list's embedding as
// float32 [dim]; what the reference comparisons read.
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "runtime/session.h"

namespace autan::cli {

CommandFn AddLogitsCommand(CLI::App& app) {
  struct Flags {
    std::string model, tokens, out;
    int32_t sliding_window = -1;
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    int32_t batch = 512;
    std::string kv_type = "f16";
    bool embedding = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd =
      app.add_subcommand("logits", "Write the logits of every position of a token list");
  cmd->add_option("-m,--model", f->model, "Model file")->required();
  cmd->add_option("--tokens", f->tokens, "Token ids, comma-separated")->required();
  cmd->add_option("--out", f->out, "Output file (float32, [n_tokens][n_vocab])")->required();
  cmd->add_option("--sliding-window", f->sliding_window, "Override the attention window (0: off)");
  cmd->add_option("-t,--threads", f->threads, "Threads")->check(CLI::Range(1, 1024));
  cmd->add_option("-b,--batch", f->batch, "Tokens per forward call")->check(CLI::Range(1, 65536));
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16 or q8_0")
      ->check(CLI::IsMember({"f16", "q8_0"}));
  cmd->add_flag("--embedding", f->embedding,
                "Write the embedding instead: the mean of the final normalized hidden states, "
                "unit length (float32, [dim])");
  return [f] {
    std::vector<int32_t> ids;
    if (!ParseIdList(f->tokens, ids) || ids.empty()) {
      return Report("--tokens: expected a comma-separated list of ids", kExitBadInput);
    }
    Result<std::shared_ptr<const Model>> model =
        Model::Load(f->model, {.sliding_window = f->sliding_window});
    if (!model.ok()) return Report(model.error().message, kExitBadInput);
    ThreadPool pool(f->threads);
    Result<std::unique_ptr<Session>> session =
        Session::Create(*model, pool,
                        {.n_ctx = static_cast<int32_t>(ids.size()),
                         .max_batch = f->batch,
                         .kv_type = ParseKvType(f->kv_type).value()});
    if (!session.ok()) return Report(session.error().message, kExitBadInput);
    Result<std::vector<float>> logits =
        f->embedding ? (*session)->Embed(ids) : (*session)->EvalAll(ids);
    if (!logits.ok()) return Report(logits.error().message, kExitBadInput);
    FILE* out = std::fopen(f->out.c_str(), "wb");
    if (out == nullptr) return Report(f->out + ": cannot open for writing", kExitFailure);
    const size_t written = std::fwrite(logits->data(), sizeof(float), logits->size(), out);
    if (std::fclose(out) != 0 || written != logits->size()) {
      return Report(f->out + ": write failed", kExitFailure);
    }
    return 0;
  };
}

}  // namespace autan::cli
