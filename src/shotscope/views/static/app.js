// shotscope web app: sortable tables, the film player (play a shot from its first frame to its
// end, keys, corrections) and inline playing of search results. No library, no network but ours.
"use strict";

function sortable(table) {
  const heads = table.tHead.rows[0].cells;
  Array.from(heads).forEach((th, col) => {
    const type = th.dataset.type;
    if (!type || type === "none") return;
    th.tabIndex = 0;
    const sort = () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      Array.from(heads).forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      const key = (row) => {
        const cell = row.cells[col];
        const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
        return type === "number" ? parseFloat(raw) || 0 : raw.toLowerCase();
      };
      // each row's key read once, the rows put back in one move (a feature has 1,500 of them)
      const keyed = Array.from(table.tBodies[0].rows, (row) => [key(row), row]);
      keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0) * (asc ? 1 : -1));
      table.tBodies[0].append(...keyed.map(([, row]) => row));
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
  });
}
document.querySelectorAll("table.sortable").forEach(sortable);

function say(text) {
  let box = document.getElementById("message");
  if (!box) { box = document.createElement("div"); box.id = "message"; document.body.appendChild(box); }
  box.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => box.remove(), 4000);
}

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const csrf = csrfMeta ? csrfMeta.content : "";
const readOnly = document.body.dataset.readOnly === "true";

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

const noteBox = () => document.getElementById("note");
async function correct(film, shot, field, value) {
  const note = noteBox() && noteBox().value.trim();
  return post("/api/correct", { film, shot, field, value, ...(note ? { note } : {}) });
}

// ---- the film page --------------------------------------------------------------------------
const dataNode = document.getElementById("film-data");
if (dataNode) {
  const data = JSON.parse(dataNode.textContent);
  const shots = data.shots;
  const video = document.getElementById("player");
  const frame = 1 / (data.fps || 25);
  let current = -1;
  let stopAt = null;

  const shotAt = (t) => {
    for (let i = shots.length - 1; i >= 0; i--) if (t >= shots[i].start_time - 1e-6) return i;
    return 0;
  };
  const rowOf = (i) => document.querySelector(`table.shots tr[data-shot="${shots[i].shot}"]`);

  function show(i) {
    if (i === current || i < 0 || i >= shots.length) return;
    const before = current >= 0 ? rowOf(current) : null;
    if (before) before.classList.remove("current");
    current = i;
    const s = shots[i];
    const row = rowOf(i);
    if (row) row.classList.add("current");
    const labels = [s.scale, s.movement].filter(Boolean).join(" ");
    document.getElementById("now").textContent =
      `Shot ${s.shot}: ${labels} (${s.start_time.toFixed(2)}-${s.end_time.toFixed(2)} s)`;
  }

  function movePlayhead(t) {
    const total = shots.length ? shots[shots.length - 1].end_time : 1;
    document.querySelectorAll("svg.strip .playhead").forEach((line) => {
      const x = (1000 * t) / total;
      line.setAttribute("x1", x); line.setAttribute("x2", x);
    });
  }

  function watch() {  // stop at the shot's end, to the frame
    if (!video || stopAt === null || video.paused) return;
    if (video.currentTime >= stopAt - frame / 2) {
      video.pause();
      video.currentTime = Math.max(shots[current].start_time, stopAt - frame / 2);
      stopAt = null;
      return;
    }
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(watch);
    else requestAnimationFrame(watch);
  }

  function playShot(i, play = true) {
    if (i < 0 || i >= shots.length) return;
    show(i);
    const s = shots[i];
    if (!video) return;
    stopAt = play ? s.end_time : null;
    video.currentTime = s.start_time + 1e-3;  // the shot's first frame
    movePlayhead(s.start_time);
    if (play) video.play().then(watch).catch(() => {});
  }
  window.shotscope = { playShot, shots, get current() { return current; } };

  if (video) {
    video.addEventListener("timeupdate", () => { show(shotAt(video.currentTime)); movePlayhead(video.currentTime); });
    const cannotPlay = () => { document.getElementById("cannot-play").hidden = false; };
    video.addEventListener("error", cannotPlay);
    if (video.error) cannotPlay();  // it failed before this script ran
    video.addEventListener("play", () => { if (stopAt !== null) watch(); });
  }
  document.addEventListener("click", (e) => {
    const target = e.target.closest("[data-shot].play, svg .seg");
    if (!target) return;
    e.preventDefault();
    playShot(shots.findIndex((s) => String(s.shot) === target.dataset.shot));
  });

  // a label's select holds only its label until it is about to open: then it gets every label
  function fill(select) {
    if (select.dataset.filled) return;
    select.dataset.filled = "true";
    const value = select.value;
    const options = data.labels[select.dataset.field].map((k) => new Option(k, k, false, k === value));
    select.replaceChildren(...(value ? [] : [new Option("", "", true, true)]), ...options);
  }
  const fillTarget = (e) => { if (e.target.matches && e.target.matches("select.correct")) fill(e.target); };
  ["mousedown", "focusin", "keydown"].forEach((kind) => document.addEventListener(kind, fillTarget, true));

  async function setLabel(i, field, value) {
    const s = shots[i];
    if (!value || value === s[field]) { say(`Shot ${s.shot}: ${field} is ${s[field] || "-"} already`); return false; }
    try {
      await correct(data.film, s.shot, field, value);
    } catch (err) { say(`Not saved: ${err.message}`); return false; }
    done.push({ i, field });
    shown(i, field, value, true);
    say(`Shot ${s.shot}: ${field} ${value} saved (u undoes it)`);
    return true;
  }

  const done = [];  // the corrections made on this page, newest last: u takes them back one by one
  async function undo() {
    const last = done.pop();
    if (!last) { say("Nothing to undo on this page"); return; }
    const s = shots[last.i];
    let answer;
    try { answer = await post("/api/undo", { film: data.film, shot: s.shot, field: last.field }); }
    catch (err) { say(`Not undone: ${err.message}`); done.push(last); return; }
    shown(last.i, last.field, answer.now, answer.corrected);
    say(`Shot ${s.shot}: ${last.field} back to ${answer.now || "-"}`);
  }

  // a label's new value shown wherever the page shows it: the shot's line, its strip's mark, its select
  function shown(i, field, value, corrected) {
    const s = shots[i];
    s[field] = value;
    const seg = document.querySelector(`svg.strip[data-field="${field}"] rect.seg[data-shot="${s.shot}"]`);
    if (seg && data.colours) {
      seg.setAttribute("fill", data.colours[field][value] || "#ccc");
      const title = seg.querySelector("title");
      if (title) title.textContent = title.textContent.replace(/\): [^ ]*( \(corrected\))?/,
                                                              `): ${value}${corrected ? " (corrected)" : ""}`);
    }
    if (i === current) { current = -1; show(i); }
    const row = rowOf(i);
    const select = row && row.querySelector(`select[data-field="${field}"]`);
    if (select) { fill(select); select.value = value || ""; select.parentElement.dataset.value = value || ""; }
    const badge = select && select.parentElement.querySelector(".corrected");
    if (select && corrected && !badge) {  // the first correction of this label
      const made = document.createElement("span");
      made.className = "corrected";
      made.title = `model said ${select.dataset.model || "nothing"}`;
      made.textContent = `corrected (model: ${select.dataset.model || "-"})`;
      select.after(made);
    } else if (badge && !corrected) {
      badge.remove();  // undone back to the model's label
    }
  }

  document.addEventListener("change", (e) => {
    const select = e.target;
    if (!select.matches("select.correct")) return;
    const i = shots.findIndex((s) => String(s.shot) === select.dataset.shot);
    setLabel(i, select.dataset.field, select.value);
  });

  const { scale: SCALES, movement: MOVES } = data.labels || {};  // none in report.html: read-only
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    const i = current < 0 ? 0 : current;
    if (e.key === "ArrowRight" || e.key === "k") { playShot(Math.min(i + (current < 0 ? 0 : 1), shots.length - 1)); }
    else if (e.key === "ArrowLeft" || e.key === "j") { playShot(Math.max(i - 1, 0)); }
    else if (e.key === " " && video) { if (video.paused) { video.play(); } else { video.pause(); } }
    else if (!readOnly && e.key >= "1" && e.key <= "5") { setLabel(i, "scale", SCALES[+e.key - 1]); }
    else if (!readOnly && e.key >= "6" && e.key <= "9") { setLabel(i, "movement", MOVES[+e.key - 6]); }
    else if (!readOnly && e.key === "u") { undo(); }
    else if (e.key === "?") { const help = document.getElementById("keys"); if (help) help.hidden = !help.hidden; }
    else if (e.key === "Escape") { const help = document.getElementById("keys"); if (help) help.hidden = true; }
    else return;
    e.preventDefault();
  });

  const match = location.hash.match(/^#shot-(\d+)$/);
  if (match) {
    const i = shots.findIndex((s) => String(s.shot) === match[1]);
    if (i >= 0) {
      const go = () => playShot(i, false);
      if (video && video.readyState < 1) video.addEventListener("loadedmetadata", go, { once: true }); else go();
    }
  }
}

// ---- the shots page: play a result where it is (a media fragment stops it at the shot's end) ----
document.querySelectorAll("img.inline-play").forEach((img) => {
  img.addEventListener("click", () => {
    const card = img.closest(".card");
    const clip = document.createElement("video");
    clip.src = `/media/${card.dataset.film}#t=${card.dataset.start},${card.dataset.end}`;
    clip.muted = true; clip.controls = true; clip.autoplay = true;
    clip.className = "inline";
    clip.addEventListener("error", () => {  // not here, or not a format this browser plays: the picture back
      clip.replaceWith(img);
      img.classList.add("unplayable");
      say(`${img.alt}: this browser cannot play the film from here (moved, or a format it cannot play: `
        + "shotscope proxy makes a copy it can)");
    });
    img.replaceWith(clip);
  });
});

// ---- report.html: filter the shot table ---------------------------------------------------------
const filterScale = document.getElementById("filter-scale");
if (filterScale) {
  const filterMove = document.getElementById("filter-movement");
  const filterLength = document.getElementById("filter-length");
  const apply = () => {
    const s = filterScale.value, m = filterMove.value, min = parseFloat(filterLength.value) || 0;
    let shown = 0;
    document.querySelectorAll("table.shot-table tbody tr").forEach((row) => {
      const ok = (!s || row.dataset.scale === s) && (!m || row.dataset.movement === m)
        && parseFloat(row.dataset.duration) >= min;
      row.hidden = !ok;
      shown += ok ? 1 : 0;
    });
    document.getElementById("shown").textContent = `${shown} shown`;
  };
  [filterScale, filterMove, filterLength].forEach((el) => el.addEventListener("input", apply));
}
