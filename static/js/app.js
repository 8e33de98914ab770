// Small behaviours without inline script (the CSP forbids it).
(function () {
  "use strict";
  // <form data-confirm="…">: ask before submitting a destructive one-button form.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  }, true);
  // htmx: confirm via the same attribute on buttons, and show server errors instead of silence.
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    if (xhr && xhr.status === 503) {
      window.alert("系统繁忙，请稍后重试。");
    } else if (xhr && xhr.status >= 500) {
      window.alert("服务器处理请求时出错，请稍后重试。");
    }
  });
  // Forms inside [data-swap-errors] (inline editors, score sheets, attendance rows) answer 422 with
  // themselves carrying the messages; htmx would not swap a 4xx by default, so let those replace
  // their target.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var xhr = ev.detail.xhr;
    var elt = ev.detail.requestConfig && ev.detail.requestConfig.elt;
    if (xhr && xhr.status === 422 && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
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
