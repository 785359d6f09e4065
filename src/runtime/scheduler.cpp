#include "runtime/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/check.h"

namespace autan {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Log-probabilities of the raw distribution: the chosen token's and the top k.
void FillLogprobs(std::span<const float> logits, int32_t token, int32_t k, TokenEvent& ev) {
  float max = -INFINITY;
  for (float v : logits) max = std::max(max, v);
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - max));
  const float log_z = max + static_cast<float>(std::log(sum));
  ev.logprob = logits[static_cast<size_t>(token)] - log_z;
  if (k <= 0) return;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const size_t top = std::min(ids.size(), static_cast<size_t>(k));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(top), ids.end(),
                    [&](int32_t a, int32_t b) {
                      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                    });
  for (size_t i = 0; i < top; ++i) ev.top_logprobs.emplace_back(ids[i], logits[ids[i]] - log_z);
}

}  // namespace

struct Scheduler::Pending {
  uint64_t id;
  GenerationRequest request;
  Sampler sampler;
  Clock::time_point submitted;
};

struct Scheduler::Slot {
  Slot(KvBlockPool& pool, int32_t capacity) : kv(pool, capacity) {}
  PagedSequence kv;
  std::vector<int32_t> tokens;  // every token evaluated or being evaluated, by position
  std::optional<Pending> job;
  size_t prefilled = 0;  // prompt tokens already in the cache
  int32_t n_past = 0;
  int32_t next_token = -1;  // sampled, not yet evaluated
  int32_t generated = 0;
  Utf8Stream utf8;
  Clock::time_point admitted, first_token;
  std::vector<float> raw;  // logits before the processor, when logprobs are asked for
  double joules = 0.0;
  bool measured = true;  // every step so far read from RAPL
};

Result<std::unique_ptr<Scheduler>> Scheduler::Create(std::shared_ptr<const Model> model,
                                                     SchedulerOptions o) {
  if (o.n_parallel < 1 || o.n_parallel > 1024)
    return Fail("parallel %d out of range", o.n_parallel);
  if (o.n_ctx < 2 || o.n_ctx > (1 << 24)) return Fail("context %d out of range", o.n_ctx);
  if (o.max_batch_tokens < 1 || o.max_batch_tokens > 65536) {
    return Fail("batch %d out of range", o.max_batch_tokens);
  }
  if (o.n_parallel > o.max_batch_tokens) {
    return Fail("batch %d must hold one token of each of the %d parallel sequences",
                o.max_batch_tokens, o.n_parallel);
  }
  if (o.max_queue < 0) return Fail("queue size must not be negative");
  if (o.threads < 1) return Fail("threads must be positive");
  if (o.kv_block_size < 1 || o.kv_block_size > 4096) {
    return Fail("KV block size %d out of range", o.kv_block_size);
  }
  AUTAN_TRY(KvCache::Supports(model->config(), o.kv_type));
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(model), o));
}

Scheduler::Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options)
    : model_(std::move(model)),
      options_(options),
      logits_(static_cast<size_t>(options.n_parallel) * model_->config().n_vocab),
      pool_(std::make_unique<ThreadPool>(options.threads)) {
  energy_profile_ = ModelEnergyProfile::For(*model_, options.kv_type);
  // Each sequence may fill its whole ring; one spare block per sequence
  // covers a copy-on-write in flight, so allocation never fails. Blocks no
  // sequence holds serve as the prefix cache.
  const int32_t capacity =
      KvCache::Capacity(model_->config(), options.n_ctx, options.max_batch_tokens);
  const int32_t per_sequence = (capacity + options.kv_block_size - 1) / options.kv_block_size;
  kv_pool_ =
      std::make_unique<KvBlockPool>(model_->config(), options.n_parallel * (per_sequence + 1),
                                    options.kv_block_size, options.kv_type);
  slots_.reserve(static_cast<size_t>(options.n_parallel));
  for (int32_t i = 0; i < options.n_parallel; ++i) slots_.emplace_back(*kv_pool_, capacity);
  stats_.kv = kv_pool_->Stats();
  engine_ = std::thread([this] { EngineLoop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  engine_.join();
}

Scheduler::Submitted Scheduler::Submit(GenerationRequest request) {
  const ModelConfig& c = model_->config();
  auto refuse = [](Refusal r, std::string m) { return Submitted{0, r, std::move(m)}; };
  if (request.prompt.empty()) return refuse(Refusal::kInvalid, "the prompt is empty");
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= c.n_vocab) {
      return refuse(Refusal::kInvalid,
                    "prompt token " + std::to_string(t) + " is outside the vocabulary");
    }
  }
  if (static_cast<int64_t>(request.prompt.size()) >= options_.n_ctx) {
    return refuse(Refusal::kInvalid, "the prompt has " + std::to_string(request.prompt.size()) +
                                         " tokens; the context holds " +
                                         std::to_string(options_.n_ctx) +
                                         " including at least one generated token");
  }
  if (request.max_tokens < 1) return refuse(Refusal::kInvalid, "max_tokens must be at least 1");
  Result<Sampler> sampler = Sampler::Create(request.sampling, c.n_vocab);
  if (!sampler.ok()) return refuse(Refusal::kInvalid, sampler.error().message);

  std::lock_guard lock(mu_);
  if (stop_ || draining_) return refuse(Refusal::kShuttingDown, "the server is shutting down");
  const int32_t busy = stats_.active;
  if (static_cast<int32_t>(queue_.size()) >= options_.max_queue + (options_.n_parallel - busy)) {
    return refuse(Refusal::kQueueFull, "too many requests are waiting");
  }
  const uint64_t id = next_id_++;
  queue_.push_back(Pending{id, std::move(request), std::move(sampler).value(), Clock::now()});
  ++stats_.queued;
  wake_.notify_one();
  return Submitted{id, Refusal::kNone, {}};
}

void Scheduler::Cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  cancelled_.push_back(id);
  wake_.notify_one();
}

void Scheduler::Drain() {
  std::unique_lock lock(mu_);
  draining_ = true;
  idle_.wait(lock, [this] { return queue_.empty() && stats_.active == 0; });
}

SchedulerStats Scheduler::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// Moves queued requests into free slots. Called with mu_ held.
bool Scheduler::Admit(std::unique_lock<std::mutex>&) {
  bool admitted = false;
  for (Slot& slot : slots_) {
    if (slot.job || queue_.empty()) continue;
    slot.job.emplace(std::move(queue_.front()));
    queue_.pop_front();
    --stats_.queued;
    ++stats_.active;
    const std::vector<int32_t>& prompt = slot.job->request.prompt;
    const int32_t cached = options_.prefix_cache ? slot.kv.AttachPrefix(prompt) : 0;
    slot.tokens.assign(prompt.begin(), prompt.end());
    slot.prefilled = static_cast<size_t>(cached);
    slot.n_past = cached;
    slot.next_token = -1;
    slot.generated = 0;
    slot.utf8 = Utf8Stream();
    slot.joules = 0.0;
    slot.measured = true;
    slot.admitted = Clock::now();
    for (int32_t t : slot.job->request.prompt) slot.job->sampler.Accept(t);
    admitted = true;
  }
  return admitted;
}

void Scheduler::EngineLoop() {
  for (;;) {
    std::vector<uint64_t> cancelled;
    std::vector<Pending> dropped;
    Clock::time_point now;  // deadlines are checked against one reading per step
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] {
        return stop_ || !queue_.empty() || !cancelled_.empty() || stats_.active > 0;
      });
      cancelled.swap(cancelled_);
      if (stop_) {
        for (Slot& slot : slots_) {
          if (slot.job) cancelled.push_back(slot.job->id);
        }
      }
      // Cancelled requests still waiting never reach a slot, nor do those
      // whose deadline passed while they waited.
      now = Clock::now();
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (stop_ || now >= it->request.deadline ||
            std::find(cancelled.begin(), cancelled.end(), it->id) != cancelled.end()) {
          dropped.push_back(std::move(*it));
          it = queue_.erase(it);
          --stats_.queued;
        } else {
          ++it;
        }
      }
    }
    for (Pending& p : dropped) {
      CompletionSummary summary;
      summary.finish = now >= p.request.deadline ? FinishReason::kTimedOut : FinishReason::kStopped;
      summary.total_seconds = Seconds(p.submitted, now);
      if (p.request.on_done) p.request.on_done(summary);
    }
    for (Slot& slot : slots_) {
      if (slot.job &&
          std::find(cancelled.begin(), cancelled.end(), slot.job->id) != cancelled.end()) {
        Finish(slot, FinishReason::kStopped);
      } else if (slot.job && now >= slot.job->request.deadline) {
        Finish(slot, FinishReason::kTimedOut);  // e.g. still prefilling a long prompt
      }
    }
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
      Admit(lock);
      if (stats_.active == 0) {
        if (queue_.empty()) idle_.notify_all();
        continue;
      }
    }
    Step();
  }
}

void Scheduler::Step() {
  batch_.Clear();
  std::vector<KvCacheView> views;
  std::vector<Slot*> with_logits;
  std::vector<std::pair<Slot*, double>> work;  // FLOPs of each slot's tokens in this step
  int32_t budget = options_.max_batch_tokens;
  // Running streams first, so a long prompt never stalls them.
  for (Slot& slot : slots_) {
    if (!slot.job || slot.next_token < 0 || budget == 0) continue;
    AUTAN_CHECK(slot.kv.PrepareWrite(slot.n_past, slot.n_past + 1));
    batch_.Add(slot.next_token, slot.n_past, static_cast<int32_t>(views.size()), true);
    work.emplace_back(&slot, energy_profile_.Work(slot.n_past, 1));
    slot.tokens.push_back(slot.next_token);
    views.push_back(slot.kv.view());
    with_logits.push_back(&slot);
    ++slot.n_past;
    slot.next_token = -1;
    --budget;
  }
  // Then prompt chunks with the tokens left in this step's budget.
  int64_t prompt_tokens = 0;
  for (Slot& slot : slots_) {
    if (!slot.job || budget == 0) continue;
    const std::vector<int32_t>& prompt = slot.job->request.prompt;
    if (slot.prefilled == prompt.size()) continue;
    const size_t n = std::min(prompt.size() - slot.prefilled, static_cast<size_t>(budget));
    const bool last = slot.prefilled + n == prompt.size();
    const int32_t seq = static_cast<int32_t>(views.size());
    AUTAN_CHECK(slot.kv.PrepareWrite(slot.n_past, slot.n_past + static_cast<int32_t>(n)));
    for (size_t i = 0; i < n; ++i) {
      batch_.Add(prompt[slot.prefilled + i], slot.n_past + static_cast<int32_t>(i), seq,
                 last && i + 1 == n);
    }
    views.push_back(slot.kv.view());
    work.emplace_back(&slot, energy_profile_.Work(slot.n_past, static_cast<int32_t>(n)));
    if (last) with_logits.push_back(&slot);
    slot.prefilled += n;
    slot.n_past += static_cast<int32_t>(n);
    budget -= static_cast<int32_t>(n);
    prompt_tokens += static_cast<int64_t>(n);
  }
  if (batch_.size() == 0) return;

  ForwardMetered(views, work);
  if (options_.prefix_cache) {
    for (Slot& slot : slots_) {
      if (slot.job) slot.kv.PublishFull(slot.tokens, slot.n_past);
    }
  }
  {
    std::lock_guard lock(mu_);
    stats_.last_batch_tokens = static_cast<int32_t>(batch_.size());
    stats_.prompt_tokens += prompt_tokens;
    ++stats_.steps;
    stats_.kv = kv_pool_->Stats();
  }
  const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
  for (size_t i = 0; i < with_logits.size(); ++i) {
    EmitToken(*with_logits[i], std::span<float>(&logits_[i * n_vocab], n_vocab));
  }
}

void Scheduler::ForwardMetered(std::span<const KvCacheView> views,
                               const std::vector<std::pair<Slot*, double>>& work) {
  EnergyMeter* meter = options_.energy_meter.get();
  if (!meter) return model_->Forward(batch_, views, scratch_, *pool_, logits_.data());
  // The weights are read once per step; each sequence reads its KV cache.
  double bytes = energy_profile_.weight_bytes;
  for (const auto& [slot, w] : work) bytes += energy_profile_.KvBytes(slot->n_past);
  meter->Begin();
  model_->Forward(batch_, views, scratch_, *pool_, logits_.data());
  const StepEnergy step = meter->End(bytes);
  std::vector<double> weights(work.size()), shares(work.size());
  for (size_t i = 0; i < work.size(); ++i) weights[i] = work[i].second;
  SplitJoules(step.joules, weights, shares);
  for (size_t i = 0; i < work.size(); ++i) {
    work[i].first->joules += shares[i];
    if (step.source != EnergySource::kRapl) work[i].first->measured = false;
  }
  std::lock_guard lock(mu_);
  stats_.energy_joules += step.joules;
}

void Scheduler::EmitToken(Slot& slot, std::span<float> logits) {
  Pending& job = *slot.job;
  GenerationRequest& r = job.request;
  if (r.logprobs >= 0 && r.processor) slot.raw.assign(logits.begin(), logits.end());
  if (r.processor) r.processor->Apply(logits);
  const int32_t token = job.sampler.Sample(logits);
  job.sampler.Accept(token);
  if (r.processor) r.processor->Accept(token);
  ++slot.generated;
  const Clock::time_point now = Clock::now();
  if (slot.generated == 1) slot.first_token = now;
  {
    std::lock_guard lock(mu_);
    ++stats_.generated_tokens;
  }
  if (r.stop_at_end_of_generation && model_->tokenizer().IsEndOfGeneration(token)) {
    Finish(slot, FinishReason::kEndOfGeneration);
    return;
  }
  TokenEvent ev;
  ev.token = token;
  ev.text = slot.utf8.Push(model_->tokenizer().TokenPiece(token));
  if (r.logprobs >= 0) FillLogprobs(r.processor ? slot.raw : logits, token, r.logprobs, ev);
  if (r.on_token && !r.on_token(ev)) {
    Finish(slot, FinishReason::kStopped);
  } else if (slot.generated >= r.max_tokens) {
    Finish(slot, FinishReason::kLength);
  } else if (r.processor && r.processor->Complete()) {
    Finish(slot, FinishReason::kEndOfGeneration);
  } else if (slot.n_past + 1 > options_.n_ctx) {
    Finish(slot, FinishReason::kContextFull);
  } else {
    slot.next_token = token;
  }
}

void Scheduler::Finish(Slot& slot, FinishReason reason) {
  Pending job = std::move(*slot.job);
  slot.job.reset();
  slot.next_token = -1;
  slot.kv.Clear();
  slot.tokens.clear();
  const Clock::time_point now = Clock::now();
  CompletionSummary summary;
  summary.finish = reason;
  summary.prompt_tokens = static_cast<int32_t>(job.request.prompt.size());
  summary.completion_tokens = slot.generated;
  summary.queue_seconds = Seconds(job.submitted, slot.admitted);
  summary.first_token_seconds = slot.generated > 0 ? Seconds(job.submitted, slot.first_token) : 0;
  summary.total_seconds = Seconds(job.submitted, now);
  summary.text_tail = slot.utf8.Flush();
  summary.energy_joules = slot.joules;
  summary.energy_source =
      slot.measured && options_.energy_meter ? EnergySource::kRapl : EnergySource::kEstimate;
  if (job.request.on_done) job.request.on_done(summary);
  std::lock_guard lock(mu_);
  --stats_.active;
  ++stats_.requests_done;
  stats_.kv = kv_pool_->Stats();
  if (stats_.active == 0 && queue_.empty()) idle_.notify_all();
}

}  // namespace autan
