// The same synth weights in every layout: a GGUF file, a Hugging Face folder
// (one file or shards) and a Mistral folder load to the same tokens and the
// same logits, bit for bit; `convert` turns each folder back into GGUF whose
// tensors equal the synth file's byte for byte. A Tekken vocabulary makes the
// same trip through tekken.json and llama.cpp's GGUF form of it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../tokenizer/oracle_files.h"
#include "core/mapped_file.h"
#include "formats/gguf_writer.h"
#include "forward_util.h"
#include "model/convert.h"
#include "model/model.h"
#include "model/synth.h"
#include "model/vocab_gguf.h"
#include "runtime/kv_cache.h"
#include "tokenizer/sentencepiece_writer.h"
#include "tokenizer/tekken.h"
#include "tokenizer/tokenizer_file.h"

namespace autan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char kText[] = "Ça coûte 12,50 € — l'été 我能吞下玻璃 The capital of France is";

// Every tensor of `want` is in `got` with the same name, type, shape and bytes.
void ExpectSameTensors(const std::string& want_path, const std::string& got_path) {
  Result<gguf::File> want = gguf::File::Open(want_path);
  Result<gguf::File> got = gguf::File::Open(got_path);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(got->tensors().size(), want->tensors().size()) << got_path;
  for (const gguf::TensorInfo& w : want->tensors()) {
    const gguf::TensorInfo* g = got->FindTensor(w.name);
    ASSERT_NE(g, nullptr) << got_path << ": " << w.name;
    EXPECT_EQ(g->type, w.type) << w.name;
    EXPECT_EQ(g->dims, w.dims) << w.name;
    ASSERT_EQ(g->n_bytes, w.n_bytes) << w.name;
    EXPECT_EQ(0, std::memcmp(g->data, w.data, w.n_bytes)) << got_path << ": " << w.name;
  }
}

struct Case {
  const char* arch;
  const char* shape;
  const char* type;
  int shards;  // of the Hugging Face folder
};

class SynthLayouts : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    root_ = fs::temp_directory_path() /
            ("autan-synth-layout-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes an f16 Hugging Face folder ("hf") of the default shape with
  // llama.cpp's SentencePiece test vocabulary, which `spm_` then holds.
  void WriteSpmFolder() {
    Result<gguf::File> spm =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_TRUE(spm.ok());
    spm_ = std::move(*spm);
    SynthOptions o;
    o.type = "f16";
    o.format = "safetensors";
    ThreadPool pool(2);
    ASSERT_TRUE(WriteSynthModel(o, *spm_, (root_ / "hf").string(), pool).ok());
  }

  // Writes the model in the three layouts; returns the GGUF path.
  void WriteAll(SynthOptions o, const gguf::File& vocab) {
    ThreadPool pool(2);
    const int shards = o.shards;
    o.shards = 1;
    Status gguf = WriteSynthModel(o, vocab, (root_ / "model.gguf").string(), pool);
    ASSERT_TRUE(gguf.ok()) << gguf.error().message;
    o.format = "consolidated";
    Status mistral = WriteSynthModel(o, vocab, (root_ / "mistral").string(), pool);
    ASSERT_TRUE(mistral.ok()) << mistral.error().message;
    o.format = "safetensors";
    o.shards = shards;
    Status hf = WriteSynthModel(o, vocab, (root_ / "hf").string(), pool);
    ASSERT_TRUE(hf.ok()) << hf.error().message;
  }

  // Loads each layout and its conversion back to GGUF: same tokens for
  // `text`, same logits, and the converted tensors equal the synth file's.
  void ExpectSameEverywhere(const std::string& text) {
    Result<std::shared_ptr<const Model>> gguf = Model::Load((root_ / "model.gguf").string());
    ASSERT_TRUE(gguf.ok()) << gguf.error().message;
    const std::vector<int32_t> tokens = (*gguf)->tokenizer().Encode(text);
    ASSERT_GT(tokens.size(), 8u);
    const std::vector<float> want = testing::AllLogits(**gguf, tokens);
    for (const char* folder : {"mistral", "hf"}) {
      const std::string converted = (root_ / (std::string(folder) + ".gguf")).string();
      Result<ConvertReport> r = ConvertCheckpoint((root_ / folder).string(), converted, {});
      ASSERT_TRUE(r.ok()) << r.error().message;
      ExpectSameTensors((root_ / "model.gguf").string(), converted);
      for (const std::string& path : {(root_ / folder).string(), converted}) {
        Result<std::shared_ptr<const Model>> m = Model::Load(path);
        ASSERT_TRUE(m.ok()) << m.error().message;
        EXPECT_EQ((*m)->tokenizer().Encode(text), tokens) << path;
        const std::vector<float> got = testing::AllLogits(**m, tokens);
        ASSERT_EQ(got.size(), want.size());
        EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float))) << path;
      }
    }
  }

  fs::path root_;
  std::optional<gguf::File> spm_;  // set by WriteSpmFolder
};

TEST_P(SynthLayouts, SameTokensLogitsAndTensors) {
  const Case c = GetParam();
  Result<gguf::File> vocab =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok());
  SynthOptions o;
  o.arch = c.arch;
  o.shape = c.shape;
  o.type = c.type;
  o.seed = 5;
  o.shards = c.shards;
  WriteAll(o, *vocab);
  ExpectSameEverywhere(kText);

  // What each folder holds, by the names of its layout.
  const json config = json::parse(std::ifstream(root_ / "hf" / "config.json"));
  const std::string arch =
      std::string(c.arch) == "mixtral" ? "MixtralForCausalLM" : "LlamaForCausalLM";
  EXPECT_EQ(config["architectures"][0], arch);
  EXPECT_TRUE(fs::exists(root_ / "hf" / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(root_ / "hf" / "tokenizer_config.json"));
  EXPECT_TRUE(fs::exists(root_ / "mistral" / "consolidated.safetensors"));
  EXPECT_TRUE(fs::exists(root_ / "mistral" / "tokenizer.model.v3"));
  const json params = json::parse(std::ifstream(root_ / "mistral" / "params.json"));
  EXPECT_EQ(params.contains("moe"), std::string(c.arch) == "mixtral");
  if (c.shards > 1) {
    const json index = json::parse(std::ifstream(root_ / "hf" / "model.safetensors.index.json"));
    const std::string last = "model-0000" + std::to_string(c.shards) + "-of-0000" +
                             std::to_string(c.shards) + ".safetensors";
    EXPECT_TRUE(fs::exists(root_ / "hf" / last));
    EXPECT_FALSE(fs::exists(root_ / "hf" / "model.safetensors"));
    EXPECT_EQ(index["weight_map"]["lm_head.weight"], last);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, SynthLayouts,
    ::testing::Values(Case{"llama", "tiny", "f32", 1}, Case{"llama", "tiny", "f16", 3},
                      Case{"llama", "tiny", "bf16", 1}, Case{"mixtral", "tiny", "f16", 2},
                      Case{"mixtral", "tiny", "bf16", 1}, Case{"llama", "nemo-tiny", "bf16", 1},
                      Case{"llama", "nemo-tiny", "f16", 2}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.arch) + "_" +
             (std::string(info.param.shape) == "tiny" ? "tiny" : "nemo") + "_" + info.param.type +
             "_" + std::to_string(info.param.shards);
    });

TEST_F(SynthLayouts, QuantizedWeightsHaveNoFolderForm) {
  Result<gguf::File> vocab =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok());
  ThreadPool pool(1);
  SynthOptions o;
  o.type = "q8_0";
  o.format = "safetensors";
  Status s = WriteSynthModel(o, *vocab, (root_ / "hf").string(), pool);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("type 'q8_0': a safetensors folder holds f32, f16 or bf16"),
            std::string::npos)
      << s.error().message;
}

// Attention windows (one for all layers, or one per layer) are restated in
// params.json and config.json and come back into the converted GGUF; an 8-token
// window changes these ~30-token logits, so a lost window would show.
TEST_F(SynthLayouts, SlidingWindowsInEveryLayout) {
  Result<gguf::File> vocab =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok());
  for (const std::vector<int32_t>& windows : {std::vector<int32_t>{8}, {8, 0}}) {
    SynthOptions o;
    o.type = "f16";
    if (windows.size() == 1) {
      o.sliding_window = windows[0];
    } else {
      o.layer_windows = windows;
    }
    WriteAll(o, *vocab);
    ExpectSameEverywhere(kText);
    const json params = json::parse(std::ifstream(root_ / "mistral" / "params.json"));
    const json config = json::parse(std::ifstream(root_ / "hf" / "config.json"));
    const json want = windows.size() == 1 ? json(windows[0]) : json(windows);
    EXPECT_EQ(params["sliding_window"], want);
    EXPECT_EQ(config["sliding_window"], want);
    EXPECT_EQ(config["architectures"][0], "MistralForCausalLM");
    Result<gguf::File> converted = gguf::File::Open((root_ / "hf.gguf").string());
    ASSERT_TRUE(converted.ok());
    if (windows.size() == 1) {
      EXPECT_EQ(*converted->GetUInt("llama.attention.sliding_window"), 8u);
    } else {
      EXPECT_EQ(*converted->GetIntArray("llama.attention.sliding_window"), windows);
    }
  }
}

// A vocabulary's chat template goes into the Hugging Face folder's
// tokenizer_config.json and from there back into the converted GGUF file.
TEST_F(SynthLayouts, ChatTemplateTravelsThroughTokenizerConfig) {
  Result<gguf::File> spm =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(spm.ok());
  std::ifstream in(std::string(AUTAN_TESTDATA) +
                   "/templates/mistralai-Mistral-Nemo-Instruct-2407.jinja");
  const std::string tmpl((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(tmpl.size(), 100u);
  gguf::Writer w;
  w.CopyMetadata(*spm, "tokenizer.");
  w.SetString("tokenizer.chat_template", tmpl);
  Result<std::vector<uint8_t>> bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  Result<gguf::File> vocab = gguf::File::Parse(MappedFile::FromBytes(*bytes, "vocab"));
  ASSERT_TRUE(vocab.ok());
  SynthOptions o;
  o.type = "f16";
  o.format = "safetensors";
  ThreadPool pool(2);
  const fs::path hf = root_ / "hf";
  ASSERT_TRUE(WriteSynthModel(o, *vocab, hf.string(), pool).ok());
  const fs::path config_path = hf / "tokenizer_config.json";
  json config = json::parse(std::ifstream(config_path));
  EXPECT_EQ(config["chat_template"], tmpl);

  auto converted_template = [&]() -> std::string {
    const std::string out = (root_ / "out.gguf").string();
    Result<ConvertReport> r = ConvertCheckpoint(hf.string(), out, {});
    if (!r.ok()) return "error: " + r.error().message;
    Result<gguf::File> file = gguf::File::Open(out);
    Result<std::string_view> t = file->GetString("tokenizer.chat_template");
    return t.ok() ? std::string(*t) : "missing";
  };
  EXPECT_EQ(converted_template(), tmpl);
  // Hugging Face's list of named templates: the one named "default".
  config["chat_template"] = json::array({{{"name", "tool_use"}, {"template", "{{ tools }}"}},
                                         {{"name", "default"}, {"template", tmpl}}});
  std::ofstream(config_path) << config.dump();
  EXPECT_EQ(converted_template(), tmpl);
  config["chat_template"] = 5;
  std::ofstream(config_path) << config.dump();
  EXPECT_NE(converted_template().find("tokenizer_config.json: chat_template: expected a string"),
            std::string::npos);
}

// tokenizer_config.json's add_bos_token decides whether a prompt starts
// with BOS, as in Hugging Face's tokenizers: for the folder loaded as it
// is and for the GGUF file converted from it alike.
TEST_F(SynthLayouts, TokenizerConfigBosFlagHoldsForFolderAndConversion) {
  ASSERT_NO_FATAL_FAILURE(WriteSpmFolder());
  const fs::path hf = root_ / "hf";
  const fs::path config_path = hf / "tokenizer_config.json";
  json config = json::parse(std::ifstream(config_path));
  for (bool add_bos : {false, true}) {
    SCOPED_TRACE(add_bos ? "add_bos_token true" : "add_bos_token false");
    config["add_bos_token"] = add_bos;
    std::ofstream(config_path) << config.dump();
    Result<std::shared_ptr<const Model>> folder = Model::Load(hf.string());
    ASSERT_TRUE(folder.ok()) << folder.error().message;
    const Tokenizer& t = (*folder)->tokenizer();
    ASSERT_GE(t.bos(), 0);
    const std::vector<int32_t> ids = t.Encode("Hello world");
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front() == t.bos(), add_bos);

    const std::string out = (root_ / "out.gguf").string();
    Result<ConvertReport> r = ConvertCheckpoint(hf.string(), out, {});
    ASSERT_TRUE(r.ok()) << r.error().message;
    Result<std::shared_ptr<const Model>> converted = Model::Load(out);
    ASSERT_TRUE(converted.ok()) << converted.error().message;
    EXPECT_EQ((*converted)->tokenizer().Encode("Hello world"), ids);
  }
}

// Embeddings with more rows than the tokenizer has tokens (padded, as
// fine-tunes often leave them): the extra ids become placeholder tokens,
// for the folder loaded as it is and in the converted file, and text
// tokenizes as with the full vocabulary.
TEST_F(SynthLayouts, EmbeddingsPaddedPastTheVocabularyGetPlaceholderTokens) {
  ASSERT_NO_FATAL_FAILURE(WriteSpmFolder());
  const fs::path hf = root_ / "hf";
  ASSERT_TRUE(fs::exists(hf / "tokenizer.model"));
  Result<VocabSpec> full = VocabSpecFromGguf(*spm_);
  ASSERT_TRUE(full.ok());
  const size_t rows = full->tokens.size();
  constexpr size_t kMissing = 64;
  VocabSpec cut = *full;
  cut.tokens.resize(rows - kMissing);
  if (!cut.scores.empty()) cut.scores.resize(rows - kMissing);
  if (!cut.token_types.empty()) cut.token_types.resize(rows - kMissing);
  Result<std::vector<uint8_t>> model = SerializeSentencePiece(cut);
  ASSERT_TRUE(model.ok()) << model.error().message;
  std::ofstream(hf / "tokenizer.model", std::ios::binary)
      .write(reinterpret_cast<const char*>(model->data()),
             static_cast<std::streamsize>(model->size()));

  Result<Tokenizer> reference = TokenizerFromGguf(*spm_);
  ASSERT_TRUE(reference.ok());
  const std::string text = "Hello world, [PAD31990] stays text.";
  const std::vector<int32_t> want = reference->Encode(text);
  const std::string out = (root_ / "out.gguf").string();
  ASSERT_TRUE(ConvertCheckpoint(hf.string(), out, {}).ok());
  for (const std::string& path : {hf.string(), out}) {
    SCOPED_TRACE(path);
    Result<std::shared_ptr<const Model>> m = Model::Load(path);
    ASSERT_TRUE(m.ok()) << m.error().message;
    const Tokenizer& t = (*m)->tokenizer();
    EXPECT_EQ(t.n_vocab(), static_cast<int32_t>(rows));
    EXPECT_EQ(t.TokenText(static_cast<int32_t>(rows - 1)), "[PAD" + std::to_string(rows - 1) + "]");
    EXPECT_EQ(t.token_type(static_cast<int32_t>(rows - 1)), TokenType::kUnused);
    EXPECT_EQ(t.Encode(text), want);
  }
}

// A nemo-tiny model with Mistral NeMo's genuine Tekken vocabulary, cut to
// 1000 special ids and 15000 ranks to stay small: its tekken.json goes
// through GGUF (synth), back to tekken.json (the Mistral folder) and to
// llama.cpp's GGUF form (convert), tokenizing as the original file does.
TEST_F(SynthLayouts, TekkenModelKeepsItsTokenizerThroughEveryLayout) {
  AUTAN_REQUIRE_ORACLE();
  json tekken = json::parse(std::ifstream(testing_oracle::Oracle().dir / "tekken.json"));
  const int64_t n_ranks = 15000;
  tekken["vocab"].erase(tekken["vocab"].begin() + n_ranks, tekken["vocab"].end());
  tekken["config"]["num_vocab_tokens"] = n_ranks;
  tekken["config"]["default_vocab_size"] = 1000 + n_ranks;
  const std::string cut = (root_ / "cut-tekken.json").string();
  std::ofstream(cut) << tekken.dump();

  Result<VocabSpec> spec = LoadVocabSpecFile(cut);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto metadata = VocabGgufMetadata(*spec);
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  gguf::Writer w;
  for (auto& [key, value] : *metadata) w.Set(key, std::move(value));
  Result<std::vector<uint8_t>> bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  Result<gguf::File> vocab = gguf::File::Parse(MappedFile::FromBytes(*bytes, "tekken vocab"));
  ASSERT_TRUE(vocab.ok());

  SynthOptions o;
  o.shape = "nemo-tiny";
  o.type = "bf16";
  o.seed = 9;
  WriteAll(o, *vocab);
  ASSERT_TRUE(fs::exists(root_ / "mistral" / "tekken.json"));
  ExpectSameEverywhere(kText);

  Result<Tokenizer> original = LoadTekken(cut);
  ASSERT_TRUE(original.ok()) << original.error().message;
  Result<std::shared_ptr<const Model>> converted = Model::Load((root_ / "mistral.gguf").string());
  ASSERT_TRUE(converted.ok());
  Result<gguf::File> file = gguf::File::Open((root_ / "mistral.gguf").string());
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file->GetString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*file->GetString("tokenizer.ggml.pre"), "tekken");
  const json corpus = json::parse(
      std::ifstream(fs::path(AUTAN_SOURCE_DIR) / "tests/tokenizer/data/mistral_corpus.json"));
  ASSERT_GE(corpus.size(), 20u);
  // llama.cpp's "tekken" pre-tokenizer, which the GGUF names, has no \p{M}
  // (see oracle_files.h): texts with combining marks may split otherwise.
  size_t compared = 0;
  for (const json& text : corpus) {
    if (testing_oracle::HasCombiningMark(text.get<std::string>())) continue;
    ++compared;
    EXPECT_EQ((*converted)->tokenizer().Encode(text.get<std::string>()),
              original->Encode(text.get<std::string>()))
        << text;
  }
  EXPECT_GE(compared, 18u);
}

}  // namespace
}  // namespace autan
