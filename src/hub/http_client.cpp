#include "hub/http_client.h"

#include <curl/curl.h>

#include <algorithm>

namespace autan::hub {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

// What the libcurl callbacks see during one Perform.
struct HttpClient::State {
  CURL* curl;
  const HttpHandlers& handlers;
  HttpResponse response;
  bool headers_done = false;
  Error handler_error;
  bool handler_failed = false;

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<State*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {  // a new response (after a 1xx)
      s->response.headers.clear();
      return line.size();
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return size * n;  // not a field: ignored
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      s->response.headers.emplace_back(std::move(name), std::string(value));
      return size * n;
    }
    // The blank line ending a response's headers.
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200) return size * n;  // 100 Continue and the like: another response follows
    s->response.status = status;
    s->headers_done = true;
    if (s->handlers.on_headers) {
      if (Status st = s->handlers.on_headers(s->response); !st.ok()) {
        s->handler_error = st.error();
        s->handler_failed = true;
        return 0;  // aborts the transfer
      }
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<State*>(user);
    if (!s->handlers.on_body) return size * n;
    if (Status st = s->handlers.on_body(std::string_view(data, size * n)); !st.ok()) {
      s->handler_error = st.error();
      s->handler_failed = true;
      return 0;
    }
    return size * n;
  }
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const Options& options) {
  // Reference-counted by libcurl; paired with the cleanup in the destructor.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Fail("cannot start libcurl");
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    curl_global_cleanup();
    return Fail("cannot start libcurl");
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "autan/0.1.0");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &State::OnHeader);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &State::OnBody);
  return std::unique_ptr<HttpClient>(new HttpClient(curl));
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_global_cleanup();
}

HttpOutcome HttpClient::Perform(const HttpRequest& request, const HttpHandlers& handlers) {
  CURL* curl = static_cast<CURL*>(curl_);
  State state{curl, handlers, {}};
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOBODY, request.head ? 1L : 0L);
  if (!request.head) curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);

  HttpOutcome out;
  out.response = std::move(state.response);
  // Only known once the whole response is in: Location resolved against the URL.
  char* location = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
    out.response.redirect_url = location;
  }
  if (state.handler_failed) {
    out.kind = HttpOutcome::Kind::kFatal;
    out.error = state.handler_error.message;
    return out;
  }
  switch (code) {
    case CURLE_OK:
      out.kind = HttpOutcome::Kind::kDone;
      return out;
    // Wrong URLs, protocols and certificates do not get better by retrying.
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_OUT_OF_MEMORY:
      out.kind = HttpOutcome::Kind::kFatal;
      break;
    default:
      out.kind = HttpOutcome::Kind::kTransport;
      break;
  }
  out.error = curl_easy_strerror(code);
  return out;
}

}  // namespace autan::hub
