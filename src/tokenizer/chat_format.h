// Built-in chat formats: render a conversation into the prompt text a model was
// trained on, without a Jinja interpreter. Each format reproduces, byte for byte,
// what the model's own chat template renders (Jinja2 semantics, as Hugging Face
// transformers runs it) for plain-text messages; special tokens are written as
// text ("<s>[INST] ...") and must be tokenized with special-token parsing on and
// no BOS added by the tokenizer (the rendered text already carries it).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace autan {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" or "tool"
  std::string content;
};

// The template each format reproduces, in parentheses.
enum class ChatFormat {
  kMistralV1,        // "mistral-v1" (Mistral's official v1: " [INST] ... [/INST]")
  kMistralV3,        // "mistral-v3" (Mistral-7B-Instruct-v0.3, Mistral-Large-2407)
  kMistralV3Tekken,  // "mistral-v3-tekken" (Mistral-Nemo-Instruct-2407: no spaces)
  kMistralV7,        // "mistral-v7" (Mistral's official v7: [SYSTEM_PROMPT])
  kLlama2,           // "llama2" (Llama-2-chat: <<SYS>> in the first [INST])
  kLlama3,           // "llama3" (Meta-Llama-3-Instruct)
  kLlama31,          // "llama3.1" (Llama-3.1/3.3-Instruct: dated system header)
  kChatMl,           // "chatml" (<|im_start|>, as Qwen2.5-Instruct without tools)
  kGemma,            // "gemma" (gemma-2-it; system folded into the first user turn)
  kPhi3,             // "phi3" (Phi-3.5-mini-instruct)
};

struct ChatRenderOptions {
  // Token texts the template writes; nullopt takes the format's usual one:
  // "<s>"/"</s>" for Mistral and Llama 2, "<|begin_of_text|>" for Llama 3,
  // "<bos>" for Gemma, EOS "<|endoftext|>" for Phi-3 (which writes no BOS);
  // ChatML writes neither.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // Used as the leading system message when the conversation has none (Qwen2.5's
  // template has one built in); empty means none.
  std::string default_system_prompt;
  // Llama 3.1's "Today Date:" line; the template's own default.
  std::string date_string = "26 Jul 2024";
};

// "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "llama2",
// "llama3", "llama3.1", "chatml", "gemma", "phi3".
std::optional<ChatFormat> ParseChatFormatName(std::string_view name);
std::string_view ChatFormatName(ChatFormat format);

// Recognizes a GGUF tokenizer.chat_template (or a format name) by its
// distinctive markers, as llama.cpp's llm_chat_detect_template does, but only
// answers a format whose turns render exactly like that template's; nullopt when
// unknown.
std::optional<ChatFormat> DetectChatFormat(std::string_view jinja_template);

// Renders the conversation as prompt text. add_generation_prompt ends it with
// what opens the assistant's turn (Mistral and Llama 2 have none: "[/INST]"
// already does). Fails on an empty conversation, an unknown role, a role the
// format cannot express, or roles out of the order the format requires.
Result<std::string> RenderChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, const ChatRenderOptions& opts = {});

}  // namespace autan
