// The chat web app in a real browser: the system Chromium (Debian's
// `chromium`), driven by playwright-core, against a real `autan serve` on a
// synthetic tiny model with a data directory of its own (node:test).
//
// Needs AUTAN_BIN. AUTAN_CHROMIUM names another Chromium; screenshots go to
// AUTAN_BROWSER_ARTIFACTS (default: build/release/tests/e2e/browser-artifacts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer as startAutan, stopServer } from "../serve_util.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const AUTAN = process.env.AUTAN_BIN;
assert.ok(AUTAN, "AUTAN_BIN must name the autan binary");
const CHROMIUM = process.env.AUTAN_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.AUTAN_BROWSER_ARTIFACTS ||
  resolve(here, "../../../build/release/tests/e2e/browser-artifacts");
const PASSWORD = "correct horse battery";
const WAIT = 15000;

const tmp = mkdtempSync(join(tmpdir(), "autan-browser-"));
let server, browser, base;

// The app's server: two sequences, room for long answers.
const startServer = (model) =>
  startAutan(AUTAN, model, tmp, ["--parallel", "2", "--ctx", "4096"]);

before(async () => {
  const model = join(tmp, "tiny.gguf");
  const synth = spawnSync(AUTAN, ["synth", "--shape", "tiny", "--type", "q8_0", "--seed", "7", model]);
  assert.equal(synth.status, 0, "autan synth failed: " + synth.stderr?.toString());
  server = await startServer(model);
  base = `http://127.0.0.1:${server.port}`;
  const home = await (await fetch(base + "/")).text();
  assert.ok(!/not built/i.test(home),
    "the server answers / with its placeholder page: the web app was not built into this binary " +
    "(npm ci --prefix web, then rebuild)");
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await stopServer(server), 0, "autan serve did not exit cleanly");
  rmSync(tmp, { recursive: true, force: true });
});

// Helpers ---------------------------------------------------------------------

/** A fresh browser context that records dialogs, page errors and CSP violations. */
async function newPage(options = {}) {
  const context = await browser.newContext({ baseURL: base, reducedMotion: "reduce", ...options });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = { dialogs: [], errors: [], csp: [], console: [] };
  page.on("dialog", (d) => {
    page.problems.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => page.problems.errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") page.problems.console.push(m.text());
  });
  await page.exposeFunction("__cspViolation", (v) => page.problems.csp.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
  });
  return page;
}

/** What the page shows, shortened, for failure messages. */
async function shown(page) {
  const text = await page.evaluate(() => document.body?.innerText ?? "").catch(() => "(no page)");
  return `${page.url()} shows:\n${text.replace(/\n{2,}/g, "\n").slice(0, 1500)}`;
}

async function expectVisible(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch {
    assert.fail(`expected ${what} within ${timeout} ms; ${await shown(locator.page())}`);
  }
}

async function expectHidden(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: "hidden", timeout });
  } catch {
    assert.fail(`expected ${what} to disappear within ${timeout} ms; ${await shown(locator.page())}`);
  }
}

function noProblems(page, what) {
  const p = page.problems;
  assert.deepEqual(p.dialogs, [], `${what}: a dialog opened`);
  assert.deepEqual(p.errors, [], `${what}: uncaught errors in the page`);
  assert.deepEqual(p.csp, [], `${what}: Content-Security-Policy violations`);
  assert.deepEqual(p.console.filter((m) => /Content.Security.Policy|Refused to/i.test(m)), [],
    `${what}: the console reports refused content`);
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

async function signIn(page, username, password = PASSWORD) {
  await page.goto("/");
  await expectVisible(page.getByRole("heading", { name: /Sign in|Connexion/ }), "the sign-in form");
  await page.locator('input[autocomplete="username"]').fill(username);
  await page.locator('input[type="password"]').fill(password);
  await page.getByRole("button", { name: /^(Sign in|Se connecter)$/ }).click();
  await expectVisible(page.locator("#composer-input"), `the chat screen after ${username} signs in`);
}

/** Calls /api from the page itself, with its session cookie and CSRF token. */
function pageApi(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const me = await fetch("/api/me");
    const csrf = me.ok ? (await me.json()).csrf : "";
    const r = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }, { method, path, body });
}

/** Imports a conversation through the sidebar's import button; resolves to its id. */
async function importConversation(page, title, messages) {
  const file = { version: 1, conversation: { title }, messages };
  const chooser = page.waitForEvent("filechooser");
  if (await page.locator(".drawer-toggle").isVisible()) await page.locator(".drawer-toggle").click();
  await page.getByRole("button", { name: "Import a conversation" }).click();
  const before = page.url();
  await (await chooser).setFiles({
    name: "conversation.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(file)),
  });
  await page.waitForURL((u) => /\/c\/[0-9a-f]+$/.test(u.pathname) && u.href !== before, { timeout: WAIT });
  await expectVisible(page.getByText("Conversation imported."), "the import's confirmation");
  await expectVisible(page.locator("article.message").nth(messages.length - 1),
    `the ${messages.length} imported messages of “${title}”`);
  return page.url().split("/").at(-1);
}

/** Sets the answer length limit (and the temperature) in the model settings of the chat shown. */
async function setParams(page, maxTokens, temperature) {
  await page.getByRole("button", { name: "Model settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Model settings" });
  await expectVisible(dialog, "the model settings dialog");
  await dialog.getByLabel("Maximum answer length (tokens)").fill(String(maxTokens));
  if (temperature !== undefined) await dialog.getByLabel("Temperature").fill(String(temperature));
  await dialog.getByRole("button", { name: "Save" }).click();
  await expectHidden(dialog, "the settings dialog after saving");
}

/** The element's text once it has not changed for 400 ms (code and math render late). */
async function settledText(locator) {
  let last = await locator.innerText(), since = Date.now();
  for (const end = Date.now() + WAIT; Date.now() < end && Date.now() - since < 400;) {
    await locator.page().waitForTimeout(50);
    const now = await locator.innerText();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

const article = (page, role) => page.locator(`article.message.${role}`);

// The tests, in order: each builds on the state the previous ones left. -------

describe("chat web app in Chromium", () => {
  let admin; // the administrator's page, signed in from the setup test on
  let chatId; // the conversation of the streaming test
  const state = {};

  test("first run: setup creates the administrator; sign out, wrong password, sign in", async () => {
    admin = await newPage();
    await admin.goto("/");
    await expectVisible(admin.getByRole("heading", { name: "Create the administrator account" }),
      "the setup screen on a server without accounts");
    await screenshot(admin, "setup");
    await admin.getByLabel("User name").fill("root");
    await admin.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await admin.getByLabel("Confirm password").fill(PASSWORD + "x");
    await admin.getByRole("button", { name: "Create account" }).click();
    await expectVisible(admin.getByRole("alert").filter({ hasText: "The passwords differ." }),
      "the error for differing passwords");
    await admin.getByLabel("Confirm password").fill(PASSWORD);
    await admin.getByRole("button", { name: "Create account" }).click();
    await expectVisible(admin.locator("#composer-input"), "the chat screen after setup");
    await expectVisible(admin.getByText("How can I help you today?"), "the empty chat's greeting");
    assert.ok((await admin.context().cookies()).some((c) => c.name === "autan_session" && c.httpOnly),
      "the session cookie is set, HttpOnly");

    await admin.getByRole("button", { name: "Sign out" }).click();
    await expectVisible(admin.getByRole("heading", { name: "Sign in" }), "the sign-in form after signing out");
    await admin.getByLabel("User name").fill("root");
    await admin.getByLabel("Password", { exact: true }).fill("not the password");
    await admin.getByRole("button", { name: "Sign in" }).click();
    await expectVisible(admin.getByRole("alert").filter({ hasText: "Wrong user name or password." }),
      "the error for a wrong password");
    assert.equal(await admin.locator("#composer-input").count(), 0, "a wrong password does not sign in");

    await signIn(admin, "root");
    noProblems(admin, "setup and sign-in");
  });

  test("a sent message's answer streams in, then shows its statistics", async () => {
    const page = admin;
    // Samples the answer's text at every animation frame while it streams.
    await page.evaluate(() => {
      window.__samples = [];
      const tick = () => {
        const a = [...document.querySelectorAll("article.message.assistant")].at(-1);
        if (a) window.__samples.push({ busy: a.getAttribute("aria-busy"), len: a.textContent.length });
        if (!window.__stopSampling) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    // Greedy, so the answer is the same at every run: this model and prompt give
    // no early end of sequence.
    await setParams(page, 400, 0);
    await page.locator("#composer-input").fill("Tell me a long story about the sea.");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/c\/[0-9a-f]+$/, { timeout: WAIT });
    chatId = page.url().split("/").at(-1);
    await expectVisible(article(page, "user").filter({ hasText: "Tell me a long story about the sea." }),
      "the sent message");
    const stats = article(page, "assistant").last().getByLabel("Answer statistics");
    await expectVisible(stats, "the answer's statistics line once it is done", 60000);
    await page.evaluate(() => (window.__stopSampling = true));
    const samples = await page.evaluate(() => window.__samples);
    // Lengths of the rendered text, frame by frame, while the answer was busy.
    // (Rendering may shorten it at times: random text can open Markdown or math.)
    const lengths = samples.filter((s) => s.busy === "true" && s.len > 0).map((s) => s.len)
      .filter((len, i, all) => i === 0 || len !== all[i - 1]);
    const growths = lengths.filter((len, i) => i > 0 && len > lengths[i - 1]).length;
    assert.ok(growths >= 3 && lengths.at(-1) > lengths[0],
      `expected the answer to grow over at least 3 animation frames while streaming, saw lengths ` +
      `${JSON.stringify(lengths)} (${samples.length} frames sampled)`);
    const statsText = await stats.innerText();
    assert.match(statsText, /\b400 tokens\b/, `the answer runs to the 400-token limit set: “${statsText}”`);
    assert.match(statsText, /\d+ tokens/, `the statistics name the token count: “${statsText}”`);
    assert.match(statsText, /[\d.,]+ tokens\/s/, `the statistics name the speed: “${statsText}”`);
    assert.equal(await article(page, "assistant").last().getAttribute("aria-busy"), "false",
      "the answer is no longer busy once done");
    state.answer = await settledText(article(page, "assistant").last().locator(".markdown"));
    assert.ok(state.answer.length > 0, "the answer has text");
    noProblems(page, "streaming");
  });

  test("the conversation and its messages survive a reload", async () => {
    const page = admin;
    await page.reload();
    await expectVisible(article(page, "assistant"), "the answer after a reload");
    assert.equal(page.url(), `${base}/c/${chatId}`);
    assert.equal(await article(page, "user").innerText(), "Tell me a long story about the sea.");
    assert.equal(await settledText(article(page, "assistant").locator(".markdown")), state.answer,
      "the reloaded answer is the streamed one");
    await expectVisible(page.locator(`#sidebar a[href="/c/${chatId}"]`), "the conversation in the sidebar");
  });

  test("Stop (and Esc) ends a long answer, which stays marked incomplete", async () => {
    const page = admin;
    await page.getByRole("button", { name: "New chat" }).first().click();
    await expectVisible(page.getByText("How can I help you today?"), "an empty new chat");
    await setParams(page, 3500);

    for (const how of ["button", "Escape"]) {
      await page.locator("#composer-input").fill(`Write forever (${how}).`);
      await page.keyboard.press("Enter");
      const answer = article(page, "assistant").last();
      await page.waitForFunction(() => {
        const a = [...document.querySelectorAll("article.message.assistant")].at(-1);
        return a?.getAttribute("aria-busy") === "true" && a.querySelector(".markdown")?.textContent.length > 20;
      }, null, { timeout: WAIT });
      if (how === "button") await page.getByRole("button", { name: "Stop generating" }).click();
      else await page.keyboard.press("Escape");
      await expectVisible(answer.getByText("Stopped before the end."), `the answer stopped by ${how} marked incomplete`);
      await expectVisible(page.getByRole("button", { name: "Send" }), "the send button back after stopping");
    }
    // The server stores the stopped answer once its generation has wound down.
    const id = page.url().split("/").at(-1);
    let status, body;
    for (let tries = 0; tries < 50; tries++) {
      ({ status, body } = await pageApi(page, "GET", `/api/conversations/${id}`));
      assert.equal(status, 200);
      if (!body.messages.some((m) => m.status === "streaming")) break;
      await page.waitForTimeout(100);
    }
    const statuses = body.messages.filter((m) => m.role === "assistant").map((m) => m.status);
    assert.deepEqual(statuses, ["incomplete", "incomplete"], "the server stored both answers as incomplete");
    for (const m of body.messages.filter((m) => m.role === "assistant")) {
      assert.ok(m.content.length > 0 && m.stats?.tokens < 3500,
        `a stopped answer keeps what was generated, short of the limit: ${m.stats?.tokens} tokens`);
    }
    noProblems(page, "stopping");
  });

  test("Markdown, highlighted code with a copy button, and math render", async () => {
    const page = admin;
    const id = await importConversation(page, "Rendering", [
      { role: "user", content: "Show me Markdown." },
      { role: "assistant", content: [
        "## A heading", "", "Some **bold** and *italic* text, a [link](https://example.com) and `inline code`.", "",
        "- one", "- two", "",
        "```python", "def greet(name):", "    return f\"hello {name}\"  # a comment", "```", "",
        "Inline math $e^{i\\pi} + 1 = 0$ and a display:", "", "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$",
      ].join("\n") },
    ]);
    state.renderingId = id;
    const md = article(page, "assistant").locator(".markdown");
    await expectVisible(md.locator("pre code .hljs-keyword"), "the code block highlighted (a .hljs-keyword span)");
    await expectVisible(md.locator(".katex").first(), "KaTeX output for the math");
    assert.equal(await md.locator("h2").innerText(), "A heading");
    assert.equal(await md.locator("strong").innerText(), "bold");
    assert.equal(await md.locator("em").innerText(), "italic");
    assert.equal(await md.locator("li").count(), 2, "the list has its 2 items");
    const link = md.locator("a", { hasText: "link" });
    assert.equal(await link.getAttribute("href"), "https://example.com/");
    assert.match(await link.getAttribute("rel") ?? "", /noopener/, "links open without opener");
    const code = md.locator("pre code");
    assert.match(await code.getAttribute("class") ?? "", /\bhljs\b.*language-python|language-python.*\bhljs\b/,
      "the code element has the hljs and language classes");
    assert.match(await code.innerText(), /def greet\(name\):/);
    assert.equal(await md.locator("code:not(pre code)", { hasText: "inline code" }).count(), 1, "inline code");
    await expectVisible(md.locator("pre button.code-copy", { hasText: "Copy code" }), "the code block's copy button");
    assert.equal(await md.locator(".code-bar span").first().innerText(), "python", "the code bar names the language");
    assert.equal(await md.locator(".katex-display").count(), 1, "one display formula");
    assert.ok(await md.locator(".katex .katex-mathml math").count() >= 2, "both formulas have MathML");
    // KaTeX's layout styles are applied through the CSSOM, not refused by the CSP.
    const styled = await md.locator(".katex-html [style]").count();
    assert.ok(styled > 0, "KaTeX output keeps its layout styles (elements with a style)");
    assert.equal(await md.locator("[data-kstyle]").count(), 0, "every KaTeX style was applied");
    await screenshot(page, "chat-rendered");
    noProblems(page, "rendering");
  });

  test("isolation: a second user sees nothing of the first one's", async () => {
    const page = admin;
    await page.getByRole("link", { name: "Administration" }).click();
    await expectVisible(page.getByRole("heading", { name: "Users" }), "the administration page");
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Create user" }) });
    await form.getByLabel("User name").fill("bob");
    await form.getByLabel("Password").fill(PASSWORD);
    await form.getByRole("button", { name: "Create user" }).click();
    await expectVisible(page.getByText("User created."), "the confirmation of the new user");
    await expectVisible(page.getByRole("cell", { name: "bob", exact: true }), "bob in the list of users");

    const bob = await newPage();
    await signIn(bob, "bob");
    await expectVisible(bob.getByText("No conversation yet."), "an empty conversation list for the new user");
    assert.equal(await bob.locator("#sidebar .conv-list a").count(), 0, "bob lists no conversation");

    const answer = bob.waitForResponse((r) => r.url().endsWith(`/api/conversations/${chatId}`));
    await bob.goto(`/c/${chatId}`);
    assert.equal((await answer).status(), 404, "the app's request for another user's conversation");
    await expectVisible(bob.getByText("This conversation does not exist or was deleted."),
      "the not-found notice for another user's conversation");
    await bob.waitForURL(`${base}/`, { timeout: WAIT });
    assert.equal(await bob.locator("article.message").count(), 0, "no message of another user is shown");
    const direct = await pageApi(bob, "GET", `/api/conversations/${chatId}`);
    assert.equal(direct.status, 404, `fetching another user's conversation: ${JSON.stringify(direct.body)}`);
    const del = await pageApi(bob, "DELETE", `/api/conversations/${chatId}`);
    assert.equal(del.status, 404, "deleting another user's conversation");
    const list = await pageApi(bob, "GET", "/api/conversations");
    assert.deepEqual(list.body.data, [], "bob's conversation list from the API");
    noProblems(bob, "isolation");
    await bob.context().close();
  });

  test("French: a fr-FR browser gets the French UI, and the language switch works", async () => {
    const page = await newPage({ locale: "fr-FR" });
    await page.goto("/");
    await expectVisible(page.getByRole("heading", { name: "Connexion" }), "the French sign-in title");
    await expectVisible(page.getByText("Votre assistant privé. Rien ne quitte ce serveur."), "the French tagline");
    await expectVisible(page.getByLabel("Nom d’utilisateur"), "the French user name label");
    await expectVisible(page.getByRole("button", { name: "Se connecter" }), "the French sign-in button");
    await signIn(page, "bob");
    await expectVisible(page.getByText("Comment puis-je vous aider aujourd’hui ?"), "the French greeting");
    await expectVisible(page.getByRole("button", { name: "Nouvelle discussion" }), "the French new-chat button");
    assert.equal(await page.locator("#composer-input").getAttribute("placeholder"),
      "Écrivez un message… (Entrée pour envoyer, Maj+Entrée pour aller à la ligne)");
    await expectVisible(page.getByRole("button", { name: "Se déconnecter" }), "the French sign-out button");
    await screenshot(page, "french");

    await page.getByLabel("Langue").selectOption("en");
    await expectVisible(page.getByText("How can I help you today?"), "the English greeting after switching");
    await expectVisible(page.getByRole("button", { name: "New chat" }), "the English new-chat button");
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    await page.reload();
    await expectVisible(page.getByText("How can I help you today?"), "English kept after a reload");
    await page.getByLabel("Language").selectOption("fr");
    await expectVisible(page.getByText("Comment puis-je vous aider aujourd’hui ?"), "French again");
    noProblems(page, "French");
    await page.context().close();
  });

  test("phone: the sidebar is a drawer and nothing overflows sideways", async () => {
    const page = await newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true,
                                 deviceScaleFactor: 2 });
    await signIn(page, "root");
    const sidebar = page.locator("#sidebar");
    const offScreen = async () => {
      const box = await sidebar.boundingBox();
      return !(await sidebar.isVisible()) || !box || box.x + box.width <= 0;
    };
    assert.ok(await offScreen(), "the sidebar is hidden off screen on a phone");
    const overflow = () => page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(await overflow() <= 375, `no horizontal overflow on the empty chat: scrollWidth ${await overflow()}`);

    const toggle = page.getByRole("button", { name: "Open the menu" });
    await toggle.click();
    await expectVisible(sidebar.getByRole("button", { name: "New chat" }), "the drawer's contents once opened");
    await page.waitForFunction(() => {
      const r = document.getElementById("sidebar").getBoundingClientRect();
      return r.left >= 0 && r.right <= 375;
    }, null, { timeout: WAIT });
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    await page.locator(`#sidebar a[href="/c/${state.renderingId}"]`).click();
    await page.waitForURL(`${base}/c/${state.renderingId}`);
    await expectVisible(page.locator(".markdown pre code .hljs-keyword"), "the rendered code on a phone");
    await page.waitForFunction(() => !document.getElementById("sidebar").classList.contains("open"));
    const width = await overflow();
    assert.ok(width <= 375, `no horizontal overflow with code and math on a phone: scrollWidth ${width} > 375`);
    await screenshot(page, "phone");
    await toggle.click();
    await expectVisible(sidebar.getByRole("button", { name: "New chat" }), "the drawer opened again");
    await screenshot(page, "phone-drawer");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("sidebar").classList.contains("open"));
    noProblems(page, "phone");
    await page.context().close();
  });

  test("script in messages stays inert", async () => {
    const page = await newPage();
    await signIn(page, "root");
    const payloads = [
      "<img src=x onerror=alert(1)>",
      "<script>alert(1)</script>",
      "[x](javascript:alert(1))",
      "![y](javascript:alert(2))",
      "<svg onload=alert(3)><script>alert(4)</script></svg>",
      "<a href=\"javascript:alert(5)\">click</a>",
      "<iframe src=\"javascript:alert(6)\"></iframe>",
      "$\\href{javascript:alert(7)}{x}$",
    ];
    const all = payloads.join("\n\n");
    await importConversation(page, "<img src=x onerror=alert(8)>", [
      { role: "user", content: all },
      { role: "assistant", content: all },
      { role: "assistant", content: "```html\n<script>alert(9)</script>\n```\n\n" + all },
    ]);
    const messages = page.locator("#messages");
    await expectVisible(messages.locator("pre code"), "the rendered code block of the payloads");
    // The links that remain are harmless; click them all.
    for (const a of await messages.locator(".markdown a").all()) {
      const href = await a.getAttribute("href");
      assert.ok(href === null || /^(https?|mailto):/.test(href), `a link kept a dangerous URL: ${href}`);
    }
    for (const a of await messages.locator(".markdown a:not([href])").all()) await a.click();
    await page.waitForTimeout(300);
    const found = await page.evaluate(() => ({
      scripts: [...document.querySelectorAll("#messages script, #sidebar script")].length,
      images: [...document.querySelectorAll("#messages img")].length,
      svgs: [...document.querySelectorAll("#messages svg")].filter((s) => !s.closest(".icon-btn, .avatar, button")).length,
      iframes: document.querySelectorAll("iframe").length,
      handlers: [...document.querySelectorAll("#messages *, #sidebar *")]
        .flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName} ${a.name}`)),
      js: [...document.querySelectorAll("[href], [src]")]
        .map((el) => el.getAttribute("href") ?? el.getAttribute("src")).filter((u) => /^\s*javascript:/i.test(u)),
      foreignScripts: [...document.scripts].map((s) => s.src || "(inline)").filter((s) => !s.startsWith(location.origin + "/")),
    }));
    assert.deepEqual(found, { scripts: 0, images: 0, svgs: 0, iframes: 0, handlers: [], js: [], foreignScripts: [] },
      "no element from the payloads is live");
    // The user's message is shown as text, exactly as typed.
    assert.equal(await article(page, "user").locator(".user-text").textContent(), all);
    assert.match(await messages.locator("pre code").innerText(), /<script>alert\(9\)<\/script>/);
    await expectVisible(page.locator("#sidebar a", { hasText: "<img src=x onerror=alert(8)>" }),
      "the payload title shown as text in the sidebar");
    await page.reload();
    await expectVisible(messages.locator("pre code"), "the payloads after a reload");
    await page.waitForTimeout(300);
    noProblems(page, "script payloads");
    await page.context().close();
  });

  test("the CSP refuses inline script that gets past the sanitizer", async () => {
    // The second line of defence: markup inserted without DOMPurify, as a
    // sanitizer bug would let through, still runs nothing.
    const page = await newPage();
    await signIn(page, "root");
    await page.evaluate(() => {
      const host = document.createElement("div");
      host.innerHTML = '<img src="data:," onerror="window.__ran = (window.__ran || 0) + 1">' +
        '<svg><a href="javascript:window.__ran=9"><text>x</text></a></svg>' +
        '<iframe src="javascript:parent.__ran=7"></iframe>';
      document.body.append(host);
      const inline = document.createElement("script");
      inline.textContent = "window.__ran = (window.__ran || 0) + 100; alert(1)";
      document.body.append(inline);
      host.querySelector("svg a").dispatchEvent(new MouseEvent("click", { bubbles: true }));
    });
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__ran ?? 0), 0, "an inline script or handler ran");
    assert.deepEqual(page.problems.dialogs, [], "a dialog opened");
    const refused = page.problems.csp.filter((v) => v.startsWith("script-src"));
    assert.ok(refused.length >= 2, `the CSP reported the inline script and handler: ${page.problems.csp}`);
    await page.context().close();
  });
});
