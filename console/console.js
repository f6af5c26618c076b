// The local console: polls the console API once a second and draws what it answers.
// Everything shown comes from the server; the graph is the Mermaid text it sends (drawn
// from the ASL, painted with the selected execution's path), rendered by Mermaid.
"use strict";

const API = "/console/api";
const POLL_MS = 1000;
const POLL_MS_WHILE_RUNNING = 300; // a running saga changes within a second
const PAINTS = ["succeeded", "failed", "compensating", "running", "notentered"];

const view = {
  machine: null, // the state machine's graph (nodes, edges, mermaid)
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  drawn: null, // the Mermaid text on screen
  shown: { list: null, detail: null }, // the JSON last drawn, to redraw only on change
  renders: 0,
  running: false, // an execution in sight is running: poll sooner
};

// -- small helpers ------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function call(path, options = {}) {
  const response = await fetch(API + path, { cache: "no-store", ...options });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error || response.status}: ${body.message || ""}`);
  return body;
}

function duration(ms) {
  if (ms === null || ms === undefined) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "";
}

// A JSON string shown indented; anything else as it is.
function pretty(text) {
  if (text === null || text === undefined) return "";
  try {
    return JSON.stringify(typeof text === "string" ? JSON.parse(text) : text, null, 2);
  } catch {
    return String(text);
  }
}

// A Lambda error's cause is {"errorType", "errorMessage", ...}: its message says most.
function causeMessage(cause) {
  try {
    const parsed = JSON.parse(cause);
    return parsed.errorMessage || cause;
  } catch {
    return cause;
  }
}

function badge(status, id) {
  return el("span", { class: `badge ${status}`, "data-status": status, id }, status);
}

// -- the graph ----------------------------------------------------------------------------

async function drawGraph(text) {
  if (text === view.drawn) return;
  const target = document.getElementById("graph");
  const { svg } = await mermaid.render(`saga-graph-${++view.renders}`, text);
  target.innerHTML = svg; // Mermaid's own output, sanitised by its strict security level
  view.drawn = text;
  // Name each drawn node after its state, so a node can be found by the state's name.
  const byId = new Map(view.machine.nodes.map((node) => [node.id, node]));
  for (const g of target.querySelectorAll("g.node")) {
    const match = /flowchart-(.+)-\d+$/.exec(g.id);
    const node = match && byId.get(match[1]);
    if (!node) continue;
    g.dataset.nodeId = node.id;
    g.dataset.kind = node.kind;
    if (node.kind === "state") {
      g.dataset.state = node.name;
      g.dataset.painted = PAINTS.find((paint) => g.classList.contains(paint)) || "";
      g.addEventListener("click", () => showStep(node.name));
    }
  }
}

function showStep(name) {
  const steps = document.querySelectorAll(`#steps li[data-state="${CSS.escape(name)}"]`);
  const last = steps[steps.length - 1];
  if (!last) return;
  last.scrollIntoView({ block: "nearest", behavior: "smooth" });
  last.classList.add("flash");
  setTimeout(() => last.classList.remove("flash"), 900);
}

// -- the list of executions ---------------------------------------------------------------

function drawList(executions) {
  const filter = document.getElementById("status-filter").value;
  const rows = document.getElementById("execution-rows");
  rows.replaceChildren(
    ...executions.map((execution) =>
      el(
        "tr",
        {
          "data-order-id": execution.order_id,
          "data-status": execution.status,
          class: execution.order_id === view.selected ? "selected" : null,
          onclick: () => select(execution.order_id),
        },
        el("td", {}, el("code", {}, execution.order_id)),
        el("td", {}, badge(execution.status)),
        el("td", {}, clock(execution.start)),
        el("td", { class: "number" }, duration(execution.duration_ms)),
      ),
    ),
  );
  const empty = document.getElementById("no-executions");
  empty.hidden = executions.length > 0;
  empty.textContent = filter
    ? `No ${filter} executions.`
    : "No executions yet: submit a sample order.";
}

// -- one execution ------------------------------------------------------------------------

function drawDetail(detail) {
  const { execution, order } = detail;
  document.getElementById("no-selection").hidden = true;
  document.getElementById("selection").hidden = false;
  document.getElementById("detail-order-id").textContent = execution.order_id;
  document.getElementById("detail-status").replaceWith(badge(execution.status, "detail-status"));
  document.getElementById("graph-title").textContent = `Path of ${execution.order_id}`;

  const facts = [
    ["Started", `${clock(execution.start)} (${new Date(execution.start).toLocaleDateString()})`],
    ["Duration", duration(execution.duration_ms) + (execution.stop ? "" : " so far")],
    ["Path", detail.path.join(" → ")],
  ];
  if (execution.error) facts.push(["Error", execution.error]);
  if (execution.cause) facts.push(["Cause", causeMessage(execution.cause)]);
  if (order) {
    facts.push(["Order", `${order.status}, total ${order.total}`]);
    if (order.cancellation_reason) facts.push(["Cancelled", order.cancellation_reason]);
    if (order.manual_review) facts.push(["Manual review", order.manual_review.failed_step]);
  }
  document
    .getElementById("summary")
    .replaceChildren(
      ...facts.flatMap(([term, value]) => [
        el("dt", {}, term),
        el("dd", { "data-fact": term.toLowerCase() }, value),
      ]),
    );

  document.getElementById("steps").replaceChildren(...detail.steps.map(stepItem));

  document.getElementById("history-count").textContent = detail.history.length;
  document.getElementById("history-rows").replaceChildren(
    ...detail.history.map((event) =>
      el(
        "tr",
        {},
        el("td", { class: "number" }, event.id),
        el("td", {}, event.type),
        el("td", {}, event.state || ""),
        el("td", {}, clock(event.timestamp)),
      ),
    ),
  );

  document.getElementById("domain-event-rows").replaceChildren(
    ...detail.domain_events.map((event) =>
      el(
        "tr",
        { "data-type": event.type },
        el("td", { class: "number" }, event.version),
        el("td", {}, event.type),
        el("td", {}, clock(event.occurred_at)),
        el("td", {}, el("details", {}, el("summary", {}, "data"), el("pre", {}, pretty(event.data)))),
      ),
    ),
  );
}

function stepItem(step) {
  const meta = [step.type];
  if (step.attempts) meta.push(`${step.attempts} attempt${step.attempts > 1 ? "s" : ""}`);
  if (step.duration_ms !== null) meta.push(duration(step.duration_ms));
  const blocks = [
    el(
      "div",
      { class: "step-head" },
      badge(step.status),
      el("strong", {}, step.name),
      el("span", { class: "muted" }, meta.join(" · ")),
    ),
  ];
  if (step.retried_errors.length) {
    blocks.push(el("div", { class: "muted" }, `retried after: ${step.retried_errors.join(", ")}`));
  }
  if (step.error) {
    blocks.push(
      el(
        "div",
        { class: "step-error" },
        el("span", { class: "label" }, "Error"),
        el("code", { "data-field": "error" }, step.error),
        step.cause ? el("span", { class: "label" }, "Cause") : null,
        step.cause ? el("span", { "data-field": "cause" }, causeMessage(step.cause)) : null,
      ),
    );
  }
  for (const [label, value] of [
    ["Input", step.input],
    ["Output", step.output],
    ["Cause (raw)", step.cause],
  ]) {
    if (value === null || value === undefined) continue;
    blocks.push(
      el("details", { "data-field": label.toLowerCase() }, el("summary", {}, label), el("pre", {}, pretty(value))),
    );
  }
  const paint = step.paint || step.status;
  return el("li", { class: `step ${paint}`, "data-state": step.name, "data-paint": paint }, blocks);
}

function forget() {
  view.selected = null;
  history.replaceState(null, "", location.pathname);
  document.getElementById("no-selection").hidden = false;
  document.getElementById("selection").hidden = true;
  document.getElementById("graph-title").textContent = "State machine";
}

function select(orderId) {
  view.selected = orderId;
  view.shown.detail = null;
  history.replaceState(null, "", `#${encodeURIComponent(orderId)}`);
  for (const row of document.querySelectorAll("#execution-rows tr")) {
    row.classList.toggle("selected", row.dataset.orderId === orderId);
  }
  refresh();
}

// -- polling ------------------------------------------------------------------------------

let refreshing = null;

function refresh() {
  // One refresh at a time; a request for another while one runs waits for it.
  refreshing = (refreshing || Promise.resolve()).then(refreshOnce).catch(showError);
  return refreshing;
}

async function refreshOnce() {
  const filter = document.getElementById("status-filter").value;
  const list = await call(`/executions${filter ? `?status=${encodeURIComponent(filter)}` : ""}`);
  view.running = list.some((execution) => execution.status === "RUNNING");
  const listKey = JSON.stringify([filter, view.selected, list]);
  if (listKey !== view.shown.list) {
    drawList(list);
    view.shown.list = listKey;
  }
  const orderId = view.selected;
  if (!orderId) return drawGraph(view.machine.mermaid);
  let detail;
  try {
    detail = await call(`/executions/${encodeURIComponent(orderId)}`);
  } catch (error) {
    if (String(error.message).startsWith("SagaNotStarted")) {
      view.running = true; // look again: the saga starter or the reconciler starts it
      showError(error);
      return drawGraph(view.machine.mermaid);
    }
    if (!String(error.message).startsWith("ExecutionNotFound")) throw error;
    forget(); // e.g. a link to an execution of a runtime since stopped
    return drawGraph(view.machine.mermaid);
  }
  if (orderId !== view.selected) return; // chosen another meanwhile
  view.running ||= detail.execution.status === "RUNNING";
  const detailKey = JSON.stringify(detail);
  if (detailKey !== view.shown.detail) {
    drawDetail(detail);
    view.shown.detail = detailKey;
  }
  await drawGraph(detail.mermaid);
  document.getElementById("graph-error").hidden = true;
}

function showError(error) {
  const box = document.getElementById("graph-error");
  box.textContent = String(error.message || error);
  box.hidden = false;
}

async function submit(kind, button) {
  button.disabled = true;
  try {
    const answer = await call("/sample-orders", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind }),
    });
    const note = document.getElementById("submitted");
    note.dataset.kind = kind;
    note.dataset.orderId = answer.order_id;
    note.replaceChildren("submitted ", el("code", {}, answer.order_id));
    select(answer.order_id);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  if (typeof mermaid === "undefined") {
    showError("Mermaid is not installed: `make serve` installs it (npm ci in console/).");
    return;
  }
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "neutral",
    flowchart: { htmlLabels: false, useMaxWidth: true, curve: "basis", nodeSpacing: 28, rankSpacing: 42 },
  });
  view.machine = await call("/state-machine");
  document.getElementById("machine-name").textContent = view.machine.name;
  for (const button of document.querySelectorAll("button[data-kind]")) {
    button.addEventListener("click", () => submit(button.dataset.kind, button));
  }
  document.getElementById("status-filter").addEventListener("change", refresh);
  await refresh();
  document.body.dataset.ready = "true";
  const poll = () =>
    refresh().finally(() => setTimeout(poll, view.running ? POLL_MS_WHILE_RUNNING : POLL_MS));
  setTimeout(poll, POLL_MS);
}

start().catch(showError);
