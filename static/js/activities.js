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
