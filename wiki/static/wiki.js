/* Verbandswiki – progressive enhancement. Every function of the wiki works without this file.
 *
 * - header menu: always open on wide screens, Escape/click outside closes it on phones
 * - live preview for textarea#editor-text[data-preview-url] into #live-preview
 * - wikilink suggestions after "[[" in #editor-text (GET <root>-/search/titles?q=…)
 * - page suggestions for input[data-autocomplete="titles"]; in GET forms picking one opens it
 * - [data-confirm] on submit buttons, forms and links asks before going on
 * - the editor warns before leaving with unsaved changes (data-dirty: warn from the start)
 * - documents picked, dropped or pasted in the editor join its file field; the link is inserted
 * - tables in rendered pages scroll sideways inside .table-wrap
 */
(() => {
  "use strict";

  const doc = document;
  const meta = (name) => doc.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? "";
  const root = meta("wiki-root") || "/";
  const csrfToken = () => meta("csrf-token");
  const english = (doc.documentElement.lang || "de").toLowerCase().startsWith("en");
  const t = (de, en) => (english ? en : de);

  doc.documentElement.classList.add("js");

  const pageUrl = (path) => root + path.split("/").map(encodeURIComponent).join("/");

  /* ---------- Polite announcements for screen readers ---------- */

  let liveRegion = null;
  function createLiveRegion() {
    // Created early: screen readers ignore changes to regions that appear at the same moment.
    liveRegion = doc.createElement("div");
    liveRegion.className = "visually-hidden";
    liveRegion.setAttribute("role", "status");
    liveRegion.setAttribute("aria-live", "polite");
    doc.body.append(liveRegion);
  }

  function announce(text) {
    if (!liveRegion) createLiveRegion();
    liveRegion.textContent = "";
    window.setTimeout(() => {
      liveRegion.textContent = text;
    }, 50);
  }

  /* ---------- Page titles from the search endpoint ---------- */

  let titlesMissing = false;
  const titleCache = new Map();

  async function fetchTitles(query, signal) {
    const key = query.toLowerCase();
    if (titlesMissing || key.length < 2) return [];
    if (titleCache.has(key)) return titleCache.get(key);
    let response;
    try {
      response = await fetch(`${root}-/search/titles?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json", "X-Requested-With": "fetch" },
        credentials: "same-origin",
        signal,
      });
    } catch {
      return [];
    }
    if (response.status === 404) {
      titlesMissing = true;
      return [];
    }
    if (!response.ok) return [];
    let data;
    try {
      data = await response.json();
    } catch {
      return [];
    }
    if (!Array.isArray(data)) return [];
    const results = data
      .filter((item) => item && typeof item.path === "string" && item.path)
      .slice(0, 20)
      .map((item) => ({
        path: item.path,
        title: typeof item.title === "string" && item.title ? item.title : item.path,
      }));
    if (titleCache.size > 200) titleCache.clear();
    titleCache.set(key, results);
    return results;
  }

  /* ---------- Header menu ---------- */

  function initMenu() {
    const menu = doc.querySelector(".site-menu");
    if (!menu) return;
    const wide = window.matchMedia("(min-width: 56em)");
    const cssShowsMenu = window.CSS?.supports?.("selector(::details-content)") ?? false;
    if (!cssShowsMenu) {
      const sync = () => {
        menu.open = wide.matches;
      };
      sync();
      wide.addEventListener("change", sync);
    }
    doc.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || !menu.open || wide.matches) return;
      menu.open = false;
      menu.querySelector("summary")?.focus();
    });
    doc.addEventListener("click", (event) => {
      if (menu.open && !wide.matches && !menu.contains(event.target)) menu.open = false;
    });
  }

  /* ---------- Live preview ---------- */

  // Images picked in the editor but not uploaded yet: file name → data: URL ("" while the
  // browser still reads the file). The preview shows them from memory: it must never ask the
  // server for a file that is only committed on save (that would be a 404).
  const localImages = new Map();

  function useLocalImages(scope) {
    for (const img of scope.querySelectorAll("img")) {
      const src = img.getAttribute("src") ?? "";
      const name = img.dataset.pending
        || (src.startsWith("data:") ? "" : decodeURIComponent(src.split("/").pop() ?? ""));
      if (!name || !localImages.has(name)) continue;
      const data = localImages.get(name);
      if (data) {
        img.src = data;
        delete img.dataset.pending;
      } else {
        img.removeAttribute("src");
        img.dataset.pending = name;
      }
    }
  }

  function initPreview(textarea) {
    const url = textarea.dataset.previewUrl;
    const preview = doc.getElementById("live-preview");
    if (!url || !preview) return;
    // The preview changes after every pause in typing; reading it out each time would drown
    // the text being typed, so it is a labelled region that is read on demand.
    preview.setAttribute("aria-live", "off");
    if (!preview.hasAttribute("aria-labelledby") && !preview.hasAttribute("aria-label")) {
      preview.setAttribute("role", "region");
      preview.setAttribute("aria-label", t("Vorschau", "Preview"));
      preview.dataset.label = t("Vorschau", "Preview");
    }
    let timer = 0;
    let controller = null;
    let sequence = 0;
    let lastText = null;

    async function update() {
      const text = textarea.value;
      if (text === lastText) return;
      controller?.abort();
      controller = new AbortController();
      const mine = ++sequence;
      const body = new FormData();
      body.append("text", text);
      body.append("path", textarea.dataset.path ?? "");
      body.append("csrf_token", csrfToken());
      try {
        const response = await fetch(url, {
          method: "POST",
          body,
          headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
          credentials: "same-origin",
          signal: controller.signal,
        });
        if (!response.ok) return;
        const html = await response.text();
        if (mine !== sequence) return;
        // Trusted fragment: rendered and sanitised by the server. Parsed in a template first,
        // where images do not load, so that files not uploaded yet are shown from memory.
        const fragment = doc.createElement("template");
        fragment.innerHTML = html;
        useLocalImages(fragment.content);
        preview.replaceChildren(fragment.content);
        if (!preview.querySelector(".markup")) preview.classList.add("markup");
        preview.hidden = false;
        textarea.closest(".editor")?.classList.add("has-preview");
        wrapTables(preview);
        lastText = text;
      } catch {
        // Network error or aborted: keep what is shown.
      }
    }

    textarea.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
  }

  /* ---------- Wikilink suggestions in the editor ---------- */

  const MIRRORED = [
    "boxSizing", "width", "borderTopWidth", "borderRightWidth", "borderBottomWidth",
    "borderLeftWidth", "borderStyle", "paddingTop", "paddingRight", "paddingBottom",
    "paddingLeft", "fontStyle", "fontVariant", "fontWeight", "fontStretch", "fontSize",
    "fontFamily", "lineHeight", "textAlign", "textTransform", "textIndent", "letterSpacing",
    "wordSpacing", "tabSize",
  ];

  /* Pixel position of character `index` inside the textarea, relative to its border box. */
  function caretOffset(textarea, index) {
    const style = window.getComputedStyle(textarea);
    const mirror = doc.createElement("div");
    for (const name of MIRRORED) mirror.style[name] = style[name];
    Object.assign(mirror.style, {
      position: "absolute",
      visibility: "hidden",
      top: "0",
      left: "-9999px",
      height: "auto",
      whiteSpace: "pre-wrap",
      overflowWrap: "break-word",
      overflowY: textarea.scrollHeight > textarea.clientHeight ? "scroll" : "hidden",
    });
    mirror.textContent = textarea.value.slice(0, index);
    const marker = doc.createElement("span");
    marker.textContent = textarea.value.slice(index, index + 1) || ".";
    mirror.append(marker);
    doc.body.append(mirror);
    const borderTop = parseFloat(style.borderTopWidth) || 0;
    const borderLeft = parseFloat(style.borderLeftWidth) || 0;
    const lineHeight = parseFloat(style.lineHeight) || (parseFloat(style.fontSize) || 16) * 1.5;
    const result = {
      top: marker.offsetTop + borderTop - textarea.scrollTop,
      left: marker.offsetLeft + borderLeft - textarea.scrollLeft,
      height: lineHeight,
    };
    mirror.remove();
    return result;
  }

  function initWikilinkSuggestions(textarea) {
    const list = doc.createElement("ul");
    list.id = "wiki_suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", t("Vorschläge für Seitenlinks", "Page link suggestions"));
    list.hidden = true;
    doc.body.append(list);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);

    let items = [];
    let active = -1;
    let timer = 0;
    let controller = null;

    const currentQuery = () => {
      if (textarea.selectionStart !== textarea.selectionEnd) return null;
      const caret = textarea.selectionStart;
      const match = /\[\[([^[\]|#\n]{1,100})$/.exec(textarea.value.slice(0, caret));
      if (!match || match[1].trim().length < 2) return null;
      return { text: match[1].trim(), start: caret - match[1].length, end: caret };
    };

    const close = () => {
      window.clearTimeout(timer);
      controller?.abort();
      if (list.hidden) return;
      list.hidden = true;
      list.replaceChildren();
      items = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    };

    const setActive = (index) => {
      active = index;
      list.querySelectorAll("[role=option]").forEach((option, i) => {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        if (i === index) {
          textarea.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
    };

    const place = (query) => {
      const box = textarea.getBoundingClientRect();
      const caret = caretOffset(textarea, query.start);
      const viewport = doc.documentElement.clientWidth;
      let top = box.top + Math.min(Math.max(caret.top + caret.height, 0), box.height);
      let left = box.left + Math.min(Math.max(caret.left, 0), box.width);
      left = Math.max(8, Math.min(left, viewport - list.offsetWidth - 8));
      top += window.scrollY;
      left += window.scrollX;
      list.style.top = `${Math.round(top)}px`;
      list.style.left = `${Math.round(left)}px`;
    };

    const choose = (index) => {
      const item = items[index];
      const query = currentQuery();
      close();
      if (!item || !query) return;
      const closed = textarea.value.slice(query.end, query.end + 2) === "]]";
      const insert = closed ? item.path : `${item.path}]]`;
      textarea.focus();
      textarea.setSelectionRange(query.start, query.end);
      let done = false;
      try {
        // execCommand keeps the browser's undo history; setRangeText is the fallback.
        done = doc.execCommand("insertText", false, insert);
      } catch {
        done = false;
      }
      if (!done || textarea.value.slice(query.start, query.start + insert.length) !== insert) {
        textarea.setRangeText(insert, query.start, query.end, "end");
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
      if (closed) {
        const after = query.start + insert.length + 2;
        textarea.setSelectionRange(after, after);
      }
      announce(t(`Link auf „${item.title}“ eingefügt.`, `Link to “${item.title}” inserted.`));
    };

    const show = (query, results) => {
      const wasHidden = list.hidden;
      list.replaceChildren();
      items = results;
      if (!results.length) {
        close();
        return;
      }
      results.forEach((item, i) => {
        const option = doc.createElement("li");
        option.id = `wiki_suggestion_${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        const title = doc.createElement("span");
        title.textContent = item.title;
        const path = doc.createElement("small");
        path.textContent = item.path;
        option.append(title, path);
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(i);
        });
        list.append(option);
      });
      list.hidden = false;
      place(query);
      setActive(0);
      if (wasHidden) {
        announce(
          t(
            `${results.length} Seitenvorschläge. Pfeiltasten wählen, Eingabetaste fügt ein, Escape schließt.`,
            `${results.length} page suggestions. Arrow keys select, Enter inserts, Escape closes.`,
          ),
        );
      }
    };

    textarea.addEventListener("input", () => {
      window.clearTimeout(timer);
      const query = currentQuery();
      if (!query || titlesMissing) {
        close();
        return;
      }
      timer = window.setTimeout(async () => {
        controller?.abort();
        controller = new AbortController();
        const results = await fetchTitles(query.text, controller.signal);
        const now = currentQuery();
        if (!now || now.text !== query.text || doc.activeElement !== textarea) return;
        show(now, results);
      }, 150);
    });

    textarea.addEventListener("keydown", (event) => {
      if (list.hidden || event.isComposing) return;
      const count = items.length;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setActive((active + 1) % count);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive((active - 1 + count) % count);
      } else if (event.key === "Enter" && active >= 0 && !event.shiftKey && !event.altKey
                 && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });

    textarea.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"].includes(event.key)
          && !currentQuery()) {
        close();
      }
    });
    textarea.addEventListener("click", () => {
      if (!currentQuery()) close();
    });
    textarea.addEventListener("blur", close);
    textarea.addEventListener("scroll", close);
    window.addEventListener("resize", close);
  }

  /* ---------- Page suggestions for inputs ---------- */

  let datalistCount = 0;

  function initTitleInput(input) {
    const list = doc.createElement("datalist");
    // Underscores: heading ids in rendered pages never contain them.
    list.id = `wiki_titles_${++datalistCount}`;
    doc.body.append(list);
    input.setAttribute("list", list.id);
    // In GET forms (search, "go to page") picking a suggestion opens the page.
    const jumps = Boolean(input.form) && (input.form.getAttribute("method") || "get").toLowerCase() === "get";
    let suggestions = [];
    let timer = 0;
    let controller = null;

    const picked = () => suggestions.find((item) => item.path === input.value.trim());

    input.addEventListener("input", (event) => {
      window.clearTimeout(timer);
      const selected = !(event instanceof InputEvent) || event.inputType === "insertReplacementText";
      const match = picked();
      if (jumps && selected && match) {
        window.location.assign(pageUrl(match.path));
        return;
      }
      const query = input.value.trim();
      if (query.length < 2 || titlesMissing) return;
      timer = window.setTimeout(async () => {
        controller?.abort();
        controller = new AbortController();
        const results = await fetchTitles(query, controller.signal);
        if (input.value.trim() !== query) return;
        suggestions = results;
        list.replaceChildren(
          ...results.map((item) => {
            const option = doc.createElement("option");
            option.value = item.path;
            option.label = item.title;
            return option;
          }),
        );
      }, 200);
    });

    if (jumps) {
      input.form.addEventListener("submit", (event) => {
        const match = picked();
        if (match && !event.defaultPrevented) {
          event.preventDefault();
          window.location.assign(pageUrl(match.path));
        }
      });
    }
  }

  /* ---------- Confirmation ---------- */

  function initConfirm() {
    let lastButton = null;
    doc.addEventListener(
      "click",
      (event) => {
        const target = event.target instanceof Element ? event.target : null;
        const button = target?.closest("button, input[type=submit], input[type=image]");
        if (button?.form) lastButton = button;
        const link = target?.closest("a[data-confirm]");
        if (link && !window.confirm(link.dataset.confirm)) event.preventDefault();
      },
      true,
    );
    doc.addEventListener(
      "submit",
      (event) => {
        const form = event.target;
        const submitter = event.submitter ?? (lastButton?.form === form ? lastButton : null);
        let question = submitter?.dataset?.confirm ?? form.dataset?.confirm;
        if (question === "") question = t("Wirklich fortfahren?", "Really continue?");
        if (question && !window.confirm(question)) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
        lastButton = null;
      },
      true,
    );
  }

  /* ---------- Unsaved changes ---------- */

  const UNTRACKED = new Set(["hidden", "submit", "button", "reset", "image", "file"]);

  function initUnsavedWarning(textarea) {
    const form = textarea.form;
    if (!form) return;
    const snapshot = () =>
      Array.from(form.elements, (el) => {
        if (!el.name || UNTRACKED.has(el.type)) return "";
        if (el.type === "checkbox" || el.type === "radio") return el.checked ? "1" : "0";
        return el.value;
      }).join("\u0000");
    // data-dirty: the form shows text that is not saved yet (preview, conflict, error).
    const dirtyFromStart = "dirty" in textarea.dataset || "dirty" in form.dataset;
    const initial = snapshot();
    let leaving = false;

    form.addEventListener("submit", (event) => {
      if (!event.defaultPrevented) leaving = true;
    });
    window.addEventListener("pageshow", () => {
      leaving = false;
    });
    window.addEventListener("beforeunload", (event) => {
      if (leaving || (!dirtyFromStart && snapshot() === initial)) return;
      event.preventDefault();
      event.returnValue = "";
    });
  }

  /* ---------- Documents from the editor ---------- */

  // The same rules as wiki.pages.normalize_filename (keep both in step): umlauts → ae/oe/ue,
  // ß → ss, lower case, other characters outside [a-z0-9._-] → "-", runs collapsed.
  const TRANSLIT = { ä: "ae", ö: "oe", ü: "ue", ß: "ss", Ä: "ae", Ö: "oe", Ü: "ue", ẞ: "ss" };
  const fold = (text) =>
    Array.from(text.trim(), (ch) => TRANSLIT[ch] ?? ch)
      .join("")
      .normalize("NFKD")
      .replace(/[^\x00-\x7f]/g, "")
      .toLowerCase();

  function normalizeName(name) {
    name = name.replace(/\\/g, "/").split("/").pop().trim();
    const dot = name.lastIndexOf(".");
    let stem = dot >= 0 ? name.slice(0, dot) : name;
    let ext = dot >= 0 ? name.slice(dot + 1) : "";
    if (dot < 0 || !stem.replace(/[. ]/g, "")) [stem, ext] = [name, ""];
    ext = fold(ext).replace(/[^a-z0-9]+/g, "").slice(0, 16);
    stem = fold(stem)
      .replace(/[^a-z0-9._]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/[-.]*\.[-.]*/g, ".")
      .replace(/^[-._]+|[-._]+$/g, "");
    stem = stem.slice(0, 128 - ext.length - 1).replace(/[-._]+$/, "");
    if (ext && !stem) stem = "dokument";
    return ext ? `${stem}.${ext}` : stem;
  }

  const RASTER = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
  const PASTE_EXT = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp" };

  // Picked, dropped and pasted files all go into the form's <input type="file" name="documents">
  // (through a DataTransfer) and are committed with the page on save; the link is inserted at
  // the cursor at once. Without this script the server appends the links instead.
  function initDocuments(textarea) {
    const input = doc.getElementById("editor-documents");
    if (!(input instanceof HTMLInputElement) || typeof DataTransfer !== "function") return;
    const kept = new DataTransfer();
    const preview = doc.getElementById("live-preview");

    function insert(text) {
      const start = textarea.selectionStart ?? textarea.value.length;
      const end = textarea.selectionEnd ?? start;
      const before = textarea.value.slice(0, start);
      const lead = before && !before.endsWith("\n") ? "\n" : "";
      textarea.setRangeText(`${lead}${text}\n`, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function add(files) {
      const links = [];
      for (const file of files) {
        const name = normalizeName(file.name);
        if (!name) continue;
        for (let i = kept.items.length - 1; i >= 0; i--) {
          if (kept.files[i].name === name) kept.items.remove(i);
        }
        kept.items.add(new File([file], name, { type: file.type }));
        if (RASTER.has(file.type)) {
          // A data: URL, as the Content-Security-Policy allows (img-src 'self' data:).
          localImages.set(name, "");
          const reader = new FileReader();
          reader.addEventListener("load", () => {
            localImages.set(name, String(reader.result));
            if (preview) useLocalImages(preview);
          });
          reader.readAsDataURL(file);
        }
        const image = RASTER.has(file.type) ? "!" : "";
        const link = `${image}[${name}](_files/${name})`;
        if (!textarea.value.includes(`_files/${name})`)) links.push(link);
      }
      input.files = kept.files;
      if (links.length) {
        insert(links.join("\n"));
        announce(t("Link eingefügt; die Datei wird beim Speichern hochgeladen.",
                   "Link inserted; the file is uploaded when you save."));
      }
    }

    input.addEventListener("change", () => add(Array.from(input.files ?? [])));
    textarea.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
    });
    textarea.addEventListener("drop", (event) => {
      const files = Array.from(event.dataTransfer?.files ?? []);
      if (!files.length) return;
      event.preventDefault();
      textarea.focus();
      add(files);
    });
    textarea.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files ?? []).filter((f) => RASTER.has(f.type));
      if (!files.length) return;
      event.preventDefault();
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
      add(files.map((f, i) => new File([f], `bild-${stamp}${i ? `-${i}` : ""}.${PASTE_EXT[f.type]}`, { type: f.type })));
    });
  }

  /* ---------- Wide tables ---------- */

  function wrapTables(scope) {
    for (const table of scope.querySelectorAll(".markup table")) {
      if (table.parentElement?.classList.contains("table-wrap")) continue;
      const wrap = doc.createElement("div");
      wrap.className = "table-wrap";
      table.before(wrap);
      wrap.append(table);
    }
    for (const wrap of scope.querySelectorAll(".table-wrap:not([tabindex])")) {
      if (wrap.scrollWidth > wrap.clientWidth) wrap.tabIndex = 0;
    }
  }

  /* ---------- Start ---------- */

  function init() {
    initMenu();
    initConfirm();
    wrapTables(doc);
    const editor = doc.getElementById("editor-text");
    if (editor instanceof HTMLTextAreaElement) {
      createLiveRegion();
      initPreview(editor);
      initWikilinkSuggestions(editor);
      initUnsavedWarning(editor);
      initDocuments(editor);
    }
    doc.querySelectorAll('input[data-autocomplete="titles"]').forEach(initTitleInput);
  }

  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
