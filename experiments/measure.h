// What the claim programs of experiments/ share: wall-clock timing (median of repeats), the
// process's peak resident memory, random parameters for a module, and command-line numbers.
//
// Memory is measured as resident pages, not as allocator counters: VmRSS before the measured
// forward (inputs and parameters already written) and VmHWM (the kernel's high-water mark)
// after it. The difference is the peak of what the forward pass itself touched. Each point
// runs in its own process, so nothing of another point's is in its heap.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <malloc.h>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace tfm::experiments {

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"); the kernel reports kB.
inline int64_t proc_status_bytes(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0)
      return std::stoll(line.substr(field.size() + 1)) * 1024;
  throw std::runtime_error("/proc/self/status has no " + field);
}

// Times are CPU time of the process (user + system, CLOCK_PROCESS_CPUTIME_ID), with wall-clock
// time beside. The programs run one thread, so CPU time is the work of the call, page faults
// included, but not the time the scheduler gave a shared core to other processes; on a busy
// machine it is the steadier number (cache and memory-bus contention remain in both).
struct Timing {
  double median_s = 0, min_s = 0;  // CPU time
  double wall_median_s = 0;
  int reps = 0;
};

inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline double median_of(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  const size_t m = t.size();
  return m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
}

// Repeats f until `reps_min` runs and about `budget_s` seconds are spent (at most reps_max):
// the median is the number reported, the minimum beside it shows the noise.
inline Timing time_median(const std::function<void()>& f, int reps_min, int reps_max, double budget_s) {
  std::vector<double> cpu, wall;
  double spent = 0;
  while (static_cast<int>(cpu.size()) < reps_max &&
         (static_cast<int>(cpu.size()) < reps_min || spent < budget_s)) {
    const double c0 = cpu_seconds();
    const auto w0 = std::chrono::steady_clock::now();
    f();
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    cpu.push_back(cpu_seconds() - c0);
    spent += wall.back();
  }
  return {median_of(cpu), *std::min_element(cpu.begin(), cpu.end()), median_of(wall),
          static_cast<int>(cpu.size())};
}

// Peak extra resident memory of one call: VmHWM after it minus VmRSS before it. Before the
// call, malloc_trim gives the free pages inside the heap back to the kernel (core/tensor.cpp
// keeps freed blocks on the heap, whose resident pages a later allocation would reuse without
// raising the RSS), and writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0),
// so an earlier peak of the set-up cannot hide the call's.
inline int64_t peak_extra_bytes(const std::function<void()>& f) {
  malloc_trim(0);
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
  }
  const int64_t before = proc_status_bytes("VmRSS");
  if (proc_status_bytes("VmHWM") > before + (1 << 20))
    throw std::runtime_error("could not reset VmHWM through /proc/self/clear_refs");
  f();
  return proc_status_bytes("VmHWM") - before;
}

// Every parameter of a module normal(0, scale) (layers start at zero; a model initialises them).
inline void randomize(const Module& m, Rng& rng, double scale) {
  for (Var* p : m.parameters()) {
    Tensor& t = p->value();
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(scale * rng.normal());
  }
}

inline Tensor random_tensor(Shape shape, Rng& rng, double scale = 1.0, DType dt = DType::F32) {
  Tensor t = Tensor::empty(std::move(shape), dt);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dt == DType::F32) t.data<float>()[i] = static_cast<float>(scale * rng.normal());
    else t.data<double>()[i] = scale * rng.normal();
  }
  return t;
}

// "--name value" from argv, or the default.
inline int64_t arg_int(int argc, char** argv, const std::string& name, int64_t dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::stoll(argv[i + 1]);
  return dflt;
}
inline std::string arg_str(int argc, char** argv, const std::string& name, const std::string& dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return dflt;
}

}  // namespace tfm::experiments
