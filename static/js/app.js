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
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    if (xhr && xhr.status >= 500) {
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
})();
