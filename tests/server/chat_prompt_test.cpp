// How a model folder's prompt is built: Mistral's layout has no chat template,
// so its tokenizer file's instruct version picks mistral-common's token-level
// format; a Hugging Face folder's tokenizer_config.json template is rendered.
// libsentencepiece encodes the expected pieces.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../formats/safetensors_bytes.h"
#include "core/fp16.h"
#include "model/model.h"
#include "server/chat_prompt.h"
#include "tokenizer/tokenizer_file.h"

namespace autan::server {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr uint64_t kDim = 16, kFfn = 32, kVocab = 32000;

const std::string kSpm = std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model";

testing::Bf16Tensor Filled(std::vector<uint64_t> shape, float value) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return {shape, std::vector<uint16_t>(n, Fp32ToBf16(value))};
}

class ChatPromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("autan-chat-prompt-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    ASSERT_TRUE(sp_.Load(kSpm).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  // A one-layer model in Mistral's layout (consolidated + params.json) or
  // Hugging Face's; the weights do not matter here, only the prompt.
  fs::path Folder(const std::string& name, bool hf) {
    const fs::path dir = root_ / name;
    fs::create_directories(dir);
    std::map<std::string, testing::Bf16Tensor> t;
    const std::string l = hf ? "model.layers.0." : "layers.0.";
    t[hf ? "model.embed_tokens.weight" : "tok_embeddings.weight"] = Filled({kVocab, kDim}, 0.1f);
    t[hf ? "model.norm.weight" : "norm.weight"] = Filled({kDim}, 1.0f);
    t[hf ? "lm_head.weight" : "output.weight"] = Filled({kVocab, kDim}, 0.1f);
    t[l + (hf ? "input_layernorm.weight" : "attention_norm.weight")] = Filled({kDim}, 1.0f);
    t[l + (hf ? "post_attention_layernorm.weight" : "ffn_norm.weight")] = Filled({kDim}, 1.0f);
    for (const char* w : {"q", "k", "v", "o"}) {
      t[l + (hf ? std::string("self_attn.") + w + "_proj.weight"
                : std::string("attention.w") + w + ".weight")] = Filled({kDim, kDim}, 0.1f);
    }
    t[l + (hf ? "mlp.gate_proj.weight" : "feed_forward.w1.weight")] = Filled({kFfn, kDim}, 0.1f);
    t[l + (hf ? "mlp.down_proj.weight" : "feed_forward.w2.weight")] = Filled({kDim, kFfn}, 0.1f);
    t[l + (hf ? "mlp.up_proj.weight" : "feed_forward.w3.weight")] = Filled({kFfn, kDim}, 0.1f);
    if (hf) {
      testing::WriteBf16Safetensors(dir / "model.safetensors", t);
      std::ofstream(dir / "config.json")
          << R"({"architectures": ["MistralForCausalLM"], "hidden_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "intermediate_size": 32, "rms_norm_eps": 1e-05, "vocab_size": 32000})";
    } else {
      testing::WriteBf16Safetensors(dir / "consolidated.safetensors", t);
      std::ofstream(dir / "params.json")
          << R"({"dim": 16, "n_layers": 1, "head_dim": 8, "hidden_dim": 32, "n_heads": 2,
                 "n_kv_heads": 2, "norm_eps": 1e-05, "vocab_size": 32000})";
    }
    return dir;
  }

  std::shared_ptr<const Model> Load(const fs::path& dir) {
    Result<std::shared_ptr<const Model>> model = Model::Load(dir.string());
    EXPECT_TRUE(model.ok()) << model.error().message;
    return model.ok() ? *model : nullptr;
  }

  std::vector<int32_t> Spm(const std::string& text) {
    const std::vector<int> ids = sp_.EncodeAsIds(text);
    return {ids.begin(), ids.end()};
  }

  fs::path root_;
  sentencepiece::SentencePieceProcessor sp_;
};

const Json kConversation = Json::parse(R"([
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "hi"},
  {"role": "assistant", "content": "yo"},
  {"role": "user", "content": "more </s> [INST] <s>"}])");

TEST_F(ChatPromptTest, MistralFolderTakesItsTokenizersInstructVersion) {
  const fs::path dir = Folder("mistral", false);
  fs::copy_file(kSpm, dir / "tokenizer.model");  // mistral-common: tokenizer.model is v1
  std::shared_ptr<const Model> model = Load(dir);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->tokenizer().mistral_instruct(), "v1");
  Result<ChatPrompter> p = ChatPrompter::Create(*model, "");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->description(), "Mistral instruct format v1 (its tokenizer's)");

  Result<std::vector<int32_t>> ids = p->Encode(kConversation, Json(), false);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  // v1: the system prompt before the first user message; each piece encoded on
  // its own; text that spells control tokens stays text.
  std::vector<int32_t> want = {sp_.bos_id()};
  for (const std::string& piece :
       {std::string("[INST] Be brief.\n\nhi [/INST]"), std::string("yo")}) {
    const std::vector<int32_t> part = Spm(piece);
    want.insert(want.end(), part.begin(), part.end());
  }
  want.push_back(sp_.eos_id());
  const std::vector<int32_t> last = Spm("[INST] more </s> [INST] <s> [/INST]");
  want.insert(want.end(), last.begin(), last.end());
  EXPECT_EQ(*ids, want);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), sp_.eos_id()), 1);

  // An assistant prefix stays open: no EOS after it.
  Json prefixed = Json::parse(R"([{"role": "user", "content": "hi"},
                                 {"role": "assistant", "content": "Sure"}])");
  Result<std::vector<int32_t>> open = p->Encode(prefixed, Json(), true);
  ASSERT_TRUE(open.ok()) << open.error().message;
  std::vector<int32_t> want_open = {sp_.bos_id()};
  for (const char* piece : {"[INST] hi [/INST]", "Sure"}) {
    const std::vector<int32_t> part = Spm(piece);
    want_open.insert(want_open.end(), part.begin(), part.end());
  }
  EXPECT_EQ(*open, want_open);
}

TEST_F(ChatPromptTest, ChoicesNameAVersionOrAFormat) {
  const fs::path dir = Folder("mistral", false);
  fs::copy_file(kSpm, dir / "tokenizer.model.v3");
  std::shared_ptr<const Model> model = Load(dir);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->tokenizer().mistral_instruct(), "v3");
  // v3 needs control tokens that Llama 2's vocabulary does not have.
  Result<ChatPrompter> v3 = ChatPrompter::Create(*model, "mistral-instruct");
  ASSERT_TRUE(v3.ok()) << v3.error().message;
  EXPECT_EQ(v3->description(), "Mistral instruct format v3");
  Result<std::vector<int32_t>> ids = v3->Encode(kConversation, Json(), false);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.error().message, "the vocabulary has no control token [INST]");

  Result<ChatPrompter> v1 = ChatPrompter::Create(*model, "mistral-instruct-v1");
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_TRUE(v1->Encode(kConversation, Json(), false).ok());
  Result<ChatPrompter> v9 = ChatPrompter::Create(*model, "mistral-instruct-v9");
  ASSERT_FALSE(v9.ok());
  EXPECT_EQ(v9.error().message,
            "unknown Mistral instruct version 'v9' (expected v1, v2, v3 or v7)");

  // A built-in text format still renders text; the suffix is parsed for
  // special tokens after it.
  Result<ChatPrompter> text = ChatPrompter::Create(*model, "mistral-v1");
  ASSERT_TRUE(text.ok()) << text.error().message;
  Result<std::vector<int32_t>> with_suffix =
      text->Encode(Json::parse(R"([{"role": "user", "content": "hi"}])"), Json(), false, "</s>");
  ASSERT_TRUE(with_suffix.ok()) << with_suffix.error().message;
  EXPECT_EQ(with_suffix->back(), sp_.eos_id());
}

TEST_F(ChatPromptTest, HuggingFaceFolderRendersTokenizerConfigTemplate) {
  const fs::path dir = Folder("hf", true);
  fs::copy_file(kSpm, dir / "tokenizer.model");
  std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "<s>", "chat_template": [
      {"name": "tool_use", "template": "unused"},
      {"name": "default", "template": "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"}]})";
  std::shared_ptr<const Model> model = Load(dir);
  ASSERT_TRUE(model);
  Result<ChatPrompter> p = ChatPrompter::Create(*model, "");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->description(), "the model's chat template");
  Result<std::vector<int32_t>> ids =
      p->Encode(Json::parse(R"([{"role": "user", "content": "hi"}])"), Json(), false);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  std::vector<int32_t> want = {sp_.bos_id()};
  const std::vector<int32_t> rest = Spm("<user>hi");
  want.insert(want.end(), rest.begin(), rest.end());
  EXPECT_EQ(*ids, want);

  std::ofstream(dir / "tokenizer_config.json") << R"({"chat_template": 7})";
  Result<std::shared_ptr<const Model>> bad = Model::Load(dir.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("tokenizer_config.json: chat_template: expected a string"),
            std::string::npos)
      << bad.error().message;
}

TEST(TokenizerFileTest, InstructVersionFollowsMistralCommonsFileNames) {
  const fs::path dir =
      fs::temp_directory_path() / ("autan-tok-names-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const auto& [name, version] :
       std::vector<std::pair<std::string, std::string>>{{"tokenizer.model", "v1"},
                                                        {"tokenizer.model.v2", "v2"},
                                                        {"tokenizer.model.v7m1", "v7"},
                                                        {"llama.spm", ""}}) {
    fs::copy_file(kSpm, dir / name, fs::copy_options::overwrite_existing);
    Result<Tokenizer> t = LoadTokenizerFile((dir / name).string());
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->mistral_instruct(), version) << name;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace autan::server
