#include "train/optimizer.h"

#include <cmath>
#include <unordered_set>

namespace tfm {

namespace {

const char* const kM = "adam.m.";
const char* const kV = "adam.v.";
const char* const kStep = "adam.step.";

// Elements below which a loop runs on one thread (a parallel region costs a few microseconds).
constexpr int64_t kParallelMin = 1 << 14;

// One parameter's update, in the operation order of torch.optim.Adam 1.13 (_single_tensor_adam)
// and its CPU kernels, so the float32 rounding agrees with PyTorch's:
//   exp_avg.mul_(b1).add_(g, alpha=1-b1)        add's vector kernel is fmadd(g, alpha, m)
//   exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)    v + ((1-b2) g) g
//   denom = exp_avg_sq.sqrt() / bc2_sqrt + eps
//   param.addcdiv_(exp_avg, denom, -step_size)  p + (-step_size m) / denom
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, int64_t n, const AdamOptions& o, double lr, int64_t t) {
  const T b1 = static_cast<T>(o.beta1), one_minus_b1 = static_cast<T>(1.0 - o.beta1);
  const T b2 = static_cast<T>(o.beta2), one_minus_b2 = static_cast<T>(1.0 - o.beta2);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
  const double bias_correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
  const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T neg_step_size = static_cast<T>(-(lr / bias_correction1));
  const T eps = static_cast<T>(o.eps);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = std::fma(gi, one_minus_b1, m[i] * b1);
    const T vi = v[i] * b2 + one_minus_b2 * gi * gi;
    const T denom = std::sqrt(vi) / bc2_sqrt + eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + neg_step_size * mi / denom;
  }
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F64; }

}  // namespace

void AdamOptions::validate() const {
  TFM_CHECK(beta1 >= 0 && beta1 < 1, "Adam: beta1 must be in [0, 1), got ", beta1);
  TFM_CHECK(beta2 >= 0 && beta2 < 1, "Adam: beta2 must be in [0, 1), got ", beta2);
  TFM_CHECK(eps > 0, "Adam: eps must be positive, got ", eps);
}

Adam::Adam(const std::vector<std::pair<std::string, Var*>>& named_parameters, AdamOptions options)
    : options_(options) {
  options_.validate();
  std::unordered_set<const Node*> seen;
  for (const auto& [name, var] : named_parameters) {
    TFM_ASSERT(var && var->defined(), "Adam: parameter '", name, "' is undefined");
    if (!seen.insert(var->node().get()).second) continue;  // a tied name: one state
    TFM_CHECK(is_float(var->dtype()), "Adam: parameter '", name, "' has dtype ",
              dtype_name(var->dtype()), ", expected F32 or F64");
    params_.push_back({name, var});
    m_.push_back(Tensor::zeros(var->shape(), var->dtype()));
    v_.push_back(Tensor::zeros(var->shape(), var->dtype()));
    steps_.push_back(0);
  }
}

Adam::Adam(const Module& model, AdamOptions options) : Adam(model.named_parameters(), options) {}

void Adam::zero_grad() {
  for (auto& [name, var] : params_) var->zero_grad();
}

void Adam::step(double lr) {
  TFM_CHECK(std::isfinite(lr) && lr >= 0, "Adam: the learning rate must be finite and >= 0, got ", lr);
  for (size_t i = 0; i < params_.size(); ++i) {
    Var& p = *params_[i].second;
    if (!p.grad().defined()) continue;
    TFM_ASSERT(p.grad().numel() == p.value().numel() && p.grad().dtype() == p.dtype(),
               "Adam: the gradient of '", params_[i].first, "' does not match its parameter");
    const int64_t t = ++steps_[i];
    dispatch_float(p.dtype(), [&]<class T>() {
      adam_update<T>(p.value().data<T>(), p.grad().data<T>(), m_[i].data<T>(), v_[i].data<T>(),
                     p.value().numel(), options_, lr, t);
    });
  }
}

std::map<std::string, Tensor> Adam::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    out[kM + name] = m_[i].clone();
    out[kV + name] = v_[i].clone();
    out[kStep + name] = Tensor::full({1}, static_cast<double>(steps_[i]), DType::F64);
  }
  return out;
}

void Adam::load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source) {
  // Check everything before changing anything: a refused state leaves the optimizer as it was.
  std::unordered_set<std::string> known;
  std::vector<int64_t> steps(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    const Tensor& value = params_[i].second->value();
    for (const char* prefix : {kM, kV}) {
      const std::string key = prefix + name;
      known.insert(key);
      auto it = state.find(key);
      TFM_CHECK(it != state.end(), source, ": optimizer state '", key,
                "' is missing (the checkpoint was written for a different model)");
      TFM_CHECK(it->second.shape() == value.shape() && it->second.dtype() == value.dtype(), source,
                ": optimizer state '", key, "' is ", dtype_name(it->second.dtype()), " ",
                shape_str(it->second.shape()), ", expected ", dtype_name(value.dtype()), " ",
                shape_str(value.shape()), " as the parameter");
    }
    const std::string key = kStep + name;
    known.insert(key);
    auto it = state.find(key);
    TFM_CHECK(it != state.end(), source, ": optimizer state '", key, "' is missing");
    TFM_CHECK(it->second.numel() == 1 && is_float(it->second.dtype()), source, ": optimizer state '",
              key, "' must hold one F64 value, got ", dtype_name(it->second.dtype()), " ",
              shape_str(it->second.shape()));
    const double s = it->second.item();
    TFM_CHECK(s >= 0 && s == std::floor(s) && s < 9.0e15, source, ": optimizer state '", key,
              "' must be a step count (a whole number >= 0), got ", s);
    steps[i] = static_cast<int64_t>(s);
  }
  for (const auto& [key, t] : state)
    TFM_CHECK(known.count(key), source, ": unknown optimizer state '", key,
              "' (not a parameter of this model)");
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i].copy_from(state.at(kM + params_[i].first));
    v_[i].copy_from(state.at(kV + params_[i].first));
    steps_[i] = steps[i];
  }
}

double grad_norm(const std::vector<Var*>& params) {
  // Fixed chunks, each summed on one thread, then the partial sums in order: the same result
  // for any number of threads.
  constexpr int64_t kChunk = 1 << 13;
  struct Piece {
    const Tensor* grad;
    int64_t begin, end;
  };
  std::vector<Piece> pieces;
  for (const Var* p : params) {
    if (!p->grad().defined()) continue;
    const int64_t n = p->grad().numel();
    for (int64_t b = 0; b < n; b += kChunk) pieces.push_back({&p->grad(), b, std::min(n, b + kChunk)});
  }
  std::vector<double> partial(pieces.size(), 0.0);
  const int64_t count = static_cast<int64_t>(pieces.size());
#pragma omp parallel for schedule(static) if (count > 4)
  for (int64_t k = 0; k < count; ++k) {
    const Piece& piece = pieces[k];
    double s = 0;
    dispatch_float(piece.grad->dtype(), [&]<class T>() {
      const T* g = piece.grad->data<T>();
      for (int64_t i = piece.begin; i < piece.end; ++i) s += static_cast<double>(g[i]) * g[i];
    });
    partial[k] = s;
  }
  double total = 0;
  for (double s : partial) total += s;
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<Var*>& params, double max_norm) {
  TFM_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  const double norm = grad_norm(params);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    for (Var* p : params) {
      if (!p->grad().defined()) continue;
      Tensor& g = p->grad_buffer();
      dispatch_float(g.dtype(), [&]<class T>() {
        T* d = g.data<T>();
        const T c = static_cast<T>(coef);
        const int64_t n = g.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
        for (int64_t i = 0; i < n; ++i) d[i] *= c;
      });
    }
  }
  return norm;
}

}  // namespace tfm
