// Debian's firefox-esr, driven by npm puppeteer-core over WebDriver BiDi (no geckodriver, no browser download),
// for tests/engines/drivers.py: one JSON command a line on stdin, one JSON answer a line on stdout.
//   node firefox.mjs '{"webgl": true, "proxy": 8123}'
//   {"op": "open", "url": ..., "width": 1280, "height": 900}  a fresh page at that size (the last one is closed)
//   {"op": "goto", "url": ...} | {"op": "eval", "fn": "(a) => ...", "args": [...]} | {"op": "fill" | "type", "selector", "text"}
//   {"op": "click", "selector"} | {"op": "screenshot", "selector"} (base64 PNG) | {"op": "problems"} | {"op": "quit"}
// Console errors of the page and its workers, uncaught errors and unhandled rejections are kept for "problems".
import readline from "node:readline";
import puppeteer from "puppeteer-core";

const options = JSON.parse(process.argv[2] ?? "{}");
const proxy = options.proxy ? {  // every request that leaves 127.0.0.1 goes to the tests' recording proxy
  "network.proxy.type": 1, "network.proxy.http": "127.0.0.1", "network.proxy.http_port": options.proxy,
  "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": options.proxy, "network.proxy.no_proxies_on": "",
} : {};
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: options.executable ?? "/usr/bin/firefox-esr",
  headless: true,  // WebGL still needs an X display (Xvfb): llvmpipe renders
  protocol: "webDriverBiDi",
  extraPrefsFirefox: { ...proxy, "webgl.disabled": options.webgl === false },
});
let page = null;
let problems = [];

async function open({ url, width = 1280, height = 900 }) {
  if (page) await page.close();
  page = await browser.newPage();
  await page.setViewport({ width, height });
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message ?? e}`));
  await page.goto(url, { waitUntil: "load", timeout: 120_000 });
  return await browser.version();
}

const ops = {
  open,
  goto: async ({ url }) => { await page.goto(url, { waitUntil: "load", timeout: 120_000 }); },
  eval: async ({ fn, args = [] }) => page.evaluate(`(${fn})(...${JSON.stringify(args)})`),
  fill: async ({ selector, text }) => { await page.locator(selector).setTimeout(30_000).fill(text); },
  click: async ({ selector }) => { await page.locator(selector).setTimeout(30_000).click(); },
  type: async ({ selector, text }) => { // into a code editor (contenteditable): select all, then type as a reader does
    await page.locator(selector).setTimeout(30_000).click();
    await page.keyboard.down("Control");
    await page.keyboard.press("KeyA");
    await page.keyboard.up("Control");
    await page.keyboard.type(text);
  },
  screenshot: async ({ selector }) => {
    const element = await page.waitForSelector(selector, { timeout: 30_000 });
    return Buffer.from(await element.screenshot()).toString("base64");
  },
  problems: async () => { const found = problems; problems = []; return found; },
  quit: async () => { await browser.close(); process.exit(0); },
};

const answer = (message) => process.stdout.write(JSON.stringify(message) + "\n");
answer({ ready: await browser.version() });
for await (const line of readline.createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  try {
    answer({ value: (await ops[command.op](command)) ?? null });
  } catch (e) {
    answer({ error: `${command.op}: ${e.message ?? e}` });
  }
}
await browser.close();
