// autan user: accounts of the web app, managed by the operator who owns the
// data directory. Passwords come from AUTAN_PASSWORD or standard input, never
// from the command line, where `ps` and shell history would show them.
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "store/data_dir.h"
#include "store/sqlite_store.h"
#include "store/validate.h"

namespace autan::cli {
namespace {

struct UserFlags {
  std::string data_dir;
  std::string name;
  bool admin = false;
  store::PasswordParams argon2;
};

// Reads one line from the terminal without echoing it.
bool ReadHidden(const char* prompt, std::string& line) {
  std::fprintf(stderr, "%s", prompt);
  termios saved;
  const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::fprintf(stderr, "\n");
  return got;
}

// The new password: $AUTAN_PASSWORD, else a prompt (twice) on a terminal, else
// the first line of standard input.
Result<std::string> ReadPassword(const std::string& name) {
  std::string password;
  if (const char* env = std::getenv("AUTAN_PASSWORD"); env != nullptr && env[0] != '\0') {
    password = env;
  } else if (isatty(STDIN_FILENO)) {
    std::string again;
    const std::string prompt = "Password for " + name + ": ";
    if (!ReadHidden(prompt.c_str(), password) || !ReadHidden("Repeat it: ", again)) {
      return Fail("no password entered");
    }
    if (password != again) return Fail("the two passwords differ");
  } else if (!std::getline(std::cin, password)) {
    return Fail("no password: set AUTAN_PASSWORD or write it on standard input");
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  AUTAN_TRY(store::ValidatePassword(password));
  return password;
}

Result<std::unique_ptr<store::Store>> Open(const UserFlags& f, bool create) {
  store::SqliteStoreOptions options;
  options.data_dir = f.data_dir;
  if (options.data_dir.empty()) {
    Result<std::string> dir = store::DefaultDataDir();
    AUTAN_TRY(dir);
    options.data_dir = *dir;
  }
  options.create = create;
  options.password = f.argon2;
  return store::OpenSqliteStore(options);
}

std::string UtcTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm;
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int Add(const UserFlags& f) {
  Status name_ok = store::ValidateUsername(f.name);
  if (!name_ok.ok()) return Report(name_ok.error().message, kExitBadInput);
  Result<std::unique_ptr<store::Store>> s = Open(f, /*create=*/true);
  if (!s.ok()) return Report(s.error().message, kExitFailure);
  Result<std::optional<store::User>> existing = (*s)->FindUserByName(f.name);
  if (!existing.ok()) return Report(existing.error().message, kExitFailure);
  if (existing->has_value()) return Report("user '" + f.name + "' already exists", kExitBadInput);
  Result<std::string> password = ReadPassword(f.name);
  if (!password.ok()) return Report(password.error().message, kExitBadInput);
  const store::Role role = f.admin ? store::Role::kAdmin : store::Role::kUser;
  Result<store::User> user = (*s)->CreateUser({f.name, *password, role}, store::kOperatorActor);
  if (!user.ok()) return Report(user.error().message, kExitFailure);
  std::printf("created %s '%s' (id %s)\n", std::string(store::RoleName(role)).c_str(),
              user->username.c_str(), user->id.c_str());
  return 0;
}

int List(const UserFlags& f) {
  Result<std::unique_ptr<store::Store>> s = Open(f, /*create=*/false);
  if (!s.ok()) return Report(s.error().message, kExitFailure);
  Result<std::vector<store::User>> users = (*s)->ListUsers();
  if (!users.ok()) return Report(users.error().message, kExitFailure);
  std::printf("%-24s %-6s %-9s %-21s %s\n", "NAME", "ROLE", "STATUS", "CREATED", "ID");
  for (const store::User& u : *users) {
    std::printf("%-24s %-6s %-9s %-21s %s\n", u.username.c_str(),
                std::string(store::RoleName(u.role)).c_str(), u.disabled ? "disabled" : "active",
                UtcTime(u.created_at_ms).c_str(), u.id.c_str());
  }
  return 0;
}

// passwd, disable and enable act on an existing user named by --name.
int Change(const UserFlags& f, const std::string& action) {
  Result<std::unique_ptr<store::Store>> s = Open(f, /*create=*/false);
  if (!s.ok()) return Report(s.error().message, kExitFailure);
  Result<std::optional<store::User>> user = (*s)->FindUserByName(f.name);
  if (!user.ok()) return Report(user.error().message, kExitFailure);
  if (!user->has_value()) return Report("no user named '" + f.name + "'", kExitBadInput);
  const std::string& id = (**user).id;
  Result<bool> changed = false;
  if (action == "passwd") {
    Result<std::string> password = ReadPassword(f.name);
    if (!password.ok()) return Report(password.error().message, kExitBadInput);
    changed = (*s)->SetPassword(id, *password, store::kOperatorActor);
  } else {
    changed = (*s)->SetUserDisabled(id, action == "disable", store::kOperatorActor);
  }
  if (!changed.ok()) return Report(changed.error().message, kExitFailure);
  if (!*changed) return Report("no user named '" + f.name + "'", kExitBadInput);
  std::printf("%s '%s': done%s\n", action.c_str(), (**user).username.c_str(),
              action == "enable" ? "" : "; its sessions have ended");
  return 0;
}

}  // namespace

CommandFn AddUserCommand(CLI::App& app) {
  auto f = std::make_shared<UserFlags>();
  CLI::App* cmd = app.add_subcommand("user", "Manage web app accounts");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub, bool named) {
    sub->add_option("--data-dir", f->data_dir,
                    "Data directory (default: $XDG_DATA_HOME/autan or ~/.local/share/autan)");
    if (named) sub->add_option("--name", f->name, "User name")->required();
  };
  auto hashing = [&](CLI::App* sub) {
    sub->add_option("--argon2-t", f->argon2.iterations, "Argon2id iterations")
        ->check(CLI::Range(1, 100));
    sub->add_option("--argon2-m", f->argon2.memory_kib, "Argon2id memory in KiB")
        ->check(CLI::Range(8, 4 * 1024 * 1024));
    sub->add_option("--argon2-p", f->argon2.parallelism, "Argon2id lanes")
        ->check(CLI::Range(1, 64));
  };
  CLI::App* add =
      cmd->add_subcommand("add", "Create a user (password from AUTAN_PASSWORD or stdin)");
  common(add, true);
  hashing(add);
  add->add_flag("--admin", f->admin, "Give the user the admin role");
  CLI::App* list = cmd->add_subcommand("list", "List users");
  common(list, false);
  CLI::App* passwd = cmd->add_subcommand("passwd", "Set a user's password (ends their sessions)");
  common(passwd, true);
  hashing(passwd);
  CLI::App* disable = cmd->add_subcommand("disable", "Disable a user (ends their sessions)");
  common(disable, true);
  CLI::App* enable = cmd->add_subcommand("enable", "Enable a disabled user");
  common(enable, true);
  return [f, add, list, passwd, disable, enable] {
    if (Status params = f->argon2.Validate(); !params.ok()) {
      return Report(params.error().message, kExitBadInput);
    }
    if (add->parsed()) return Add(*f);
    if (list->parsed()) return List(*f);
    if (passwd->parsed()) return Change(*f, "passwd");
    if (disable->parsed()) return Change(*f, "disable");
    if (enable->parsed()) return Change(*f, "enable");
    return Report("user: no subcommand", kExitBadInput);
  };
}

}  // namespace autan::cli
