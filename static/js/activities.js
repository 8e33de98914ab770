// Activities: the sign-up and attendance grid answers 422 with the row or grid that carries the
// messages; htmx would not swap a 4xx by default, so let those answers replace their target.
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
// "全选" in the sign-up list ticks every volunteer of that list.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var form = box.closest("form");
    if (!form) return;
    form.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (c) {
      c.checked = box.checked;
    });
  });
})();
