// synod._sim: the simulator's Scenario (sim/scenario.h) for Python. The
// public API is the pure-Python synod.sim.Cluster over it; this layer only
// converts types, releases the GIL while virtual time runs, and refuses a
// call from a thread other than the one that made the scenario (the fiber
// scheduler lives in that thread) or made while the scenario is running.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <thread>

#include "core/assert.h"
#include "sim/scenario.h"

namespace py = pybind11;
using namespace synod;
using namespace synod::sim;

namespace {

// Scenarios let go on a thread other than their own, waiting to be destroyed
// on theirs (collect_orphans). Touched with the GIL held only.
std::vector<std::pair<std::thread::id, std::unique_ptr<Scenario>>>& orphans() {
  static auto* list = new std::vector<std::pair<std::thread::id, std::unique_ptr<Scenario>>>();
  return *list;
}

class PyScenario {
 public:
  explicit PyScenario(ScenarioOptions options)
      : scenario_(std::make_unique<Scenario>(std::move(options))), thread_(std::this_thread::get_id()) {}

  // The fibers of a simulated cluster belong to the thread that made it, and
  // cannot be unwound from another: a scenario let go on another thread (the
  // last reference dropped there) waits to be destroyed on its own.
  ~PyScenario() {
    if (std::this_thread::get_id() != thread_) orphans().emplace_back(thread_, std::move(scenario_));
  }

  // The scenario, for one call made with the GIL held.
  Scenario& use() {
    if (std::this_thread::get_id() != thread_) {
      throw std::runtime_error("a simulated cluster is driven (and closed) from the thread that made it");
    }
    if (running_) throw std::runtime_error("the simulated cluster is running (run_for) in another call");
    SYNOD_ASSERT(scenario_ != nullptr);
    return *scenario_;
  }

  // Runs virtual time with the GIL released: other Python threads go on,
  // and any call they make on this scenario is refused until it returns.
  void run_for(TimeMs duration_ms) {
    Scenario& s = use();
    running_ = true;
    try {
      py::gil_scoped_release release;
      s.run_for(duration_ms);
    } catch (...) {
      running_ = false;
      throw;
    }
    running_ = false;
  }

 private:
  std::unique_ptr<Scenario> scenario_;
  std::thread::id thread_;
  bool running_ = false;
};

std::vector<std::vector<NodeId>> node_groups(const std::vector<std::vector<std::uint32_t>>& groups) {
  std::vector<std::vector<NodeId>> out;
  for (const auto& group : groups) {
    out.emplace_back();
    for (std::uint32_t n : group) out.back().push_back(NodeId(n));
  }
  return out;
}

py::dict status(const Cluster& c, std::uint32_t i) {
  const NodeId id(i);
  py::dict d;
  d["node"] = i;
  d["validator"] = c.validator_of(id).value;
  d["honest"] = c.honest(id);
  d["state"] = std::string(to_string(c.state(id)));
  d["committed_height"] = c.committed_height(id).value;
  const Replica* r = c.replica(id);
  d["round"] = r ? py::cast(r->round().value) : py::none();
  d["high_qc_round"] = r ? py::cast(r->high_qc().round.value) : py::none();
  d["leader"] = r ? py::cast(r->leader(r->round()).value) : py::none();
  d["catching_up"] = r ? py::cast(r->catching_up()) : py::none();
  return d;
}

}  // namespace

PYBIND11_MODULE(_sim, m) {
  m.doc() = "The synod simulator's scenarios; use synod.sim.Cluster, not this module.";
  // Raised as synod.errors.ScenarioError, the class both backends share.
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const ScenarioError& e) {
      const py::object error = py::module_::import("synod.errors").attr("ScenarioError");
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  py::class_<PyScenario>(m, "Scenario")
      .def(py::init([](std::vector<std::uint64_t> weights, std::uint64_t seed, TimeMs latency_ms_min,
                       TimeMs latency_ms_max, double loss, std::size_t accounts) {
             ScenarioOptions o;
             o.weights = std::move(weights);
             o.seed = seed;
             o.links.latency_ms_min = latency_ms_min;
             o.links.latency_ms_max = latency_ms_max;
             o.links.loss = loss;
             o.accounts = accounts;
             return std::make_unique<PyScenario>(std::move(o));
           }),
           py::arg("weights"), py::arg("seed"), py::arg("latency_ms_min"), py::arg("latency_ms_max"),
           py::arg("loss"), py::arg("accounts"))
      .def("partition", [](PyScenario& s, const std::vector<std::vector<std::uint32_t>>& groups) {
        s.use().partition(node_groups(groups));
      })
      .def("heal", [](PyScenario& s) { s.use().heal(); })
      .def("isolate", [](PyScenario& s, std::uint32_t i) { s.use().isolate(NodeId(i)); })
      .def("crash", [](PyScenario& s, std::uint32_t i) { s.use().crash(NodeId(i)); })
      .def("crash_before", [](PyScenario& s, std::uint32_t i, const std::string& step) {
        s.use().crash_before(NodeId(i), step);
      })
      .def("restart", [](PyScenario& s, std::uint32_t i) { s.use().restart(NodeId(i)); })
      .def("pause", [](PyScenario& s, std::uint32_t i) { s.use().pause(NodeId(i)); })
      .def("resume", [](PyScenario& s, std::uint32_t i) { s.use().resume(NodeId(i)); })
      .def("compromise", [](PyScenario& s, std::uint32_t v) { return s.use().compromise(NodeId(v)).value; })
      .def("equivocate", [](PyScenario& s, std::uint32_t v) { s.use().equivocate(NodeId(v)); })
      .def("backup", [](PyScenario& s, std::uint32_t i) { return s.use().backup(NodeId(i)); })
      .def("restore", [](PyScenario& s, std::uint32_t i, std::size_t b) { s.use().restore(NodeId(i), b); })
      .def("upgrade", [](PyScenario& s, std::uint32_t i) { s.use().upgrade(NodeId(i)); })
      .def("version", [](PyScenario& s, std::uint32_t i) {
        const Cluster& c = s.use().cluster();
        if (i >= c.size()) throw ScenarioError("no node " + std::to_string(i));
        return c.version(NodeId(i));
      })
      .def("refused_version", [](PyScenario& s) { return s.use().cluster().refused_version(); })
      .def("set_latency", [](PyScenario& s, TimeMs lo, TimeMs hi) { s.use().set_latency(lo, hi); })
      .def("set_loss", [](PyScenario& s, double p) { s.use().set_loss(p); })
      .def("skew_clock", [](PyScenario& s, std::uint32_t i, std::int64_t ms) { s.use().skew_clock(NodeId(i), ms); })
      .def("load", [](PyScenario& s, std::uint32_t rate) { s.use().load(rate); })
      .def("submit",
           [](PyScenario& s, std::uint32_t via, std::size_t from, std::size_t to, std::uint64_t amount) {
             const SubmitResult r = s.use().submit(NodeId(via), from, to, amount);
             return py::make_tuple(r.accepted, r.error);
           })
      .def("run_for", &PyScenario::run_for, py::arg("duration_ms"))
      .def("check_thread", [](PyScenario& s) { s.use(); })
      .def("now_ms", [](PyScenario& s) { return s.use().now(); })
      .def("size", [](PyScenario& s) { return s.use().cluster().size(); })
      .def("validators", [](PyScenario& s) { return s.use().cluster().validators(); })
      .def("total_weight", [](PyScenario& s) { return s.use().cluster().total_weight(); })
      .def("compromised_weight", [](PyScenario& s) { return s.use().cluster().compromised_weight(); })
      .def("heights",
           [](PyScenario& s) {
             const Cluster& c = s.use().cluster();
             std::vector<std::uint64_t> heights;
             for (std::uint32_t i = 0; i < c.validators(); ++i) heights.push_back(c.committed_height(NodeId(i)).value);
             return heights;
           })
      .def("agreed_height", [](PyScenario& s) { return s.use().cluster().checker().canonical_height().value; })
      .def("committed_txs", [](PyScenario& s) { return s.use().cluster().checker().committed_txs(); })
      .def("status",
           [](PyScenario& s, std::uint32_t i) {
             const Cluster& c = s.use().cluster();
             if (i >= c.size()) {
               throw ScenarioError("no node " + std::to_string(i) + ": the cluster has nodes 0 to " +
                                   std::to_string(c.size() - 1));
             }
             return status(c, i);
           })
      .def("violations", [](PyScenario& s) { return s.use().cluster().violations(); })
      .def("trace_hash", [](PyScenario& s) { return s.use().cluster().trace_hash(); })
      .def("recording", [](PyScenario& s) { return s.use().recording(); })
      .def("report", [](PyScenario& s, const std::string& command) { return s.use().report(command); });

  m.def(
      "collect_orphans",
      [] {
        auto& list = orphans();
        std::erase_if(list, [](const auto& orphan) { return orphan.first == std::this_thread::get_id(); });
      },
      "Destroys the scenarios of this thread that were let go on another.");

  m.def(
      "replay",
      [](const std::string& recording) {
        const auto r = replay_scenario(recording);
        if (!r) throw ScenarioError(r.error());
        py::dict d;
        d["trace_hash"] = r->trace_hash;
        d["recorded_hash"] = r->recorded_hash;
        d["virtual_ms"] = r->virtual_ms;
        d["agreed_height"] = r->height.value;
        d["violations"] = r->violations;
        return d;
      },
      py::arg("recording"), "Replays a recording; the trace hash it made and the one recorded.");
}
