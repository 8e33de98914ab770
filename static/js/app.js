// Small behaviours without inline script (the CSP forbids it).
(function () {
  "use strict";
  // <form data-confirm="…"> or <button type="submit" data-confirm="…">: ask before an irreversible
  // submission, saying what will be frozen (htmx forms use hx-confirm, which htmx asks itself).
  document.addEventListener("submit", function (ev) {
    var form = ev.target, btn = ev.submitter;
    var msg = (btn && btn.dataset && btn.dataset.confirm) || (form.dataset && form.dataset.confirm);
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }, true);
  // htmx: confirm via the same attribute on buttons, and show server errors instead of silence.
  // A background poll ([data-poll]: a job's progress, the home page waiting for its tiles) asks again
  // by itself: an error there is not the user's action and would alert on every poll.
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    var elt = ev.detail.requestConfig && ev.detail.requestConfig.elt;
    if (elt && elt.closest && elt.closest("[data-poll]")) return;
    if (xhr && xhr.status === 503) {
      window.alert("系统繁忙，请稍后重试。");
    } else if (xhr && xhr.status >= 500) {
      window.alert("服务器处理请求时出错，请稍后重试。");
    }
  });
  // Forms inside [data-swap-errors] (inline editors, score sheets, attendance rows) answer 422 with
  // themselves carrying the messages (the duplicate check answers 429 with its own); htmx would not
  // swap a 4xx by default, so let those replace
  // their target.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var xhr = ev.detail.xhr;
    var elt = ev.detail.requestConfig && ev.detail.requestConfig.elt;
    if (xhr && (xhr.status === 422 || xhr.status === 429) && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  // Long pickers (templates/_macros/forms.html org_picker): typing narrows the options by name;
  // the empty "请选择…" option and the current choice always stay.
  document.addEventListener("input", function (ev) {
    var box = ev.target;
    if (!box.dataset || !box.dataset.filterSelect) return;
    var sel = document.getElementById(box.dataset.filterSelect);
    if (!sel) return;
    if (!sel._allOptions) sel._allOptions = Array.prototype.slice.call(sel.options);
    var q = box.value.trim().toLowerCase(), current = sel.value, shown = 0;
    var keep = sel._allOptions.filter(function (o) {
      var ok = !o.value || o.value === current || !q || o.text.toLowerCase().indexOf(q) >= 0;
      if (ok && o.value) shown++;
      return ok;
    });
    sel.replaceChildren.apply(sel, keep);
    sel.value = current;  // re-inserting options must not move the choice
    var count = document.getElementById(box.dataset.filterSelect + "-count");
    if (count) count.textContent = q ? "找到 " + shown + " 个" : "";
  });
  // A lazily loaded tree branch marks its toggle as open.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail.target;
    if (target && target.id) {
      var btn = document.querySelector('[data-toggle="#' + target.id + '"]');
      if (btn) btn.setAttribute("aria-expanded", "true");
    }
  });
  // Tree toggles: <button data-toggle="#id"> collapses an already loaded branch.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-toggle]");
    if (!btn) return;
    var target = document.querySelector(btn.dataset.toggle);
    if (target && target.childElementCount) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      target.hidden = !target.hidden;
      btn.setAttribute("aria-expanded", String(!target.hidden));
    }
  }, true);
  // Long actions (issue 15). A download — a link with data-busy, or any same-site link to a .pdf or
  // .xlsx — is fetched here while the link shows a spinner and "正在生成…", then saved under the
  // server's file name. An error page or the login page is shown as such (the browser goes there).
  function fileNameOf(disposition) {
    var m = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
    if (m) { try { return decodeURIComponent(m[1]); } catch (e) { /* fall through */ } }
    m = /filename="?([^";]+)"?/i.exec(disposition || "");
    return m ? m[1] : "download";
  }
  function isDownload(a) {
    if (a.hasAttribute("data-busy")) return true;
    return a.origin === window.location.origin && /\.(pdf|xlsx)$/i.test(a.pathname || "");
  }
  function setBusy(el, on, text) {
    if (on) {
      el.dataset.idleText = el.textContent;
      el.textContent = text || "正在生成…";
      el.classList.add("is-busy");
      el.setAttribute("aria-busy", "true");
    } else {
      if (el.dataset.idleText !== undefined) el.textContent = el.dataset.idleText;
      el.classList.remove("is-busy");
      el.removeAttribute("aria-busy");
    }
  }
  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || a.target === "_blank" || !isDownload(a) || !window.fetch || !window.URL) return;
    ev.preventDefault();
    if (a.classList.contains("is-busy")) return;  // one generation at a time per link
    setBusy(a, true, a.dataset.busy);
    fetch(a.href, { credentials: "same-origin" }).then(function (resp) {
      var disposition = resp.headers.get("Content-Disposition") || "";
      if (!resp.ok || disposition.indexOf("attachment") !== 0) {
        // The server's own answer: a background job's page (an export answers with a redirect to it;
        // requesting the link again would start a second job), an error page, the login, an inline PDF.
        window.location.href = resp.redirected ? resp.url : a.href;
        return null;
      }
      return resp.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = document.createElement("a");
        save.href = url;
        save.download = fileNameOf(disposition);
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    }).catch(function () {
      window.alert("下载失败，请检查网络后重试。");
    }).then(function () { setBusy(a, false); });
  });
  // Uploads and imports (plain forms with a file) and forms marked data-busy: the submit button
  // shows the spinner until the next page arrives.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
    if (!form.hasAttribute("data-busy") && !(form.enctype === "multipart/form-data" && form.querySelector("input[type=file]"))) return;
    var btn = ev.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (btn) {
      setTimeout(function () { btn.disabled = true; }, 0);  // after the browser has read the button's value
      setBusy(btn, true, form.dataset.busy || "正在处理…");
    }
  });
  // Coming back with the browser's back button restores a page from its cache: no stale spinner.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(".is-busy").forEach(function (el) { setBusy(el, false); el.disabled = false; });
  });
})();
