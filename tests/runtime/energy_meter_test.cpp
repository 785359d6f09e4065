#include "runtime/energy_meter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace autan {
namespace {

namespace fs = std::filesystem;

// A powercap tree like /sys/class/powercap, in a directory of its own.
class FakePowercap {
 public:
  FakePowercap() {
    std::string templ = (fs::temp_directory_path() / "autan-powercap-XXXXXX").string();
    root_ = mkdtemp(templ.data());
  }
  ~FakePowercap() { fs::remove_all(root_); }
  void Zone(const std::string& dir, const std::string& name, uint64_t energy, uint64_t max) {
    fs::create_directories(root_ / dir);
    Write(dir + "/name", name);
    Write(dir + "/max_energy_range_uj", std::to_string(max));
    Set(dir, energy);
  }
  void Set(const std::string& dir, uint64_t energy) {
    Write(dir + "/energy_uj", std::to_string(energy));
  }
  void Write(const std::string& file, const std::string& text) {
    std::ofstream(root_ / file) << text << "\n";
  }
  std::string root() const { return root_.string(); }
  fs::path path(const std::string& file) const { return root_ / file; }

 private:
  fs::path root_;
};

TEST(EnergyEstimate, CpuTimeTimesWattsPlusBytesTimesJoulesPerByte) {
  // 2 core-seconds at 7.5 W = 15 J; 1 GB at 162.5 pJ/B = 0.1625 J.
  EXPECT_DOUBLE_EQ(EstimateJoules(2.0, 7.5, 1e9, 162.5e-12), 15.1625);
  EXPECT_DOUBLE_EQ(EstimateJoules(0.0, 7.5, 0.0, 1e-9), 0.0);
  EXPECT_DOUBLE_EQ(kDramJoulesPerByte, 162.5e-12);
}

TEST(EnergyCounter, WrapsAtTheMaximumRange) {
  EXPECT_DOUBLE_EQ(CounterDeltaJoules(1'000'000, 3'500'000, 10'000'000), 2.5);
  // 9.5 J before the wrap at 10 J, 0.5 J after it.
  EXPECT_DOUBLE_EQ(CounterDeltaJoules(9'500'000, 500'000, 10'000'000), 1.0);
}

TEST(RaplReader, SumsPackageAndDramZonesAndSkipsOthers) {
  FakePowercap p;
  p.Zone("intel-rapl:0", "package-0", 1'000'000, 100'000'000);
  p.Zone("intel-rapl:0:0", "core", 5, 100'000'000);
  p.Zone("intel-rapl:0:1", "dram", 2'000'000, 50'000'000);
  p.Zone("intel-rapl-mmio:0", "package-0", 7, 100'000'000);
  std::string error;
  std::optional<RaplReader> r = RaplReader::Open(p.root(), error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->zones().size(), 2u);
  EXPECT_EQ(r->zones()[0].name, "package-0");
  EXPECT_EQ(r->zones()[1].name, "dram");
  auto before = r->Read(error);
  ASSERT_TRUE(before) << error;
  p.Set("intel-rapl:0", 4'000'000);     // +3 J
  p.Set("intel-rapl:0:1", 1'000'000);   // wrapped: +48 J then +1 J
  p.Set("intel-rapl:0:0", 90'000'000);  // core: not counted
  auto after = r->Read(error);
  ASSERT_TRUE(after) << error;
  EXPECT_DOUBLE_EQ(r->Joules(*before, *after), 3.0 + 49.0);
}

TEST(RaplReader, FailsWithoutZonesOrWithMalformedFiles) {
  std::string error;
  EXPECT_FALSE(RaplReader::Open("/nonexistent/powercap", error));
  EXPECT_NE(error.find("/nonexistent/powercap"), std::string::npos);
  FakePowercap p;
  p.Zone("intel-rapl:0", "package-0", 1, 100);
  p.Write("intel-rapl:0/energy_uj", "n/a");
  EXPECT_FALSE(RaplReader::Open(p.root(), error));
  EXPECT_NE(error.find("energy_uj"), std::string::npos) << error;
  EXPECT_NE(error.find("not a counter"), std::string::npos) << error;
}

TEST(EnergyMeter, MeasuresWithRaplWhenReadable) {
  FakePowercap p;
  p.Zone("intel-rapl:0", "package-0", 0, 1'000'000'000);
  std::vector<std::string> logs;
  auto meter = MakeEnergyMeter({.powercap_root = p.root(),
                                .cpu_watts = 10,
                                .log = [&](const std::string& m) { logs.push_back(m); }});
  meter->Begin();
  p.Set("intel-rapl:0", 1'250'000);
  StepEnergy e = meter->End(1e12);  // bytes only count in the estimate
  EXPECT_EQ(e.source, EnergySource::kRapl);
  EXPECT_DOUBLE_EQ(e.joules, 1.25);
  EXPECT_TRUE(logs.empty());
}

TEST(EnergyMeter, FallsBackToTheEstimateAndSaysSoOnce) {
  FakePowercap p;
  p.Zone("intel-rapl:0", "package-0", 0, 1'000'000'000);
  std::vector<std::string> logs;
  auto meter = MakeEnergyMeter({.powercap_root = p.root(),
                                .cpu_watts = 10,
                                .joules_per_byte = 1e-9,
                                .log = [&](const std::string& m) { logs.push_back(m); }});
  fs::remove(p.path("intel-rapl:0/energy_uj"));  // permission lost, module unloaded...
  for (int i = 0; i < 3; ++i) {
    meter->Begin();
    StepEnergy e = meter->End(2e9);
    EXPECT_EQ(e.source, EnergySource::kEstimate);
    EXPECT_GE(e.joules, 2.0);  // the bytes' share, plus whatever CPU time passed
  }
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("energy_uj"), std::string::npos) << logs[0];
  p.Set("intel-rapl:0", 5);  // readable again: the meter stays on the estimate
  meter->Begin();
  EXPECT_EQ(meter->End(0).source, EnergySource::kEstimate);
}

TEST(EnergyMeter, EstimatesWithoutPowercapAndLogsWhy) {
  std::vector<std::string> logs;
  auto meter = MakeEnergyMeter({.powercap_root = "/nonexistent/powercap",
                                .cpu_watts = 10,
                                .joules_per_byte = 1e-9,
                                .log = [&](const std::string& m) { logs.push_back(m); }});
  ASSERT_EQ(logs.size(), 1u);
  meter->Begin();
  // Burn some CPU so the CPU-time term is visible.
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + 1e-9 * i;
  StepEnergy e = meter->End(0);
  EXPECT_EQ(e.source, EnergySource::kEstimate);
  EXPECT_GT(e.joules, 0.0);
  EXPECT_LT(e.joules, 10.0 * 60);  // under a minute of one core
}

TEST(EnergyMeter, CpuWattsDefaultsToThePackageLimitPerCore) {
  FakePowercap p;
  p.Zone("intel-rapl:0", "package-0", 0, 1000);
  EXPECT_DOUBLE_EQ(DefaultCpuWatts(p.root()), kDefaultCpuWattsPerCore);
  p.Write("intel-rapl:0/constraint_0_power_limit_uw", "64000000");
  EXPECT_DOUBLE_EQ(DefaultCpuWatts(p.root()), 64.0 / sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(EnergyPricing, KilowattHoursTimesPueTimesIntensityOrPrice) {
  EnergyPricing p{.grid_gco2_per_kwh = 50, .pue = 1.5, .kwh_price = 0.2};
  EXPECT_DOUBLE_EQ(p.Co2eGrams(3.6e6), 75.0);
  EXPECT_DOUBLE_EQ(p.Cost(7.2e6), 0.6);
}

}  // namespace
}  // namespace autan
