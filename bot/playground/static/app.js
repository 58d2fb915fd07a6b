// The playground page: shows one channel, sends what you type to the playground (which signs it
// for the bot like Slack would), and renders the bot's Block Kit replies. Text from the bot is
// always put in the page as text nodes, never as HTML.
"use strict";

const state = { channel: null, tab: "messages", home: null, messages: new Map(), after: 0 };
// This run's token, embedded in the page: the playground refuses calls without it.
const TOKEN = document.querySelector('meta[name="playground-token"]').content;
const HEADERS = { "X-Playground-Token": TOKEN };
const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone;
const EMOJI = {
  x: "❌", bell: "🔔", no_bell: "🔕", warning: "⚠️", mag: "🔍", lock: "🔒", scissors: "✂️",
  zipper_mouth_face: "🤐", face_with_head_bandage: "🤕", white_check_mark: "✅", label: "🏷️",
  clock3: "🕒", page_facing_up: "📄", hourglass_flowing_sand: "⏳", stopwatch: "⏱️", broom: "🧹",
  no_entry_sign: "🚫", arrows_counterclockwise: "🔄", repeat: "🔁", large_blue_circle: "🔵",
  heavy_check_mark: "✔️", information_source: "ℹ️", hourglass: "⌛", mute: "🔇", sound: "🔉",
  loud_sound: "🔊", memo: "📝", link: "🔗", eyes: "👀", tada: "🎉", rotating_light: "🚨",
  bar_chart: "📊", zzz: "💤",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function unescapeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function withEmoji(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

function formatDate(epochSeconds, format) {
  const moment = new Date(epochSeconds * 1000);
  const day = new Intl.DateTimeFormat(undefined, { timeZone: TZ, month: "short", day: "numeric" }).format(moment);
  const time = new Intl.DateTimeFormat(undefined, { timeZone: TZ, hour: "2-digit", minute: "2-digit" }).format(moment);
  const today = new Intl.DateTimeFormat(undefined, { timeZone: TZ, month: "short", day: "numeric" }).format(new Date());
  const shown = day === today ? "Today" : day;
  return format.replace("{date_short_pretty}", shown).replace("{date_short}", day)
    .replace("{date}", day).replace("{time}", time).replace("{time_secs}", time);
}

// Inline mrkdwn: `code`, *bold*, _italic_, ~strike~; entities undone at the very end. Like
// Slack, a marker only counts at a word's edge, so `snake_case` and `:no_bell:` stay as typed.
const INLINE = /(`[^`\n]+`|:[a-z0-9_+-]+:|(?<![\w:])\*[^*\n]+\*(?![\w:])|(?<![\w:])_[^_\n]+_(?![\w:])|(?<![\w:])~[^~\n]+~(?![\w:]))/;
function inline(text, parent) {
  const parts = text.split(INLINE);
  for (const part of parts) {
    if (!part) continue;
    const inner = part.slice(1, -1);
    if (part.length > 2 && part[0] === "`" && part.endsWith("`")) parent.append(el("code", "", unescapeEntities(inner)));
    else if (/^:[a-z0-9_+-]+:$/.test(part)) parent.append(document.createTextNode(withEmoji(part)));
    else if (part.length > 2 && part[0] === "*" && part.endsWith("*")) { const b = el("b"); inline(inner, b); parent.append(b); }
    else if (part.length > 2 && part[0] === "_" && part.endsWith("_")) { const i = el("i"); inline(inner, i); parent.append(i); }
    else if (part.length > 2 && part[0] === "~" && part.endsWith("~")) { const s = el("s"); inline(inner, s); parent.append(s); }
    else {
      const lines = withEmoji(unescapeEntities(part)).split("\n");
      lines.forEach((line, index) => { if (index) parent.append(el("br")); parent.append(document.createTextNode(line)); });
    }
  }
}

function control(inside, parent) {
  const [target, label] = inside.split("|");
  if (target.startsWith("!date^")) {
    const [, epoch, format] = target.split("^");
    parent.append(el("time", "date", formatDate(Number(epoch), format || "{date_short_pretty} {time}")));
  } else if (target.startsWith("@")) {
    parent.append(el("span", "mention", "@" + (label || (target === "@U0PLAYER1" ? "you" : target.slice(1)))));
  } else if (target.startsWith("#")) {
    const known = document.querySelector(`[data-channel="${CSS.escape(target.slice(1))}"]`);
    const name = label || (known ? known.textContent.replace(/^\S+\s/, "") : target.slice(1));
    parent.append(el("span", "mention", "#" + name));
  } else if (target.startsWith("!")) {
    parent.append(el("span", "mention", "@" + target.slice(1)));
  } else if (/^https?:\/\//.test(target)) {
    const link = el("a", "", unescapeEntities(label || target));
    link.href = unescapeEntities(target);
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    parent.append(link);
  } else {
    parent.append(document.createTextNode(unescapeEntities(label || target)));
  }
}

function mrkdwn(text, parent) {
  const pieces = text.split(/```([\s\S]*?)```/);
  pieces.forEach((piece, index) => {
    if (index % 2) { parent.append(el("pre", "", unescapeEntities(piece))); return; }
    const segments = piece.split(/<([^<>]+)>/);
    segments.forEach((segment, position) => (position % 2 ? control(segment, parent) : inline(segment, parent)));
  });
}

function textObject(object, parent) {
  if (!object) return;
  if (object.type === "mrkdwn") mrkdwn(object.text, parent);
  else parent.append(document.createTextNode(withEmoji(object.text || "")));
}

function richElements(elements, parent) {
  for (const item of elements || []) {
    if (item.type === "text") {
      let node = document.createTextNode(item.text);
      const style = item.style || {};
      for (const [flag, tag] of [["code", "code"], ["bold", "b"], ["italic", "i"], ["strike", "s"]]) {
        if (style[flag]) { const wrap = el(tag); wrap.append(node); node = wrap; }
      }
      parent.append(node);
    } else if (item.type === "date") {
      parent.append(el("time", "date", formatDate(item.timestamp, item.format || "{date_short_pretty} {time}")));
    } else if (item.type === "link") {
      const link = el("a", "", item.text || item.url);
      if (/^https?:\/\//.test(item.url)) link.href = item.url;
      parent.append(link);
    } else if (item.type === "emoji") {
      parent.append(document.createTextNode(item.unicode ? String.fromCodePoint(parseInt(item.unicode, 16)) : EMOJI[item.name] || `:${item.name}:`));
    } else if (item.type === "user") {
      parent.append(el("span", "mention", "@" + item.user_id));
    } else {
      parent.append(document.createTextNode(item.text || ""));
    }
  }
}

function richText(block, parent) {
  for (const part of block.elements || []) {
    if (part.type === "rich_text_section") { const span = el("span"); richElements(part.elements, span); parent.append(span); }
    else if (part.type === "rich_text_preformatted") { const pre = el("pre"); richElements(part.elements, pre); parent.append(pre); }
    else if (part.type === "rich_text_quote") { const quote = el("blockquote"); richElements(part.elements, quote); parent.append(quote); }
    else if (part.type === "rich_text_list") {
      const list = el(part.style === "ordered" ? "ol" : "ul");
      for (const item of part.elements || []) { const li = el("li"); richElements(item.elements, li); list.append(li); }
      parent.append(list);
    }
  }
}

function table(block) {
  const node = el("table", "slack-table");
  const settings = block.column_settings || [];
  for (const row of block.rows || []) {
    const tr = el("tr");
    row.forEach((cell, column) => {
      const td = el("td");
      if ((settings[column] || {}).align === "right") td.className = "right";
      if (cell.type === "rich_text") richText(cell, td);
      else td.textContent = cell.text;
      tr.append(td);
    });
    node.append(tr);
  }
  return node;
}

function actions(block, message) {
  const node = el("div", "actions");
  for (const element of block.elements || []) {
    if (element.type === "button" && element.url) {
      // A link button: Slack opens the page in a new tab and still tells the app, which acks.
      const link = el("a", `button ${element.style || ""}`.trim(), withEmoji(element.text.text));
      if (/^https?:\/\//.test(element.url)) link.href = element.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.addEventListener("click", () => act(message, block, { action_id: element.action_id, type: "button", value: element.value }));
      node.append(link);
    } else if (element.type === "button") {
      const button = el("button", element.style || "", withEmoji(element.text.text));
      button.addEventListener("click", () => act(message, block, { action_id: element.action_id, type: "button", value: element.value }));
      node.append(button);
    } else if (element.type === "static_select") {
      const select = el("select");
      select.append(el("option", "", element.placeholder ? element.placeholder.text : "Choose…"));
      for (const option of element.options || []) {
        const item = el("option", "", option.text.text);
        item.value = option.value;
        select.append(item);
      }
      select.addEventListener("change", () => {
        const chosen = (element.options || []).find((option) => option.value === select.value);
        if (chosen) act(message, block, { action_id: element.action_id, type: "static_select", selected_option: chosen });
      });
      node.append(select);
    } else {
      node.append(unsupported(element));
    }
  }
  return node;
}

function unsupported(block) {
  const details = el("details", "unsupported");
  details.append(el("summary", "", `Unsupported block: ${block.type}`));
  details.append(el("pre", "", JSON.stringify(block, null, 2)));
  return details;
}

function renderBlock(block, message) {
  const node = el("div", `block block-${block.type}`);
  if (block.type === "header") { const h = el("h3"); textObject(block.text, h); node.append(h); }
  else if (block.type === "section") {
    if (block.text) { const p = el("div"); textObject(block.text, p); node.append(p); }
    if (block.fields) {
      const grid = el("div", "fields");
      for (const field of block.fields) { const cell = el("div"); textObject(field, cell); grid.append(cell); }
      node.append(grid);
    }
  } else if (block.type === "context") {
    node.classList.add("context");
    for (const element of block.elements || []) { const span = el("span"); textObject(element, span); node.append(span); }
  } else if (block.type === "divider") node.append(el("hr"));
  else if (block.type === "actions") node.append(actions(block, message));
  else if (block.type === "table") node.append(table(block));
  else if (block.type === "rich_text") richText(block, node);
  else node.append(unsupported(block));
  return node;
}

function renderMessage(message) {
  const channelName = document.querySelector(`[data-channel="${message.channel}"]`).textContent.trim();
  const visibility = message.ephemeral ? "Only visible to you" : `Visible to everyone in ${channelName}`;
  const node = el("div", `message ${message.author} ${message.ephemeral ? "ephemeral" : "in-channel"}`);
  node.dataset.messageId = message.id;
  const head = el("div", "head");
  head.append(el("span", "author", { bot: "cdn-task-bot", you: "you", system: "" }[message.author]));
  head.append(el("span", "visibility", visibility));
  node.append(head);
  // Like Slack: message shortcuts on messages everyone sees, behind "More actions".
  if (!message.ephemeral && message.author !== "system") node.append(moreActions(message));
  if (message.blocks && message.blocks.length) for (const block of message.blocks) node.append(renderBlock(block, message));
  else { const body = el("div"); mrkdwn(message.text || "", body); node.append(body); }
  for (const file of message.files || []) node.append(sharedFile(file));
  return node;
}

// A file the bot shared (files upload v2): the image itself, loaded from the playground.
function sharedFile(file) {
  const figure = el("figure", "file");
  if (/^\/playground\/files\/[A-Za-z0-9]+$/.test(file.url || "")) {
    const image = el("img");
    image.src = file.url;
    image.alt = file.alt || file.title || "";
    image.addEventListener("load", () => {
      const list = document.getElementById("messages");
      list.scrollTop = list.scrollHeight;
    });
    figure.append(image);
  }
  figure.append(el("figcaption", "", file.title || ""));
  return figure;
}

function render() {
  const list = document.getElementById("messages");
  list.replaceChildren(...[...state.messages.values()]
    .filter((message) => message.channel === state.channel && !message.deleted)
    .map(renderMessage));
  list.scrollTop = list.scrollHeight;
}

function moreActions(message) {
  const more = el("button", "more", "⋯");
  more.type = "button";
  more.setAttribute("aria-label", "More actions");
  more.setAttribute("aria-haspopup", "menu");
  more.setAttribute("aria-expanded", "false");
  const menu = el("div", "menu");
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  const check = el("button", "", "Check CDN tasks");
  check.type = "button";
  check.setAttribute("role", "menuitem");
  check.addEventListener("click", () => {
    menu.hidden = true;
    more.setAttribute("aria-expanded", "false");
    post("/playground/shortcut", { channel: message.channel, message: message.id, callback_id: "cdn_check_links" });
  });
  menu.append(check);
  more.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    more.setAttribute("aria-expanded", String(!menu.hidden));
  });
  const holder = el("div", "more-actions");
  holder.append(more, menu);
  return holder;
}

async function post(path, body) {
  const headers = { ...HEADERS, "Content-Type": "application/json" };
  const answer = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  return answer.json();
}

function act(message, block, action) {
  const where = message.home ? { home: true } : { message: message.id };
  post("/playground/action", { ...where, block_id: block.block_id || "", ...action });
}

// -- the app's Home tab: the view the bot published with views.publish -----------------------

function renderHome() {
  const home = document.getElementById("home");
  if (!state.home) { home.replaceChildren(el("p", "placeholder", "Opening your Home…")); return; }
  home.replaceChildren(...(state.home.blocks || []).map((block) => renderBlock(block, { home: true })));
}

// -- modals: the bot's views.open, shown over the channel ------------------------------------

function inputField(block) {
  const element = block.element || {};
  const node = el("div", "input-block");
  node.dataset.blockId = block.block_id || "";
  const label = el("label", "input-label");
  textObject(block.label, label);
  if (block.optional) label.append(el("span", "optional", " (optional)"));
  node.append(label);
  let read = () => null;
  if (element.type === "plain_text_input") {
    const box = el(element.multiline ? "textarea" : "input", "text-input");
    box.name = block.block_id || "";
    if (element.max_length) box.maxLength = element.max_length;
    if (element.placeholder) box.placeholder = element.placeholder.text;
    if (element.initial_value) box.value = element.initial_value;
    box.required = !block.optional;
    label.htmlFor = box.id = `input-${block.block_id}`;
    node.append(box);
    read = () => box.value;
  } else if (element.type === "radio_buttons" || element.type === "checkboxes") {
    const radio = element.type === "radio_buttons";
    const initial = radio ? [element.initial_option] : element.initial_options || [];
    const chosen = new Set(initial.filter(Boolean).map((option) => option.value));
    const boxes = [];
    for (const option of element.options || []) {
      const line = el("label", "choice");
      const box = el("input");
      box.type = radio ? "radio" : "checkbox";
      box.name = block.block_id || "";
      box.value = option.value;
      box.checked = chosen.has(option.value);
      line.append(box);
      const words = el("span");
      textObject(option.text, words);
      if (option.description) { const about = el("small", "description"); textObject(option.description, about); words.append(about); }
      line.append(words);
      node.append(line);
      boxes.push(box);
    }
    read = () => {
      const values = boxes.filter((box) => box.checked).map((box) => box.value);
      return radio ? values[0] || null : values;
    };
  } else if (element.type === "static_select") {
    const select = el("select");
    select.append(el("option", "", element.placeholder ? element.placeholder.text : "Choose…"));
    for (const option of element.options || []) { const item = el("option", "", option.text.text); item.value = option.value; select.append(item); }
    node.append(select);
    read = () => select.value || null;
  } else if (element.type === "conversations_select") {
    // The channels of the sidebar, the one in view first chosen when the element asks.
    const select = el("select", "text-input");
    label.htmlFor = select.id = `input-${block.block_id}`;
    const none = el("option", "", element.placeholder ? element.placeholder.text : "Choose a channel…");
    none.value = "";
    select.append(none);
    for (const button of document.querySelectorAll(".channel:not(.app)")) {
      const item = el("option", "", button.textContent.trim());
      item.value = button.dataset.channel;
      select.append(item);
    }
    const current = element.initial_conversation || (element.default_to_current_conversation ? state.channel : "");
    if ([...select.options].some((option) => option.value === current)) select.value = current;
    node.append(select);
    read = () => select.value || null;
  } else {
    node.append(unsupported(element));
  }
  if (block.hint) { const hint = el("div", "hint"); textObject(block.hint, hint); node.append(hint); }
  const error = el("div", "field-error");
  error.setAttribute("role", "alert");
  node.append(error);
  return { node, read, error, blockId: block.block_id || "" };
}

function closeModal(viewId) {
  const open = document.getElementById("modal");
  if (open && (viewId === undefined || open.dataset.viewId === viewId)) open.remove();
}

function showModal(view) {
  closeModal();
  const overlay = el("div", "modal-overlay");
  overlay.id = "modal";
  overlay.dataset.viewId = view.id;
  const form = el("form", "modal");
  form.setAttribute("role", "dialog");
  form.setAttribute("aria-modal", "true");
  const title = el("h2", "modal-title");
  textObject(view.title, title);
  form.setAttribute("aria-label", title.textContent);
  form.append(title);
  const body = el("div", "modal-body");
  const fields = [];
  for (const block of view.blocks || []) {
    if (block.type === "input") { const field = inputField(block); fields.push(field); body.append(field.node); }
    else body.append(renderBlock(block, { id: 0 }));
  }
  form.append(body);
  // Slack's own words when the app does not answer a submission in time, or fails it.
  const problem = el("div", "field-error modal-problem");
  problem.setAttribute("role", "alert");
  form.append(problem);
  const footer = el("div", "modal-footer");
  const cancel = el("button", "", view.close ? view.close.text : "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", () => { closeModal(view.id); post("/playground/view/close", { view: view.id }); });
  footer.append(cancel);
  if (view.submit) { const submit = el("button", "primary", view.submit.text); submit.type = "submit"; footer.append(submit); }
  form.append(footer);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const inputs = {};
    for (const field of fields) inputs[field.blockId] = field.read();
    const answer = await post("/playground/view", { view: view.id, inputs });
    for (const field of fields) field.error.textContent = (answer.errors || {})[field.blockId] || "";
    problem.textContent = answer.status === 200 ? "" : `We had some trouble connecting (HTTP ${answer.status}). Try again?`;
    if (answer.closed) closeModal(view.id);
  });
  overlay.append(form);
  document.body.append(overlay);
  const first = form.querySelector("textarea, input, select");
  if (first) first.focus();
}

function choose(channel) {
  state.channel = channel;
  const chosen = document.querySelector(`[data-channel="${channel}"]`);
  for (const button of document.querySelectorAll(".channel")) button.classList.toggle("active", button.dataset.channel === channel);
  document.getElementById("channel-title").textContent = chosen.textContent.trim();
  document.getElementById("app-tabs").hidden = !chosen.dataset.app;
  showTab(chosen.dataset.app ? "home" : "messages");
}

function showTab(tab) {
  state.tab = tab;
  const home = tab === "home";
  document.getElementById("home").hidden = !home;
  document.getElementById("messages").hidden = home;
  document.getElementById("composer").hidden = home;
  for (const button of document.querySelectorAll(".tab")) button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  if (home) {
    renderHome();
    // Slack tells the app every time the tab is opened; the app decides what to show.
    post("/playground/home", { tz: TZ });
  } else {
    render();
  }
}

async function listen() {
  for (;;) {
    try {
      const events = await (await fetch(`/playground/events?after=${state.after}`, { headers: HEADERS })).json();
      for (const event of events) {
        state.after = event.seq;
        if (event.message) state.messages.set(event.message.id, event.message);
        else if (event.home) { state.home = event.home; if (state.tab === "home") renderHome(); }
        else if (event.view) showModal(event.view);
        else if (event.view_closed) closeModal(event.view_closed);
      }
      if (events.some((event) => event.message)) render();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

document.querySelectorAll(".channel").forEach((button) => button.addEventListener("click", () => choose(button.dataset.channel)));
document.querySelectorAll(".tab").forEach((button) => button.addEventListener("click", () => showTab(button.dataset.tab)));
const shortcutMenu = document.getElementById("shortcut-menu");
document.getElementById("shortcuts").addEventListener("click", () => { shortcutMenu.hidden = !shortcutMenu.hidden; });
shortcutMenu.querySelectorAll("button").forEach((item) => item.addEventListener("click", () => {
  shortcutMenu.hidden = true;
  post("/playground/shortcut", { channel: state.channel, callback_id: item.dataset.shortcut });
}));
document.getElementById("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const box = document.getElementById("message-box");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  post("/playground/command", { channel: state.channel, text, tz: TZ });
});
choose(document.querySelector(".channel").dataset.channel);
listen();
