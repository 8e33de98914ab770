// 每月一主题: inline row editors and the add form answer 422 with themselves carrying the messages;
// htmx would not swap a 4xx by default, so let those answers replace their target.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var xhr = ev.detail.xhr;
    var elt = ev.detail.requestConfig && ev.detail.requestConfig.elt;
    if (xhr && xhr.status === 422 && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
})();
