// 评选表彰: the reviewer's score form answers 422 with itself carrying the messages; htmx would not
// swap a 4xx by default, so let that answer replace its target.
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
