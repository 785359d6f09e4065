// autan bench: prompt-processing and generation throughput, measured and
// printed as llama.cpp's llama-bench does (one warm-up run, then repetitions
// from an empty cache; t/s = tokens / seconds of each repetition, reported as
// mean ± sample standard deviation), so the two tables read side by side.
// t/J is tokens per joule of each repetition, from RAPL where readable, else
// the estimate of docs/ENERGY.md (energy_source says which).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "core/rng.h"
#include "runtime/energy_attribution.h"
#include "runtime/energy_meter.h"
#include "runtime/kv_cache.h"
#include "runtime/session.h"

namespace autan::cli {
namespace {

enum class Format { kMarkdown, kJson, kCsv };

struct BenchFlags {
  std::string model;
  std::string prompt = "512";
  std::string gen = "128";
  std::string threads = std::to_string(std::max(1u, std::thread::hardware_concurrency()));
  int reps = 5;
  std::string output = "md";
  std::string kv_type = "f16";
  bool progress = false;
  double cpu_watts = 0.0;  // 0: see DefaultCpuWatts
};

// What the table says about the model, computed once.
struct ModelFacts {
  std::string filename;
  std::string type;  // "llama Q8_0"
  std::string name;  // general.name
  uint64_t file_bytes = 0;
  uint64_t n_params = 0;
  // Weight bytes one decoded token reads: every tensor once, except the
  // embedding table, of which a single row is read (unless it is also the
  // output matrix). The denominator of the bandwidth roofline.
  uint64_t decode_bytes = 0;
  KvType kv_type = KvType::kF16;  // of every session
};

struct TestCase {
  int threads = 1;
  int n_prompt = 0;  // a ppN test when > 0
  int n_gen = 0;     // a tgN test when > 0
  std::string Name() const {
    return n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
  }
  int Tokens() const { return n_prompt + n_gen; }
};

struct TestResult {
  TestCase test;
  std::vector<uint64_t> samples_ns;
  std::vector<double> samples_j;  // joules of each repetition
  EnergySource energy_source = EnergySource::kEstimate;

  std::vector<double> TokensPerSecond() const {
    std::vector<double> ts;
    for (uint64_t ns : samples_ns) ts.push_back(1e9 * test.Tokens() / static_cast<double>(ns));
    return ts;
  }
  std::vector<double> TokensPerJoule() const {
    std::vector<double> tj;
    for (double j : samples_j) tj.push_back(j > 0 ? test.Tokens() / j : 0.0);
    return tj;
  }
};

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

// Sample standard deviation (n - 1), 0 for fewer than two samples, as llama-bench.
double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double mean = Mean(v);
  double sq = 0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return std::sqrt(sq / static_cast<double>(v.size() - 1));
}

// llama.cpp's names for general.file_type (enum llama_ftype).
std::string FileTypeName(uint64_t ftype) {
  switch (ftype) {
    case 0:
      return "F32";
    case 1:
      return "F16";
    case 2:
      return "Q4_0";
    case 3:
      return "Q4_1";
    case 7:
      return "Q8_0";
    case 8:
      return "Q5_0";
    case 9:
      return "Q5_1";
    case 10:
      return "Q2_K - Medium";
    case 11:
      return "Q3_K - Small";
    case 12:
      return "Q3_K - Medium";
    case 13:
      return "Q3_K - Large";
    case 14:
      return "Q4_K - Small";
    case 15:
      return "Q4_K - Medium";
    case 16:
      return "Q5_K - Small";
    case 17:
      return "Q5_K - Medium";
    case 18:
      return "Q6_K";
    case 32:
      return "BF16";
    default:
      return "ftype " + std::to_string(ftype);
  }
}

ModelFacts DescribeModel(const Model& model, const std::string& path) {
  const gguf::File& file = model.file();
  ModelFacts facts;
  facts.filename = path;
  facts.name = model.config().name;
  facts.file_bytes = file.mapping()->size();
  uint64_t tensor_bytes = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    facts.n_params += t.n_elements;
    tensor_bytes += t.n_bytes;
  }
  facts.decode_bytes = tensor_bytes;
  const gguf::TensorInfo* embd = file.FindTensor("token_embd.weight");
  if (embd != nullptr && file.FindTensor("output.weight") != nullptr && embd->n_rows() > 0) {
    facts.decode_bytes -= embd->n_bytes - embd->n_bytes / embd->n_rows();
  }
  std::string type;
  if (std::optional<uint64_t> ftype = file.FindUInt("general.file_type")) {
    type = FileTypeName(*ftype);
  } else if (embd != nullptr) {
    type = std::string(Info(embd->type).name);
  }
  facts.type = model.config().architecture + " " + type;
  return facts;
}

// ---- output ----------------------------------------------------------------

std::string HumanSize(uint64_t bytes) {
  char text[32];
  const double b = static_cast<double>(bytes);
  if (bytes < (1ull << 30)) {
    std::snprintf(text, sizeof(text), "%.2f MiB", b / 1024.0 / 1024.0);
  } else {
    std::snprintf(text, sizeof(text), "%.2f GiB", b / 1024.0 / 1024.0 / 1024.0);
  }
  return text;
}

std::string HumanParams(uint64_t n) {
  char text[32];
  const double p = static_cast<double>(n);
  if (n < 1000000000ull) {
    std::snprintf(text, sizeof(text), "%.2f M", p / 1e6);
  } else {
    std::snprintf(text, sizeof(text), "%.2f B", p / 1e9);
  }
  return text;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string CsvString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", v);
  return text;
}

// Joules of a short run can be well under a millijoule: significant digits.
std::string Joules(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", v);
  return text;
}

// The fields of a json or csv record, in order: name, already-encoded value.
std::vector<std::pair<std::string, std::string>> Fields(const ModelFacts& m, const TestResult& r,
                                                        bool json) {
  const auto str = [json](const std::string& s) { return json ? JsonString(s) : CsvString(s); };
  std::vector<double> ts = r.TokensPerSecond();
  std::vector<double> ns(r.samples_ns.begin(), r.samples_ns.end());
  std::vector<double> tj = r.TokensPerJoule();
  return {
      {"model_filename", str(m.filename)},
      {"model_type", str(m.type)},
      {"model_name", str(m.name)},
      {"model_size", std::to_string(m.file_bytes)},
      {"model_n_params", std::to_string(m.n_params)},
      {"decode_bytes_per_token", std::to_string(m.decode_bytes)},
      {"kv_type", str(KvTypeName(m.kv_type))},
      {"n_threads", std::to_string(r.test.threads)},
      {"test", str(r.test.Name())},
      {"n_prompt", std::to_string(r.test.n_prompt)},
      {"n_gen", std::to_string(r.test.n_gen)},
      {"avg_ns", std::to_string(static_cast<uint64_t>(Mean(ns)))},
      {"stddev_ns", std::to_string(static_cast<uint64_t>(StdDev(ns)))},
      {"avg_ts", Number(Mean(ts))},
      {"stddev_ts", Number(StdDev(ts))},
      {"avg_joules", Joules(Mean(r.samples_j))},
      {"avg_tj", Number(Mean(tj))},
      {"stddev_tj", Number(StdDev(tj))},
      {"energy_source", str(EnergySourceName(r.energy_source))},
  };
}

class Printer {
 public:
  Printer(Format format, const ModelFacts& model)
      : format_(format), model_(model), show_kv_(model.kv_type != KvType::kF16) {}

  void Header() {
    if (format_ == Format::kMarkdown) {
      std::printf("| %-30s | %10s | %10s | %7s |%s %13s | %20s | %20s |\n", "model", "size",
                  "params", "threads", show_kv_ ? " type_kv |" : "", "test", "t/s", "t/J");
      std::printf("| %s | %s: | %s: | %s: |%s %s: | %s: | %s: |\n", std::string(30, '-').c_str(),
                  std::string(9, '-').c_str(), std::string(9, '-').c_str(),
                  std::string(6, '-').c_str(), show_kv_ ? " ------- |" : "",
                  std::string(12, '-').c_str(), std::string(19, '-').c_str(),
                  std::string(19, '-').c_str());
    } else if (format_ == Format::kJson) {
      std::printf("[\n");
    } else {
      std::string names;
      for (const auto& [name, value] : Fields(model_, TestResult{}, false)) {
        names += (names.empty() ? "" : ",") + name;
      }
      std::printf("%s\n", names.c_str());
    }
    std::fflush(stdout);
  }

  void Row(const TestResult& r) {
    if (format_ == Format::kMarkdown) {
      const std::vector<double> ts = r.TokensPerSecond();
      char tps[64];
      std::snprintf(tps, sizeof(tps), "%.2f ± %.2f", Mean(ts), StdDev(ts));
      const std::vector<double> tj = r.TokensPerJoule();
      // Estimated figures say so in the cell, never passing for measured ones.
      char tpj[64];
      std::snprintf(tpj, sizeof(tpj), "%s%.2f ± %.2f",
                    r.energy_source == EnergySource::kRapl ? "" : "~", Mean(tj), StdDev(tj));
      // The width counts bytes; "±" takes two.
      char kv[32] = "";
      if (show_kv_) std::snprintf(kv, sizeof(kv), " %-7s |", KvTypeName(model_.kv_type));
      std::printf("| %-30s | %10s | %10s | %7d |%s %13s | %21s | %21s |\n", model_.type.c_str(),
                  HumanSize(model_.file_bytes).c_str(), HumanParams(model_.n_params).c_str(),
                  r.test.threads, kv, r.test.Name().c_str(), tps, tpj);
    } else if (format_ == Format::kJson) {
      std::printf("%s  {\n", rows_ ? ",\n" : "");
      for (const auto& [name, value] : Fields(model_, r, true)) {
        std::printf("    \"%s\": %s,\n", name.c_str(), value.c_str());
      }
      std::string samples;
      for (double t : r.TokensPerSecond()) samples += (samples.empty() ? "" : ", ") + Number(t);
      std::printf("    \"samples_ts\": [%s]\n  }", samples.c_str());
    } else {
      std::string values;
      for (const auto& [name, value] : Fields(model_, r, false)) {
        values += (values.empty() ? "" : ",") + value;
      }
      std::printf("%s\n", values.c_str());
    }
    ++rows_;
    std::fflush(stdout);
  }

  void Footer() {
    if (format_ == Format::kJson) std::printf("%s]\n", rows_ ? "\n" : "");
    std::fflush(stdout);
  }

 private:
  Format format_;
  const ModelFacts& model_;
  bool show_kv_;  // a type_kv column, only for a non-default cache type
  int rows_ = 0;
};

// ---- measurement -----------------------------------------------------------

// A fixed pseudo-random token sequence starting with BOS where the
// vocabulary adds one, as llama-bench feeds (its tokens are rand() draws).
std::vector<int32_t> BenchTokens(const Tokenizer& tok, int n) {
  Rng rng(0x62656e6368ull);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  const uint64_t n_vocab = static_cast<uint64_t>(tok.n_vocab());
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.Next() % n_vocab);
  if (!tokens.empty() && tok.add_bos() && tok.bos() >= 0) tokens[0] = tok.bos();
  return tokens;
}

// One repetition: a prefill runs all tokens in one Eval, a generation runs
// them one Eval per token.
Status RunOnce(Session& session, const TestCase& test, std::span<const int32_t> tokens) {
  session.Reset();
  if (test.n_prompt > 0) {
    AUTAN_TRY(session.Eval(tokens));
    return {};
  }
  for (size_t i = 0; i < tokens.size(); ++i) AUTAN_TRY(session.Eval(tokens.subspan(i, 1)));
  return {};
}

// Bytes one repetition reads, for the estimate: the weights once per Eval
// and, per Eval, the KV cache up to its last position.
double RepetitionBytes(const ModelEnergyProfile& p, const TestCase& test) {
  if (test.n_prompt > 0) return p.weight_bytes + p.KvBytes(test.n_prompt);
  double bytes = 0.0;
  for (int i = 1; i <= test.n_gen; ++i) bytes += p.weight_bytes + p.KvBytes(i);
  return bytes;
}

Result<TestResult> Measure(const std::shared_ptr<const Model>& model, ThreadPool& pool,
                           const TestCase& test, KvType kv_type, int reps, bool progress,
                           EnergyMeter& meter) {
  const double bytes = RepetitionBytes(ModelEnergyProfile::For(*model, kv_type), test);
  const std::vector<int32_t> tokens = BenchTokens(model->tokenizer(), test.Tokens());
  Result<std::unique_ptr<Session>> session = Session::Create(
      model, pool,
      {.n_ctx = test.Tokens(), .max_batch = std::max(1, test.n_prompt), .kv_type = kv_type});
  if (!session.ok()) return session.error();
  // Warm-up as llama-bench: the whole prompt for pp, one token for tg.
  if (progress)
    std::fprintf(stderr, "autan bench: %s t%d warm-up\n", test.Name().c_str(), test.threads);
  const std::span<const int32_t> warmup(tokens.data(), test.n_prompt > 0 ? tokens.size() : 1);
  AUTAN_TRY(RunOnce(**session, test, warmup));
  TestResult result{test, {}, {}, EnergySource::kRapl};
  for (int i = 0; i < reps; ++i) {
    if (progress) {
      std::fprintf(stderr, "autan bench: %s t%d run %d/%d\n", test.Name().c_str(), test.threads,
                   i + 1, reps);
    }
    meter.Begin();
    const auto start = std::chrono::steady_clock::now();
    AUTAN_TRY(RunOnce(**session, test, tokens));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const StepEnergy energy = meter.End(bytes);
    result.samples_j.push_back(energy.joules);
    if (energy.source != EnergySource::kRapl) result.energy_source = EnergySource::kEstimate;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    result.samples_ns.push_back(static_cast<uint64_t>(std::max<int64_t>(1, ns)));
  }
  return result;
}

// Parses a list flag such as "-t 1,2" into values in [lo, hi].
bool ParseList(const std::string& text, int lo, int hi, std::vector<int>& out) {
  std::vector<int32_t> ids;
  if (!ParseIdList(text, ids) || ids.empty()) return false;
  out.clear();
  for (int32_t v : ids) {
    if (v < lo || v > hi) return false;
    out.push_back(v);
  }
  return true;
}

// The tests in llama-bench's order: for each thread count, prompts then generations.
Result<std::vector<TestCase>> PlanTests(const BenchFlags& f) {
  std::vector<int> prompts, gens, threads;
  if (!ParseList(f.prompt, 0, 1 << 20, prompts)) {
    return Fail("-p: expected token counts >= 0, comma-separated, got '%s'", f.prompt.c_str());
  }
  if (!ParseList(f.gen, 0, 1 << 20, gens)) {
    return Fail("-n: expected token counts >= 0, comma-separated, got '%s'", f.gen.c_str());
  }
  if (!ParseList(f.threads, 1, 1024, threads)) {
    return Fail("-t: expected thread counts 1..1024, comma-separated, got '%s'", f.threads.c_str());
  }
  std::vector<TestCase> tests;
  for (int t : threads) {
    for (int p : prompts) {
      if (p > 0) tests.push_back({.threads = t, .n_prompt = p});
    }
    for (int n : gens) {
      if (n > 0) tests.push_back({.threads = t, .n_gen = n});
    }
  }
  if (tests.empty()) return Fail("nothing to measure: -p and -n are all 0");
  return tests;
}

int RunBench(const BenchFlags& f) {
  Result<std::vector<TestCase>> tests = PlanTests(f);
  if (!tests.ok()) return Report(tests.error().message, kExitBadInput);
  Result<KvType> kv_type = ParseKvType(f.kv_type);
  if (!kv_type.ok()) return Report("--kv-type: " + kv_type.error().message, kExitBadInput);
  Result<std::shared_ptr<const Model>> model = Model::Load(f.model);
  if (!model.ok()) return Report(model.error().message, kExitBadInput);
  if (Status s = KvCache::Supports((*model)->config(), *kv_type); !s.ok()) {
    return Report(s.error().message, kExitBadInput);
  }
  ModelFacts facts = DescribeModel(**model, f.model);
  facts.kv_type = *kv_type;
  const Format format = f.output == "json"  ? Format::kJson
                        : f.output == "csv" ? Format::kCsv
                                            : Format::kMarkdown;
  Printer printer(format, facts);
  printer.Header();
  std::unique_ptr<EnergyMeter> meter =
      MakeEnergyMeter({.cpu_watts = f.cpu_watts, .log = [](const std::string& m) {
                         std::fprintf(stderr, "autan bench: %s\n", m.c_str());
                       }});
  std::unique_ptr<ThreadPool> pool;
  for (const TestCase& test : *tests) {
    if (!pool || pool->size() != test.threads) pool = std::make_unique<ThreadPool>(test.threads);
    Result<TestResult> result =
        Measure(*model, *pool, test, facts.kv_type, f.reps, f.progress, *meter);
    if (!result.ok()) {
      printer.Footer();
      return Report(test.Name() + ": " + result.error().message, kExitFailure);
    }
    printer.Row(*result);
  }
  printer.Footer();
  return 0;
}

}  // namespace

CommandFn AddBenchCommand(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure prompt and generation throughput (a llama-bench-style table)");
  cmd->add_option("-m,--model", f->model, "Model file")->required();
  cmd->add_option("-p,--n-prompt", f->prompt, "Prompt lengths, comma-separated (0: none)")
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", f->gen, "Generated lengths, comma-separated (0: none)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "Thread counts, comma-separated")
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", f->reps, "Timed repetitions of each test")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("-o,--output", f->output, "md | json | csv")
      ->check(CLI::IsMember({"md", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16 or q8_0")->capture_default_str();
  cmd->add_flag("--progress", f->progress, "Report each run on stderr");
  cmd->add_option("--cpu-watts", f->cpu_watts,
                  "Watts per busy core for the energy estimate (default: the package power "
                  "limit per core where powercap shows it, else 7.5)")
      ->check(CLI::Range(0.0, 1000.0));
  return [f] { return RunBench(*f); };
}

}  // namespace autan::cli
