// The web app's usage and quotas: every user's tokens, energy, carbon and
// cost per day for administrators (JSON for the chart, CSV to export), the
// signed-in user's own day, and the daily quotas administrators set.
#include <chrono>
#include <cmath>

#include "server/app_service.h"
#include "server/json_util.h"
#include "server/schema_fields.h"
#include "server/url.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;
constexpr int kDefaultDays = 30;
constexpr int kMaxDays = 366;

std::string DayOf(std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd{d};
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

// "YYYY-MM-DD" as a day, or none.
std::optional<std::chrono::sys_days> ParseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                        std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

// A CSV field: quoted when it must be, and never read as a formula by a
// spreadsheet (a leading = + - @ gets a quote mark).
std::string CsvField(const std::string& s) {
  std::string v = s;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string Real(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

Json QuotaJson(const store::Quota& q) {
  Json j = {{"subject", q.subject}, {"tokens_per_day", nullptr}, {"joules_per_day", nullptr}};
  if (q.tokens_per_day) j["tokens_per_day"] = *q.tokens_per_day;
  if (q.joules_per_day) j["joules_per_day"] = *q.joules_per_day;
  return j;
}

}  // namespace

bool AppService::OverQuota(Call& c) {
  Result<store::QuotaState> state = store_.GetQuotaState("user:" + c.user_id());
  if (!state.ok()) {
    StoreFailed(c, state.error());
    return true;
  }
  std::optional<ApiError> e = QuotaError(*state, "user '" + c.session->user.username + "'");
  if (e) Error(c, *e);
  return e.has_value();
}

void AppService::AdminUsage(Call& c) {
  const std::chrono::sys_days today =
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::chrono::sys_days to = today, from = today - std::chrono::days(kDefaultDays - 1);
  bool csv = false;
  if (const std::optional<std::string> format = QueryValue(c.req.query, "format")) {
    if (*format != "csv" && *format != "json") {
      return Error(c, BadRequest("'format' must be json or csv", "format"));
    }
    csv = *format == "csv";
  }
  for (const std::string name : {"from", "to"}) {
    const std::optional<std::string> value = QueryValue(c.req.query, name);
    if (!value) continue;
    std::optional<std::chrono::sys_days> day = ParseDay(*value);
    if (!day) return Error(c, BadRequest("'" + name + "' must be a day, YYYY-MM-DD", name));
    (name == "from" ? from : to) = *day;
  }
  if (from > to || to - from >= std::chrono::days(kMaxDays)) {
    return Error(c, BadRequest("'from' must come before 'to', at most " + std::to_string(kMaxDays) +
                                   " days earlier",
                               "from"));
  }
  Result<std::vector<store::UserUsageDay>> days = store_.ListAllUsage(DayOf(from), DayOf(to));
  if (!days.ok()) return StoreFailed(c, days.error());
  const EnergyPricing& p = options_.pricing;
  if (csv) {
    std::string body =
        "day,user,requests,prompt_tokens,completion_tokens,energy_joules,co2e_grams,cost,"
        "currency\r\n";
    for (const store::UserUsageDay& d : *days) {
      const store::UsageDay& u = d.usage;
      body += u.day + "," + CsvField(d.username) + "," + std::to_string(u.requests) + "," +
              std::to_string(u.prompt_tokens) + "," + std::to_string(u.completion_tokens) + "," +
              Real(u.energy_joules) + "," + Real(p.Co2eGrams(u.energy_joules)) + "," +
              Real(p.Cost(u.energy_joules)) + "," + CsvField(p.currency) + "\r\n";
    }
    HttpResponse r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"autan-usage-" +
                                                      DayOf(from) + "-" + DayOf(to) + ".csv\"");
    return c.ex->Respond(std::move(r));
  }
  Json data = Json::array();
  for (const store::UserUsageDay& d : *days) {
    const store::UsageDay& u = d.usage;
    data.push_back({{"day", u.day},
                    {"user_id", d.user_id},
                    {"username", d.username},
                    {"requests", u.requests},
                    {"prompt_tokens", u.prompt_tokens},
                    {"completion_tokens", u.completion_tokens},
                    {"energy_joules", u.energy_joules},
                    {"co2e_grams", p.Co2eGrams(u.energy_joules)},
                    {"cost", p.Cost(u.energy_joules)}});
  }
  Reply(c, {{"from", DayOf(from)},
            {"to", DayOf(to)},
            {"currency", p.currency},
            {"energy_source", EnergySourceName(options_.energy_source)},
            {"data", std::move(data)}});
}

void AppService::AdminListQuotas(Call& c) {
  Result<std::vector<store::Quota>> quotas = store_.ListQuotas();
  if (!quotas.ok()) return StoreFailed(c, quotas.error());
  Json data = Json::array();
  for (const store::Quota& q : *quotas) data.push_back(QuotaJson(q));
  Reply(c, {{"data", std::move(data)}});
}

void AppService::AdminSetQuota(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  store::Quota quota;
  if (!f.Find("subject")) f.Fail("'subject' is required: \"user:ID\" or \"key:KEY\"", "subject");
  f.String("subject", quota.subject);
  f.Integer("tokens_per_day", 0, int64_t{1} << 50, quota.tokens_per_day);
  if (const Json* j = f.Find("joules_per_day"); j && !f.error) {
    if (!j->is_number() || !std::isfinite(j->get<double>()) || j->get<double>() < 0) {
      f.Wrong("joules_per_day", "a non-negative number or null");
    } else {
      quota.joules_per_day = j->get<double>();
    }
  }
  if (f.error) return Error(c, *f.error);
  if (Status s = store_.SetQuota(quota); !s.ok()) {
    return Rejected(c, s.error(), "subject");  // a full disk is ours, a bad subject theirs
  }
  Audit(c.user_id(), "quota.set", quota.subject);
  Reply(c, QuotaJson(quota));
}

void AppService::MyUsage(Call& c) {
  Result<store::QuotaState> s = store_.GetQuotaState("user:" + c.user_id());
  if (!s.ok()) return StoreFailed(c, s.error());
  const store::UsageDay& u = s->today;
  const EnergyPricing& p = options_.pricing;
  Reply(c, {{"day", u.day},
            {"requests", u.requests},
            {"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"energy_joules", u.energy_joules},
            {"co2e_grams", p.Co2eGrams(u.energy_joules)},
            {"cost", p.Cost(u.energy_joules)},
            {"currency", p.currency},
            {"quota", s->quota ? QuotaJson(*s->quota) : Json()},
            {"resets_at", UtcTime(s->resets_at_ms)}});
}

}  // namespace autan::server
