#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <charconv>
#include <sstream>

#include "core/error.h"

namespace tfm {

Schedule Schedule::paper(int64_t d_model, int64_t warmup, double scale) {
  Schedule s;
  s.kind = ScheduleKind::Paper;
  s.d_model = d_model;
  s.warmup = warmup;
  s.scale = scale;
  s.validate();
  return s;
}

Schedule Schedule::constant(double lr) {
  Schedule s;
  s.kind = ScheduleKind::Constant;
  s.lr = lr;
  s.validate();
  return s;
}

Schedule Schedule::inverse_sqrt(double peak, int64_t warmup) {
  Schedule s;
  s.kind = ScheduleKind::InverseSqrt;
  s.lr = peak;
  s.warmup = warmup;
  s.validate();
  return s;
}

Schedule Schedule::linear(double peak, int64_t warmup, int64_t total) {
  Schedule s;
  s.kind = ScheduleKind::Linear;
  s.lr = peak;
  s.warmup = warmup;
  s.total = total;
  s.validate();
  return s;
}

void Schedule::validate() const {
  switch (kind) {
    case ScheduleKind::Paper:
      TFM_CHECK(scale > 0 && std::isfinite(scale), "schedule: scale must be positive, got ", scale);
      TFM_CHECK(d_model >= 0, "schedule: d_model must be positive (or 0 for the model's), got ", d_model);
      TFM_CHECK(warmup >= 1, "schedule: warmup must be at least 1 step, got ", warmup);
      break;
    case ScheduleKind::Constant:
      TFM_CHECK(lr >= 0 && std::isfinite(lr), "schedule: lr must be >= 0, got ", lr);
      break;
    case ScheduleKind::InverseSqrt:
      TFM_CHECK(lr > 0 && std::isfinite(lr), "schedule: the peak lr must be positive, got ", lr);
      TFM_CHECK(warmup >= 1, "schedule: warmup must be at least 1 step, got ", warmup);
      break;
    case ScheduleKind::Linear:
      TFM_CHECK(lr > 0 && std::isfinite(lr), "schedule: the peak lr must be positive, got ", lr);
      TFM_CHECK(warmup >= 1, "schedule: warmup must be at least 1 step, got ", warmup);
      TFM_CHECK(total > warmup, "schedule: the linear schedule needs a total number of steps (",
                total, ") greater than the warmup (", warmup, ")");
      break;
  }
}

Schedule Schedule::resolved(int64_t model_d_model) const {
  Schedule s = *this;
  if (s.kind == ScheduleKind::Paper && s.d_model == 0) s.d_model = model_d_model;
  return s;
}

double Schedule::rate(int64_t step) const {
  TFM_CHECK(step >= 1, "schedule: steps count from 1, got ", step);
  const double t = static_cast<double>(step), w = static_cast<double>(warmup);
  switch (kind) {
    case ScheduleKind::Paper:
      TFM_CHECK(d_model > 0, "schedule: the paper's schedule needs d_model (0 was not resolved)");
      // Section 5.3: lrate = d_model^-0.5 * min(step_num^-0.5, step_num * warmup_steps^-1.5).
      return scale * std::pow(static_cast<double>(d_model), -0.5) *
             std::min(std::pow(t, -0.5), t * std::pow(w, -1.5));
    case ScheduleKind::Constant:
      return lr;
    case ScheduleKind::InverseSqrt:
      return step < warmup ? lr * t / w : lr * std::sqrt(w / t);
    case ScheduleKind::Linear:
      if (step <= warmup) return lr * t / w;
      return lr * std::max(0.0, static_cast<double>(total - step) / static_cast<double>(total - warmup));
  }
  throw InternalError("schedule: unknown kind");
}

namespace {
// The shortest text that reads back as the same double.
std::string num(double x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string Schedule::describe() const {
  std::ostringstream s;
  switch (kind) {
    case ScheduleKind::Paper:
      s << "paper(scale=" << num(scale) << ", d_model=" << d_model << ", warmup=" << warmup << ")";
      break;
    case ScheduleKind::Constant:
      s << "constant(lr=" << num(lr) << ")";
      break;
    case ScheduleKind::InverseSqrt:
      s << "inverse_sqrt(peak=" << num(lr) << ", warmup=" << warmup << ")";
      break;
    case ScheduleKind::Linear:
      s << "linear(peak=" << num(lr) << ", warmup=" << warmup << ", total=" << total << ")";
      break;
  }
  return s.str();
}

}  // namespace tfm
