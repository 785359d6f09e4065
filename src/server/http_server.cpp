#include "server/http_server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/api_error.h"
#include "server/url.h"

namespace autan::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HttpServer::Impl {
  HttpServerOptions options;
  RequestHandler handler;
  RequestObserver observer;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<net::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> open_responses{0};
  std::atomic<int64_t> connections{0};  // open Connection objects
  std::optional<net::steady_timer> accept_retry;

  void Accept();
  void Accepted(tcp::socket socket);
};

namespace {

// Status line and headers, as written before a body.
std::string Head(const HttpResponse& r, bool keep_alive, bool chunked,
                 std::optional<size_t> length) {
  std::string h = "HTTP/1.1 " + std::to_string(r.status) + " ";
  const auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  h.append(reason.data(), reason.size());
  h += "\r\nServer: autan\r\nContent-Type: " + r.content_type + "\r\n";
  for (const auto& [k, v] : r.headers) h += k + ": " + v + "\r\n";
  if (length) h += "Content-Length: " + std::to_string(*length) + "\r\n";
  if (chunked) h += "Transfer-Encoding: chunked\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {
    server_.connections.fetch_add(1);
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  ~Connection() { server_.connections.fetch_sub(1); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() { ReadHeader(); }

  // The Exchange's operations, run on the strand; `gen` names the request,
  // so that a late call about an earlier request does nothing.
  void Respond(uint64_t gen, HttpResponse r) {
    if (!Current(gen) || responded_) return;
    responded_ = true;
    record_.status = r.status;
    Queue(Head(r, keep_alive_, false, r.body.size()) + (head_only_ ? std::string() : r.body));
    complete_ = true;
    Flush();
  }
  void StartStream(uint64_t gen, HttpResponse head) {
    if (!Current(gen) || responded_) return;
    responded_ = true;
    streaming_ = true;
    record_.status = head.status;
    chunked_ = http11_;
    if (!chunked_)
      keep_alive_ = false;  // HTTP/1.0: the end of the body is the end of the connection
    Queue(Head(head, keep_alive_, chunked_, std::nullopt));
    Flush();
  }
  void Send(uint64_t gen, std::string data) {
    if (!Current(gen) || !streaming_ || complete_ || data.empty()) return;
    if (chunked_) {
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      data.insert(0, size);
      data += "\r\n";
    }
    Queue(std::move(data));
    Flush();
  }
  void EndStream(uint64_t gen) {
    if (!Current(gen) || !streaming_ || complete_) return;
    if (chunked_) Queue("0\r\n\r\n");
    complete_ = true;
    Flush();
  }
  void OnDisconnect(uint64_t gen, std::function<void()> fn) {
    if (gen != gen_) return;
    if (lost_) {
      fn();
    } else if (!finished_) {
      on_disconnect_ = std::move(fn);
    }
  }
  void SetRoute(uint64_t gen, std::string route) {
    if (gen == gen_) record_.route = std::move(route);
  }
  void SetTokens(uint64_t gen, int64_t prompt, int64_t completion) {
    if (gen != gen_) return;
    record_.prompt_tokens = prompt;
    record_.completion_tokens = completion;
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  bool Current(uint64_t gen) const { return gen == gen_ && !lost_ && !finished_; }

  void ReadHeader() {
    responded_ = complete_ = streaming_ = false;
    parser_.emplace();
    parser_->body_limit(server_.options.max_body);
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header));
    stream_.expires_after(server_.options.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return ReadFailed(ec);
    const auto& req = parser_->get();
    if (std::optional<std::string> wrong = FramingError(req)) {
      return Refuse(ErrorResponse(BadRequest(*wrong)));
    }
    if (const auto length = parser_->content_length();
        length && *length > server_.options.max_body) {
      return Refuse(ErrorResponse(PayloadTooLarge(server_.options.max_body)));
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      Queue("HTTP/1.1 100 Continue\r\n\r\n");
      Flush();
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  // Beast reads a body whose Transfer-Encoding does not end in chunked as
  // empty, and what follows as the next request: a proxy in front that reads
  // the body another way would then pass a smuggled request through. RFC 9112
  // (6.1, 6.3) wants such framing refused and the connection closed.
  static std::optional<std::string> FramingError(const http::request_header<>& req) {
    const auto te = req.find(http::field::transfer_encoding);
    if (te == req.end()) return std::nullopt;
    const std::string_view value(te->value().data(), te->value().size());
    if (req.version() < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request";
    if (!beast::iequals(te->value(), "chunked")) {
      return "unsupported Transfer-Encoding '" + std::string(value) + "': only chunked is";
    }
    return std::nullopt;
  }

  void ReadFailed(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(ErrorResponse(PayloadTooLarge(server_.options.max_body)));
    }
    if (ec == http::error::header_limit) {
      HttpResponse r = ErrorResponse(BadRequest("the request headers are too large"));
      r.status = 431;
      return Refuse(std::move(r));
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        buffer_.size() == 0) {
      return Close();
    }
    Refuse(ErrorResponse(BadRequest("malformed HTTP request: " + ec.message())));
  }

  // Answers a request that never reaches a handler, then closes.
  void Refuse(HttpResponse r) {
    ++gen_;
    keep_alive_ = false;
    refused_ = true;
    record_ = AccessRecord{};
    if (parser_ && parser_->is_header_done()) {
      const auto& req = parser_->get();
      record_.method.assign(req.method_string().data(), req.method_string().size());
      const std::string_view target(req.target().data(), req.target().size());
      record_.path = PercentDecode(target.substr(0, target.find('?')));
    }
    record_.remote = remote_;
    record_.status = r.status;
    started_ = Clock::now();
    Log();
    Queue(Head(r, false, false, r.body.size()) + r.body);
    complete_ = true;
    Flush();
  }

  void OnBody(beast::error_code ec) {
    if (ec) return ReadFailed(ec);
    http::request<http::string_body> msg = parser_->release();
    HttpRequest req;
    req.method = std::string(msg.method_string().data(), msg.method_string().size());
    SplitTarget(std::string_view(msg.target().data(), msg.target().size()), req.path, req.query);
    for (const auto& field : msg) {
      std::string name(field.name_string().data(), field.name_string().size());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name),
                               std::string(field.value().data(), field.value().size()));
    }
    req.body = std::move(msg.body());
    req.remote = remote_;
    http11_ = msg.version() >= 11;
    keep_alive_ = msg.keep_alive() && !server_.stopping;
    ++gen_;
    responded_ = complete_ = streaming_ = chunked_ = finished_ = false;
    record_ = AccessRecord{req.method, req.path, "", remote_, 0, 0.0, 0, 0};
    // HEAD is GET without the body (RFC 9110): routed as GET, answered with
    // the same headers, Content-Length included.
    head_only_ = req.method == "HEAD";
    if (head_only_) req.method = "GET";
    started_ = Clock::now();
    stream_.expires_never();
    server_.open_responses.fetch_add(1);
    Watch();
    auto exchange = MakeExchange();
    try {
      server_.handler(req, exchange);
    } catch (const std::exception& e) {  // a bug, or out of memory: the client still gets JSON
      exchange->Respond(ErrorResponse(Internal(std::string("internal error: ") + e.what())));
    }
  }

  std::shared_ptr<Exchange> MakeExchange();

  // Notices a client that closes its end while its request is handled.
  void Watch() {
    stream_.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), gen = gen_](beast::error_code ec) {
          if (ec || gen != self->gen_ || self->finished_ || self->lost_) return;
          char c;
          const ssize_t n =
              ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            self->Lost();
          } else if (n < 0) {
            self->Watch();
          }  // else: the next (pipelined) request is already there
        });
  }

  void Queue(std::string bytes) { out_.push_back(std::move(bytes)); }

  void Flush() {
    if (writing_ || lost_) return;
    if (out_.empty()) {
      if (complete_ && responded_) return FinishResponse();
      if (complete_ && refused_) return Linger();
      return;
    }
    writing_ = true;
    stream_.expires_after(server_.options.write_timeout);
    net::async_write(stream_, net::buffer(out_.front()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->Lost();
                       self->out_.pop_front();
                       self->Flush();
                     });
  }

  void Log() {
    record_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    if (server_.observer) server_.observer(record_);
  }

  void FinishResponse() {
    finished_ = true;
    on_disconnect_ = nullptr;
    server_.open_responses.fetch_sub(1);
    Log();
    if (keep_alive_ && !server_.stopping) return ReadHeader();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    Close();
  }

  // Half-closes and reads what the client still sends (the rest of a body
  // too large to take), so that closing does not reset the connection
  // before the client has read the answer.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    discard_.resize(64 << 10);
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Linger();
                            });
  }

  // The client is gone (or stopped reading): drop the response.
  void Lost() {
    if (lost_) return;
    lost_ = true;
    if (gen_ > 0 && !finished_ && !refused_) {
      finished_ = true;
      server_.open_responses.fetch_sub(1);
      if (!responded_) record_.status = 499;  // nginx's "client closed request"
      Log();
      if (auto fn = std::move(on_disconnect_)) fn();
    }
    Close();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  std::deque<std::string> out_;
  std::vector<char> discard_;
  std::function<void()> on_disconnect_;
  AccessRecord record_;
  Clock::time_point started_;
  uint64_t gen_ = 0;
  bool http11_ = true, keep_alive_ = true;
  bool responded_ = false, streaming_ = false, chunked_ = false, complete_ = false;
  bool head_only_ = false;  // a HEAD request: headers only
  bool finished_ = true;    // no request in progress
  bool writing_ = false, lost_ = false, refused_ = false;
};

// Posts every call onto the connection's strand.
class ConnectionExchange : public Exchange {
 public:
  ConnectionExchange(std::shared_ptr<Connection> conn, uint64_t gen)
      : conn_(std::move(conn)), gen_(gen) {}

  void Respond(HttpResponse r) override {
    Post([r = std::move(r)](Connection& c, uint64_t g) mutable { c.Respond(g, std::move(r)); });
  }
  void StartStream(HttpResponse head) override {
    Post([h = std::move(head)](Connection& c, uint64_t g) mutable {
      c.StartStream(g, std::move(h));
    });
  }
  void Send(std::string data) override {
    Post([d = std::move(data)](Connection& c, uint64_t g) mutable { c.Send(g, std::move(d)); });
  }
  void EndStream() override {
    Post([](Connection& c, uint64_t g) { c.EndStream(g); });
  }
  void OnDisconnect(std::function<void()> fn) override {
    Post([fn = std::move(fn)](Connection& c, uint64_t g) mutable {
      c.OnDisconnect(g, std::move(fn));
    });
  }
  void SetRoute(std::string route) override {
    Post(
        [r = std::move(route)](Connection& c, uint64_t g) mutable { c.SetRoute(g, std::move(r)); });
  }
  void SetTokens(int64_t prompt, int64_t completion) override {
    Post([=](Connection& c, uint64_t g) { c.SetTokens(g, prompt, completion); });
  }

 private:
  template <typename Fn>
  void Post(Fn fn) {
    net::post(conn_->executor(),
              [conn = conn_, gen = gen_, fn = std::move(fn)]() mutable { fn(*conn, gen); });
  }
  std::shared_ptr<Connection> conn_;
  uint64_t gen_;
};

std::shared_ptr<Exchange> Connection::MakeExchange() {
  return std::make_shared<ConnectionExchange>(shared_from_this(), gen_);
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      Accepted(std::move(socket));
      return Accept();
    }
    // Out of descriptors or memory: the pending connection stays in the
    // backlog, so accepting again at once would spin a core until one frees.
    accept_retry.emplace(ioc, std::chrono::milliseconds(100));
    accept_retry->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) Accept();
    });
  });
}

void HttpServer::Impl::Accepted(tcp::socket socket) {
  if (connections.load() < static_cast<int64_t>(options.max_connections)) {
    std::make_shared<Connection>(std::move(socket), *this)->Start();
    return;
  }
  // Full: a short answer in the socket's buffer (never blocking), then close,
  // so that open but silent connections cannot use up the descriptors the
  // model, the database and the other clients need.
  ApiError full = Unavailable("too many open connections; try again later");
  full.retry_after_seconds = 1;
  const HttpResponse r = ErrorResponse(full);
  const std::string bytes = Head(r, false, false, r.body.size()) + r.body;
  [[maybe_unused]] const ssize_t sent =
      ::send(socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

size_t DefaultMaxConnections() {
  // Leaves 64 descriptors of the process's limit (half of a small one) to
  // the model, the database, logs and listening sockets.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096;
  const size_t total = static_cast<size_t>(limit.rlim_cur);
  return std::max<size_t>(1, total - std::min<size_t>(64, total / 2));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       RequestHandler handler,
                                                       RequestObserver observer) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (impl->options.max_connections == 0) impl->options.max_connections = DefaultMaxConnections();
  impl->handler = std::move(handler);
  impl->observer = std::move(observer);
  beast::error_code ec;
  std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return Fail("'%s' is not an IP address", options.host.c_str());
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail("cannot listen on %s port %u: %s", options.host.c_str(),
                static_cast<unsigned>(options.port), ec.message().c_str());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Run(std::function<void(int)> on_signal) {
  Impl& s = *impl_;
  s.signals.emplace(s.ioc, SIGINT, SIGTERM);
  std::function<void(beast::error_code, int)> wait = [&](beast::error_code ec, int signal) {
    if (ec) return;
    if (on_signal) on_signal(signal);
    s.signals->async_wait(wait);
  };
  s.signals->async_wait(wait);
  s.Accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < s.options.threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (std::thread& t : threads) t.join();
}

void HttpServer::StopAccepting() {
  impl_->stopping = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
}

void HttpServer::Stop() { impl_->ioc.stop(); }

int64_t HttpServer::open_responses() const { return impl_->open_responses.load(); }

}  // namespace autan::server
