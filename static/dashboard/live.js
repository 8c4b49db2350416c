// The live dashboard: state comes from the REST API, changes from the WebSocket.
// Each site's messages are numbered; a gap, a reconnect or a site switch means the
// page reloads its state from the REST API ("resync") instead of guessing.
"use strict";

const siteSelect = document.getElementById("site");
const canEdit = JSON.parse(document.getElementById("can-edit").textContent);
const csrfToken = document.querySelector("input[name=csrfmiddlewaretoken]").value;
const lastSequence = new Map(); // site id -> last message number applied
let presenceTimer = null;

const siteId = () => Number(siteSelect.value);
const text = (value) => (value === null || value === undefined ? "" : String(value));
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function cell(row, value, className) {
  const td = row.insertCell();
  td.textContent = text(value);
  if (className) td.className = className;
  return td;
}

async function loadPresence() {
  const presence = await getJson(`/api/dashboard/presence/?site=${siteId()}`);
  lastSequence.set(presence.site, presence.sequence);
  document.getElementById("today").textContent = presence.date;
  for (const [key, value] of Object.entries(presence.counts)) {
    const element = document.getElementById(`count-${key}`);
    if (element) element.textContent = value;
  }
  const body = document.getElementById("people");
  body.replaceChildren();
  for (const person of presence.people) {
    const row = body.insertRow();
    row.dataset.employee = person.employee;
    cell(row, `${person.name} (${person.employee_code})`);
    cell(row, person.department);
    cell(row, person.state, `state-${person.state}`);
    cell(row, time(person.first_in), person.late_by && person.late_by !== "00:00:00" ? "late" : "");
  }
}

function feedItem(event, fresh) {
  const item = document.createElement("li");
  item.dataset.event = event.id;
  item.textContent = `${time(event.occurred_at)} ${event.employee_name} (${event.employee_code}) ` +
    `${event.direction === "in" ? "checked in" : "checked out"} by ${event.method}` +
    (event.status === "accepted" ? "" : ` [${event.status}]`);
  if (fresh) item.classList.add("fresh");
  return item;
}

async function loadFeed() {
  const page = await getJson(`/api/attendance/events/?site=${siteId()}&page_size=50`);
  document.getElementById("feed").replaceChildren(...page.results.map((event) => feedItem(event, false)));
}

async function revokeDevice(id, button) {
  if (!confirm("Revoke this device's credential? It will stop working at once.")) return;
  const response = await fetch(`/api/attendance/devices/${id}/revoke/`, {
    method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken },
  });
  button.textContent = response.ok ? "revoked" : "failed";
  button.disabled = true;
}

function conditionsText(reading) {
  if (!reading) return "no reading";
  const parts = [];
  if (reading.light_lux !== null) parts.push(`${Math.round(reading.light_lux)} lux`);
  if (reading.noise_db !== null) parts.push(`${Math.round(reading.noise_db)} dB`);
  if (reading.network_online === false) parts.push("offline");
  return parts.join(", ") || "-";
}

async function loadDevices() {
  const [page, readings, modes] = await Promise.all([
    getJson(`/api/attendance/devices/?site=${siteId()}&page_size=200`),
    getJson(`/api/environment/conditions/current/?site=${siteId()}`),
    getJson(`/api/environment/conditions/modes/?site=${siteId()}`),
  ]);
  const readingOf = new Map(readings.map((reading) => [reading.device, reading]));
  const modesOf = new Map(modes.map((state) => [state.device, state]));
  const body = document.getElementById("devices");
  body.replaceChildren();
  for (const device of page.results) {
    const row = body.insertRow();
    row.dataset.device = device.id;
    cell(row, `${device.name} (${device.kind})`);
    cell(row, device.is_revoked ? "revoked" : device.last_seen_at ? new Date(device.last_seen_at).toLocaleString() : "never");
    cell(row, conditionsText(readingOf.get(device.id)));
    const state = modesOf.get(device.id);
    const modesCell = cell(row, state ? state.allowed_modes.join(", ") : "all");
    if (state) modesCell.title = state.decisions.map((d) => `${d.mode}: ${d.reason}`).join("\n");
    const actions = row.insertCell();
    if (canEdit && !device.is_revoked) {
      // Viewers get no edit controls at all; the API refuses them anyway.
      const button = document.createElement("button");
      button.className = "revoke";
      button.textContent = "Revoke";
      button.addEventListener("click", () => revokeDevice(device.id, button));
      actions.append(button);
    }
  }
}

function barChart(svg, items, label, value) {
  const width = 600, height = 160, bottom = 20;
  const max = Math.max(1, ...items.map(value));
  const step = width / Math.max(1, items.length);
  svg.replaceChildren();
  items.forEach((item, index) => {
    const barHeight = ((height - bottom - 10) * value(item)) / max;
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.setAttribute("x", index * step + 2);
    rect.setAttribute("y", height - bottom - barHeight);
    rect.setAttribute("width", Math.max(1, step - 4));
    rect.setAttribute("height", barHeight);
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${label(item)}: ${value(item)}`;
    rect.append(title);
    svg.append(rect);
    if (items.length <= 12 || index % 5 === 0) {
      const caption = document.createElementNS("http://www.w3.org/2000/svg", "text");
      caption.setAttribute("x", index * step + 2);
      caption.setAttribute("y", height - 5);
      caption.textContent = label(item);
      svg.append(caption);
    }
  });
}

async function loadCharts() {
  const charts = await getJson(`/api/dashboard/charts/?site=${siteId()}`);
  barChart(document.getElementById("chart-days"), charts.days, (d) => d.date.slice(5), (d) => d.present);
  barChart(document.getElementById("chart-late"), charts.late_by_department, (d) => d.department, (d) => d.late);
}

async function resync() {
  await Promise.all([loadPresence(), loadFeed(), loadDevices(), loadCharts()]);
  document.body.dataset.synced = String(Date.now());
}

let devicesTimer = null;
function scheduleDevicesRefresh() {
  clearTimeout(devicesTimer);
  devicesTimer = setTimeout(() => loadDevices().catch(console.error), 300);
}

function schedulePresenceRefresh() {
  // Several check-ins in a burst cost one presence reload, not one each.
  clearTimeout(presenceTimer);
  presenceTimer = setTimeout(() => loadPresence().catch(console.error), 300);
}

function onMessage(message) {
  if (message.type === "hello") {
    resync().catch(console.error);
    return;
  }
  if (message.site !== siteId()) return;
  const last = lastSequence.get(message.site);
  if (last !== undefined && message.sequence <= last) return; // already part of the loaded state
  if (last !== undefined && message.sequence !== last + 1) {
    resync().catch(console.error); // a gap: something was missed
    return;
  }
  lastSequence.set(message.site, message.sequence);
  if (message.type === "attendance.event") {
    const feed = document.getElementById("feed");
    // Delivery is at least once: an event the feed already shows is not shown twice.
    if (feed.querySelector(`li[data-event="${message.data.id}"]`)) return;
    feed.prepend(feedItem(message.data, true));
    schedulePresenceRefresh();
  } else if (message.type.startsWith("environment.")) {
    scheduleDevicesRefresh();
  }
}

function setConnection(state) {
  const badge = document.getElementById("connection");
  badge.dataset.state = state;
  badge.textContent = state;
}

siteSelect.addEventListener("change", () => resync().catch(console.error));
if (siteSelect.options.length) liveSocketOpen({ onMessage, onState: setConnection });
