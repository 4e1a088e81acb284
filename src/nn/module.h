// Module: a layer that owns parameters, named as the reference's state_dict keys
// ("transformer.encoder.layers.0.self_attn.in_proj_weight", ...), so a weight is found by its
// scope name and a model written here loads in PyTorch and the other way round.
// Modules are neither copied nor moved: children register by address.
#pragma once
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/var.h"
#include "core/rng.h"

namespace tfm {

// What a forward pass needs besides its inputs: training or not (dropout) and the dropout
// stream. Each dropout site draws its own seed in call order, so a run is reproducible.
struct ForwardContext {
  bool training = false;
  Rng* rng = nullptr;
  uint64_t next_seed() { return rng ? rng->next_u64() : 0; }
  double p(double dropout) const { return training ? dropout : 0.0; }
};

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Every (name, parameter) pair, depth-first in registration order. A parameter shared by
  // several names (tied embeddings) appears under each of them.
  std::vector<std::pair<std::string, Var*>> named_parameters() const;
  // Each distinct parameter once (what an optimizer updates).
  std::vector<Var*> parameters() const;
  int64_t parameter_count() const;

  // name -> value (shared storage, not copies), every name including tied ones.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values into the parameters, converting F32/BF16/F64 to the model's dtype. Every
  // parameter must be present with its exact shape and no unknown name may appear; names that
  // share one parameter (tying) must hold equal values. `source` names the file in messages.
  void load_state_dict(const std::map<std::string, Tensor>& tensors, const std::string& source);

 protected:
  Var& add_parameter(const std::string& name, Tensor value);
  // Registers an existing parameter under another name (weight tying).
  void share_parameter(const std::string& name, Var& shared);
  // name "" merges the child's names into this scope (e.g. a feed-forward block whose
  // parameters PyTorch keeps directly on the layer: "linear1.weight").
  void add_child(const std::string& name, Module& child);

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Var*>>& out) const;
  std::vector<std::pair<std::string, Var*>> params_;
  std::deque<Var> owned_;  // storage for add_parameter: a deque never moves its elements
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace tfm
