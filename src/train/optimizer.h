// Adam (Kingma and Ba, 2015) as the paper trains with it (section 5.3: beta1 = 0.9,
// beta2 = 0.98, epsilon = 1e-9), computed exactly as torch.optim.Adam 1.13 (the single-tensor
// path, no weight decay, no amsgrad), so a step here matches a step of the PyTorch reference:
//
//   m = b1 m + (1 - b1) g                 v = b2 v + (1 - b2) g^2
//   denom = sqrt(v) / sqrt(1 - b2^t) + eps
//   p -= (lr / (1 - b1^t)) * m / denom
//
// The bias corrections are computed in double and used as float32 scalars, as PyTorch does;
// everything else runs in the parameter's own dtype. Gradient clipping by the global norm is
// torch.nn.utils.clip_grad_norm_.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/var.h"
#include "nn/module.h"

namespace tfm {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-9;
  // Throws tfm::Error naming the field when a value is out of range.
  void validate() const;
};

class Adam {
 public:
  // Each distinct parameter once, under the first of its names (a tied matrix has one state).
  // The parameters must outlive the optimizer.
  Adam(const std::vector<std::pair<std::string, Var*>>& named_parameters, AdamOptions options = {});
  explicit Adam(const Module& model, AdamOptions options = {});

  // Drops every gradient (the next backward starts from zero).
  void zero_grad();
  // One update with learning rate lr. A parameter without a gradient is skipped and its step
  // count stays, as in PyTorch.
  void step(double lr);

  const AdamOptions& options() const { return options_; }
  // The distinct parameters, in the order of the model's registration.
  const std::vector<std::pair<std::string, Var*>>& parameters() const { return params_; }
  // Updates made to parameter i so far (the t of the bias corrections).
  int64_t step_count(size_t i) const { return steps_[i]; }

  // Checkpoint state (saved as optimizer.safetensors, see train/checkpoint.h):
  // "adam.m.<name>", "adam.v.<name>" (the parameter's shape and dtype) and "adam.step.<name>"
  // (F64, shape {1}) for every parameter. The moments are copies.
  std::map<std::string, Tensor> state_dict() const;
  // Refuses a state that does not fit these parameters (a name missing or unknown, a shape or
  // dtype that differs) with a tfm::Error naming `source` and the tensor.
  void load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source);

 private:
  std::vector<std::pair<std::string, Var*>> params_;
  std::vector<Tensor> m_, v_;
  std::vector<int64_t> steps_;
  AdamOptions options_;
};

// The global L2 norm of the gradients of params (those without a gradient count as zero),
// accumulated in double in a fixed order (the result does not depend on the thread count).
double grad_norm(const std::vector<Var*>& params);

// torch.nn.utils.clip_grad_norm_: scales every gradient by max_norm / (norm + 1e-6) when that
// is below 1. Returns the norm before clipping. max_norm must be positive.
double clip_grad_norm(const std::vector<Var*>& params, double max_norm);

}  // namespace tfm
