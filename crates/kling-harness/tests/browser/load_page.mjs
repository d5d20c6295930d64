// Load a local HTML file in headless Chromium and report what the HTML-report test asserts:
// console errors, uncaught exceptions, any network request beyond the file itself, the size
// of every SVG timeline, and a full-page screenshot.
//
// Usage: node load_page.mjs CHROMIUM PAGE.html SHOT.png
// Prints one JSON object on stdout; exits non-zero only when the browser could not be driven.
//
// It speaks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4,
// NUL-separated JSON), so it needs no npm package, no WebSocket and no port: nothing but
// Node's built-ins and the browser.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [chromium, page, shot] = process.argv.slice(2);
if (!chromium || !page || !shot) {
  console.error("usage: node load_page.mjs CHROMIUM PAGE.html SHOT.png");
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "kling-preflight-chromium-"));
const browser = spawn(
  chromium,
  [
    "--headless=new",
    // Containers and CI run as root, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
    `--user-data-dir=${profile}`,
    "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
);
let browserLog = "";
browser.stderr.on("data", (d) => (browserLog = (browserLog + d).slice(-4000)));

function finish(code, result) {
  try {
    browser.kill("SIGKILL");
  } catch {}
  try {
    rmSync(profile, { recursive: true, force: true });
  } catch {}
  if (result) process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
}
const watchdog = setTimeout(() => {
  console.error(`the browser did not finish within 60 s; its last words:\n${browserLog}`);
  finish(3);
}, 60_000);
browser.on("error", (e) => {
  console.error(`cannot start ${chromium}: ${e.message}`);
  finish(3);
});
browser.on("exit", (code, signal) => {
  if (!done) {
    console.error(`the browser exited early (${code ?? signal}):\n${browserLog}`);
    finish(3);
  }
});

let done = false;
let nextId = 0;
const pending = new Map();
const listeners = [];
let buffer = Buffer.alloc(0);
browser.stdio[4].on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  let end;
  while ((end = buffer.indexOf(0)) >= 0) {
    const message = JSON.parse(buffer.subarray(0, end).toString("utf8"));
    buffer = buffer.subarray(end + 1);
    if (message.id !== undefined && pending.has(message.id)) {
      const { ok, fail, method } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) fail(new Error(`${method}: ${JSON.stringify(message.error)}`));
      else ok(message.result);
    } else {
      for (const listen of listeners) listen(message);
    }
  }
});
function send(method, params = {}, sessionId = undefined) {
  const id = ++nextId;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  browser.stdio[3].write(JSON.stringify(message) + "\0");
  return new Promise((ok, fail) => pending.set(id, { ok, fail, method }));
}

const problems = [];
const requests = [];
let loaded;
const loadedEvent = new Promise((ok) => (loaded = ok));
listeners.push((m) => {
  const p = m.params || {};
  switch (m.method) {
    case "Runtime.consoleAPICalled":
      if (p.type === "error" || p.type === "assert" || p.type === "warning") {
        problems.push(`console.${p.type}: ${(p.args || []).map((a) => a.value ?? a.description).join(" ")}`);
      }
      break;
    case "Runtime.exceptionThrown":
      problems.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      break;
    case "Log.entryAdded":
      // Blocked loads and Content-Security-Policy violations arrive here.
      if (p.entry.level === "error" || p.entry.level === "warning") {
        problems.push(`log ${p.entry.level} (${p.entry.source}): ${p.entry.text}`);
      }
      break;
    case "Network.requestWillBeSent":
      requests.push(p.request.url);
      break;
    case "Page.loadEventFired":
      loaded();
      break;
  }
});

try {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  for (const domain of ["Runtime", "Log", "Network", "Page"]) await send(`${domain}.enable`, {}, sessionId);
  const width = 1280;
  await send("Emulation.setDeviceMetricsOverride", { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  const url = pathToFileURL(resolve(page)).href;
  await send("Page.navigate", { url }, sessionId);
  await loadedEvent;
  const { result } = await send(
    "Runtime.evaluate",
    {
      returnByValue: true,
      expression: `(() => {
        const svgs = [...document.querySelectorAll("svg.timeline")].map((s) => {
          const r = s.getBoundingClientRect();
          return { width: r.width, height: r.height, marks: s.querySelectorAll("rect.req, circle.cb").length,
                   arcs: s.querySelectorAll("path.arc").length };
        });
        return { title: document.title, svgs, scripts: document.scripts.length,
                 height: Math.ceil(document.documentElement.scrollHeight), text: document.body.innerText.length };
      })()`,
    },
    sessionId,
  );
  const facts = result.value;
  await send("Emulation.setDeviceMetricsOverride", { width, height: facts.height, deviceScaleFactor: 1, mobile: false }, sessionId);
  const { data } = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId);
  writeFileSync(shot, Buffer.from(data, "base64"));
  done = true;
  clearTimeout(watchdog);
  await send("Browser.close").catch(() => {});
  const foreign = requests.filter((u) => u !== url && !u.startsWith("data:"));
  finish(0, { ...facts, problems, requests: foreign, screenshot: shot });
} catch (e) {
  console.error(`driving the browser failed: ${e.message}\n${browserLog}`);
  finish(3);
}
