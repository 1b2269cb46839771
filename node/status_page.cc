#include "node/status_page.h"

namespace synod::node {

std::string_view status_page_html() {
  static constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>synod node</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  table { border-collapse: collapse; margin-top: 1em; }
  th, td { padding: .25em .8em; border-bottom: 1px solid #ddd; text-align: left; }
  th { background: #f3f3f3; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .ok { color: #176b2c; } .bad { color: #a4161a; font-weight: bold; }
  code { font-size: .9em; }
  #error { color: #a4161a; }
</style>
</head>
<body>
<h1>synod node <span id="node"></span></h1>
<div id="summary">loading /status …</div>
<div id="error"></div>
<table id="validators">
  <thead><tr><th>validator</th><th>address</th><th>weight</th><th>reachable</th><th>height</th><th>last seen</th><th>round trip</th></tr></thead>
  <tbody></tbody>
</table>
<script>
"use strict";
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function show(s) {
  document.getElementById("node").textContent = "n" + s.node;
  const state = s.catching_up ? "catching up" : "in consensus";
  document.getElementById("summary").innerHTML = "";
  const lines = [
    ["chain", s.chain_id.slice(0, 16) + "…"], ["height", s.height], ["round", s.round],
    ["state", state], ["may sign", s.may_sign ? "yes" : "no (AmnesiaRule)"],
    ["peers connected", s.peers_connected + " of " + (s.validators.length - 1)],
    ["failures absorbable", s.failures_absorbable], ["mempool", s.mempool_txs + " txs"],
    ["version", s.version + " (" + s.git_hash + ")"], ["launched", s.launched],
  ];
  for (const [k, v] of lines) {
    const div = document.createElement("div");
    div.textContent = k + ": " + v;
    div.dataset.field = k;
    document.getElementById("summary").appendChild(div);
  }
  const body = document.querySelector("#validators tbody");
  body.innerHTML = "";
  for (const v of s.validators) {
    const row = document.createElement("tr");
    row.dataset.node = v.node;
    cell(row, "n" + v.node + (v.self ? " (this node)" : ""));
    cell(row, v.address);
    cell(row, v.weight, "num");
    cell(row, v.connected ? "yes" : "no", v.connected ? "ok" : "bad").dataset.field = "reachable";
    cell(row, v.height, "num").dataset.field = "height";
    cell(row, v.self ? "" : (v.last_seen_ms_ago === null ? "never" : (v.last_seen_ms_ago / 1000).toFixed(1) + " s ago"), "num");
    cell(row, v.self || v.rtt_ms === null ? "" : v.rtt_ms.toFixed(2) + " ms", "num");
    body.appendChild(row);
  }
  document.getElementById("error").textContent = "";
}
async function refresh() {
  try {
    const r = await fetch("/status", {cache: "no-store"});
    show(await r.json());
  } catch (e) {
    document.getElementById("error").textContent = "cannot reach /status: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)html";
  return page;
}

}  // namespace synod::node
