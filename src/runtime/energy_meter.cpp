#include "runtime/energy_meter.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace autan {
namespace {

namespace fs = std::filesystem;

// The file's first line as an unsigned integer; none when missing or malformed.
std::optional<uint64_t> ReadCounter(const std::string& path, std::string& error) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    error = path + ": cannot be read";
    return std::nullopt;
  }
  uint64_t v = 0;
  const char* end = line.data() + line.size();
  auto [p, ec] = std::from_chars(line.data(), end, v);
  if (ec != std::errc() || p == line.data() || (p != end && *p != '\n')) {
    error = path + ": \"" + line.substr(0, 32) + "\" is not a counter";
    return std::nullopt;
  }
  return v;
}

std::string ReadLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class EstimateMeter : public EnergyMeter {
 public:
  EstimateMeter(double cpu_watts, double joules_per_byte)
      : cpu_watts_(cpu_watts), joules_per_byte_(joules_per_byte) {}
  void Begin() override { cpu_ = ProcessCpuSeconds(); }
  StepEnergy End(double bytes_read) override {
    const double cpu = std::max(0.0, ProcessCpuSeconds() - cpu_);
    return {EstimateJoules(cpu, cpu_watts_, bytes_read, joules_per_byte_), EnergySource::kEstimate};
  }

 private:
  double cpu_watts_, joules_per_byte_;
  double cpu_ = 0.0;
};

// Reads RAPL around each step; on the first unreadable counter it says why
// once and estimates from then on.
class RaplMeter : public EnergyMeter {
 public:
  RaplMeter(RaplReader reader, EstimateMeter fallback, std::function<void(const std::string&)> log)
      : reader_(std::move(reader)), fallback_(std::move(fallback)), log_(std::move(log)) {}
  void Begin() override {
    fallback_.Begin();
    if (failed_) return;
    std::string error;
    before_ = reader_.Read(error);
    if (!before_) Fail(error);
  }
  StepEnergy End(double bytes_read) override {
    StepEnergy estimate = fallback_.End(bytes_read);
    if (failed_ || !before_) return estimate;
    std::string error;
    std::optional<std::vector<uint64_t>> after = reader_.Read(error);
    if (!after) {
      Fail(error);
      return estimate;
    }
    return {reader_.Joules(*before_, *after), EnergySource::kRapl};
  }

 private:
  void Fail(const std::string& why) {
    failed_ = true;
    if (log_) log_("energy: RAPL stopped being readable (" + why + "); estimating from now on");
  }
  RaplReader reader_;
  EstimateMeter fallback_;
  std::function<void(const std::string&)> log_;
  std::optional<std::vector<uint64_t>> before_;
  bool failed_ = false;
};

}  // namespace

const char* EnergySourceName(EnergySource source) {
  return source == EnergySource::kRapl ? "rapl" : "estimate";
}

double EstimateJoules(double cpu_seconds, double cpu_watts_per_core, double bytes_read,
                      double joules_per_byte) {
  return cpu_seconds * cpu_watts_per_core + bytes_read * joules_per_byte;
}

double CounterDeltaJoules(uint64_t before_uj, uint64_t after_uj, uint64_t max_range_uj) {
  const uint64_t uj = after_uj >= before_uj
                          ? after_uj - before_uj
                          : (max_range_uj - std::min(before_uj, max_range_uj)) + after_uj;
  return static_cast<double>(uj) * 1e-6;
}

std::optional<RaplReader> RaplReader::Open(const std::string& root, std::string& error) {
  std::error_code ec;
  RaplReader reader;
  fs::directory_iterator it(root, ec);
  if (ec) {
    error = root + ": " + ec.message();
    return std::nullopt;
  }
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    // Zones are "intel-rapl:0", "intel-rapl:0:1" (AMD uses the same driver);
    // "intel-rapl-mmio" repeats the package through another interface.
    if (name.find(':') == std::string::npos || name.find("mmio") != std::string::npos) continue;
    dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    const std::string zone = ReadLine(dir / "name");
    if (zone.rfind("package", 0) != 0 && zone != "dram") continue;
    std::optional<uint64_t> max = ReadCounter((dir / "max_energy_range_uj").string(), error);
    if (!max) return std::nullopt;
    if (*max == 0) {
      error = (dir / "max_energy_range_uj").string() + ": zero range";
      return std::nullopt;
    }
    reader.zones_.push_back({zone, (dir / "energy_uj").string(), *max});
  }
  if (reader.zones_.empty()) {
    error = root + ": no package or dram zone";
    return std::nullopt;
  }
  if (!reader.Read(error)) return std::nullopt;
  return reader;
}

std::optional<std::vector<uint64_t>> RaplReader::Read(std::string& error) const {
  std::vector<uint64_t> values;
  values.reserve(zones_.size());
  for (const Zone& z : zones_) {
    std::optional<uint64_t> v = ReadCounter(z.energy_path, error);
    if (!v) return std::nullopt;
    if (*v > z.max_range_uj) {
      error = z.energy_path + ": beyond max_energy_range_uj";
      return std::nullopt;
    }
    values.push_back(*v);
  }
  return values;
}

double RaplReader::Joules(const std::vector<uint64_t>& before,
                          const std::vector<uint64_t>& after) const {
  double joules = 0.0;
  for (size_t i = 0; i < zones_.size() && i < before.size() && i < after.size(); ++i) {
    joules += CounterDeltaJoules(before[i], after[i], zones_[i].max_range_uj);
  }
  return joules;
}

std::string PowercapRoot(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("AUTAN_POWERCAP_ROOT"); env && *env) return env;
  return "/sys/class/powercap";
}

double DefaultCpuWatts(const std::string& powercap_root) {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(powercap_root, ec)) {
    dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    if (ReadLine(dir / "name").rfind("package", 0) != 0) continue;
    std::string error;
    std::optional<uint64_t> uw = ReadCounter((dir / "constraint_0_power_limit_uw").string(), error);
    if (uw && *uw > 0 && cores > 0) return static_cast<double>(*uw) * 1e-6 / cores;
  }
  return kDefaultCpuWattsPerCore;
}

std::unique_ptr<EnergyMeter> MakeEnergyMeter(const EnergyOptions& o) {
  const std::string root = PowercapRoot(o.powercap_root);
  const double watts = o.cpu_watts > 0 ? o.cpu_watts : DefaultCpuWatts(root);
  EstimateMeter estimate(watts, o.joules_per_byte);
  if (!o.use_rapl) return std::make_unique<EstimateMeter>(estimate);
  std::string error;
  std::optional<RaplReader> reader = RaplReader::Open(root, error);
  if (!reader) {
    if (o.log) o.log("energy: RAPL not readable (" + error + "); energy is estimated");
    return std::make_unique<EstimateMeter>(estimate);
  }
  return std::make_unique<RaplMeter>(std::move(*reader), estimate, o.log);
}

}  // namespace autan
