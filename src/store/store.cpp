#include "store/store.h"

namespace autan::store {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> Parse(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

// In enum order.
constexpr std::string_view kRoles[] = {"user", "admin"};
constexpr std::string_view kMessageRoles[] = {"system", "user", "assistant", "tool"};
constexpr std::string_view kMessageStatuses[] = {"complete", "streaming", "incomplete"};

}  // namespace

std::string_view RoleName(Role role) { return kRoles[static_cast<int>(role)]; }
std::optional<Role> ParseRole(std::string_view name) { return Parse<Role>(kRoles, name); }

std::string_view MessageRoleName(MessageRole role) { return kMessageRoles[static_cast<int>(role)]; }
std::optional<MessageRole> ParseMessageRole(std::string_view name) {
  return Parse<MessageRole>(kMessageRoles, name);
}

std::string_view MessageStatusName(MessageStatus status) {
  return kMessageStatuses[static_cast<int>(status)];
}
std::optional<MessageStatus> ParseMessageStatus(std::string_view name) {
  return Parse<MessageStatus>(kMessageStatuses, name);
}

}  // namespace autan::store
