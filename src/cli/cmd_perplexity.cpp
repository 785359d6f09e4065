// autan perplexity: a model's perplexity on a text by llama.cpp's method, and
// the KL-divergence report of a (quantized) model against a base model's
// saved log-probabilities (llama-perplexity's --kl-divergence-base file).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "cli/commands.h"
#include "formats/kld_base.h"
#include "runtime/perplexity.h"

namespace autan::cli {
namespace {

struct Flags {
  std::string model, text_file, base_file;
  int32_t n_ctx = 512;
  int32_t batch = 512;
  int32_t chunks = -1;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  bool kl_divergence = false;
};

// The text as llama.cpp's -f reads it: the whole file less one final newline.
Result<std::vector<int32_t>> TokenizeFile(const Model& model, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return model.tokenizer().Encode(text);
}

struct Engine {
  std::shared_ptr<const Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Session> session;
};

Result<Engine> Open(const Flags& f, int32_t n_ctx) {
  Result<std::string> path = ResolveModelArg(f.model);
  if (!path.ok()) return path.error();
  Result<std::shared_ptr<const Model>> model = Model::Load(*path);
  if (!model.ok()) return model.error();
  Engine e{*model, std::make_unique<ThreadPool>(f.threads), nullptr};
  Result<std::unique_ptr<Session>> session =
      Session::Create(e.model, *e.pool, {.n_ctx = n_ctx, .max_batch = std::min(f.batch, n_ctx)});
  if (!session.ok()) return session.error();
  e.session = std::move(*session);
  return e;
}

int RunPerplexity(const Flags& f) {
  Result<Engine> e = Open(f, f.n_ctx);
  if (!e.ok()) return Report(e.error().message, kExitBadInput);
  Result<std::vector<int32_t>> tokens = TokenizeFile(*e->model, f.text_file);
  if (!tokens.ok()) return Report(tokens.error().message, kExitBadInput);
  Result<PerplexityPlan> plan = PlanPerplexity(tokens->size(), f.n_ctx, f.chunks);
  if (!plan.ok()) return Report(f.text_file + ": " + plan.error().message, kExitBadInput);
  std::fprintf(stderr, "autan: %zu tokens; %d chunks of %d, %d tokens scored in each\n",
               tokens->size(), plan->n_chunks, plan->n_ctx, plan->n_scored());
  std::unique_ptr<kld_base::Writer> writer;
  std::vector<uint16_t> rows;
  if (!f.base_file.empty()) {
    const std::span<const int32_t> used(tokens->data(),
                                        static_cast<size_t>(plan->n_chunks) * plan->n_ctx);
    Result<std::unique_ptr<kld_base::Writer>> w = kld_base::Writer::Create(
        f.base_file, plan->n_ctx, e->model->config().n_vocab, plan->n_chunks, used);
    if (!w.ok()) return Report(w.error().message, kExitFailure);
    writer = std::move(*w);
    rows.resize(static_cast<size_t>(plan->n_scored()) *
                kld_base::RowWords(e->model->config().n_vocab));
  }
  NllSum sum;
  for (int32_t c = 0; c < plan->n_chunks; ++c) {
    Result<std::vector<float>> logits = EvalPerplexityChunk(*e->session, *tokens, *plan, c);
    if (!logits.ok()) return Report(logits.error().message, kExitFailure);
    const std::span<const int32_t> targets = ScoredTokens(*tokens, *plan, c);
    const std::vector<double> nll = writer ? EncodeRows(*logits, targets, *e->pool, rows)
                                           : ScoreRows(*logits, targets, *e->pool);
    for (double v : nll) sum.Add(v);
    if (writer) {
      Status s = writer->Append(rows);
      if (!s.ok()) return Report(s.error().message, kExitFailure);
    }
    std::printf("[%d]%.4f,", c + 1, sum.Ppl());
    std::fflush(stdout);
  }
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", sum.Ppl(), sum.PplError());
  std::fflush(stdout);  // before the note on stderr, for readers of both
  if (writer) {
    Status s = writer->Finish();
    if (!s.ok()) return Report(s.error().message, kExitFailure);
    std::fprintf(stderr, "autan: base log-probabilities written to %s\n", f.base_file.c_str());
  }
  return 0;
}

void PrintChunkLine(int32_t chunk, const KlReport& r) {
  std::printf(
      "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%"
      "    %6.3f ± %6.3f %%\n",
      chunk + 1, r.ppl.mean, r.ppl.error, r.ln_ppl_ratio.mean, r.ln_ppl_ratio.error, r.kld.mean,
      r.kld.error, 100 * r.p_diff_rms.mean, 100 * r.p_diff_rms.error, 100 * r.same_top.mean,
      100 * r.same_top.error);
}

void PrintKlReport(const KlReport& r) {
  std::printf("\n====== Perplexity statistics ======\n");
  std::printf("Mean PPL(Q)                   : %10.6f ± %10.6f\n", r.ppl.mean, r.ppl.error);
  std::printf("Mean PPL(base)                : %10.6f ± %10.6f\n", r.ppl_base.mean,
              r.ppl_base.error);
  std::printf("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100 * r.ln_ppl_correlation);
  std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f\n", r.ln_ppl_ratio.mean,
              r.ln_ppl_ratio.error);
  std::printf("Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f\n", r.ppl_ratio.mean,
              r.ppl_ratio.error);
  std::printf("Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f\n", r.ppl_diff.mean,
              r.ppl_diff.error);
  std::printf("\n====== KL divergence statistics ======\n");
  std::printf("Mean    KLD: %10.6f ± %10.6f\n", r.kld.mean, r.kld.error);
  std::printf("Maximum KLD: %10.6f\n", r.kld_sorted.back());
  for (float q : {0.999f, 0.99f, 0.95f, 0.90f}) {
    std::printf("%4.1f%%   KLD: %10.6f\n", 100 * q, Percentile(r.kld_sorted, q));
  }
  std::printf("Median  KLD: %10.6f\n", Percentile(r.kld_sorted, 0.5f));
  for (float q : {0.10f, 0.05f, 0.01f}) {
    std::printf("%4.1f%%   KLD: %10.6f\n", 100 * q, Percentile(r.kld_sorted, q));
  }
  std::printf("Minimum KLD: %10.6f\n", r.kld_sorted.front());
  std::printf("\n====== Token probability statistics ======\n");
  std::printf("Mean    Δp: %6.3f ± %5.3f %%\n", 100 * r.p_diff.mean, 100 * r.p_diff.error);
  std::printf("Maximum Δp: %6.3f%%\n", 100 * r.p_diff_sorted.back());
  for (float q : {0.999f, 0.99f, 0.95f, 0.90f, 0.75f}) {
    std::printf("%4.1f%%   Δp: %6.3f%%\n", 100 * q, 100 * Percentile(r.p_diff_sorted, q));
  }
  std::printf("Median  Δp: %6.3f%%\n", 100 * Percentile(r.p_diff_sorted, 0.5f));
  for (float q : {0.25f, 0.10f, 0.05f, 0.01f, 0.001f}) {
    std::printf("%4.1f%%   Δp: %6.3f%%\n", 100 * q, 100 * Percentile(r.p_diff_sorted, q));
  }
  std::printf("Minimum Δp: %6.3f%%\n", 100 * r.p_diff_sorted.front());
  std::printf("RMS Δp    : %6.3f ± %5.3f %%\n", 100 * r.p_diff_rms.mean, 100 * r.p_diff_rms.error);
  std::printf("Same top p: %6.3f ± %5.3f %%\n", 100 * r.same_top.mean, 100 * r.same_top.error);
}

// The base file's tokens must be the text's, when a text is given.
Status CheckSameText(const Engine& e, const Flags& f, const kld_base::File& base) {
  Result<std::vector<int32_t>> tokens = TokenizeFile(*e.model, f.text_file);
  if (!tokens.ok()) return tokens.error();
  if (tokens->size() < base.tokens().size()) {
    return Fail("%s: %zu tokens, but %s was made from %zu", f.text_file.c_str(), tokens->size(),
                f.base_file.c_str(), base.tokens().size());
  }
  for (size_t i = 0; i < base.tokens().size(); ++i) {
    if ((*tokens)[i] != base.tokens()[i]) {
      return Fail("%s: token %zu is %d, but %s has %d: not the text it was made from",
                  f.text_file.c_str(), i, (*tokens)[i], f.base_file.c_str(), base.tokens()[i]);
    }
  }
  return {};
}

int RunKlDivergence(const Flags& f, bool ctx_given) {
  if (f.base_file.empty()) {
    return Report("--kl-divergence needs --kl-divergence-base FILE", kExitBadInput);
  }
  Result<kld_base::File> base = kld_base::File::Open(f.base_file);
  if (!base.ok()) return Report(base.error().message, kExitBadInput);
  if (ctx_given && f.n_ctx != base->n_ctx()) {
    return Report(f.base_file + ": written with a context of " + std::to_string(base->n_ctx()) +
                      ", not " + std::to_string(f.n_ctx),
                  kExitBadInput);
  }
  Result<Engine> e = Open(f, base->n_ctx());
  if (!e.ok()) return Report(e.error().message, kExitBadInput);
  if (base->n_vocab() != e->model->config().n_vocab) {
    return Report(f.base_file + ": vocabulary of " + std::to_string(base->n_vocab()) +
                      " tokens, the model has " + std::to_string(e->model->config().n_vocab),
                  kExitBadInput);
  }
  if (!f.text_file.empty()) {
    Status s = CheckSameText(*e, f, *base);
    if (!s.ok()) return Report(s.error().message, kExitBadInput);
  }
  const int32_t n_chunks = f.chunks < 0 ? base->n_chunks() : std::min(f.chunks, base->n_chunks());
  const PerplexityPlan plan{.n_ctx = base->n_ctx(), .n_chunks = n_chunks};
  std::printf(
      "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence"
      "              Δp RMS            Same top p\n");
  std::vector<KlToken> all;
  for (int32_t c = 0; c < n_chunks; ++c) {
    Result<std::vector<float>> logits = EvalPerplexityChunk(*e->session, base->tokens(), plan, c);
    if (!logits.ok()) return Report(logits.error().message, kExitFailure);
    const std::vector<KlToken> chunk =
        CompareRows(*logits, ScoredTokens(base->tokens(), plan, c), *base, c, *e->pool);
    all.insert(all.end(), chunk.begin(), chunk.end());
    PrintChunkLine(c, SummarizeKl(all));
    std::fflush(stdout);
  }
  PrintKlReport(SummarizeKl(all));
  return 0;
}

}  // namespace

CommandFn AddPerplexityCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "Perplexity on a text, and KL divergence against a base model (llama.cpp's)");
  cmd->add_option("-m,--model", f->model, "Model file")->required();
  cmd->add_option("-f,--file", f->text_file, "Text file (UTF-8)");
  auto* ctx = cmd->add_option("-c,--ctx-size", f->n_ctx, "Tokens per chunk (default 512)")
                  ->check(CLI::Range(4, 1 << 20));
  cmd->add_option("-b,--batch", f->batch, "Tokens per forward call (default 512)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--chunks", f->chunks, "Evaluate at most this many chunks (default: all)")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("-t,--threads", f->threads, "Threads")->check(CLI::Range(1, 1024));
  cmd->add_option("--kl-divergence-base", f->base_file,
                  "Perplexity: also save the log-probabilities to this file; with "
                  "--kl-divergence: the file to compare against");
  cmd->add_flag("--kl-divergence", f->kl_divergence,
                "Compare this model with the base file's log-probabilities");
  return [f, ctx] {
    if (f->kl_divergence) return RunKlDivergence(*f, ctx->count() > 0);
    if (f->text_file.empty()) return Report("perplexity needs -f/--file TEXT", kExitBadInput);
    return RunPerplexity(*f);
  };
}

}  // namespace autan::cli
