#include "nn/module.h"

#include <unordered_set>

namespace tfm {

Var& Module::add_parameter(const std::string& name, Tensor value) {
  owned_.emplace_back(std::move(value), true);
  params_.push_back({name, &owned_.back()});
  return owned_.back();
}

void Module::share_parameter(const std::string& name, Var& shared) { params_.push_back({name, &shared}); }

void Module::add_child(const std::string& name, Module& child) { children_.push_back({name, &child}); }

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Var*>>& out) const {
  auto join = [&](const std::string& n) { return prefix.empty() ? n : n.empty() ? prefix : prefix + "." + n; };
  for (const auto& [n, v] : params_) out.push_back({join(n), v});
  for (const auto& [n, c] : children_) c->collect(join(n), out);
}

std::vector<std::pair<std::string, Var*>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var*>> out;
  collect("", out);
  return out;
}

std::vector<Var*> Module::parameters() const {
  std::vector<Var*> out;
  std::unordered_set<const Node*> seen;
  for (auto& [n, v] : named_parameters())
    if (seen.insert(v->node().get()).second) out.push_back(v);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (Var* v : parameters()) n += v->value().numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, v] : named_parameters()) out[n] = v->value();
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& tensors, const std::string& source) {
  auto named = named_parameters();
  std::unordered_set<std::string> known;
  std::unordered_set<const Node*> loaded;
  for (auto& [name, v] : named) {
    known.insert(name);
    auto it = tensors.find(name);
    TFM_CHECK(it != tensors.end(), source, ": tensor '", name, "' is missing (the model's config needs it)");
    const Tensor& t = it->second;
    TFM_CHECK(t.shape() == v->value().shape(), source, ": tensor '", name, "' has shape ",
              shape_str(t.shape()), ", expected ", shape_str(v->value().shape()));
    TFM_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64 || t.dtype() == DType::BF16, source,
              ": tensor '", name, "' has dtype ", dtype_name(t.dtype()), ", expected F32, BF16 or F64");
    Tensor converted = t.dtype() == v->value().dtype() ? t : t.to(v->value().dtype());
    if (!loaded.insert(v->node().get()).second) {
      // A tied name: its values must equal those already loaded under the first name.
      Tensor a = converted.to(DType::F64), b = v->value().to(DType::F64);
      for (int64_t i = 0; i < a.numel(); ++i)
        TFM_CHECK(a.data<double>()[i] == b.data<double>()[i], source, ": tensor '", name,
                  "' is tied to another and must equal it, but differs at element ", i);
      continue;
    }
    v->value().copy_from(converted);
  }
  for (auto& [name, t] : tensors)
    TFM_CHECK(known.count(name), source, ": unknown tensor '", name,
              "' (not a parameter of a model with this config)");
}

}  // namespace tfm
