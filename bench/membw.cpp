// autan-membw: this machine's memory read bandwidth, the ceiling of decode
// speed (each generated token streams every weight once). Sums a buffer much
// larger than the caches, several passes, with 1..N threads each reading its
// own contiguous slice, and prints GB/s (1e9 bytes per second).
//
//   autan-membw [--size-mib 1024] [--passes 5] [--threads 1,2] [--json]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  size_t size_mib = 1024;
  int passes = 5;
  std::vector<int> threads;
  bool json = false;
};

struct Measurement {
  int threads = 0;
  std::vector<double> gbps;  // one per pass
};

constexpr int kExitBadInput = 2;

// Eight independent accumulators so the additions do not serialize and the
// compiler vectorizes the loop; what limits it is then the memory system.
uint64_t SumSlice(const uint64_t* data, size_t n) {
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += data[i + k];
  }
  for (; i < n; ++i) acc[0] += data[i];
  uint64_t total = 0;
  for (uint64_t a : acc) total += a;
  return total;
}

// One pass over the whole buffer with `n_threads` threads; returns seconds.
// Threads are created before the clock starts and released together.
double TimedPass(const uint64_t* data, size_t n, int n_threads, uint64_t& checksum) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<uint64_t> sums(static_cast<size_t>(n_threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < n_threads; ++t) {
    workers.emplace_back([&, t] {
      const size_t begin = n * static_cast<size_t>(t) / static_cast<size_t>(n_threads);
      const size_t end = n * static_cast<size_t>(t + 1) / static_cast<size_t>(n_threads);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      sums[static_cast<size_t>(t)] = SumSlice(data + begin, end - begin);
    });
  }
  while (ready.load() < n_threads) {
  }
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& w : workers) w.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  for (uint64_t s : sums) checksum += s;
  return elapsed.count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

bool ParsePositive(const char* text, long long max, long long& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > max) return false;
  out = v;
  return true;
}

bool ParseThreads(const std::string& text, std::vector<int>& out) {
  out.clear();
  size_t i = 0;
  while (i <= text.size()) {
    const size_t comma = std::min(text.find(',', i), text.size());
    long long v = 0;
    if (!ParsePositive(text.substr(i, comma - i).c_str(), 1024, v)) return false;
    out.push_back(static_cast<int>(v));
    i = comma + 1;
  }
  return !out.empty();
}

int Usage(const char* message) {
  std::fprintf(stderr,
               "autan-membw: %s\nusage: autan-membw [--size-mib N] [--passes N] "
               "[--threads 1,2] [--json]\n",
               message);
  return kExitBadInput;
}

// Returns 0 on success, else the exit code after printing why.
int ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    long long v = 0;
    if (arg == "--json") {
      o.json = true;
    } else if (arg == "--size-mib" && has_value) {
      if (!ParsePositive(argv[++i], 1 << 20, v)) return Usage("--size-mib: expected 1..1048576");
      o.size_mib = static_cast<size_t>(v);
    } else if (arg == "--passes" && has_value) {
      if (!ParsePositive(argv[++i], 1000, v)) return Usage("--passes: expected 1..1000");
      o.passes = static_cast<int>(v);
    } else if (arg == "--threads" && has_value) {
      if (!ParseThreads(argv[++i], o.threads)) {
        return Usage("--threads: expected a list of 1..1024, e.g. 1,2");
      }
    } else {
      return Usage(("unknown or incomplete argument '" + arg + "'").c_str());
    }
  }
  if (o.threads.empty()) {
    const int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o.threads = n > 1 ? std::vector<int>{1, n} : std::vector<int>{1};
  }
  return 0;
}

void Print(const Options& o, const std::vector<Measurement>& results, size_t bytes) {
  if (!o.json) {
    std::printf("read bandwidth, %.0f MiB buffer, %d passes (GB = 1e9 bytes)\n",
                static_cast<double>(bytes) / (1 << 20), o.passes);
    for (const Measurement& m : results) {
      std::printf("threads %3d: %7.2f GB/s median, %7.2f best\n", m.threads, Median(m.gbps),
                  *std::max_element(m.gbps.begin(), m.gbps.end()));
    }
    return;
  }
  std::printf("{\"buffer_bytes\": %zu, \"passes\": %d, \"results\": [", bytes, o.passes);
  for (size_t r = 0; r < results.size(); ++r) {
    const Measurement& m = results[r];
    std::printf("%s{\"threads\": %d, \"gbps\": %.3f, \"gbps_max\": %.3f, \"samples\": [",
                r ? ", " : "", m.threads, Median(m.gbps),
                *std::max_element(m.gbps.begin(), m.gbps.end()));
    for (size_t i = 0; i < m.gbps.size(); ++i) std::printf("%s%.3f", i ? ", " : "", m.gbps[i]);
    std::printf("]}");
  }
  std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const int code = ParseArgs(argc, argv, o); code != 0) return code;
  const size_t bytes = o.size_mib << 20;
  const size_t n = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> data(new (std::nothrow) uint64_t[n]);
  if (!data) {
    std::fprintf(stderr, "autan-membw: cannot allocate %zu MiB\n", o.size_mib);
    return 1;
  }
  // Writing every page first keeps page faults out of the timed passes.
  for (size_t i = 0; i < n; ++i) data[i] = i;
  uint64_t checksum = 0;
  std::vector<Measurement> results;
  for (int threads : o.threads) {
    Measurement m{threads, {}};
    TimedPass(data.get(), n, threads, checksum);  // warm-up
    for (int p = 0; p < o.passes; ++p) {
      const double seconds = TimedPass(data.get(), n, threads, checksum);
      m.gbps.push_back(static_cast<double>(bytes) / seconds / 1e9);
    }
    results.push_back(std::move(m));
  }
  // Every pass sums 0..n-1, so the checksum is known; checking it keeps the
  // reads from being optimized away and proves each byte was read.
  // (Halving the even factor first keeps the modular arithmetic exact.)
  const uint64_t per_pass = n % 2 == 0 ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
  uint64_t passes = 0;
  for (const Measurement& m : results) passes += m.gbps.size() + 1;
  if (checksum != per_pass * passes) {
    std::fprintf(stderr, "autan-membw: checksum mismatch\n");
    return 1;
  }
  Print(o, results, bytes);
  return 0;
}
