// Learning-rate schedules, as a function of the update number (counted from 1).
//
// The paper's (section 5.3, "Optimizer"):
//   lrate = scale * d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)
// which rises linearly for the first warmup_steps updates and then decays with the inverse
// square root of the step; it peaks at step = warmup_steps with scale * (d_model * warmup)^-0.5.
// The paper uses scale 1 and warmup_steps 4000.
//
// Also: a constant rate (tests, fine-tuning), and the inverse square root with a chosen peak
// (fairseq's inverse_sqrt): peak * step / warmup up to the warmup, peak * sqrt(warmup / step) after.
// And for a fixed budget of updates, the linear one: peak * step / warmup up to the warmup, then a
// straight line down to 0 at update `total`, which spends the whole budget annealing (on a run of a
// known length it beats the inverse square root at equal steps: see the G2P recipe in the README).
#pragma once
#include <cstdint>
#include <string>

namespace tfm {

enum class ScheduleKind { Paper, Constant, InverseSqrt, Linear };

struct Schedule {
  ScheduleKind kind = ScheduleKind::Paper;
  double scale = 1.0;    // Paper: the factor in front
  int64_t d_model = 0;   // Paper: 0 takes the model's d_model (see resolved())
  int64_t warmup = 4000; // Paper, InverseSqrt, Linear: warmup_steps
  double lr = 1e-3;      // Constant: the rate; InverseSqrt, Linear: the peak
  int64_t total = 0;     // Linear: the update at which the rate reaches 0 (> warmup)

  static Schedule paper(int64_t d_model, int64_t warmup = 4000, double scale = 1.0);
  static Schedule constant(double lr);
  static Schedule inverse_sqrt(double peak, int64_t warmup);
  static Schedule linear(double peak, int64_t warmup, int64_t total);

  // The learning rate of update number `step` (>= 1).
  double rate(int64_t step) const;
  // This schedule with d_model filled in (for Paper when d_model is 0).
  Schedule resolved(int64_t model_d_model) const;
  // Throws tfm::Error naming the field when a value is out of range (d_model 0 is allowed).
  void validate() const;
  // One line for logs and checkpoints, e.g. "paper(scale=1, d_model=512, warmup=4000)".
  std::string describe() const;
};

}  // namespace tfm
