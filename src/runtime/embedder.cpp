#include "runtime/embedder.h"

#include <algorithm>

namespace autan {

Result<std::unique_ptr<Embedder>> Embedder::Create(std::shared_ptr<const Model> model,
                                                   EmbedderOptions o) {
  if (o.n_ctx < 1 || o.n_ctx > (1 << 24)) return Fail("context %d out of range", o.n_ctx);
  if (o.max_batch < 1 || o.max_batch > 65536) return Fail("batch %d out of range", o.max_batch);
  if (o.threads < 1 || o.threads > 1024) return Fail("threads %d out of range", o.threads);
  if (o.max_queue < 0) return Fail("queue size must not be negative");
  if (o.max_inputs < 1) return Fail("a request must be allowed at least one input");
  auto embedder = std::unique_ptr<Embedder>(new Embedder(std::move(model), o));
  Result<std::unique_ptr<Session>> session =
      Session::Create(embedder->model_, *embedder->pool_,
                      {.n_ctx = o.n_ctx, .max_batch = std::min(o.max_batch, o.n_ctx)});
  if (!session.ok()) return session.error();
  embedder->session_ = std::move(session).value();
  embedder->worker_ = std::thread([e = embedder.get()] { e->WorkerLoop(); });
  return embedder;
}

Embedder::Embedder(std::shared_ptr<const Model> model, EmbedderOptions options)
    : model_(std::move(model)),
      options_(options),
      pool_(std::make_unique<ThreadPool>(options.threads)) {}

Embedder::~Embedder() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (Pending& p : queue_) p.job.on_done(Fail("the server is shutting down"));
}

Embedder::Submitted Embedder::Submit(EmbeddingJob job) {
  auto refuse = [](Refusal r, std::string m) { return Submitted{0, r, std::move(m)}; };
  const int32_t n_vocab = model_->config().n_vocab;
  if (job.inputs.empty()) return refuse(Refusal::kInvalid, "there is no input");
  if (job.inputs.size() > options_.max_inputs) {
    return refuse(Refusal::kInvalid, "at most " + std::to_string(options_.max_inputs) +
                                         " inputs in one request, not " +
                                         std::to_string(job.inputs.size()));
  }
  for (size_t i = 0; i < job.inputs.size(); ++i) {
    const std::vector<int32_t>& in = job.inputs[i];
    const std::string which = "input " + std::to_string(i);
    if (in.empty()) return refuse(Refusal::kInvalid, which + " has no tokens");
    if (in.size() > static_cast<size_t>(options_.n_ctx)) {
      return refuse(Refusal::kInvalid, which + " has " + std::to_string(in.size()) +
                                           " tokens; at most " + std::to_string(options_.n_ctx) +
                                           " fit in the context");
    }
    for (int32_t t : in) {
      if (t < 0 || t >= n_vocab) {
        return refuse(Refusal::kInvalid,
                      which + ": token " + std::to_string(t) + " is outside the vocabulary");
      }
    }
  }
  std::lock_guard lock(mu_);
  if (stop_ || draining_) return refuse(Refusal::kShuttingDown, "the server is shutting down");
  if (static_cast<int32_t>(queue_.size()) >= options_.max_queue + (running_ ? 0 : 1)) {
    return refuse(Refusal::kQueueFull, "too many embedding requests are waiting");
  }
  const uint64_t id = next_id_++;
  queue_.push_back(Pending{id, std::move(job)});
  wake_.notify_one();
  return Submitted{id, Refusal::kNone, {}};
}

void Embedder::Cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  cancelled_.push_back(id);
}

void Embedder::Drain() {
  std::unique_lock lock(mu_);
  draining_ = true;
  idle_.wait(lock, [this] { return queue_.empty() && !running_; });
}

bool Embedder::Cancelled(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = std::find(cancelled_.begin(), cancelled_.end(), id);
  if (it == cancelled_.end()) return stop_;
  cancelled_.erase(it);
  return true;
}

void Embedder::WorkerLoop() {
  for (;;) {
    Pending p;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      p = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    Run(p);
    std::lock_guard lock(mu_);
    running_ = false;
    // Forget cancellations of jobs that are done (or never were).
    std::erase_if(cancelled_, [this](uint64_t id) {
      return std::none_of(queue_.begin(), queue_.end(),
                          [id](const Pending& q) { return q.id == id; });
    });
    if (queue_.empty()) idle_.notify_all();
  }
}

void Embedder::Run(Pending& p) {
  std::vector<std::vector<float>> out;
  out.reserve(p.job.inputs.size());
  for (const std::vector<int32_t>& input : p.job.inputs) {
    if (Cancelled(p.id)) return p.job.on_done(Fail("cancelled"));
    if (std::chrono::steady_clock::now() >= p.job.deadline) {
      return p.job.on_done(Fail("the request ran past the server's time limit"));
    }
    Result<std::vector<float>> e = session_->Embed(input);
    if (!e.ok()) return p.job.on_done(e.error());
    out.push_back(std::move(e).value());
  }
  p.job.on_done(std::move(out));
}

}  // namespace autan
