// Energy of the engine's forward steps: read from RAPL through Linux powercap
// where the kernel lets us (package and DRAM zones), estimated elsewhere from
// CPU time and bytes read. Each meter is used by one thread (the engine's or
// the embedder's); see docs/ENERGY.md for the formulas and their sources.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace autan {

enum class EnergySource { kRapl, kEstimate };
const char* EnergySourceName(EnergySource source);  // "rapl" | "estimate"

// Horowitz, "Computing's energy problem", ISSCC 2014: a 64-bit DRAM access
// costs 1.3-2.6 nJ at 45 nm; the low end, per byte.
inline constexpr double kDramJoulesPerByte = 1.3e-9 / 8.0;
// Used when --cpu-watts is not given and no package power limit is readable:
// a 150 W, 20-core server part (Xeon Gold 6248) is 7.5 W per core.
inline constexpr double kDefaultCpuWattsPerCore = 7.5;

// The estimate: CPU time (seconds summed over cores) x watts per core, plus
// bytes of weights and KV cache read x joules per byte.
double EstimateJoules(double cpu_seconds, double cpu_watts_per_core, double bytes_read,
                      double joules_per_byte);

// Joules between two readings of a counter that wraps at `max_range` (its
// max_energy_range_uj): after a wrap it restarted from 0.
double CounterDeltaJoules(uint64_t before_uj, uint64_t after_uj, uint64_t max_range_uj);

// The package and DRAM zones under a powercap directory (/sys/class/powercap).
class RaplReader {
 public:
  struct Zone {
    std::string name;  // "package-0", "dram", ...
    std::string energy_path;
    uint64_t max_range_uj = 0;
  };
  // Fails (why in `error`) when no zone is there or a counter is unreadable.
  static std::optional<RaplReader> Open(const std::string& root, std::string& error);
  // Every zone's counter in microjoules; none when one cannot be read.
  std::optional<std::vector<uint64_t>> Read(std::string& error) const;
  // Joules from `before` to `after` (both from Read), wrap-around included.
  double Joules(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) const;
  const std::vector<Zone>& zones() const { return zones_; }

 private:
  std::vector<Zone> zones_;
};

struct StepEnergy {
  double joules = 0.0;
  EnergySource source = EnergySource::kEstimate;
};

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual void Begin() = 0;  // before a step
  // After the step: its energy. `bytes_read` (weights and KV cache) feeds the
  // estimate; RAPL measures instead where it is readable.
  virtual StepEnergy End(double bytes_read) = 0;
};

struct EnergyOptions {
  // Where powercap lives: "" means $AUTAN_POWERCAP_ROOT, else /sys/class/powercap.
  std::string powercap_root;
  bool use_rapl = true;    // false: always estimate
  double cpu_watts = 0.0;  // per core; 0: the package power limit / cores, else the default
  double joules_per_byte = kDramJoulesPerByte;
  // Told once why RAPL is not used (or stopped being used); may be empty.
  std::function<void(const std::string&)> log;
};

// Resolves --cpu-watts 0: the package zone's long-term power limit (readable
// without privileges, close to the TDP) over the online cores, else the default.
double DefaultCpuWatts(const std::string& powercap_root);
std::string PowercapRoot(const std::string& configured);

// RAPL when readable, else the estimate (and stays on the estimate once a
// counter has failed).
std::unique_ptr<EnergyMeter> MakeEnergyMeter(const EnergyOptions& options);

// Carbon and money from joules: kWh x PUE x grid intensity or price.
struct EnergyPricing {
  // RTE, Bilan électrique 2023: 32 gCO2eq/kWh, the yearly average carbon
  // intensity of electricity produced in France.
  double grid_gco2_per_kwh = 32.0;
  double pue = 1.0;         // power usage effectiveness of the site
  double kwh_price = 0.25;  // per kWh
  std::string currency = "EUR";
  double Co2eGrams(double joules) const { return joules / 3.6e6 * pue * grid_gco2_per_kwh; }
  double Cost(double joules) const { return joules / 3.6e6 * pue * kwh_price; }
};

}  // namespace autan
