// The serve example as a person and a program use it, on loopback:
// headless Chromium draws MNIST test digits on the page with the mouse and
// reads the class shown; a bounded load of concurrent JSON and PNG
// requests must all succeed, each giving the answer the image gave alone;
// bad requests get their 4xx and a message, and the server still answers;
// SIGTERM with a request under way lets it finish and closes the port.
//
// node .ci/serve-check.mjs URL DATA_DIR OUT_DIR SERVER_PID
// (PLAYWRIGHT_CORE: the directory of an installed playwright-core.)
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { crc32, deflateSync, gunzipSync } from "node:zlib";

const [base, data, out, serverPid] = process.argv.slice(2);
const { chromium } = await import(
  pathToFileURL(join(process.env.PLAYWRIGHT_CORE, "index.mjs")).href
);
const { hostname: host, port } = new URL(base);

function check(ok, message) {
  if (!ok) throw new Error(`FAILED: ${message}`);
  console.log(`ok: ${message}`);
}

// ---- MNIST's test set, read as the IDX files are laid out.
function idx(name) {
  const bytes = gunzipSync(readFileSync(join(data, name)));
  const dims = bytes[3];
  return bytes.subarray(4 + 4 * dims);
}
const images = idx("t10k-images-idx3-ubyte.gz");
const labels = idx("t10k-labels-idx1-ubyte.gz");
const image = (i) => images.subarray(784 * i, 784 * (i + 1));

// ---- The page, driven with the mouse.
const THRESHOLD = 128;
const DRAWN = [0, 1, 2]; // a 7, a 2 and a 1

// Traces the digit's bright pixels row by row, one stroke per run, ×10
// onto the 280×280 canvas; `halfway` runs when half the rows are drawn.
async function draw(page, pixels, halfway) {
  const box = await page.locator("#pad").boundingBox();
  const at = (x, y) => [box.x + ((x * 10 + 5) * box.width) / 280, box.y + ((y * 10 + 5) * box.height) / 280];
  for (let y = 0; y < 28; y++) {
    if (y === 14) await halfway();
    for (let x = 0; x < 28; x++) {
      if (pixels[28 * y + x] < THRESHOLD) continue;
      const start = x;
      while (x + 1 < 28 && pixels[28 * y + x + 1] >= THRESHOLD) x++;
      await page.mouse.move(...at(start, y));
      await page.mouse.down();
      await page.mouse.move(...at(x, y), { steps: Math.max(1, x - start) });
      await page.mouse.up();
    }
  }
}

// The class on screen once it is the prediction of the drawing as it is.
async function shownClass(page) {
  await page.waitForFunction(() => {
    const drawn = document.getElementById("pad").dataset.version;
    return drawn !== "0" && document.getElementById("digit").dataset.version === drawn;
  }, null, { timeout: 10_000 });
  return page.locator("#digit").textContent();
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const failures = [];
  page.on("pageerror", (e) => failures.push(e.message));
  page.on("requestfailed", (r) => failures.push(`${r.url()}: ${r.failure()?.errorText}`));
  let predictions = 0;
  page.on("request", (r) => { if (r.url().endsWith("/predict")) predictions++; });
  await page.goto(base);
  check(await page.title() === "staticnet: draw a digit", "the page loads");
  const diagram = await page.locator("#diagram img").evaluate((img) => img.decode().then(() => img.naturalWidth));
  check(diagram > 0, `the diagram /diagram.svg is shown (${diagram} px wide)`);

  for (const [n, i] of DRAWN.entries()) {
    if (n > 0) {
      await page.click("#clear");
      check(await page.locator("#digit").textContent() === "–", "Clear empties the canvas and the prediction");
    }
    const before = predictions;
    let early = null;
    await draw(page, image(i), async () => {
      // A person sees a class appear before the digit is done.
      await page.waitForFunction(() => /^[0-9]$/.test(document.getElementById("digit").textContent), null, { timeout: 10_000 });
      early = await page.locator("#digit").textContent();
    });
    const shown = await shownClass(page);
    const bars = await page.locator(".bars span:nth-child(3n)").allTextContents();
    const total = bars.reduce((sum, text) => sum + parseFloat(text), 0);
    console.log(`test image ${i}: label ${labels[i]}, shown ${shown} (halfway through the drawing: ${early}), ` +
      `${predictions - before} predictions while drawing, bars ${bars.join(" ")}`);
    check(shown === String(labels[i]), `the drawn test image ${i} is shown as its label ${labels[i]}`);
    check(Math.abs(total - 100) < 1, `the ten bars add up to 100% (${total.toFixed(1)})`);
    if (n === 0) await page.screenshot({ path: join(out, "page.png"), fullPage: true });
  }
  check(failures.length === 0, `no page error or failed request (${failures.join("; ")})`);
} finally {
  await browser.close();
}

// ---- Bodies for programs: JSON values in 0..1 and 28×28 gray PNGs.
function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
  return Buffer.concat([head, body, crc]);
}
function png(pixels) {
  const header = Buffer.alloc(13); // 28×28, 8-bit gray
  header.writeUInt32BE(28, 0);
  header.writeUInt32BE(28, 4);
  header[8] = 8;
  const rows = Buffer.alloc(29 * 28); // filter 0, then the row
  for (let y = 0; y < 28; y++) rows.set(pixels.subarray(28 * y, 28 * y + 28), 29 * y + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}
const json = (i) => JSON.stringify({ pixels: Array.from(image(i), (v) => v / 255) });

async function predict(body, type) {
  const response = await fetch(`${base}predict`, { method: "POST", headers: { "Content-Type": type }, body });
  return { status: response.status, answer: await response.json() };
}

// What each image gives alone, as JSON and as PNG: the same.
const IMAGES = 100;
const expected = [];
let correct = 0;
for (let i = 0; i < IMAGES; i++) {
  const a = await predict(json(i), "application/json");
  const b = await predict(png(image(i)), "image/png");
  if (a.status !== 200 || b.status !== 200 || a.answer.class !== b.answer.class ||
      a.answer.probabilities.some((p, k) => Math.abs(p - b.answer.probabilities[k]) > 1e-6)) {
    throw new Error(`FAILED: image ${i}: JSON gave ${JSON.stringify(a)}, PNG ${JSON.stringify(b)}`);
  }
  expected.push(a.answer.class);
  if (a.answer.class === labels[i]) correct++;
}
check(true, `JSON and PNG give the same answers for ${IMAGES} test images (${correct} of them right)`);

// ---- The load: CLIENTS concurrent clients, REQUESTS each, JSON and PNG mixed.
const CLIENTS = 8, REQUESTS = 250;
const bodies = Array.from({ length: IMAGES }, (_, i) => [json(i), png(image(i))]);
const latencies = [];
let errors = 0;
const started = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
  for (let r = 0; r < REQUESTS; r++) {
    const i = (c * REQUESTS + r) % IMAGES;
    const asPng = (c + r) % 2 === 1;
    const sent = performance.now();
    try {
      const { status, answer } = await predict(bodies[i][asPng ? 1 : 0], asPng ? "image/png" : "application/json");
      if (status !== 200 || answer.class !== expected[i]) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - sent);
  }
}));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(`load: ${latencies.length} requests from ${CLIENTS} clients in ${seconds.toFixed(2)} s: ` +
  `${(latencies.length / seconds).toFixed(0)} requests/s, p50 ${quantile(0.5).toFixed(2)} ms, ` +
  `p99 ${quantile(0.99).toFixed(2)} ms, max ${latencies.at(-1).toFixed(2)} ms, ${errors} errors`);
check(errors === 0, "every request of the load succeeded with the image's own answer");

// ---- Bad requests, on a socket of their own: the status line and the JSON.
function raw(head, body = Buffer.alloc(0)) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    const got = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer in 10 s")));
    socket.on("data", (d) => got.push(d));
    // The server may close before reading all that was sent: its answer counts.
    socket.on("error", (e) => { if (got.length === 0) reject(e); });
    socket.on("close", () => {
      const text = Buffer.concat(got).toString();
      const status = Number(text.split(" ")[1]);
      resolve({ status, body: text.slice(text.indexOf("\r\n\r\n") + 4) });
    });
    socket.write(`${head}Host: ${host}\r\nConnection: close\r\n\r\n`);
    socket.end(body);
  });
}
const post = (type, body, extra = "") =>
  raw(`POST /predict HTTP/1.1\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}`, body);
const zeros = (n) => `[${Array(n).fill(0).join(",")}]`;
const broken = png(image(0)).subarray(0, 60);
const bad = [
  ["783 values", () => post("application/json", zeros(783)), 400],
  ["NaN", () => post("application/json", `[NaN${",0".repeat(783)}]`), 400],
  ["a value of 255", () => post("application/json", `[255${",0".repeat(783)}]`), 400],
  ["malformed JSON", () => post("application/json", '{"pixels": [0, 0'), 400],
  ["a broken PNG", () => post("image/png", broken), 400],
  ["text/plain", () => post("text/plain", zeros(784)), 415],
  ["a 2 MiB body, declared", () => raw("POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 2097152\r\n"), 413],
  ["a terabyte, declared", () => raw("POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 1000000000000\r\n", "\x89PNG"), 413],
  ["a 2 MiB body in chunks", () => {
    const piece = Buffer.alloc(65536, 48);
    const chunks = Array.from({ length: 32 }, () =>
      Buffer.concat([Buffer.from("10000\r\n"), piece, Buffer.from("\r\n")]));
    const chunked = Buffer.concat([...chunks, Buffer.from("0\r\n\r\n")]);
    return raw("POST /predict HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked);
  }, 413],
  ["GET /predict", () => raw("GET /predict HTTP/1.1\r\n"), 405],
  ["GET /missing", () => raw("GET /missing HTTP/1.1\r\n"), 404],
];
for (const [name, send, status] of bad) {
  const answer = await send();
  let message = "";
  try { message = JSON.parse(answer.body).error; } catch { /* checked below */ }
  check(answer.status === status && typeof message === "string" && message.length > 0,
    `${name}: ${answer.status} (expected ${status}) "${message}"`);
}
const after = await predict(json(0), "application/json");
check(after.status === 200 && after.answer.class === expected[0], "the server still answers after the bad requests");

// ---- SIGTERM with a request under way: it finishes, the port closes.
const body = json(0);
const socket = net.connect(Number(port), host);
const answered = new Promise((resolve) => {
  const got = [];
  socket.on("data", (d) => got.push(d));
  socket.on("close", () => resolve(Buffer.concat(got).toString()));
});
await new Promise((resolve) => socket.once("connect", resolve));
socket.write(`POST /predict HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 1000)}`);
await new Promise((resolve) => setTimeout(resolve, 200));
process.kill(Number(serverPid), "SIGTERM");
await new Promise((resolve) => setTimeout(resolve, 400));
const refused = await new Promise((resolve) => {
  const probe = net.connect(Number(port), host);
  probe.on("connect", () => { probe.destroy(); resolve(false); });
  probe.on("error", (e) => resolve(e.code === "ECONNREFUSED"));
});
check(refused, "after SIGTERM the server accepts no new connection");
socket.end(body.slice(1000));
const reply = await answered;
check(reply.startsWith("HTTP/1.1 200") && JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)).class === expected[0],
  "the request under way at SIGTERM was answered");
